"""Sessions end after PORTAL_SESSION_IDLE_MINUTES without a request (sliding); sign-ins and
failures are recorded and shown to the person and to DCC administrators (issue 18)."""
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from portal.choices import SignInOutcome
from portal.models import SignIn, User
from tests.mfa import enrol

PASSWORD = "test-password-123"


def _sign_in(username, password=PASSWORD, **headers):
    """The password step through the login page (which records the sign-in); a person with a
    second factor then has it marked passed in the session, as the MFA page would."""
    from django_otp import DEVICE_ID_SESSION_KEY

    client = Client(**headers)
    response = client.post(reverse("login"), {"username": username, "password": password})
    user = User.objects.filter(username=username).first()
    if response.status_code == 302 and user is not None and client.session.get("_auth_user_id"):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = enrol(user).persistent_id
        session.save()
    return client, response


def test_the_idle_period_is_configurable_and_defaults_to_30_minutes():
    import config.settings as production  # the test settings lengthen it for time-travelling tests

    assert production.PORTAL_SESSION_IDLE_MINUTES == 30
    assert production.SESSION_COOKIE_AGE == 30 * 60 and production.SESSION_SAVE_EVERY_REQUEST


def test_session_slides_while_used_and_ends_after_the_idle_period(supplier_a, settings):
    settings.SESSION_COOKIE_AGE = settings.PORTAL_SESSION_IDLE_MINUTES * 60  # as in production
    settings.SESSION_SAVE_EVERY_REQUEST = True
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client, response = _sign_in("alice")
        assert response.status_code == 302
        # Used every 20 minutes for an hour: still signed in (each request moves the expiry on).
        for _ in range(3):
            clock.shift(timedelta(minutes=20))
            assert client.get(reverse("account")).status_code == 200
        # 31 minutes of nothing: the session is over and the next page asks to sign in.
        clock.shift(timedelta(minutes=31))
        response = client.get(reverse("account"))
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_shorter_idle_period(supplier_a, settings):
    settings.SESSION_COOKIE_AGE = 5 * 60
    settings.SESSION_SAVE_EVERY_REQUEST = True
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client, _ = _sign_in("alice")
        clock.shift(timedelta(minutes=4))
        assert client.get(reverse("account")).status_code == 200
        clock.shift(timedelta(minutes=6))
        assert client.get(reverse("account")).status_code == 302


def test_sign_ins_and_failures_are_recorded_with_address_and_agent(supplier_a):
    _sign_in("alice", HTTP_USER_AGENT="Firefox/140 test", REMOTE_ADDR="198.51.100.7")
    _sign_in("alice", "wrong-password", HTTP_USER_AGENT="curl/8", REMOTE_ADDR="203.0.113.9")
    _sign_in("nobody-here", "whatever")
    ok = SignIn.objects.get(user=supplier_a, outcome=SignInOutcome.SUCCEEDED)
    assert (ok.address, ok.user_agent, ok.method) == ("198.51.100.7", "Firefox/140 test", "password")
    failed = SignIn.objects.get(user=supplier_a, outcome=SignInOutcome.FAILED)
    assert (failed.address, failed.user_agent, failed.username) == ("203.0.113.9", "curl/8", "alice")
    unknown = SignIn.objects.get(username="nobody-here")
    assert unknown.user is None and unknown.outcome == SignInOutcome.FAILED
    assert not SignIn.objects.filter(user_agent__icontains="password").exists()


def test_a_failed_api_token_exchange_is_recorded(supplier_a):
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert SignIn.objects.get(user=supplier_a).method == "api_token"


def test_hostile_headers_are_kept_harmlessly(supplier_a):
    _sign_in("alice", "bad", HTTP_USER_AGENT="<script>alert(1)</script>" + "x" * 1000, REMOTE_ADDR="not-an-ip")
    _sign_in("<b>alice</b>" + "y" * 400, "bad")
    entry = SignIn.objects.get(user=supplier_a)
    assert entry.address is None and len(entry.user_agent) == 300
    client, _ = _sign_in("alice")
    page = client.get(reverse("account")).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert len(SignIn.objects.get(username__startswith="<b>").username) == 150


def test_the_person_sees_their_own_sign_ins_only(supplier_a, supplier_b):
    _sign_in("bob", "wrong", HTTP_USER_AGENT="BobAgent")
    _sign_in("alice", "wrong", HTTP_USER_AGENT="AgentOfFailure")
    client, _ = _sign_in("alice", HTTP_USER_AGENT="AgentOfSuccess")
    page = client.get(reverse("account")).content.decode()
    assert "AgentOfSuccess" in page and "AgentOfFailure" in page and "Failed" in page
    assert "BobAgent" not in page


def test_dcc_administrators_read_everyones_filtered_by_person(supplier_a, supplier_b, dcc_admin, dcc_operator,
                                                              client_for):
    _sign_in("alice", HTTP_USER_AGENT="AliceAgent")
    _sign_in("bob", "wrong", HTTP_USER_AGENT="BobAgent")
    admin = client_for(dcc_admin)
    page = admin.get(reverse("sign_in_log")).content.decode()
    assert "AliceAgent" in page and "BobAgent" in page
    page = admin.get(reverse("sign_in_log"), {"person": "bob"}).content.decode()
    assert "BobAgent" in page and "AliceAgent" not in page
    page = admin.get(reverse("sign_in_log"), {"outcome": "succeeded"}).content.decode()
    assert "AliceAgent" in page and "BobAgent" not in page
    assert admin.get(reverse("sign_in_log"), {"outcome": "'; drop table", "person": "x" * 5000}).status_code == 200
    # Nobody else reads the record: DCC operations and service users are refused.
    for person in (dcc_operator, supplier_a):
        assert client_for(person).get(reverse("sign_in_log")).status_code == 403


@pytest.mark.django_db
def test_sign_in_signal_receivers_are_connected():
    from django.contrib.auth.signals import user_logged_in, user_login_failed

    assert user_logged_in.has_listeners() and user_login_failed.has_listeners()


def test_old_sign_in_records_are_purged(supplier_a, settings):
    from portal import services

    settings.PORTAL_SIGN_IN_KEEP_DAYS = 30
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        _sign_in("alice", "wrong")
    _sign_in("alice", "wrong-again")
    assert services.sign_ins_purge() == 1
    assert list(SignIn.objects.values_list("user", flat=True)) == [supplier_a.pk]
