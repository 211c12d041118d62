"""OpenAPI post-processing: document Idempotency-Key on every POST that honours it (portal.idempotency).

Kept apart from portal/openapi.py (the error answers) so each hook stays one concern. The operations
are found from the generator's endpoints: a POST whose view has ``IdempotentMixin``.
"""
from portal.idempotency import HEADER, KEY_PATTERN, MAX_KEY, REPLAYED_HEADER, IdempotentMixin

PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY, "pattern": KEY_PATTERN},
    "description": (f"Optional (IETF draft-ietf-httpapi-idempotency-key-header). A repeat within 24 h with the "
                    f"same key and the same request answers the first answer again, with `{REPLAYED_HEADER}: "
                    "true`; the same key with another request answers 422; a repeat while the first is in "
                    "flight answers 409. Keys are per user. See docs/api/idempotency.md."),
}
PROBLEM_MEDIA = "application/problem+json"  # what portal.api.exception_handler answers (portal/openapi.py)
PROBLEM_REF = {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}


def document_idempotency_key(result, generator, request, public):
    idempotent = set()
    for path, _regex, method, view in getattr(generator, "endpoints", None) or []:
        cls = getattr(view, "cls", None)
        if method == "POST" and cls is not None and issubclass(cls, IdempotentMixin):
            # The generator's paths still say {pk}; the schema's say {id} (SCHEMA_COERCE_PATH_PK), so the
            # detail actions (.../status/, .../resend/, .../updates/) were missed before.
            idempotent.add(path.replace("{pk}", "{id}"))
    for path, path_item in result.get("paths", {}).items():
        operation = path_item.get("post")
        if not isinstance(operation, dict) or path not in idempotent:
            continue
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name") == HEADER for p in parameters if isinstance(p, dict)):
            parameters.append(dict(PARAMETER))
        responses = operation.setdefault("responses", {})
        _add(responses, "409", f"A request with this {HEADER} is still in flight.")
        _add(responses, "422", f"This {HEADER} was used for a different request.")
    return result


def _add(responses, status, description):
    """Document ``status`` as a problem answer; where the operation already documents that status (a DUIS
    answer of 422 with the stored request as JSON), the problem is added beside it as a second media type."""
    entry = responses.get(status)
    if entry is None:
        responses[status] = {"content": {PROBLEM_MEDIA: dict(PROBLEM_REF)}, "description": description}
        return
    entry.setdefault("content", {}).setdefault(PROBLEM_MEDIA, dict(PROBLEM_REF))
    entry["description"] = f"{entry.get('description', '')} Or: {description}".strip()
