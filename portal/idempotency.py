"""Idempotency-Key for the API's POSTs (IETF draft-ietf-httpapi-idempotency-key-header).

A client that sends ``Idempotency-Key: <key>`` with a POST may send the same request again (after a
timeout, a dropped connection) without doing the work twice: the first answer is kept for 24 h per
user and a repeat with the same key and the same request (method, path, body fingerprint) answers it
again, with ``Idempotent-Replayed: true``. The same key with another request answers 422; a repeat
while the first is still being worked on answers 409. A key is 1-255 printable ASCII characters
(no leading or trailing space, which HTTP would strip), else 400 naming the header.

Applied generically by ``IdempotentMixin`` (part of every scoped viewset, portal.api), never per view.
Only 2xx answers are kept: an answer of 4xx/5xx frees the key, so a corrected retry with the same key
is worked normally (nothing was done the first time).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEEP_FOR = dt.timedelta(hours=24)
MAX_KEY = 255
# A kept answer larger than this keeps its status and Location but not its body (a replay says so).
MAX_BODY = 64 * 1024
KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$"
_KEY = re.compile(KEY_PATTERN)
KEPT_HEADERS = ("Location",)


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (f"This {HEADER} was already used for a different request (method, path or body); "
                      "use a new key for a new request.")
    default_code = "idempotency_key_reused"
    problem_slug = "idempotency-key-reused"  # the problem's ``type`` (docs/api/errors.md)


class IdempotencyKeyInFlight(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = f"A request with this {HEADER} is still being processed; retry later."
    default_code = "idempotency_key_in_flight"
    problem_slug = "idempotency-key-in-flight"


class _Replay(Exception):
    """Raised from ``initial`` to answer a kept response instead of running the view."""

    def __init__(self, record: Any) -> None:
        super().__init__("replay")
        self.record = record


def key_of(request: Any) -> str | None:
    """The request's Idempotency-Key, checked (400 naming the header), or None without one."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.match(key):
        raise ValidationError({HEADER: [f"{HEADER} must be 1-{MAX_KEY} printable ASCII characters "
                                        "(no leading or trailing space)."]})
    return key


def fingerprint(request: Any) -> str:
    """SHA-256 of the request's method, path (with query) and body."""
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.get_full_path().encode() + b"\n")
    try:
        digest.update(request.body)
    except RawPostDataException:  # the body was streamed already (a file upload): its length stands in
        digest.update(str(request.META.get("CONTENT_LENGTH", "")).encode())
    return digest.hexdigest()


def _record_model() -> Any:
    from portal.models import IdempotencyRecord
    return IdempotencyRecord


def claim(*, user: Any, key: str, request: Any) -> Any:
    """The in-flight record of this (user, key), newly created; raises _Replay, 409 or 422 if the key
    is known. An expired record (older than 24 h, not yet purged) is replaced."""
    model = _record_model()
    print_ = fingerprint(request)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return model.objects.create(user=user, key=key, method=request.method,
                                            path=request.path[:500], fingerprint=print_)
        except IntegrityError:
            existing = model.objects.filter(user=user, key=key).first()
            if existing is None:
                continue
            if existing.created_at < timezone.now() - KEEP_FOR:
                existing.delete()
                continue
            if existing.fingerprint != print_:
                raise IdempotencyKeyReused() from None
            if existing.status_code is None:
                raise IdempotencyKeyInFlight() from None
            raise _Replay(existing) from None
    raise IdempotencyKeyInFlight()


def complete(*, record: Any, response: Any) -> None:
    """Keep a 2xx answer on the record; any other answer frees the key."""
    if not 200 <= response.status_code < 300:
        record.delete()
        return
    body = json.dumps(getattr(response, "data", None), cls=JSONEncoder)
    record.status_code = response.status_code
    record.body = body if len(body.encode()) <= MAX_BODY else None
    record.headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    record.completed_at = timezone.now()
    record.save(update_fields=["status_code", "body", "headers", "completed_at"])


def replay(record: Any) -> Response:
    """The kept answer, marked as a replay."""
    data = (json.loads(record.body) if record.body is not None else
            {"detail": "Replay: the original answer was too large to keep; follow Location or list again."})
    response = Response(data, status=record.status_code)
    for name, value in (record.headers or {}).items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def keys_purge() -> int:
    """Delete the records older than 24 h (a django-q2 schedule, portal/schedules.py); the count."""
    deleted, _ = _record_model().objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
    return deleted


class IdempotentMixin:
    """DRF viewset mixin: every POST honours Idempotency-Key (see the module's docstring)."""

    idempotent = True

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        self._idempotency_record = None
        super().initial(request, *args, **kwargs)  # type: ignore[misc]  # auth, permissions, throttles first
        if request.method != "POST" or not getattr(self, "idempotent", True):
            return
        key = key_of(request)
        if key is not None and request.user.is_authenticated:
            self._idempotency_record = claim(user=request.user, key=key, request=request)

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, _Replay):
            return replay(exc.record)
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        record, self._idempotency_record = getattr(self, "_idempotency_record", None), None
        if record is not None:
            complete(record=record, response=response)
        return response

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        except BaseException:
            # An unhandled error (500) must not leave the key in flight for 24 h.
            record, self._idempotency_record = getattr(self, "_idempotency_record", None), None
            if record is not None:
                record.delete()
            raise



