"""Single sign-on for DCC staff by OpenID Connect (portal.sso), driven through the code flow
against a real provider on 127.0.0.1 that the test starts (tests/portal/oidc_provider.py)."""
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.test import Client
from django.urls import reverse

from portal import sso
from portal.choices import PortalRole, SignInOutcome
from portal.models import SignIn, User
from tests.conftest import _person
from tests.portal.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider


@pytest.fixture
def provider(settings):
    with Provider() as running:
        sso._discovered.clear()
        settings.OIDC_RP_CLIENT_ID = CLIENT_ID
        settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
        settings.OIDC_OP_ISSUER = running.issuer
        settings.PORTAL_OIDC_DCC_EMAIL_DOMAINS = ["dcc.example"]
        settings.PORTAL_OIDC_DCC_GROUPS = ["dcc-staff"]
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "portal.sso.DccOidcBackend"]
        yield running
        sso._discovered.clear()


def _staff(username, organisation, role, email):
    person = _person(username, organisation, role)
    person.email = email
    person.save()
    return person


@pytest.fixture
def dcc_person(orgs):
    return _staff("dana", orgs["DCC"], PortalRole.DCC_OPERATIONS, "Dana@DCC.example")


def _identity(email, **claims):
    return {"sub": f"sub-{email}", "email": email, "email_verified": True, **claims}


def _sign_in(client, provider):
    """Start at the portal, follow the provider's authorize redirect, come back to the callback."""
    start = client.get(reverse("oidc_authentication_init"))
    assert start.status_code == 302 and start["Location"].startswith(provider.issuer + "/authorize")
    query = parse_qs(urlparse(start["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    back = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302
    url = urlparse(back.headers["Location"])
    assert url.path == reverse("oidc_authentication_callback")
    return client.get(f"{url.path}?{url.query}")


def _signed_in_as(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_dcc_staff_sign_in_by_email_domain(provider, dcc_person):
    provider.identity = _identity("dana@dcc.example")
    client = Client()
    response = _sign_in(client, provider)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert _signed_in_as(client) == dcc_person
    # Single sign-on is the first factor only: DCC staff still pass the portal's own second factor.
    assert client.get(reverse("account"))["Location"].startswith(reverse("mfa_verify"))
    assert SignIn.objects.filter(user=dcc_person, outcome=SignInOutcome.SUCCEEDED, method="sso").exists()
    # Discovery, the JWKS and the user info were read from the provider itself.
    assert {"GET /.well-known/openid-configuration", "POST /token", "GET /jwks", "GET /userinfo"} <= set(
        provider.requests)
    dcc_person.refresh_from_db()
    assert dcc_person.role == PortalRole.DCC_OPERATIONS  # claims change nothing


def test_dcc_staff_sign_in_by_group(provider, orgs):
    person = _staff("gita", orgs["DCC"], PortalRole.DCC_ADMIN, "gita@contractor.example")
    provider.identity = _identity("gita@contractor.example", groups=["dcc-staff"])
    client = Client()
    _sign_in(client, provider)
    assert _signed_in_as(client) == person


@pytest.mark.parametrize("claims", [
    _identity("eve@elsewhere.example"),                                 # domain not allowed
    _identity("eve@elsewhere.example", groups=["suppliers"]),           # group not allowed
    _identity("dana@dcc.example", email_verified=False),                # e-mail not verified
    _identity("dana@dcc.example", email_verified="true"),               # not the boolean true
    {"sub": "no-email", "groups": ["dcc-staff"]},                       # no e-mail at all
])
def test_an_identity_outside_the_rule_is_refused(provider, dcc_person, orgs, claims):
    # Eve has a DCC account too: what refuses her is the rule, not a missing account.
    _staff("eve", orgs["DCC"], PortalRole.DCC_OPERATIONS, "eve@elsewhere.example")
    provider.identity = claims
    client = Client()
    response = _sign_in(client, provider)
    assert response.status_code == 302 and "sso=refused" in response["Location"]
    assert _signed_in_as(client) is None
    assert SignIn.objects.filter(outcome=SignInOutcome.FAILED, method="sso").exists()


def test_a_supplier_account_is_never_signed_in_by_sso(provider, orgs):
    supplier = _staff("sue", orgs["SUPA"], PortalRole.SERVICE_USER, "sue@dcc.example")
    provider.identity = _identity("sue@dcc.example", groups=["dcc-staff"])
    client = Client()
    _sign_in(client, provider)
    assert _signed_in_as(client) is None
    supplier.refresh_from_db()
    assert supplier.role == PortalRole.SERVICE_USER


def test_an_inactive_dcc_account_is_refused(provider, dcc_person):
    dcc_person.is_active = False
    dcc_person.save()
    provider.identity = _identity("dana@dcc.example")
    client = Client()
    _sign_in(client, provider)
    assert _signed_in_as(client) is None


def test_no_account_is_created_unless_configured(provider, orgs, settings):
    provider.identity = _identity("new@dcc.example", given_name="New", family_name="Staff", groups=["admins"])
    client = Client()
    _sign_in(client, provider)
    assert _signed_in_as(client) is None and not User.objects.filter(email="new@dcc.example").exists()

    settings.PORTAL_OIDC_CREATE_USERS = True
    _sign_in(client, provider)
    person = _signed_in_as(client)
    assert person.email == "new@dcc.example" and person.organisation == orgs["DCC"]
    assert person.role == PortalRole.DCC_OPERATIONS and not person.is_superuser and not person.is_staff
    assert not person.has_usable_password()


@pytest.mark.parametrize("spoil", [
    {"key": "other"},                # signed by a key that is not the provider's
    {"nonce": "not-the-nonce"},      # a token minted for another sign-in
    {"aud": "another-client"},       # a token for another client of the provider
    {"iss": "http://evil.example"},  # another issuer
])
def test_a_bad_id_token_is_refused(provider, dcc_person, spoil):
    provider.identity = _identity("dana@dcc.example")
    provider.spoil = spoil
    client = Client()
    response = _sign_in(client, provider)
    assert response.status_code in (302, 400)
    assert _signed_in_as(client) is None


def test_a_bad_or_replayed_state_is_refused(provider, dcc_person):
    provider.identity = _identity("dana@dcc.example")
    client = Client()
    start = client.get(reverse("oidc_authentication_init"))
    back = urlparse(requests.get(start["Location"], allow_redirects=False, timeout=10).headers["Location"])
    code = parse_qs(back.query)["code"][0]
    forged = client.get(reverse("oidc_authentication_callback"), {"code": code, "state": "forged-state"})
    assert forged.status_code in (302, 400) and _signed_in_as(client) is None
    # Another browser cannot use this browser's state (it is kept in this browser's session).
    other = Client()
    response = other.get(f"{back.path}?{back.query}")
    assert response.status_code in (302, 400) and _signed_in_as(other) is None
    # The rightful browser once; the same answer replayed is refused (state and code used up).
    client.get(f"{back.path}?{back.query}")
    assert _signed_in_as(client) == dcc_person
    replay = Client()
    replay.get(reverse("oidc_authentication_init"))
    replay.get(f"{back.path}?{back.query}")
    assert _signed_in_as(replay) is None


def test_a_code_on_the_password_login_page_is_not_exchanged(provider, dcc_person):
    provider.identity = _identity("dana@dcc.example")
    client = Client()
    start = client.get(reverse("oidc_authentication_init"))
    back = urlparse(requests.get(start["Location"], allow_redirects=False, timeout=10).headers["Location"])
    client.post(f"{reverse('login')}?{back.query}", {"username": "dana", "password": "wrong"})
    assert _signed_in_as(client) is None
    assert "POST /token" not in provider.requests


def test_off_unless_configured(dcc_person):
    assert not sso.enabled()
    client = Client()
    assert client.get(reverse("oidc_authentication_init"))["Location"] == reverse("login")
    assert client.get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"})["Location"] == reverse(
        "login")
    assert _signed_in_as(client) is None


def test_settings_refuse_half_a_configuration():
    import subprocess
    import sys

    env = {"OIDC_RP_CLIENT_ID": "x", "DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "OIDC_OP_ISSUER" in result.stderr


def test_the_login_page_offers_sso_only_when_configured(provider, settings):
    page = Client().get(reverse("login")).content.decode()
    assert "DCC single sign-on" in page and reverse("oidc_authentication_init") in page
    settings.OIDC_RP_CLIENT_ID = ""
    assert "DCC single sign-on" not in Client().get(reverse("login")).content.decode()
