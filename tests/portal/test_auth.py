"""Log in, log out, password change, API tokens, login throttling and CSRF."""
import pytest
from django.test import Client
from django.urls import reverse

from tests.mfa import enrol, one_code, totp_code, verified_login


@pytest.mark.django_db
def test_login_logout_round_trip(supplier_a):
    client = Client()
    response = client.post(reverse("login"), {"username": "alice", "password": "test-password-123"})
    assert response.status_code == 302
    # The password alone opens nothing for alice (she may send critical commands): the code next.
    assert client.get(reverse("home"))["Location"].startswith(reverse("mfa_verify"))
    device = enrol(supplier_a)
    assert client.post(reverse("mfa_verify"), {"code": totp_code(device), "next": "/"})["Location"] == "/"
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_message(supplier_a):
    response = Client().post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


@pytest.mark.django_db
def test_password_change(supplier_a, client_for):
    client = client_for(supplier_a)
    response = client.post(
        reverse("password_change"),
        {"old_password": "test-password-123", "new_password1": "a-new-long-pass-77",
         "new_password2": "a-new-long-pass-77"},
    )
    assert response.status_code == 302
    supplier_a.refresh_from_db()
    assert supplier_a.check_password("a-new-long-pass-77")


@pytest.mark.django_db
def test_login_is_throttled_with_429_and_retry_after(supplier_a, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "alice", "password": "test-password-123"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many failed" in response.content.decode()


@pytest.mark.django_db
def test_api_token_and_session_auth(supplier_a, api_for, client_for):
    assert api_for(supplier_a).get("/api/organisations/").status_code == 200
    assert client_for(supplier_a).get("/api/organisations/").status_code == 200
    response = Client().post("/api/auth/token/", {"username": "alice", "password": "test-password-123",
                                                  "otp": one_code(supplier_a)}, content_type="application/json")
    assert response.status_code == 200 and len(response.json()["token"]) == 43  # 256 bits, URL-safe base64
    # JSON only, as the schema says: a form body is refused, not half-read.
    form = Client().post("/api/auth/token/", {"username": "alice", "password": "test-password-123"})
    assert form.status_code == 415


@pytest.mark.django_db
def test_token_regeneration_invalidates_the_old_token(supplier_a, api_for, client_for):
    api = api_for(supplier_a)
    client_for(supplier_a).post(reverse("account_token_regenerate"))
    assert api.get("/api/organisations/").status_code == 401


@pytest.mark.django_db
def test_csrf_is_enforced_on_forms(supplier_a):
    client = Client(enforce_csrf_checks=True)
    verified_login(client, supplier_a)
    assert client.post(reverse("account_token_regenerate")).status_code == 403


@pytest.mark.django_db
def test_api_throttle_answers_429_with_retry_after(supplier_a, api_for, settings):
    # The shared patch of the rates: setting THROTTLE_RATES on UserRateThrottle itself (as this test did)
    # left a class attribute behind that hid every later patch of the base class on the same worker.
    from tests.portal.test_rate_limit_headers import rates

    with rates(user="2/min"):
        api = api_for(supplier_a)
        statuses = [api.get("/api/organisations/").status_code for _ in range(3)]
        response = api.get("/api/organisations/")
    assert statuses[:2] == [200, 200]
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
