"""Multi-factor sign-in (portal.mfa): enrolment, verification, recovery codes, enforcement, reset and
the API token path. Codes are computed in the test with RFC 6238 arithmetic (tests/mfa.py)."""
import re

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import services
from portal.choices import OrganisationKind, PortalRole
from portal.mfa import mfa_required, mfa_reset, require_for_token
from portal.mfa.policy import has_mfa
from tests.mfa import enrol, fresh_totp_code, one_code, totp_code, verified_login

PASSWORD = "test-password-123"


def _newcomer(username, organisation, role=PortalRole.SERVICE_USER):
    """A person with a password and no second factor yet."""
    return services.person_upsert(username=username, first_name=username.title(), last_name="New",
                                  organisation=organisation, role=role, password=PASSWORD)


def _password_login(username):
    client = Client()
    assert client.post(reverse("login"), {"username": username, "password": PASSWORD}).status_code == 302
    return client


@pytest.fixture
def export_only(orgs):
    """A service user whose DUIS roles send no critical SRV (an export supplier)."""
    organisation = services.organisation_upsert(code="EXPO", name="Export Only Ltd", kind=OrganisationKind.SERVICE_USER,
                                                duis_roles=["ES"], user_id="90-B3-D5-1F-30-01-00-09")
    return _newcomer("exporter", organisation)


@pytest.mark.django_db
def test_who_must_have_it(orgs, dcc_operator, dcc_admin, supplier_a, sdag_member, export_only):
    assert mfa_required(dcc_operator) and mfa_required(dcc_admin)  # DCC staff
    assert mfa_required(supplier_a)  # IS/GS may send critical commands
    assert not mfa_required(export_only)  # ES sends none
    assert not mfa_required(sdag_member)


@pytest.mark.django_db
def test_totp_enrolment_after_password_then_recovery_codes_then_the_portal(orgs):
    person = _newcomer("newop", orgs["DCC"], PortalRole.DCC_OPERATIONS)
    client = _password_login("newop")
    answer = client.get("/inventory/devices/")
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("mfa_enrol"))
    page = client.get(answer["Location"])
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "data:image/svg+xml" in page.content.decode()  # the QR code, no script
    device = TOTPDevice.objects.get(user=person, confirmed=False)
    # the key on the page is the device's
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.content.decode()).group(1)
    from base64 import b32decode

    assert b32decode(secret) == device.bin_key
    wrong = client.post(reverse("mfa_enrol"), {"code": "000000" if totp_code(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "does not match" in wrong.content.decode()
    assert client.get("/").status_code == 302  # still not through
    done = client.post(reverse("mfa_enrol"), {"code": totp_code(device), "next": "/inventory/devices/"})
    assert done.status_code == 200 and done["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=person).count() == 10
    assert client.get("/inventory/devices/").status_code == 200
    assert has_mfa(person)
    events = set(LogEntry.objects.filter(object_pk=str(person.pk)).values_list("additional_data__mfa", flat=True))
    assert {"totp_enrolled", "recovery_codes_issued"} <= events


@pytest.mark.django_db
def test_verify_with_the_app_refuses_a_wrong_code_and_a_replayed_one(supplier_a):
    device = enrol(supplier_a)
    client = _password_login("alice")
    answer = client.get("/adapter/requests/")
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("mfa_verify"))
    wrong = client.post(reverse("mfa_verify"), {"code": "123450" if totp_code(device) != "123450" else "1",
                                                "next": "/adapter/requests/"})
    assert wrong.status_code == 200 and "does not match" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wrong code counted; reset so the right one is not throttled
    device.throttling_failure_timestamp = None
    device.save()
    code = fresh_totp_code(device)
    ok = client.post(reverse("mfa_verify"), {"code": code, "next": "/adapter/requests/"})
    assert ok.status_code == 302 and ok["Location"] == "/adapter/requests/"
    assert client.get("/adapter/requests/").status_code == 200
    # the same code a second time (another browser, same step) is refused
    other = _password_login("alice")
    assert "does not match" in other.post(reverse("mfa_verify"), {"code": code}).content.decode()


@pytest.mark.django_db
def test_verify_does_not_redirect_to_another_host(supplier_a):
    device = enrol(supplier_a)
    client = _password_login("alice")
    answer = client.post(reverse("mfa_verify"), {"code": fresh_totp_code(device), "next": "https://evil.example/"})
    assert answer["Location"] == "/"


@pytest.mark.django_db
def test_a_recovery_code_works_once(supplier_a):
    from portal.mfa.services import recovery_codes_issue

    codes = recovery_codes_issue(user=supplier_a)
    first = _password_login("alice")
    assert first.post(reverse("mfa_verify"), {"code": codes[0].lower()}).status_code == 302
    assert first.get("/").status_code == 200
    second = _password_login("alice")
    again = second.post(reverse("mfa_verify"), {"code": codes[0]})
    assert again.status_code == 200 and "does not match" in again.content.decode()
    assert second.get("/").status_code == 302
    assert StaticToken.objects.filter(device__user=supplier_a).count() == 9
    # new codes replace the old ones
    newer = recovery_codes_issue(user=supplier_a)
    assert StaticToken.objects.filter(device__user=supplier_a).count() == 10
    assert "does not match" in second.post(reverse("mfa_verify"), {"code": codes[1]}).content.decode()
    # (django-otp throttles after failures: a second of wait, doubling; not what this test is about)
    StaticDevice.objects.filter(user=supplier_a).update(throttling_failure_count=0)
    assert second.post(reverse("mfa_verify"), {"code": newer[1]}).status_code == 302


@pytest.mark.django_db
def test_hostile_codes_are_refused_with_the_field_named(supplier_a):
    enrol(supplier_a)
    client = _password_login("alice")
    for code in ("' OR 1=1 --", "9" * 31, "<script>", "\x00", "１２３４５６"):
        answer = client.post(reverse("mfa_verify"), {"code": code})
        assert answer.status_code == 200, code
        assert 'role="alert"' in answer.content.decode()
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_an_unverified_dcc_session_reaches_no_page_and_not_the_api(orgs, dcc_operator):
    from tests.urlsweep import iter_routes

    client = _password_login("operator")
    open_paths = {reverse(name) for name in ("login", "logout", "mfa_verify", "mfa_enrol", "mfa_enrolled")}
    checked = 0
    for route in iter_routes():
        if route.params or "<" in route.route or route.route.startswith("accounts/mfa/webauthn/"):
            continue
        path = "/" + route.route.replace("^", "").replace("$", "").replace("\\Z", "")
        if path in open_paths:
            continue
        answer = client.get(path)
        if path.startswith("/api/"):
            assert answer.status_code == 403, path
            assert "multi-factor" in answer.json()["detail"], path
        else:
            assert answer.status_code == 302, path
            assert answer["Location"].startswith(reverse("mfa_verify") + "?next="), path
        checked += 1
    assert checked > 40
    # static files, the login and the verification page itself stay open
    assert client.get(reverse("mfa_verify")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302


@pytest.mark.django_db
def test_a_supplier_who_sends_no_critical_command_is_not_forced(export_only):
    client = _password_login("exporter")
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/organisations/").status_code == 200
    # but may enrol, and is then asked for the code at every sign-in
    enrol(export_only)
    assert _password_login("exporter").get("/")["Location"].startswith(reverse("mfa_verify"))


@pytest.mark.django_db
def test_no_api_token_without_mfa_where_required(orgs):
    person = _newcomer("tokenless", orgs["SUPA"])
    with pytest.raises(PermissionDenied):
        require_for_token(person)
    with pytest.raises(PermissionDenied):
        services.api_token_get_or_create(user=person)
    with pytest.raises(PermissionDenied):
        services.api_token_issue(user=person, name="read-only", read_only=True)
    answer = Client().post("/api/v1/auth/token/", {"username": "tokenless", "password": PASSWORD},
                           content_type="application/json")
    assert answer.status_code == 403 and "multi-factor" in answer.json()["detail"]
    from portal.models import ApiToken

    assert not ApiToken.objects.filter(user=person).exists()


@pytest.mark.django_db
def test_the_token_endpoint_asks_for_a_code_from_a_person_with_mfa(supplier_a):
    device = enrol(supplier_a)
    body = {"username": "alice", "password": PASSWORD}
    missing = Client().post("/api/v1/auth/token/", body, content_type="application/json")
    assert missing.status_code == 400 and "otp" in missing.json()["errors"]
    wrong = Client().post("/api/v1/auth/token/", {**body, "otp": "000000" if totp_code(device) != "000000" else "1"},
                          content_type="application/json")
    assert wrong.status_code == 400 and "does not match" in wrong.json()["errors"]["otp"][0]
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    good = Client().post("/api/v1/auth/token/", {**body, "otp": fresh_totp_code(device)},
                         content_type="application/json")
    assert good.status_code == 200 and len(good.json()["token"]) == 43
    assert Client().post("/api/v1/auth/token/", {**body, "otp": one_code(supplier_a)},
                         content_type="application/json").status_code == 200


@pytest.mark.django_db
def test_mfa_reset_by_a_dcc_administrator_is_audited_and_sends_the_person_to_enrol(dcc_admin, supplier_a,
                                                                                   supplier_b):
    from portal.mfa.services import recovery_codes_issue

    recovery_codes_issue(user=supplier_a)
    with pytest.raises(PermissionDenied):
        mfa_reset(user=supplier_a, actor=supplier_b)
    assert mfa_reset(user=supplier_a, actor=dcc_admin) == 2
    assert not has_mfa(supplier_a)
    entry = LogEntry.objects.filter(object_pk=str(supplier_a.pk), additional_data__mfa="mfa_reset").get()
    assert entry.actor == dcc_admin
    assert _password_login("alice").get("/")["Location"].startswith(reverse("mfa_enrol"))


@pytest.mark.django_db
def test_a_person_with_a_device_cannot_add_another_before_verifying(supplier_a):
    enrol(supplier_a)
    client = _password_login("alice")
    assert client.get(reverse("mfa_enrol"))["Location"].startswith(reverse("mfa_verify"))
    # nor register a passkey through the library's endpoint
    begin = client.post(reverse("otp_webauthn:credential-registration-begin"), content_type="application/json")
    assert begin.status_code == 403
    assert verified_login(Client(), supplier_a).get(reverse("mfa_enrol")).status_code == 200


@pytest.mark.django_db
def test_the_account_page_shows_the_devices_and_gives_new_recovery_codes(supplier_a, client_for):
    client = client_for(supplier_a)
    page = client.get(reverse("account")).content.decode()
    assert "Multi-factor sign-in" in page and "Test app" in page and "0 recovery codes left" in page
    answer = client.post(reverse("mfa_recovery_codes"))
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    assert len(re.findall(r"<code>[A-Z0-9]{5}-[A-Z0-9]{5}</code>", answer.content.decode())) == 10
    assert "10 recovery codes left" in client.get(reverse("account")).content.decode()
    # an unverified session of the same person gets no codes
    assert _password_login("alice").post(reverse("mfa_recovery_codes"))["Location"].startswith(reverse("mfa_verify"))
