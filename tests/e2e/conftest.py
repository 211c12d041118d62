"""Browser journeys: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Never downloads a browser: Chromium is /usr/bin/chromium (or PORTAL_CHROMIUM); where it is missing the
journeys are SKIPPED with the reason, never passed. In `make test` they run once, on the PostgreSQL
pass (PORTAL_TEST_DB=postgres); run alone with `.venv/bin/pytest tests/e2e` (SQLite).
Every journey saves a screenshot of its last page in test-output/e2e/ (failures keep theirs, named
...-FAILED.png).
"""
import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "e2e"
PASSWORD = "test-password-123"  # tests/conftest.py gives every fixture person this password


def _skip_reason():
    if os.environ.get("PORTAL_TEST_DB") == "sqlite":
        return "browser journeys run once per `make test`, on the PostgreSQL pass"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        return f"Chromium not found at {CHROMIUM}: install Debian's chromium package (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not importable: {exc}"
    return ""


def pytest_collection_modifyitems(config, items):
    reason = _skip_reason()
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _quiet_simulator(quiet_simulator):
    # A journey expects its request to be answered: no random E20/E21 from the simulator (the live
    # server runs in this process, so the profile set here is the one it uses).
    return quiet_simulator


# The supplier A meter the device-command journeys act on (commissioned, switch 1 fitted), with the
# SRV catalogue a live-server journey's flush may have taken.
DEVICE = "00-DB-12-34-56-78-90-A0"


@pytest.fixture
def meter(orgs):
    from adapter import catalogue
    from adapter.models import ServiceRequestVariant
    from inventory import services

    catalogue.load(ServiceRequestVariant)
    device = services.device_create(device_id=DEVICE, device_type="ESME", supplier=orgs["SUPA"], region="south",
                                    status="commissioned")
    services.switch_set(device=device, number=1, description="Storage heater", state="open", actor=None)
    return device


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop alive in this thread; the ORM calls the tests make
    # between browser steps are plain synchronous code, so Django's async-safety guard is lifted
    # for the journeys' modules only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context per journey; its last page is saved as a screenshot."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.console_errors = errors
    yield tab
    OUTPUT.mkdir(parents=True, exist_ok=True)
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name) + ("-FAILED" if failed else "")
    try:
        tab.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def login():
    """login(page, user): log in through the real form, as a person would: the password, then (for
    a person with multi-factor sign-in, which every fixture person has) the code their authenticator
    app shows now, computed from the device's key (tests/mfa.py)."""
    from tests.mfa import enrol, fresh_totp_code

    def do(tab, user, password=PASSWORD):
        tab.goto("/accounts/login/")
        tab.fill("#id_username", user.username)
        tab.fill("#id_password", password)
        tab.click("button[type=submit]")
        tab.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))
        if "/accounts/mfa/" in tab.url:
            enrolling = "/accounts/mfa/enrol/" in tab.url
            if enrolling:  # not enrolled yet: confirm the app whose key the page shows
                from django_otp.plugins.otp_totp.models import TOTPDevice

                device = TOTPDevice.objects.get(user=user, confirmed=False)
            else:
                device = enrol(user)
            tab.fill("#id_code", fresh_totp_code(device))
            tab.click("form[action$='/accounts/mfa/enrol/'] button[type=submit]" if enrolling
                      else "form[action$='/accounts/mfa/'] button[type=submit]")
            if enrolling:  # the recovery codes, shown once
                tab.get_by_role("link", name="Continue").click()
            tab.wait_for_url(re.compile(r"^(?!.*/accounts/(login|mfa)/).*$"))
        return tab

    return do
