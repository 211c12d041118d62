"""OpenAPI post-processing: the webhook payloads, as OpenAPI 3.0 ``callbacks`` on the operation
that subscribes an endpoint (``webhook_endpoints_create``), one per event offered to webhooks,
each body a component (``WebhookIncidentCreated``...) built from the schema the event's app
declared (portal.eventschema). Swagger UI shows them under the operation's "Callbacks" tab;
openapi-python-client generates a model per component, so a receiver can parse a body with
``WebhookIncidentCreated.from_dict(json.loads(body))``.

Found by operationId, not path: paths may move (e.g. under a version prefix), ids stay.
"""
from __future__ import annotations

import re
from typing import Any

from portal.eventschema import envelope
from portal.registry import EVENTS

SUBSCRIBE_OPERATION = "webhook_endpoints_create"

SIGNATURE = {
    "X-DCC-Signature": {
        "required": True, "schema": {"type": "string", "example": "t=1764750000,v1=5d41402abc4b2a76b9719d911017c592"},
        "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"{t}.{raw body}\" keyed by the endpoint's secret>. "
                       "Refuse a signature older than 5 minutes (replay). See docs/api/webhooks.md.",
    },
    "X-DCC-Event": {"required": True, "schema": {"type": "string"}, "description": "The event name."},
    "X-DCC-Delivery": {"required": True, "schema": {"type": "string"},
                       "description": "The delivery's id: the same on a retry or resend (deduplicate on it)."},
}


def component_name(event: str) -> str:
    """``incident.created`` -> ``WebhookIncidentCreated``."""
    words = event.replace(".", "_").split("_")
    return "Webhook" + "".join(word[:1].upper() + word[1:] for word in words)


def document_webhooks(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    callbacks: dict[str, Any] = {}
    for event in EVENTS:
        if event.data is None:
            continue  # tests/portal/test_event_schemas.py fails on such an event
        name = component_name(event.name)
        schemas[name] = {**envelope(event.name, event.data),
                         "description": f"{event.description}: the body POSTed for {event.name}."}
        if not event.webhook:
            continue  # reaches only "*" subscribers: its model is there, no callback of its own
        callbacks[event.name] = {"{$request.body#/url}": {"post": {
            "summary": event.description,
            "description": f"Sent to an endpoint subscribed to {event.name} (or \"*\").",
            "operationId": f"webhook_{event.name.replace('.', '_')}",
            "parameters": [{"in": "header", "name": header, **spec} for header, spec in SIGNATURE.items()],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": f"#/components/schemas/{name}"}}}},
            "responses": {"200": {"description": "Received: any 2xx answer counts; anything else is retried."}},
        }}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if isinstance(operation, dict) and operation.get("operationId") == SUBSCRIBE_OPERATION:
                operation["callbacks"] = callbacks
    for schema in schemas.values():
        values = schema.get("enum") if isinstance(schema, dict) else None
        if values and "*" in values:
            # The events an endpoint subscribes to: generators name members after their values, and "*"
            # has no name of its own (openapi-python-client made it VALUE_0); x-enum-varnames gives ALL.
            schema["x-enum-varnames"] = ["ALL" if value == "*" else re.sub(r"\W", "_", value).upper()
                                         for value in values]
    return result
