"""OpenAPI post-processing: document the error answers every endpoint can really give.

drf-spectacular documents only the success status of each operation, but clients (and the schemathesis
gate in tests/gates/test_api_fuzz.py) meet more: 400 for a bad filter, page or body, 401 without a valid
token, 403 for a forbidden write, 404 for an object that is not yours or a page past the end, 429 when
throttled (with Retry-After). Each is added where the view itself documents nothing for that status.
"""
import ast
from pathlib import Path

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
    "description": "An error: `detail` says what is wrong (400 answers name each bad field instead).",
}

MESSAGES = {
    "400": "The request is not valid: the body names each bad field or parameter.",
    "401": "No valid token or session.",
    "403": "You may not do this.",
    "404": "No such object for you (objects of other organisations answer 404), or no such page.",
    "429": "Too many requests: wait the seconds given in Retry-After.",
}


def document_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"} or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in MESSAGES.items():
                if status not in responses:
                    entry = {"content": reference, "description": description}
                    if status == "429":
                        entry["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                            "description": "seconds to wait"}}
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
