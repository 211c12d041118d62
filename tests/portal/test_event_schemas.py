"""Every event declares the schema of its payload where it is registered, the API schema documents
the webhook ones, and a publish that does not match its schema fails (settings.VALIDATE_EVENT_PAYLOADS)."""
import jsonschema
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from portal import eventschema
from portal.events import publish
from portal.registry import EVENTS
from portal.webhooks.openapi import component_name, document_webhooks


def test_every_registered_event_declares_a_valid_payload_schema():
    missing = [event.name for event in EVENTS if event.data is None]
    assert missing == [], f"events without data=... schema: {missing}"
    for event in EVENTS:
        schema = eventschema._to_json_schema(eventschema.envelope(event.name, event.data))
        jsonschema.Draft202012Validator.check_schema(schema)


def test_tests_validate_payloads_at_publish_time(settings):
    assert settings.VALIDATE_EVENT_PAYLOADS is True


def _body(event, data):
    return {"event": event, "occurred_at": "2026-12-03T08:00:00Z", "organisation": "SUPA", "summary": "s",
            "url": "", "object": None, "data": data}


def test_a_matching_body_passes_and_a_drifting_one_names_the_member():
    eventschema.validate("statement.issued", _body("statement.issued", {"month": "2026-11", "version": 1,
                                                                         "amount": "12.50"}))
    with pytest.raises(ImproperlyConfigured, match="data/version"):
        eventschema.validate("statement.issued", _body("statement.issued", {"month": "2026-11", "version": "1",
                                                                             "amount": "12.50"}))
    with pytest.raises(ImproperlyConfigured, match="extra"):
        eventschema.validate("statement.issued", _body("statement.issued", {"month": "2026-11", "version": 1,
                                                                             "amount": "1", "extra": 1}))
    with pytest.raises(ImproperlyConfigured, match="event"):
        eventschema.validate("statement.issued", _body("incident.created", {"month": "2026-11", "version": 1,
                                                                             "amount": "1"}))


@pytest.mark.django_db
def test_publish_refuses_a_payload_that_does_not_match():
    with pytest.raises(ImproperlyConfigured, match="does not match"):
        publish("incident.created", summary="x", payload={"reference": "INC-1"})
    with override_settings(VALIDATE_EVENT_PAYLOADS=False):
        publish("incident.created", summary="x", payload={"reference": "INC-1"})  # production: not checked


def test_the_api_schema_documents_each_webhook_event_as_a_callback_of_the_subscription():
    result = document_webhooks({"paths": {"/api/webhook-endpoints/": {"post": {
        "operationId": "webhook_endpoints_create"}}}}, None, None, True)
    callbacks = result["paths"]["/api/webhook-endpoints/"]["post"]["callbacks"]
    webhook_events = sorted(event.name for event in EVENTS if event.webhook)
    assert sorted(callbacks) == webhook_events
    for name in webhook_events:
        post = callbacks[name]["{$request.body#/url}"]["post"]
        ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{component_name(name)}"
        assert "X-DCC-Signature" in {p["name"] for p in post["parameters"]}
        assert result["components"]["schemas"][component_name(name)]["properties"]["event"]["enum"] == [name]


@pytest.mark.django_db
def test_the_live_schema_has_the_callbacks(client, django_user_model):
    user = django_user_model.objects.create_user("schema-reader", password="x")
    client.force_login(user)
    answer = client.get("/api/schema/", {"format": "json"})
    assert answer.status_code == 200
    schema = answer.json()
    create = next(op for item in schema["paths"].values() for op in item.values()
                  if isinstance(op, dict) and op.get("operationId") == "webhook_endpoints_create")
    assert "incident.created" in create["callbacks"]
    assert "WebhookStatementIssued" in schema["components"]["schemas"]
