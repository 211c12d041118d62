"""Webhook deliveries go to their own django-q2 queue (the "hooks" cluster), and a receiver that sleeps
instead of answering costs an attempt only the short webhook timeouts, never a batch worker's minutes."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal.events import publish
from portal.webhooks import outbound
from portal.webhooks import services as webhooks
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_deliveries_are_queued_on_the_hooks_cluster_only(orgs, settings, monkeypatch,
                                                         django_capture_on_commit_callbacks):
    from django_q.conf import Conf
    from django_q.models import OrmQ

    settings.VALIDATE_EVENT_PAYLOADS = False
    monkeypatch.setattr(Conf, "SYNC", False)  # queue on the ORM broker instead of running in-line
    WebhookEndpoint.objects.create(organisation=orgs["SUPA"], name="hook", url="http://127.0.0.1:9/hook",
                                   events=["request.failed"])
    with django_capture_on_commit_callbacks(execute=True):
        publish("request.failed", organisation=orgs["SUPA"], summary="failed", url="/adapter/requests/1/",
                payload={"request_id": "x", "outcome": "E21"})
    queued = list(OrmQ.objects.values_list("key", flat=True))
    assert queued == [webhooks.HOOKS_CLUSTER]
    # the retry sweep hands its due deliveries to the same queue
    assert webhooks.deliveries_retry_due() == 1
    assert set(OrmQ.objects.values_list("key", flat=True)) == {webhooks.HOOKS_CLUSTER}
    assert WebhookDelivery.objects.count() == 1


def test_the_hooks_cluster_is_declared():
    from django.conf import settings

    assert webhooks.HOOKS_CLUSTER in settings.Q_CLUSTER["ALT_CLUSTERS"]


class _Sleeper:
    """A real HTTP receiver on localhost that takes ``delay`` seconds before it answers anything."""

    def __init__(self, delay):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_slow_receiver_times_out_quickly(settings):
    settings.WEBHOOK_READ_TIMEOUT = 1
    sleeper = _Sleeper(delay=4)
    try:
        started = time.monotonic()
        outcome = outbound.post(sleeper.url, b"{}", {"Content-Type": "application/json"}, allow_loopback=True)
        took = time.monotonic() - started
    finally:
        sleeper.close()
    assert outcome.error == "no answer within 1 s" and outcome.code is None
    assert took < 2.5


def test_the_default_timeouts_are_short():
    from django.conf import settings

    assert settings.WEBHOOK_CONNECT_TIMEOUT <= 5 and settings.WEBHOOK_READ_TIMEOUT <= 10
