"""Who a client is, for the login lock-out and the API throttles, behind PORTAL_TRUSTED_PROXIES proxies;
and the lock-out of a username whose password is guessed from many addresses."""
import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from portal.clientip import client_address


def _request(remote="10.0.0.9", forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_no_trusted_proxy_ignores_a_spoofed_forwarded_for(settings):
    settings.PORTAL_TRUSTED_PROXIES = 0
    assert client_address(_request(forwarded="1.2.3.4")) == "10.0.0.9"
    assert client_address(_request(forwarded="1.2.3.4, 5.6.7.8")) == "10.0.0.9"


def test_one_trusted_proxy_takes_the_right_most_address(settings):
    settings.PORTAL_TRUSTED_PROXIES = 1
    # the client wrote "1.2.3.4"; the proxy appended the address it was really connected from
    assert client_address(_request(remote="10.0.0.2", forwarded="1.2.3.4, 203.0.113.7")) == "203.0.113.7"
    assert client_address(_request(remote="10.0.0.2", forwarded="203.0.113.7")) == "203.0.113.7"
    assert client_address(_request(remote="10.0.0.2")) == "10.0.0.2"  # no header: the peer
    settings.PORTAL_TRUSTED_PROXIES = 2
    assert client_address(_request(forwarded="1.2.3.4, 203.0.113.7, 10.0.0.5")) == "203.0.113.7"


def test_axes_and_the_throttles_use_the_same_address(settings):
    from axes.helpers import get_client_ip_address

    from portal.throttling import AnonThrottle

    settings.PORTAL_TRUSTED_PROXIES = 0
    request = _request(forwarded="1.2.3.4")
    assert get_client_ip_address(request) == AnonThrottle().get_ident(request) == "10.0.0.9"
    settings.PORTAL_TRUSTED_PROXIES = 1
    assert get_client_ip_address(request) == AnonThrottle().get_ident(request) == "1.2.3.4"


@pytest.mark.django_db
def test_a_spoofed_header_does_not_escape_the_api_throttle(settings):
    settings.AXES_ENABLED = False
    from tests.portal.test_rate_limit_headers import rates

    settings.PORTAL_TRUSTED_PROXIES = 0
    with rates(anon="2/min", user="100/min"):
        codes = [Client().post("/api/v1/auth/token/", {"username": "nobody", "password": "x"},
                               content_type="application/json",
                               HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(4)]
    assert codes[-1] == 429  # a new X-Forwarded-For per call did not make a new client


def _fail(username, address, **headers):
    return Client(REMOTE_ADDR=address).post(reverse("login"), {"username": username, "password": "wrong"}, **headers)


@pytest.mark.django_db
def test_a_username_is_locked_out_across_addresses(supplier_a, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        _fail("alice", f"192.0.2.{n + 1}")
    # the right password from yet another address: the username is locked
    fresh = Client(REMOTE_ADDR="192.0.2.99").post(reverse("login"), {"username": "alice",
                                                                     "password": "test-password-123"})
    assert fresh.status_code == 429
    # another username from those addresses is not
    other = Client(REMOTE_ADDR="192.0.2.1").post(reverse("login"), {"username": "bob", "password": "wrong"})
    assert other.status_code == 200


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_reset_the_lock_out(supplier_a, settings):
    from axes.models import AccessAttempt

    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.PORTAL_TRUSTED_PROXIES = 0
    for n in range(2):
        _fail("alice", "192.0.2.50", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.50"}
