"""The size of a request body, checked before it is read: the limit of every upload (UPLOAD_MAX_BYTES).

Two checks, both answering 413 without reading the rest of the body:

- ``UploadLimitMiddleware`` compares the request's Content-Length with the limit before anything reads
  the body (Django reads at most Content-Length bytes of a body, so this bounds every request);
- ``LimitedUploadHandler`` (first of FILE_UPLOAD_HANDLERS) counts the bytes of multipart files as they
  stream in and stops the upload, dropping the connection's remainder, once they pass the limit, in
  case a body is longer than it said.

A body that is not multipart (JSON, a form) is read into memory whole: it is refused the same way over
Django's DATA_UPLOAD_MAX_MEMORY_SIZE (10 MiB), with a message instead of Django's bare 400.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse

# A multipart body holds the file and its boundaries, headers and the other fields of the form.
MULTIPART_ALLOWANCE = 256 * 1024
FLAG = "_portal_upload_too_large"


def body_limit() -> int:
    """The largest request body accepted, in bytes."""
    return settings.UPLOAD_MAX_BYTES + MULTIPART_ALLOWANCE


def too_large(request: HttpRequest, size: int | None = None, *, detail: str = "") -> HttpResponse:
    """413, as problem JSON under /api/ and as a short page elsewhere, naming the limit."""
    said = f"The upload is {size:,} bytes; " if size else "The upload is too large; "
    detail = detail or f"{said}the largest accepted is {settings.UPLOAD_MAX_BYTES:,} bytes (UPLOAD_MAX_BYTES)."
    if request.path.startswith("/api/"):
        import json

        from portal.api import PROBLEM_MEDIA_TYPE, problem

        return HttpResponse(json.dumps(problem(413, detail, request.path, errors={"file": [detail]})),
                            status=413, content_type=PROBLEM_MEDIA_TYPE)
    from django.utils.html import escape

    response = HttpResponse(f"<!doctype html><title>Upload too large</title><h1>Upload too large</h1>"
                            f"<p>{escape(detail)}</p>", status=413, content_type="text/html; charset=utf-8")
    # The rest of the body was not read: the connection cannot carry another request.
    response["Connection"] = "close"
    return response


class UploadLimitMiddleware:
    """413 for a body longer than the upload limit, before anything (CSRF, a view) reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > body_limit():
            return too_large(request, length)
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        if not multipart and length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            # A body that is not a file (JSON, a form) is read into memory whole: Django's own check
            # would answer a bare 400 once something reads it.
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return too_large(request, length, detail=(
                f"The request body is {length:,} bytes; the largest accepted that is not a file upload is "
                f"{limit:,} bytes: send a large batch as a file (multipart/form-data)."))
        response = self.get_response(request)
        if getattr(request, FLAG, False):
            return too_large(request)
        return response


class LimitedUploadHandler(FileUploadHandler):
    """Stops a multipart upload whose files' bytes, as they stream in, pass the limit."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.seen = 0

    def handle_raw_input(self, input_data: Any, META: Any, content_length: int, boundary: Any,  # noqa: N803
                         encoding: Any = None) -> None:
        if content_length > body_limit():
            self._stop()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.seen += len(raw_data)
        if self.seen > settings.UPLOAD_MAX_BYTES:
            self._stop()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def _stop(self) -> None:
        if self.request is not None:
            setattr(self.request, FLAG, True)
        raise StopUpload(connection_reset=True)
