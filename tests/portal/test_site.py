"""Site-wide: vendored files match their checksums, commands are idempotent, pages render."""
import hashlib
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django_q.models import Schedule

ROOT = Path(__file__).resolve().parents[2]


def test_vendored_files_match_vendor_md():
    table = (ROOT / "static/vendor/VENDOR.md").read_text()
    rows = re.findall(r"^\| ([\w./-]+\.js) \|.*\| ([0-9a-f]{64}) \|$", table, re.M)
    assert rows
    for path, digest in rows:
        assert hashlib.sha256((ROOT / "static/vendor" / path).read_bytes()).hexdigest() == digest, path


def test_no_template_loads_from_another_host():
    for template in ROOT.glob("templates/**/*.html"):
        assert not re.search(r'(src|href)="(https?:)?//', template.read_text()), template


@pytest.fixture
def demo_machine(settings, tmp_path, monkeypatch):
    """A developer machine: DEBUG on (load_demo refuses otherwise), its own var folder."""
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    return tmp_path


@pytest.mark.django_db
def test_load_demo_is_idempotent(demo_machine):
    from portal.models import Organisation, User

    call_command("load_demo", "--only", "portal", stdout=StringIO())
    counts = (Organisation.objects.count(), User.objects.count())
    admin_password = (demo_machine / "demo-admin-password").read_text().strip()
    call_command("load_demo", "--only", "portal", stdout=StringIO())
    assert (Organisation.objects.count(), User.objects.count()) == counts
    assert User.objects.get(username="ops").check_password("smart-metering-demo")
    # a second run keeps the superuser's password that the first one printed
    assert User.objects.get(username="admin").check_password(admin_password)


@pytest.mark.django_db
def test_load_demo_refuses_with_debug_off(settings, tmp_path):
    from django.core.management.base import CommandError

    from portal.models import User

    settings.DEBUG = False
    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call_command("load_demo", "--only", "portal", stdout=StringIO())
    assert not User.objects.exists()
    assert not (tmp_path / "demo-admin-password").exists()


@pytest.mark.django_db
def test_demo_superuser_password_is_random_and_demo_logins_print_working_ones(demo_machine):
    from django.test import Client

    from portal.models import User

    call_command("load_demo", "--only", "portal", stdout=StringIO())
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert not admin.check_password("smart-metering-demo")
    stored = demo_machine / "demo-admin-password"
    assert stored.stat().st_mode & 0o777 == 0o600
    printed = StringIO()
    call_command("demo_logins", stdout=printed)
    logins = [line.split() for line in printed.getvalue().splitlines() if line.strip()]
    assert {fields[0] for fields in logins} == {"admin", "ops", "supa", "supb", "sdag"}
    for username, password, *_ in logins:
        client = Client()
        assert client.login(username=username, password=password), username
    assert [p for u, p, *_ in logins if u == "admin"] == [stored.read_text().strip()]
    # another machine (another var folder) gets another random password
    other = demo_machine / "other"
    from django.conf import settings as live

    live.VAR_DIR = other
    call_command("load_demo", "--only", "portal", stdout=StringIO())
    assert (other / "demo-admin-password").read_text() != stored.read_text()


@pytest.mark.django_db
def test_demo_superuser_password_given_by_option_or_environment(demo_machine, monkeypatch):
    from portal.models import User

    call_command("load_demo", "--only", "portal", "--admin-password", "given-by-option-123", stdout=StringIO())
    assert User.objects.get(username="admin").check_password("given-by-option-123")
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "given-by-environment-456")
    call_command("load_demo", "--only", "portal", stdout=StringIO())
    assert User.objects.get(username="admin").check_password("given-by-environment-456")
    printed = StringIO()
    call_command("demo_logins", stdout=printed)
    assert "given-by-environment-456" in printed.getvalue()


@pytest.mark.django_db
def test_setup_schedules_is_idempotent():
    from portal.registry import SCHEDULES

    call_command("setup_schedules", stdout=StringIO())
    call_command("setup_schedules", stdout=StringIO())
    assert Schedule.objects.count() == len(SCHEDULES)
    assert sorted(Schedule.objects.values_list("name", flat=True)) == sorted(s.name for s in SCHEDULES)


def test_every_schedule_names_a_function_that_exists():
    # Schedules name their function by dotted path; a module that moves must take its schedule along.
    from django.utils.module_loading import import_string

    from portal.registry import SCHEDULES

    # Every app's schedules.py was read: portal 5 (with the idempotency keys', stored uploads' and
    # sign-in records' purges), adapter 3 (with the batch sources' purge and the rollouts' advance), servicedesk 2,
    # slas 6 (with the fact partitions made ahead and the facts' archive), workshops 3.
    assert len(SCHEDULES) == 19
    for entry in SCHEDULES:
        assert callable(import_string(entry.func)), entry.name


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["dcc_operator", "dcc_admin", "supplier_a", "sdag_member"])
def test_every_role_gets_a_home_page_with_navigation(role, request, client_for):
    user = request.getfixturevalue(role)
    response = client_for(user).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'nav class="sidebar"' in html and "Dashboard" in html


@pytest.mark.django_db
def test_admin_site_works_for_dcc_administrators(dcc_admin, dcc_operator, client_for):
    assert client_for(dcc_admin).get("/admin/portal/organisation/").status_code == 200
    assert client_for(dcc_operator).get("/admin/").status_code == 302


@pytest.mark.django_db
def test_api_schema_is_served_to_users(supplier_a, client_for):
    response = client_for(supplier_a).get("/api/schema/")
    assert response.status_code == 200 and b"openapi" in response.content
    assert client_for(supplier_a).get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_admin_shows_webhook_deliveries(dcc_admin, client_for):
    # The burn-rate thresholds' admin moved with them to slas (tests/slas/test_burnrate.py).
    assert client_for(dcc_admin).get("/admin/portal/webhookdelivery/").status_code == 200


def test_service_validation_errors_answer_400_naming_the_field():
    from django.core.exceptions import ValidationError

    from portal.api import exception_handler

    response = exception_handler(ValidationError({"hub_id": ["unknown hub 00-DB-00-00-00-00-00-01"]}), {})
    # An RFC 9457 problem: the field's messages under errors (and, for a deprecation period, at the top).
    assert response.status_code == 400
    assert response.data["errors"] == {"hub_id": ["unknown hub 00-DB-00-00-00-00-00-01"]}
    assert response.data["hub_id"] == ["unknown hub 00-DB-00-00-00-00-00-01"]
    assert response.data["status"] == 400 and response.data["detail"] == "hub_id: unknown hub 00-DB-00-00-00-00-00-01"
    response = exception_handler(ValidationError("not now"), {})
    assert response.status_code == 400 and response.data["detail"] == "not now" and response.data["errors"] == {}


@pytest.mark.django_db
def test_the_login_page_lists_the_demo_logins_when_debug_is_on(demo_machine, client):
    call_command("load_demo", "--only", "portal", stdout=StringIO())
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Demo logins" in text
    for username in ("ops", "supa", "supb", "sdag", "admin"):
        assert f"<code>{username}</code>" in text
    assert "smart-metering-demo" in text
    # the superuser's random password stays in the terminal that printed it
    assert (demo_machine / "demo-admin-password").read_text().strip() not in text


@pytest.mark.django_db
def test_the_login_page_never_lists_demo_logins_with_debug_off(demo_machine, client, settings):
    call_command("load_demo", "--only", "portal", stdout=StringIO())
    settings.DEBUG = False
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "Demo logins" not in page.content.decode()
    assert "smart-metering-demo" not in page.content.decode()


@pytest.mark.django_db
def test_no_demo_login_hint_without_the_demo_people(settings, client):
    settings.DEBUG = True
    assert "Demo logins" not in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", [None, "supplier_a"])
def test_a_404_in_production_settings_is_the_portals_own_page(who, settings, client, request, client_for):
    settings.DEBUG = False
    browser = client_for(request.getfixturevalue(who)) if who else client
    for url in ("/no-such-page/", "/inventory/devices/?export=pdf" if who else "/nothing/here/"):
        page = browser.get(url)
        assert page.status_code == 404
        text = page.content.decode()
        assert "<h1>Not found</h1>" in text
        assert 'class="topbar"' in text and 'href="/favicon.ico"' in text  # the base page around it
        assert "Page not found at" not in text and "Traceback" not in text  # never Django's debug page
    if who:
        assert 'nav class="sidebar"' in text  # the signed-in person keeps their navigation
