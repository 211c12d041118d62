"""The shape of what ``portal.events.publish`` sends: one envelope for every event, and a JSON
schema (draft 2020-12 subset that OpenAPI 3.0 also reads) of its ``data`` per event, declared by
the app that registers the event (``Event(..., data=fields(...))``).

The API schema documents them for webhook receivers (``portal.webhooks.openapi``); with
``settings.VALIDATE_EVENT_PAYLOADS`` (the tests) every publish is checked against them, so a
payload cannot drift from what integrators were promised.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

STRING: dict[str, Any] = {"type": "string"}
INTEGER: dict[str, Any] = {"type": "integer"}
DATETIME: dict[str, Any] = {"type": "string", "format": "date-time"}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
MONTH: dict[str, Any] = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2026-11"}
DECIMAL: dict[str, Any] = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "example": "1250.00"}
STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
NO_DATA: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


def nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def fields(**properties: Mapping[str, Any]) -> dict[str, Any]:
    """An object whose members are all present (``nullable(...)`` for those that may be null)."""
    return {"type": "object", "properties": dict(properties), "required": sorted(properties),
            "additionalProperties": False}


OBJECT_REF: dict[str, Any] = nullable({
    "type": "object", "required": ["type", "id", "name"], "additionalProperties": False,
    "description": "What the event is about (null when it is about nothing stored, e.g. a digest).",
    "properties": {"type": {**STRING, "example": "servicedesk.incident"}, "id": STRING, "name": STRING},
})


def envelope(event: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON schema of the whole body sent for ``event``."""
    return {
        "type": "object", "additionalProperties": False,
        "required": ["event", "occurred_at", "organisation", "summary", "url", "object", "data"],
        "properties": {
            "event": {"type": "string", "enum": [event]},
            "occurred_at": DATETIME,
            "organisation": nullable({**STRING, "description": "Whose event it is (null: DCC's own)."}),
            "summary": STRING,
            "url": {**STRING, "description": "The page about it on the portal (may be empty)."},
            "object": OBJECT_REF,
            "data": dict(data),
        },
    }


def _to_json_schema(schema: Any) -> Any:
    # OpenAPI 3.0's ``nullable`` is not JSON Schema: say it as a type list for the validator.
    if isinstance(schema, Mapping):
        out = {key: _to_json_schema(value) for key, value in schema.items() if key not in ("nullable", "example")}
        if schema.get("nullable"):
            out["type"] = [schema["type"], "null"]
        return out
    if isinstance(schema, list):
        return [_to_json_schema(item) for item in schema]
    return schema


def validate(event: str, body: Mapping[str, Any]) -> None:
    """Raise ImproperlyConfigured when ``body`` (as the receiver reads it) does not match the
    schema registered for ``event``, or the event declares none."""
    import jsonschema  # a test dependency's worth of work: only imported when checking

    from portal.registry import EVENTS

    declared = EVENTS.get(event) if event in EVENTS else None
    if declared is None or declared.data is None:
        raise ImproperlyConfigured(f"event {event!r} has no payload schema: declare data=... where it is registered")
    errors = sorted(jsonschema.Draft202012Validator(_to_json_schema(envelope(event, declared.data)),
                                                    format_checker=jsonschema.FormatChecker()).iter_errors(body),
                    key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(body)"
        raise ImproperlyConfigured(f"event {event!r} payload does not match its schema at {where}: {errors[0].message}")
