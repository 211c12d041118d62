"""API building blocks shared by every app: the scoped viewset bases, their permission and the
exception handler (settings.REST_FRAMEWORK). The ground's own endpoints (organisations, people,
audit trail) are in portal/endpoints.py; notifications' and webhooks' in their rooms' api.py."""
from typing import Any

from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from portal.idempotency import IdempotentMixin
from portal.scoping import CHANGE, VIEW, can_create, scope


class InstantField(serializers.DateTimeField):
    """A date-time given to the API, within 1970-2999. Earlier years fall in the local-mean-time
    era of Europe/London (offset -00:01:15), which an RFC 3339 answer cannot express, and no
    record of the network predates 1970 or is planned past 2999: such a value is a typo."""

    default_error_messages = {"out_of_range": "give a date-time between 1970 and 2999."}

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if not 1970 <= parsed.year <= 2999:
            self.fail("out_of_range")
        return parsed


class ScopedPermission(permissions.IsAuthenticated):
    """Object access is decided by the scoped queryset (404 for others' objects);
    this only refuses writes to users who may not change the model at all."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if getattr(view, "action", None) == "create":
            return can_create(request.user, view.get_queryset().model)
        return True


class ScopedViewSetMixin(IdempotentMixin):
    """Every viewset's queryset passes portal.scoping.scope: reads see what the user may view,
    writes find only what the user may change (so others' objects are 404). Every POST honours
    Idempotency-Key (portal.idempotency)."""

    permission_classes = [ScopedPermission]

    def get_queryset(self):
        queryset = super().get_queryset()
        action = VIEW if self.request.method in permissions.SAFE_METHODS else CHANGE
        return scope(self.request.user, queryset, action)

    def check_create_organisation(self, organisation):
        if not can_create(self.request.user, self.get_queryset().model, organisation):
            raise PermissionDenied("You may not create records for that organisation.")


def validated(serializer_class, request, **kwargs):
    """The request's body as ``serializer_class`` validates it (its ``validated_data``); an invalid
    body answers 400 naming the fields, before anything is written."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    pass


PROBLEM_MEDIA_TYPE = "application/problem+json"
# Every problem's ``type`` is a stable absolute URI under this base plus a slug (docs/api/errors.md lists
# them). They identify the kind of problem; clients compare them as strings, they are not fetched.
PROBLEM_BASE = "https://portal.example/problems/"
# Members of the problem itself: a 400's field keys of the same names are only under ``errors``.
PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "errors"})
SLUGS = {400: "validation", 401: "not-authenticated", 403: "permission-denied", 404: "not-found",
         405: "method-not-allowed", 406: "not-acceptable", 409: "conflict",
         415: "unsupported-media-type", 422: "unprocessable-entity", 429: "throttled",
         500: "server-error", 503: "service-unavailable"}


def problem_type(status_code: int, slug: str | None = None) -> str:
    return PROBLEM_BASE + (slug or SLUGS.get(status_code, "about-blank"))


def problem(status_code: int, detail: str, instance: str, *, slug: str | None = None,
            errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """An RFC 9457 problem details object (the body of every error under /api/)."""
    from http import HTTPStatus

    try:
        title = HTTPStatus(status_code).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {"type": problem_type(status_code, slug), "title": title, "status": status_code,
                            "detail": detail, "instance": instance}
    if errors is not None:
        body["errors"] = errors
    return body


def _messages(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value if not isinstance(item, (dict, list, tuple))]
    return [str(value)]


def _errors_by_field(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """``{field: [messages]}`` of a ValidationError's detail, flattened: nested fields are named
    ``parent.child``, items of a list ``field[2].child``, and rows of an import (``{"row", "error"}``
    objects) ``row 3``, so a row-level error keeps naming its row."""
    errors: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, list) and value and all(isinstance(v, dict) and "row" in v for v in value):
                for row in value:
                    if row.get("error"):
                        errors[f"row {row['row']}"] = _messages(row["error"])
            elif isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list))
                                                                               for v in value)):
                errors.update(_errors_by_field(value, name))
            else:
                errors[name] = _messages(value)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            errors[prefix or "non_field_errors"] = _messages(detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    errors.update(_errors_by_field(item, f"{prefix}[{index}]"))
    else:
        errors[prefix or "non_field_errors"] = _messages(detail)
    return errors


def _validation_problem(detail: Any, instance: str) -> dict[str, Any]:
    """A 400 naming each bad field under ``errors``. For one deprecation period the field keys are
    also kept at the top level, as before the problem shape (docs/api/errors.md)."""
    raw = detail if isinstance(detail, dict) else {}
    said = raw.get("detail")
    # A view that gave its own ``detail`` may add context beside it (an import's preview: ``committed``,
    # a count); only lists (messages, rows) are errors then, the rest stays at the top level.
    fields = {k: v for k, v in raw.items() if k != "detail" and (said is None or isinstance(v, (list, dict)))}
    errors = _errors_by_field(fields if raw else detail)
    if said is not None:
        text = " ".join(_messages(said))
    else:
        text = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
    body = problem(400, text or "The request is not valid.", instance, errors=errors)
    for key, value in raw.items():
        if key not in PROBLEM_MEMBERS:
            body[key] = value
    return body


def exception_handler(exc, context):
    """DRF's handler, answering every error as an RFC 9457 problem (application/problem+json), plus:
    a Django ValidationError raised by a service (full_clean, a refused transition) answers 400 with
    the field-named messages, so API views need no try/except of their own. DRF's headers
    (WWW-Authenticate, Retry-After, Allow) are kept."""
    from django.core.exceptions import ValidationError as DjangoValidationError
    from rest_framework.exceptions import APIException, ParseError
    from rest_framework.exceptions import ValidationError as ApiValidationError
    from rest_framework.renderers import JSONRenderer
    from rest_framework.views import exception_handler as drf_exception_handler

    from portal.errors import messages_by_field

    if isinstance(exc, DjangoValidationError):
        exc = ApiValidationError(messages_by_field(exc, unnamed="detail"))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a server error: handler500 (portal.views.server_error) answers the problem
    request = context.get("request")
    instance = request.path if request is not None else ""
    if isinstance(exc, ApiValidationError):
        response.data = _validation_problem(exc.detail, instance)
    elif isinstance(exc, ParseError):
        response.data = problem(400, str(exc.detail), instance, slug="parse-error",
                                errors={"body": [str(exc.detail)]})
    else:
        detail = exc.detail if isinstance(exc, APIException) else response.data
        if isinstance(detail, dict):
            text = " ".join(" ".join(_messages(v)) for v in detail.values())
        elif isinstance(detail, list):
            text = " ".join(_messages(detail))
        else:
            text = str(detail)
        # An exception may name its own kind (portal.idempotency's 409 and 422): ``problem_slug``.
        response.data = problem(response.status_code, text, instance, slug=getattr(exc, "problem_slug", None))
    response.content_type = PROBLEM_MEDIA_TYPE
    if request is not None:
        # Errors are JSON whatever the client accepts (a browser gets no browsable-API page for them,
        # and a 406 still has a body it can read); finalize_response keeps a renderer already chosen.
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), PROBLEM_MEDIA_TYPE
    return response
