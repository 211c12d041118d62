"""A DCC operator without a second factor signs in with the password, is sent to enrol, registers a
passkey (Chromium's virtual authenticator, through the DevTools protocol), keeps the recovery codes,
and at the next sign-in verifies with the passkey. django-otp-webauthn's own script does the
ceremony; the page loads it from the package's static files (no inline script under the CSP)."""
import re

import pytest
from playwright.sync_api import expect

from portal import services
from portal.choices import PortalRole
from tests.e2e.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _password(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_enrol_a_passkey_and_sign_in_with_it(page, live_server, orgs, settings):
    from django_otp_webauthn.models import WebAuthnCredential

    # The relying party is the live server's own origin (settings.py derives it from SITE_URL).
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    person = services.person_upsert(username="passkeyop", first_name="Pat", last_name="Key", organisation=orgs["DCC"],
                                    role=PortalRole.DCC_OPERATIONS, password=PASSWORD)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}})

    _password(page, "passkeyop")
    expect(page).to_have_url(re.compile(r"/accounts/mfa/enrol/\?next="))
    page.get_by_role("button", name="Register a passkey").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    assert len(page.locator(".recovery-codes code").all_inner_texts()) == 10
    page.get_by_role("link", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Good day, Pat")
    assert WebAuthnCredential.objects.filter(user=person, confirmed=True).count() == 1
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]})
    assert len(credentials["credentials"]) == 1

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    _password(page, "passkeyop")
    expect(page).to_have_url(re.compile(r"/accounts/mfa/\?next="))
    page.goto("/organisations/")  # nothing else opens before the second factor
    expect(page).to_have_url(re.compile(r"/accounts/mfa/\?next=%2Forganisations%2F"))
    page.get_by_role("button", name="Use your passkey").click()
    expect(page).to_have_url(re.compile(r"/organisations/$"))
    expect(page.locator("main")).to_contain_text("Albion Energy")
    assert page.console_errors == []
