"""Webhooks against a real HTTP receiver on localhost: who receives what, signatures, retries with
back-off, a receiver that is down, resends by page and API, and who may register endpoints."""
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from portal.events import publish
from portal.webhooks import services as webhooks
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.portal.receiver import Receiver, closed_port_url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def synthetic_payloads(settings):
    # These tests publish made-up payloads to check who hears what and how; the payload schemas
    # are checked where the apps publish their real events (and tests/portal/test_event_schemas.py).
    settings.VALIDATE_EVENT_PAYLOADS = False


def endpoint(org, url, events=("request.failed",), name=None):
    return WebhookEndpoint.objects.create(organisation=org, name=name or f"{org.code} hook", url=url,
                                          events=list(events))


def fire(capture, event="request.failed", organisation=None, **extra):
    with capture(execute=True):
        publish(event, organisation=organisation, summary=f"{event} happened", url="/adapter/requests/1/",
                payload={"request_id": "90-B3:00-DB:7", "outcome": "E21"}, **extra)


def test_subscribed_endpoints_of_the_organisation_and_dcc_receive_signed_json(
        orgs, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        own = endpoint(orgs["SUPA"], receiver.url + "/a")
        other = endpoint(orgs["SUPB"], receiver.url + "/b")
        dcc = endpoint(orgs["DCC"], receiver.url + "/dcc")
        endpoint(orgs["SUPA"], receiver.url + "/unsubscribed", events=["alert.received"])
        fire(django_capture_on_commit_callbacks, organisation=orgs["SUPA"])
    assert sorted(r["path"] for r in receiver.received) == ["/hook/a", "/hook/dcc"]
    for request in receiver.received:
        secret = own.secret if request["path"] == "/hook/a" else dcc.secret
        header = request["headers"]["X-DCC-Signature"]
        timestamp = header.split(",")[0].removeprefix("t=")
        expected = hmac.new(secret.encode(), f"{timestamp}.{request['body']}".encode(), hashlib.sha256).hexdigest()
        assert header == f"t={timestamp},v1={expected}"
        assert webhooks.verify_signature(secret, header, request["body"])
        assert not webhooks.verify_signature(other.secret, header, request["body"])
        assert not webhooks.verify_signature(secret, header, request["body"] + " ")
        assert request["headers"]["X-DCC-Event"] == "request.failed"
        body = json.loads(request["body"])
        assert body["event"] == "request.failed" and body["organisation"] == "SUPA"
        assert body["data"] == {"request_id": "90-B3:00-DB:7", "outcome": "E21"}
        assert body["url"].endswith("/adapter/requests/1/")
    delivery = WebhookDelivery.objects.get(endpoint=own)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 1, 200)
    assert delivery.response_excerpt == "answered 200" and delivery.delivered_at is not None
    assert not WebhookDelivery.objects.filter(endpoint=other).exists()


def test_dcc_own_events_reach_only_dcc_endpoints(orgs, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        endpoint(orgs["SUPA"], receiver.url + "/a", events=["action.overdue"])
        endpoint(orgs["DCC"], receiver.url + "/dcc", events=["action.overdue"])
        fire(django_capture_on_commit_callbacks, event="action.overdue")
    assert [r["path"] for r in receiver.received] == ["/hook/dcc"]


def test_old_signatures_are_refused():
    header = webhooks.sign("s3cret", 1_000_000, "{}")
    assert webhooks.verify_signature("s3cret", header, "{}", now=1_000_100)
    assert not webhooks.verify_signature("s3cret", header, "{}", now=1_000_000 + 301)
    assert not webhooks.verify_signature("s3cret", "garbage", "{}")


def test_failed_attempts_are_retried_with_exponential_back_off(orgs, django_capture_on_commit_callbacks):
    start = timezone.now()
    with Receiver(codes=[500, 503, 200]) as receiver, time_machine.travel(start, tick=True) as clock:
        hook = endpoint(orgs["SUPA"], receiver.url)
        fire(django_capture_on_commit_callbacks, organisation=orgs["SUPA"])
        delivery = WebhookDelivery.objects.get(endpoint=hook)
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 1, 500)
        assert delivery.error == "receiver answered HTTP 500"
        assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(minutes=1)
        assert webhooks.deliveries_retry_due() == 0  # not due yet
        clock.shift(timedelta(seconds=61))
        assert webhooks.deliveries_retry_due() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 2, 503)
        assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(minutes=2)
        clock.shift(timedelta(seconds=61))
        assert webhooks.deliveries_retry_due() == 0
        clock.shift(timedelta(seconds=61))
        assert webhooks.deliveries_retry_due() == 1
        delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.error) == ("succeeded", 3, 200, "")
    assert len(receiver.received) == 3
    # Every attempt sends the same body, each freshly signed.
    assert len({r["body"] for r in receiver.received}) == 1


def test_a_receiver_that_is_down_is_retried_then_failed_with_the_reason(orgs, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=True) as clock:
        hook = endpoint(orgs["SUPA"], closed_port_url())
        fire(django_capture_on_commit_callbacks, organisation=orgs["SUPA"])
        delivery = WebhookDelivery.objects.get(endpoint=hook)
        assert (delivery.status, delivery.error) == ("retrying", "connection refused")
        for attempt in range(2, webhooks.MAX_ATTEMPTS + 1):
            clock.shift(webhooks.backoff(attempt - 1) + timedelta(seconds=1))
            assert webhooks.deliveries_retry_due() == 1
        delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == webhooks.MAX_ATTEMPTS
    assert delivery.error == f"connection refused (gave up after {webhooks.MAX_ATTEMPTS} attempts)"
    assert delivery.next_attempt_at is None and delivery.response_code is None
    assert webhooks.deliveries_retry_due() == 0


def test_a_failed_delivery_can_be_resent_from_its_page_and_the_api(
        orgs, supplier_a, client_for, api_for, django_capture_on_commit_callbacks):
    hook = endpoint(orgs["SUPA"], closed_port_url())
    delivery = WebhookDelivery.objects.create(endpoint=hook, event="request.failed", payload={"a": 1},
                                              body='{"a":1}', status="failed", attempts=6, error="connection refused")
    with Receiver() as receiver:
        WebhookEndpoint.objects.filter(pk=hook.pk).update(url=receiver.url)
        page = client_for(supplier_a).get(f"/webhooks/deliveries/{delivery.pk}/")
        assert b"connection refused" in page.content and b"Send again" in page.content
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(supplier_a).post(f"/webhooks/deliveries/{delivery.pk}/resend/")
        assert response.status_code == 302
        with django_capture_on_commit_callbacks(execute=True):
            response = api_for(supplier_a).post(f"/api/webhook-deliveries/{delivery.pk}/resend/")
        assert response.status_code == 202
    resends = WebhookDelivery.objects.filter(resent_from=delivery)
    assert [r.status for r in resends] == ["succeeded", "succeeded"]
    assert [r["body"] for r in receiver.received] == ['{"a":1}', '{"a":1}']
    delivery.refresh_from_db()
    assert delivery.status == "failed"  # the original keeps its history


def test_service_users_register_endpoints_for_their_own_organisation_only(
        orgs, supplier_a, supplier_b, dcc_operator, sdag_member, api_for, client_for):
    response = api_for(supplier_a).post("/api/webhook-endpoints/", {
        "name": "Albion ops", "url": "https://hooks.albion.example/dcc", "events": ["request.failed"],
        "organisation": "SUPB"}, format="json")
    assert response.status_code == 201, response.content
    created = WebhookEndpoint.objects.get(pk=response.json()["id"])
    assert created.organisation == orgs["SUPA"] and created.created_by == supplier_a
    assert response.json()["secret"] == created.secret
    bad = api_for(supplier_a).post("/api/webhook-endpoints/", {
        "name": "x", "url": "https://x.example/", "events": ["no.such.event"]}, format="json")
    assert bad.status_code == 400
    # The page form registers for the user's organisation too.
    response = client_for(supplier_b).post("/webhooks/", {
        "name": "Brightwater", "url": "https://b.example/hook", "events": ["alert.received"], "is_active": "on"})
    assert response.status_code == 302
    mine = WebhookEndpoint.objects.get(name="Brightwater")
    assert mine.organisation == orgs["SUPB"]
    # Others' endpoints are invisible and unchangeable.
    assert api_for(supplier_b).get(f"/api/webhook-endpoints/{created.pk}/").status_code == 404
    assert client_for(supplier_b).get(f"/webhooks/{created.pk}/").status_code == 404
    assert api_for(supplier_b).patch(f"/api/webhook-endpoints/{created.pk}/", {"url": "https://evil.example/"},
                                     format="json").status_code == 404
    assert [e["name"] for e in api_for(supplier_b).get("/api/webhook-endpoints/").json()["results"]] == [
        "Brightwater"]
    assert api_for(dcc_operator).get("/api/webhook-endpoints/").json()["count"] == 2
    # SDAG members have no operational data, so no endpoints.
    assert api_for(sdag_member).post("/api/webhook-endpoints/", {
        "name": "x", "url": "https://x.example/", "events": ["request.failed"]}, format="json").status_code == 403
    assert client_for(sdag_member).post("/webhooks/", {
        "name": "x", "url": "https://x.example/", "events": ["request.failed"]}).status_code == 403
    # The owner may change and rotate.
    old_secret = created.secret
    assert client_for(supplier_a).post(f"/webhooks/{created.pk}/rotate/").status_code == 302
    created.refresh_from_db()
    assert created.secret != old_secret
    response = api_for(supplier_a).patch(f"/api/webhook-endpoints/{created.pk}/", {"is_active": False},
                                         format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False


def test_an_endpoint_subscribes_to_every_event_with_a_star_through_the_api_and_the_schema(
        orgs, supplier_a, api_for, django_capture_on_commit_callbacks):
    api = api_for(supplier_a)
    response = api.post("/api/v1/webhook-endpoints/", {
        "name": "Everything", "url": "https://hooks.albion.example/all", "events": ["*"]}, format="json")
    assert response.status_code == 201, response.content
    assert WebhookEndpoint.objects.get(pk=response.json()["id"]).events == ["*"]
    schema = api.get("/api/schema/?format=json").json()
    body = schema["paths"]["/api/v1/webhook-endpoints/"]["post"]["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    events = schema["components"]["schemas"][name]["properties"]["events"]["items"]
    component = schema["components"]["schemas"][events["$ref"].rsplit("/", 1)[-1]] if "$ref" in events else events
    assert "*" in component["enum"] and "request.failed" in component["enum"]
    # A generated client names the member ALL (openapi-python-client reads x-enum-varnames), not VALUE_0.
    names = dict(zip(component["enum"], component["x-enum-varnames"], strict=True))
    assert (names["*"], names["request.failed"]) == ("ALL", "REQUEST_FAILED")
