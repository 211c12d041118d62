"""The address a request came from, the same for the login lock-out (django-axes) and the API throttles (DRF).

X-Forwarded-For is written by whoever sends the request, so it is believed only as far as the proxies
this deployment runs (``PORTAL_TRUSTED_PROXIES``, default 0). Each trusted proxy appends the address it
received the connection from, so with N trusted proxies the client is the N-th address from the right:
anything left of it was written by the client itself and is ignored. With 0, X-Forwarded-For is ignored
and REMOTE_ADDR (the TCP peer) is the client. This is DRF's ``NUM_PROXIES`` rule
(``BaseThrottle.get_ident``); axes is given this function (``AXES_CLIENT_IP_CALLABLE``) so the two can
never disagree about who a client is.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings


def client_address(request: Any) -> str:
    """The client's address for ``request`` under ``settings.PORTAL_TRUSTED_PROXIES``."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.PORTAL_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
    if not addresses:
        return remote
    # Fewer addresses than trusted proxies: the left-most one is still one a trusted proxy wrote.
    return addresses[-min(proxies, len(addresses))]
