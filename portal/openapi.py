"""OpenAPI post-processing: document the error answers every endpoint can really give.

drf-spectacular documents only the success status of each operation, but clients (and the schemathesis
gate in tests/gates/test_api_fuzz.py) meet more: 400 for a bad filter, page or body, 401 without a valid
token, 403 for a forbidden write, 404 for an object that is not yours or a page past the end, 429 when
throttled (with Retry-After), 406/415 for a media type it cannot answer or read. Every error is an RFC 9457
problem (application/problem+json, portal.api.exception_handler): components ProblemDetails and
ValidationProblem (400, with ``errors`` by field). A view's own error entries keep their description but
get the problem content, since that is what the server sends.
"""
import ast
from pathlib import Path

PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem (application/problem+json): every error of the API has this shape "
                   "(docs/api/errors.md lists the types).",
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "what kind of problem (a stable URI)"},
        "title": {"type": "string", "description": "the HTTP status's phrase"},
        "status": {"type": "integer", "description": "the HTTP status code"},
        "detail": {"type": "string", "description": "what is wrong, for a person"},
        "instance": {"type": "string", "description": "the request's path"},
    },
    "required": ["type", "title", "status", "detail", "instance"],
    "additionalProperties": True,
}
VALIDATION_PROBLEM = {
    "allOf": [{"$ref": "#/components/schemas/ProblemDetails"}, {
        "type": "object",
        "properties": {"errors": {
            "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "the messages of each bad field (`parent.child`, `items[2].field`, `row 3`)"}},
        "required": ["errors"],
    }],
    "description": "A 400: `errors` names each bad field. For one deprecation period the field keys are "
                   "also at the top level, as before.",
}

MESSAGES = {
    "400": "The request is not valid: `errors` names each bad field or parameter.",
    "401": "No valid token or session.",
    "403": "You may not do this.",
    "404": "No such object for you (objects of other organisations answer 404), or no such page.",
    "406": "No answer in a media type the Accept header allows.",
    "415": "The body's media type is not one this operation reads.",
    "429": "Too many requests: wait the seconds given in Retry-After.",
}


def statuses_of(path: str, method: str, operation: dict) -> list[str]:
    """The error statuses ``operation`` can answer: 401/403/406/429 always (a bad token, a refused
    CSRF check or Accept header and throttling reach every view); 400 with a body or query parameters, and
    for every write (a service may refuse the change);
    404 with a path parameter or pages; 415 with a body."""
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    has_query = any(p.get("in") == "query" for p in parameters)
    has_path = "{" in path or any(p.get("in") == "path" for p in parameters)
    paged = any(p.get("in") == "query" and p.get("name") in {"page", "cursor"} for p in parameters)
    statuses = ["401", "403", "406", "429"]
    if has_body or has_query or method != "get":  # a write a service refuses (a transition) is a 400 too
        statuses.append("400")
    if has_path or paged:
        statuses.append("404")
    if has_body:
        statuses.append("415")
    return sorted(statuses)


def _is_record(schema) -> bool:
    """A declared error body that is one of the portal's own serializers (a ``$ref`` to a component),
    not a generic object or an error shape of its own."""
    ref = (schema or {}).get("$ref", "") if isinstance(schema, dict) else ""
    return bool(ref) and ref.rsplit("/", 1)[-1] not in {"ProblemDetails", "ValidationProblem", "Error"}


def document_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ProblemDetails"] = PROBLEM
    schemas["ValidationProblem"] = VALIDATION_PROBLEM
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"} or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            wanted = set(statuses_of(path, method, operation)) | {s for s in responses if str(s).startswith("4")}
            for status in sorted(wanted):
                name = "ValidationProblem" if status == "400" else "ProblemDetails"
                entry = responses.get(status, {})
                # Whatever a view declared for an error, the server answers it as a problem; a body that
                # is a record of the portal (the stored request of a DUIS 422) is answered too, so it stays.
                kept = {media: body for media, body in (entry.get("content") or {}).items()
                        if _is_record(body.get("schema"))}
                entry["content"] = {**kept,
                                    "application/problem+json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}
                entry.setdefault("description", MESSAGES.get(status, "An error."))
                if status == "429":
                    entry["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                        "description": "seconds to wait"}}
                if status == "401":
                    entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"},
                                                             "description": "the scheme to use: Token"}}
                responses[status] = entry
    return result


# One enum component per TextChoices class of the portal's apps. Without this, drf-spectacular
# names enums after the field ("status") and resolves clashes between different choice sets with
# hashed names (Status627Enum) and a warning that fails `check --deploy`. The classes are found by
# reading each app's choices.py, not importing it (settings load before the apps), so new choices
# are covered without editing settings.
def enum_name_overrides(base_dir, apps):
    found = {}
    for app in apps:
        path = Path(base_dir) / app / "choices.py"
        if not path.exists():
            continue
        for node in ast.parse(path.read_text()).body:
            bases = {getattr(base, "attr", getattr(base, "id", "")) for base in getattr(node, "bases", ())}
            if isinstance(node, ast.ClassDef) and bases & {"TextChoices", "IntegerChoices"}:
                found.setdefault(node.name, []).append(app)
    overrides = {}
    for name, owners in found.items():
        for app in owners:
            label = name if len(owners) == 1 else f"{app.title()}{name}"
            overrides[f"{label}Enum"] = f"{app}.choices.{name}"
    return overrides


# The RateLimit-* headers portal.throttling sets on every answer a throttle counted. Declared once under
# components/headers and referenced from each response of each operation (optional, as headers are:
# a 401 refused before throttling carries none, so it is left out).
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Requests allowed in the window of the quota nearest to running out.",
    "RateLimit-Remaining": "Requests left in that window (0 on a 429).",
    "RateLimit-Reset": "Seconds until a request is free again (on a 429, the same as Retry-After).",
    "RateLimit-Policy": 'Every quota that counted the request: `<limit>;w=<seconds>;comment="<scope>"`, '
                        "comma-separated.",
}


def document_rate_limit_headers(result, generator, request, public):
    headers = result.setdefault("components", {}).setdefault("headers", {})
    for name, description in RATE_LIMIT_HEADERS.items():
        kind = "string" if name == "RateLimit-Policy" else "integer"
        headers.setdefault(name, {"schema": {"type": kind}, "description": description})
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"} or not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if status == "401" or not isinstance(response, dict) or "$ref" in response:
                    continue
                documented = response.setdefault("headers", {})
                for name in RATE_LIMIT_HEADERS:
                    documented.setdefault(name, {"$ref": f"#/components/headers/{name}"})
    return result


def announce_versioning(result, generator, request, public):
    """State in the document itself that only /api/v1/ is documented and the unversioned aliases go away:
    in info.description for people, as info.x-deprecated-aliases for tools."""
    from portal import versioning  # not at import: settings import this module

    info = result.setdefault("info", {})
    note = (f"All operations are under `{versioning.CURRENT_PREFIX}`. The unversioned paths (`/api/...`, "
            f"except `/api/schema/`) are deprecated aliases of them: they answer the same, with the headers "
            f"`Deprecation: {versioning.DEPRECATION}`, `Sunset: {versioning.SUNSET}` and a "
            f"`Link: <{versioning.CURRENT_PREFIX}...>; rel=\"successor-version\"`, until the sunset date. "
            f"Pin `{versioning.CURRENT_PREFIX}schema/` to generate clients of this version.")
    info["description"] = f"{info['description']}\n\n{note}" if info.get("description") else note
    info["x-deprecated-aliases"] = {
        "paths": f"{versioning.PREFIX}* except {', '.join(sorted(versioning.UNVERSIONED))}",
        "successor": versioning.CURRENT_PREFIX,
        "deprecation": versioning.DEPRECATION,
        "deprecated_on": versioning.DEPRECATED_ON.isoformat(),
        "sunset": versioning.SUNSET,
    }
    return result
