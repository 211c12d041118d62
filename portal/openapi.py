"""OpenAPI post-processing: document the error answers every endpoint can really give.

drf-spectacular documents only the success status of each operation, but clients (and the schemathesis
gate in tests/gates/test_api_fuzz.py) meet more: 400 for a bad filter, page or body, 401 without a valid
token, 403 for a forbidden write, 404 for an object that is not yours or a page past the end, 429 when
throttled (with Retry-After). Each is added where the view itself documents nothing for that status.
"""

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
