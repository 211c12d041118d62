"""API rate limits, announced on every throttled answer so a client can pace itself before it meets a 429.

The limits are DRF's own throttles (settings REST_FRAMEWORK: DEFAULT_THROTTLE_CLASSES, rates "anon" and
"user"); the classes here are those throttles, unchanged in what they allow, that also remember what they
counted on the request. ``RateLimitHeadersMiddleware`` then writes the headers of the IETF draft
(draft-ietf-httpapi-ratelimit-headers-07) from those numbers, so the headers can never disagree with the
throttle that answers 429:

- ``RateLimit-Limit``: requests allowed in the window of the quota nearest to running out;
- ``RateLimit-Remaining``: how many of them are left (0 on a 429);
- ``RateLimit-Reset``: seconds until the oldest counted request leaves the window, i.e. until
  Remaining grows again (on a 429 it equals Retry-After, which DRF still sends);
- ``RateLimit-Policy``: every quota that counted this request, ``<limit>;w=<seconds>;comment="<scope>"``.

Both throttles count an anonymous request (the user throttle keys it by address); a signed-in request is
counted by the user throttle alone. DRF checks throttles after authentication and permissions, so an
answer refused before that (401 without a token on a view that requires one) was not counted and carries
no headers. docs/api/limits.md is the integrators' version of this.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

ATTRIBUTE = "portal_rate_limits"  # on the Django request: the quotas that counted it
HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy")


@dataclass(frozen=True)
class Quota:
    """One throttle's numbers for one request, after it was counted (or refused)."""

    scope: str
    limit: int
    window: int  # seconds
    remaining: int
    reset: int  # seconds until a request is free again

    @property
    def policy(self) -> str:
        return f'{self.limit};w={self.window};comment="{self.scope}"'


class AnnouncedRateThrottle(SimpleRateThrottle):
    """A DRF rate throttle that leaves its count on the request for the headers."""

    def allow_request(self, request: Any, view: Any) -> bool:
        allowed = super().allow_request(request, view)
        # No rate for the scope, or a request this throttle does not key (a signed-in user for the
        # anonymous throttle): nothing was counted, nothing to announce.
        if self.rate is not None and getattr(self, "key", None) is not None:
            remember(request, self.quota())
        return allowed

    def get_ident(self, request: Any) -> str:
        # The one rule for who a client is (portal.clientip, shared with the login lock-out), read
        # at each request so it follows PORTAL_TRUSTED_PROXIES.
        from portal.clientip import client_address

        return client_address(request)

    def quota(self) -> Quota:
        """The numbers after ``allow_request``: its history holds this request if it was allowed."""
        limit, window = int(self.num_requests or 0), int(self.duration or 0)
        counted = len(self.history)
        oldest = self.history[-1] if self.history else self.now
        reset = max(0, math.ceil(window - (self.now - oldest)))
        return Quota(scope=str(self.scope), limit=limit, window=window,
                     remaining=max(0, limit - counted), reset=reset)


class AnonThrottle(AnnouncedRateThrottle, AnonRateThrottle):
    """DRF's anonymous throttle (scope "anon", keyed by address), announced."""


class UserThrottle(AnnouncedRateThrottle, UserRateThrottle):
    """DRF's user throttle (scope "user", keyed by user, or by address when anonymous), announced."""


def remember(request: Any, quota: Quota) -> None:
    """Keep ``quota`` on the Django request beneath DRF's (the middleware sees only that one)."""
    django_request = getattr(request, "_request", request)
    quotas = getattr(django_request, ATTRIBUTE, None)
    if quotas is None:
        quotas = []
        setattr(django_request, ATTRIBUTE, quotas)
    quotas.append(quota)


def nearest(quotas: list[Quota]) -> Quota:
    """The quota to announce: the fewest requests left; of two spent ones, the one spent longer."""
    return min(quotas, key=lambda q: (q.remaining, -q.reset, q.limit))


def announce(response: HttpResponse, quotas: list[Quota]) -> None:
    """Write the RateLimit headers for ``quotas`` onto ``response``."""
    chosen = nearest(quotas)
    response["RateLimit-Limit"] = str(chosen.limit)
    response["RateLimit-Remaining"] = str(chosen.remaining)
    response["RateLimit-Reset"] = str(chosen.reset)
    response["RateLimit-Policy"] = ", ".join(q.policy for q in sorted(quotas, key=lambda q: q.limit))


class RateLimitHeadersMiddleware:
    """Announces the limits on every answer a throttle counted (429 included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        quotas = getattr(request, ATTRIBUTE, None)
        if quotas:
            announce(response, quotas)
        return response
