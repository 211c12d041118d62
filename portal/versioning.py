"""The API's versions: every operation lives under /api/v1/; the unversioned /api/... paths are aliases
kept for a deprecation period.

An alias answers exactly what its /api/v1/ twin answers (the same view, included a second time in
config/urls.py), plus three headers that tell a client where to go and by when:

- ``Deprecation: @<unix time>`` (RFC 9745): the alias is deprecated since that moment;
- ``Sunset: <HTTP-date>`` (RFC 8594): after that day the alias may stop answering;
- ``Link: </api/v1/...>; rel="successor-version"``: the same request on the current version.

``/api/schema/`` is not an alias: it stays unversioned on purpose, as the one well-known address of the
current version's document (tools, the schemathesis gate and integrators' CI point at it), and it says
which version it describes in ``info.version``. A generator that must not move when v2 comes pins
``/api/v1/schema/`` instead, which serves the same document today.

The dates are constants, not settings: they are a promise made in docs/api/CHANGELOG.md, not something a
deployment tunes. This module imports nothing from Django's models, so settings may read it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.utils.encoding import escape_uri_path
from django.utils.http import http_date

CURRENT = "v1"
PREFIX = "/api/"
CURRENT_PREFIX = f"{PREFIX}{CURRENT}/"
# Unversioned paths that are not aliases (see the module docstring).
UNVERSIONED = frozenset({"/api/schema/"})

# What a query string keeps unencoded in the Link: RFC 3986's query characters, "%" of existing escapes.
QUERY_SAFE = "/?:@!$&'()*+,;=-._~%"

DEPRECATED_ON = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)  # the day v1 was published
SUNSET_ON = dt.datetime(2027, 12, 31, 23, 59, 59, tzinfo=dt.UTC)

DEPRECATION = f"@{int(DEPRECATED_ON.timestamp())}"  # RFC 9745: a Structured Field Date
SUNSET = http_date(SUNSET_ON.timestamp())  # RFC 8594: an IMF-fixdate, "Fri, 31 Dec 2027 23:59:59 GMT"


def is_alias(path: str) -> bool:
    """Whether ``path`` is an unversioned, deprecated alias of an /api/v1/ path."""
    return path.startswith(PREFIX) and not path.startswith(CURRENT_PREFIX) and path not in UNVERSIONED


def successor(path: str, query: str = "") -> str:
    """The /api/v1/ path that answers the same as the alias ``path`` (with its query string), as a
    URI: ``path`` is decoded (a key may hold a newline or ">"), so both parts are percent-encoded again,
    or a hostile URL could break out of the Link header's <...> or make the header invalid (a 500)."""
    target = escape_uri_path(CURRENT_PREFIX + path[len(PREFIX):])
    query = quote(query, safe=QUERY_SAFE)
    return f"{target}?{query}" if query else target


def announce_deprecation(response: HttpResponse, path: str, query: str = "", script_prefix: str = "") -> None:
    """Set the three deprecation headers on an alias's response (an existing Link is kept)."""
    response["Deprecation"] = DEPRECATION
    response["Sunset"] = SUNSET
    link = f'<{script_prefix}{successor(path, query)}>; rel="successor-version"'
    response["Link"] = f"{response['Link']}, {link}" if response.has_header("Link") else link


class DeprecatedAliasMiddleware:
    """Marks every answer of an unversioned alias (errors included) as deprecated.

    Only paths the URLconf resolved are marked (``request.resolver_match``): a 404 for a path that
    exists nowhere has no successor to point at."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "resolver_match", None) is not None and is_alias(request.path_info):
            # Behind a script prefix (the site mounted under /portal/), the link keeps it.
            script_prefix = request.path[: len(request.path) - len(request.path_info)]
            announce_deprecation(response, request.path_info, request.META.get("QUERY_STRING", ""), script_prefix)
        return response
