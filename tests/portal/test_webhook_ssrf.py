"""Webhooks go to public addresses only (portal/webhooks/urlguard.py, outbound.py): hostile URL
spellings are refused by the guard, the service, the API and the form; a delivery is refused when
its name resolves (now) to a non-public address, however it resolved at save time; no redirect is
followed, no proxy used, and only a bounded part of an answer is read.

Name resolution is the one thing faked (``socket.getaddrinfo``): names under .example.test answer
what FAKE_DNS says, any other name does not resolve, IP literals resolve as the system does. A
tripwire makes any connection to an address other than 127.0.0.1 / ::1 fail the test."""
import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured, ValidationError

from portal.webhooks import outbound, urlguard
from portal.webhooks import services as webhooks
from portal.webhooks.forms import WebhookEndpointForm
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.portal.receiver import Receiver
from tests.portal.test_settings import PROD, manage

PUBLIC = "93.184.215.14"  # global; never contacted (the tripwire below)
FAKE_DNS = {
    "hooks.example.test": [PUBLIC],
    "v6.example.test": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "private.example.test": ["10.1.2.3"],
    "metadata.example.test": ["169.254.169.254"],
    "loopback.example.test": ["127.0.0.1"],
    "mixed.example.test": [PUBLIC, "192.168.0.10"],
    "mixed-v6.example.test": [PUBLIC, "fd00::1"],
    "mapped.example.test": ["::ffff:10.0.0.1"],
    "nat64.example.test": ["64:ff9b::5db8:d70e"],
    "cgnat.example.test": ["100.64.1.1"],
}

real_getaddrinfo = socket.getaddrinfo


def fake_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 (socket's names)
    host = host.decode() if isinstance(host, bytes) else host
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    else:
        return real_getaddrinfo(host, port, family, type, proto, flags)
    if host not in FAKE_DNS:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    port = int(port or 0)
    return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
             (ip, port, 0, 0) if ":" in ip else (ip, port)) for ip in FAKE_DNS[host]]


@pytest.fixture(autouse=True)
def fake_dns_and_tripwire(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    real_connect = socket.socket.connect

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            assert address[0] in ("127.0.0.1", "::1"), f"the test tried to connect to {address}"
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def production_policy(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    return settings


HOSTILE = [
    # loopback, however spelled
    "http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0x7f000001/", "http://0x7f.1/",
    "http://0177.0.0.1/", "http://0177.1/", "http://017700000001/", "http://127.000.000.001/",
    "http://0x7f.0x0.0x0.0x1/", "http://127.0.0.1./", "http://１２７．０．０．１/", "https://127.0.0.1:8443/",
    "http://[::1]/", "http://[0:0:0:0:0:0:0:1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::1]/",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
    # unspecified
    "http://0.0.0.0/", "http://0/", "http://[::]/", "http://[::ffff:0.0.0.0]/",
    # private, link-local, metadata, shared, multicast, reserved, documentation, NAT64, site-local
    "http://10.0.0.1/", "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
    "http://0xa9.0xfe.0xa9.0xfe/", "http://[::ffff:a9fe:a9fe]/", "http://[::ffff:10.0.0.1]/",
    "http://100.64.0.1/", "http://224.0.0.1/", "http://255.255.255.255/", "http://240.0.0.1/",
    "http://192.0.2.1/", "http://198.51.100.7/", "http://203.0.113.9/", "http://198.18.0.1/",
    "http://[64:ff9b::808:808]/", "http://[64:ff9b:1::1]/", "http://[fe80::1]/", "http://[fe80::1%25eth0]/",
    "http://[fec0::1]/", "http://[fc00::1]/", "http://[ff02::1]/", "http://[2001:db8::1]/",
    # internal names
    "http://localhost/", "http://LOCALHOST/", "http://localhost./", "http://LocalHost.:8080/",
    "http://foo.localhost/", "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", "http://metadata.google.internal/computeMetadata/v1/",
    "http://printer.local/", "http://db/", "http://redis:6379/",
    # names that resolve now to what may not be reached
    "https://private.example.test/hook", "https://metadata.example.test/", "https://loopback.example.test/",
    "https://mixed.example.test/", "https://mixed-v6.example.test/", "https://mapped.example.test/",
    "https://nat64.example.test/", "https://cgnat.example.test/",
    # credentials and userinfo tricks, parser confusion
    "http://evil.com@127.0.0.1/", "https://user:pass@hooks.example.test/", "https://token@hooks.example.test/",
    "http://127.0.0.1:80@hooks.example.test/", "http://hooks.example.test\\@127.0.0.1/",
    "http://%31%32%37.0.0.1/", "http://127.0.0.1%2f@hooks.example.test/", "http://127.0.0.1\n.hooks.example.test/",
    "http://hooks.example.test /",
    # schemes and ports
    "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "ftp://hooks.example.test/", "dict://127.0.0.1:11211/",
    "javascript:alert(1)", "http://hooks.example.test:22/", "https://hooks.example.test:25/",
    "http://hooks.example.test:0/", "http://hooks.example.test:99999/",
]

ACCEPTED = [
    "https://hooks.example.test/dcc", "https://hooks.example.test:8443/dcc",
    "https://HOOKS.Example.Test./x", "https://v6.example.test/", "https://8.8.8.8/hook",
    "https://[2606:4700:4700::1111]/hook",
    # not resolvable now: accepted, checked at every delivery
    "https://not-yet.example.test/", "https://bücher.example/",
]


def test_there_are_forty_hostile_spellings_at_least():
    assert len(HOSTILE) >= 40 and len(set(HOSTILE)) == len(HOSTILE)


@pytest.mark.parametrize("url", HOSTILE)
def test_the_guard_refuses(url, production_policy):
    with pytest.raises(ValidationError):
        urlguard.validate_endpoint_url(url)
    # Production refuses every http:// URL; the same destination over https is refused for itself.
    if url.startswith("http://"):
        with pytest.raises(ValidationError) as refused:
            urlguard.validate_endpoint_url("https://" + url[len("http://"):])
        assert "https://" not in refused.value.messages[0] or "TLS" not in refused.value.messages[0], url


def test_plain_http_is_refused_in_production_and_allowed_only_in_the_loopback_set_up(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ValidationError) as refused:
        urlguard.validate_endpoint_url("http://hooks.example.test/dcc")
    assert "https://" in refused.value.messages[0]
    urlguard.validate_endpoint_url("https://hooks.example.test/dcc")
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    urlguard.validate_endpoint_url("http://127.0.0.1:8000/hook")


@pytest.mark.parametrize("url", ACCEPTED)
def test_the_guard_accepts_public_endpoints(url, production_policy):
    urlguard.validate_endpoint_url(url)


@pytest.mark.django_db
@pytest.mark.parametrize("url", HOSTILE)
def test_the_service_refuses_naming_the_url(url, orgs, supplier_a, production_policy):
    with pytest.raises(ValidationError) as refused:
        webhooks.endpoint_save(actor=supplier_a, organisation=orgs["SUPA"], name="hook", url=url,
                               events=["request.failed"])
    assert "url" in refused.value.message_dict
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", HOSTILE)
def test_the_api_answers_400_naming_the_url(url, supplier_a, api_for, production_policy):
    response = api_for(supplier_a).post("/api/v1/webhook-endpoints/", {
        "name": "hook", "url": url, "events": ["request.failed"]}, format="json")
    assert response.status_code == 400, response.content
    assert "url" in response.json()["errors"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_the_api_changing_a_url_is_checked_too(orgs, supplier_a, api_for, production_policy):
    hook = webhooks.endpoint_save(actor=supplier_a, organisation=orgs["SUPA"], name="hook",
                                  url="https://hooks.example.test/dcc", events=["request.failed"])
    response = api_for(supplier_a).patch(f"/api/v1/webhook-endpoints/{hook.pk}/",
                                         {"url": "http://169.254.169.254/"}, format="json")
    assert response.status_code == 400 and "url" in response.json()["errors"]
    message = " ".join(response.json()["errors"]["url"])
    assert "169.254.169.254 is a link-local address" in message
    hook.refresh_from_db()
    assert hook.url == "https://hooks.example.test/dcc"


@pytest.mark.parametrize("url", HOSTILE)
def test_the_form_refuses_naming_the_url(url, production_policy):
    form = WebhookEndpointForm(data={"name": "hook", "url": url, "events": ["request.failed"], "is_active": "on"})
    assert not form.is_valid()
    assert "url" in form.errors


@pytest.mark.django_db
def test_the_page_shows_why(supplier_a, client_for, production_policy):
    response = client_for(supplier_a).post("/webhooks/", {
        "name": "hook", "url": "https://private.example.test/", "events": ["request.failed"], "is_active": "on"})
    assert response.status_code == 200
    assert b"private.example.test resolves to 10.1.2.3, a private address" in response.content
    assert not WebhookEndpoint.objects.exists()


def test_loopback_allowed_lets_only_loopback_through(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    for url in ["http://127.0.0.1:8000/hook", "http://127.9.9.9:8000/", "http://[::1]:8000/", "http://localhost:8000/",
                "https://loopback.example.test/"]:
        urlguard.validate_endpoint_url(url)
    for url in ["http://[::ffff:127.0.0.1]/", "http://0.0.0.0:8000/", "http://10.0.0.1/", "http://127.1/",
                "http://foo.localhost/", "https://private.example.test/", "https://mixed.example.test/",
                "http://[fe80::1]/"]:
        with pytest.raises(ValidationError):
            urlguard.validate_endpoint_url(url)


# Delivery ------------------------------------------------------------------------------------


class Listener:
    """A bare listening socket on 127.0.0.1: did anything connect? (The kernel completes a
    connection into the backlog without accept, so a non-blocking accept tells.)"""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def connected(self):
        self.sock.setblocking(False)
        try:
            conn, _ = self.sock.accept()
        except BlockingIOError:
            return False
        conn.close()
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()


def attempt(hook):
    delivery = WebhookDelivery.objects.create(endpoint=hook, event="request.failed", payload={}, body="{}",
                                              next_attempt_at="2000-01-01T00:00:00Z")
    webhooks.delivery_attempt(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def endpoint(org, url):
    # objects.create: straight into the table, as if saved before the guard or before DNS changed.
    return WebhookEndpoint.objects.create(organisation=org, name="hook", url=url, events=["request.failed"])


@pytest.mark.django_db
def test_delivery_to_a_loopback_listener_is_refused_without_a_connection(orgs, production_policy):
    with Listener() as listener:
        for url in [f"http://127.0.0.1:{listener.port}/hook", f"http://loopback.example.test:{listener.port}/",
                    f"http://localhost:{listener.port}/", f"http://2130706433:{listener.port}/"]:
            delivery = attempt(endpoint(orgs["SUPA"], url))
            assert delivery.status == "failed" and delivery.error.startswith("refused: "), delivery.error
            assert delivery.next_attempt_at is None and delivery.attempts == 1
        assert not listener.connected()


@pytest.mark.django_db
def test_dns_rebinding_between_save_and_delivery_is_refused(orgs, supplier_a, production_policy, monkeypatch):
    monkeypatch.setitem(FAKE_DNS, "rebind.example.test", [PUBLIC])
    with Listener() as listener:
        hook = webhooks.endpoint_save(actor=supplier_a, organisation=orgs["SUPA"], name="rebind",
                                      url=f"https://rebind.example.test:{listener.port}/hook",
                                      events=["request.failed"])
        FAKE_DNS["rebind.example.test"] = ["127.0.0.1"]  # the attacker's DNS answers differently now
        delivery = attempt(hook)
        assert delivery.status == "failed"
        assert "rebind.example.test resolves to 127.0.0.1, a loopback address" in delivery.error
        assert not listener.connected()


@pytest.mark.django_db
def test_a_name_with_one_private_address_among_several_is_refused(orgs, production_policy, monkeypatch):
    with Listener() as listener:
        for answers in (["127.0.0.1", PUBLIC], [PUBLIC, "127.0.0.1"], [PUBLIC, "10.0.0.1"]):
            monkeypatch.setitem(FAKE_DNS, "several.example.test", answers)
            delivery = attempt(endpoint(orgs["SUPA"], f"https://several.example.test:{listener.port}/"))
            assert delivery.status == "failed" and "refused: several.example.test resolves to" in delivery.error
        assert not listener.connected()


@pytest.mark.django_db
def test_the_connection_goes_to_the_checked_address_with_the_name_in_host(orgs, monkeypatch):
    # Loopback allowed (the test settings): a name resolving to 127.0.0.1 is delivered, over a
    # connection to the address, with the URL's name in the Host header.
    monkeypatch.setitem(FAKE_DNS, "receiver.example.test", ["127.0.0.1"])
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        delivery = attempt(endpoint(orgs["SUPA"], f"http://receiver.example.test:{port}/hook"))
    assert delivery.status == "succeeded", delivery.error
    assert receiver.received[0]["headers"]["Host"] == f"receiver.example.test:{port}"


def test_https_keeps_the_name_for_sni_and_the_certificate():
    adapter = outbound.PinnedAdapter(allow_loopback=False)
    request = requests.Request("POST", "https://hooks.example.test/hook", data=b"{}").prepare()
    host_params, pool_kwargs = adapter.build_connection_pool_key_attributes(request, True)
    assert host_params["host"] == PUBLIC and host_params["port"] == 443
    assert pool_kwargs["server_hostname"] == pool_kwargs["assert_hostname"] == "hooks.example.test"
    assert request.headers["Host"] == "hooks.example.test"
    request = requests.Request("POST", "https://v6.example.test:8443/", data=b"{}").prepare()
    host_params, _ = adapter.build_connection_pool_key_attributes(request, True)
    assert host_params["host"] == "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]"
    assert request.headers["Host"] == "v6.example.test:8443"


class Scripted:
    """A receiver on 127.0.0.1 answering what ``answer(handler)`` writes; counts the requests."""

    def __init__(self, answer):
        self.requests = 0
        self.sent = 0
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                scripted.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    answer(self, scripted)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the portal stopped reading: what the bounded read is for

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.django_db
def test_a_redirect_is_not_followed(orgs):
    with Scripted(lambda h, s: None) as target:
        def redirect(handler, scripted):
            handler.send_response(302)
            handler.send_header("Location", target.url)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        with Scripted(redirect) as first:
            delivery = attempt(endpoint(orgs["SUPA"], first.url))
        assert first.requests == 1 and target.requests == 0
    assert delivery.status == "retrying" and delivery.response_code == 302
    assert delivery.error == "receiver answered HTTP 302 (redirects are not followed)"
    assert delivery.response_excerpt == ""


@pytest.mark.django_db
def test_proxies_from_the_environment_are_not_used(orgs, monkeypatch):
    with Listener() as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setitem(FAKE_DNS, "receiver.example.test", ["127.0.0.1"])
        with Receiver() as receiver:
            port = receiver.server.server_address[1]
            delivery = attempt(endpoint(orgs["SUPA"], f"http://receiver.example.test:{port}/hook"))
        assert delivery.status == "succeeded", delivery.error
        assert len(receiver.received) == 1
        assert not proxy.connected()
        # The listener would have seen a plain requests call: the check above means something.
        with pytest.raises(requests.RequestException):
            requests.post(f"http://receiver.example.test:{port}/hook", timeout=0.5)
        assert proxy.connected()


@pytest.mark.django_db
def test_a_huge_answer_is_read_only_up_to_the_bound(orgs, monkeypatch):
    total = 64 * 1024 * 1024

    def huge(handler, scripted):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        chunk = b"x" * 65536
        while scripted.sent < total:
            handler.wfile.write(chunk)
            scripted.sent += len(chunk)

    outcomes = []
    real_post = outbound.post

    def recording_post(*args, **kwargs):
        outcomes.append(real_post(*args, **kwargs))
        return outcomes[-1]

    monkeypatch.setattr(outbound, "post", recording_post)
    with Scripted(huge) as receiver:
        delivery = attempt(endpoint(orgs["SUPA"], receiver.url))
    assert delivery.status == "succeeded", delivery.error
    assert outcomes[0].bytes_read == outbound.BODY_LIMIT
    assert delivery.response_excerpt == "x" * 500
    assert receiver.sent < total


@pytest.mark.django_db
def test_an_error_answer_keeps_no_excerpt(orgs):
    with Receiver(codes=[500]) as receiver:
        delivery = attempt(endpoint(orgs["SUPA"], receiver.url))
    assert (delivery.status, delivery.response_code, delivery.response_excerpt) == ("retrying", 500, "")


# Configuration -------------------------------------------------------------------------------


def test_allow_loopback_refuses_to_start_with_debug_off():
    result = manage("check", **PROD, WEBHOOK_ALLOW_LOOPBACK="1")
    assert result.returncode != 0
    assert ImproperlyConfigured.__name__ in result.stderr
    assert "WEBHOOK_ALLOW_LOOPBACK=1 is for development only" in result.stderr
    assert manage("check", **{**PROD, "DEBUG": "1"}, WEBHOOK_ALLOW_LOOPBACK="1").returncode == 0
    assert manage("check", **PROD, WEBHOOK_ALLOW_LOOPBACK="0").returncode == 0
