"""The one HTTP POST of webhooks, to public addresses only (the policy is urlguard's).

requests-hardened (Saleor's, 1.3.0) does IP filtering at connect time but was not used: it
checks only the first address getaddrinfo answers (a name answering a public and a private
address passes) and its ranges let IPv4-compatible (::127.0.0.1) and site-local (fec0::/10)
addresses through. ``PinnedAdapter`` uses the same technique on requests' own adapter: the name
is resolved once, every answer checked, and urllib3 connects to the checked address, so a DNS
answer that changes between the check and the connection (rebinding) changes nothing. The Host
header, TLS SNI and the certificate check keep the URL's name.

Also: no proxy (HTTP(S)_PROXY, .netrc and the rest of the environment are ignored), no redirect
followed (a 3xx is a failed attempt), connect and read timeouts, an overall deadline on reading
the body, and at most BODY_LIMIT bytes of it read.
"""
from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from portal.webhooks import urlguard

log = logging.getLogger(__name__)

# Timeouts are settings (WEBHOOK_CONNECT_TIMEOUT, WEBHOOK_READ_TIMEOUT), read at each attempt; the whole
# body must arrive within twice the read timeout, so a receiver dripping bytes cannot hold a worker.
BODY_LIMIT = 64 * 1024
EXCERPT_CHARS = 500  # WebhookDelivery.response_excerpt's length


class RefusedDestination(requests.RequestException):
    """The URL, or an address its name resolves to now, is not one the portal sends to."""


class PinnedAdapter(HTTPAdapter):
    """requests' adapter, connecting to an address urlguard checked (see the module's doc)."""

    def __init__(self, *, allow_loopback: bool) -> None:
        super().__init__(max_retries=0)
        self.allow_loopback = allow_loopback

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        try:
            target = urlguard.parse_target(request.url, allow_loopback=self.allow_loopback)
            address = urlguard.resolve_checked(target, allow_loopback=self.allow_loopback)[0]
        except urlguard.UnsafeURL as error:
            raise RefusedDestination(str(error), request=request) from None
        except (socket.gaierror, UnicodeError) as error:
            raise requests.ConnectionError(f"{target.host} does not resolve ({error})", request=request) from None
        name = f"[{target.host}]" if ":" in target.host else target.host
        request.headers["Host"] = name if host_params["port"] is None else f"{name}:{host_params['port']}"
        if target.scheme == "https":
            # The certificate must be for the name, and SNI must name it, though the socket
            # goes to the address.
            pool_kwargs["server_hostname"] = target.host
            pool_kwargs["assert_hostname"] = target.host
        host_params["host"] = f"[{address}]" if address.version == 6 else str(address)
        host_params["port"] = target.port
        return host_params, pool_kwargs

    def send(self, request: Any, stream: bool = False, timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Any = None) -> requests.Response:
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=None)

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        # The pre-2.32 path would skip build_connection_pool_key_attributes (and the check).
        raise NotImplementedError("use get_connection_with_tls_context")


@dataclass
class Outcome:
    code: int | None = None
    excerpt: str = ""  # the start of a 2xx answer's body
    error: str = ""  # why the attempt failed; empty when it succeeded
    refused: bool = False  # the destination itself was refused: retrying cannot help
    bytes_read: int = 0


def _timeouts() -> tuple[float, float]:
    from django.conf import settings

    return float(settings.WEBHOOK_CONNECT_TIMEOUT), float(settings.WEBHOOK_READ_TIMEOUT)


def _read_bounded(response: requests.Response) -> bytes:
    chunks, size, deadline = [], 0, time.monotonic() + 2 * _timeouts()[1]
    while size < BODY_LIMIT and time.monotonic() < deadline:
        # Raw bytes, not decoded: Accept-Encoding is identity, and a compressed answer is not
        # inflated (a small gzip can be a huge body).
        chunk = response.raw.read(min(8192, BODY_LIMIT - size), decode_content=False)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def post(url: str, body: bytes, headers: dict[str, str], *, allow_loopback: bool) -> Outcome:
    """POST ``body`` to ``url``; the outcome, never an exception for what the receiver does."""
    try:
        urlguard.parse_target(url, allow_loopback=allow_loopback)
    except urlguard.UnsafeURL as error:
        return Outcome(error=f"refused: {error}"[:300], refused=True)
    with requests.Session() as session:
        session.trust_env = False  # no proxy, no .netrc, no CA bundle from the environment
        session.mount("http://", PinnedAdapter(allow_loopback=allow_loopback))
        session.mount("https://", PinnedAdapter(allow_loopback=allow_loopback))
        try:
            with session.post(url, data=body, headers={**headers, "Accept-Encoding": "identity"},
                              timeout=_timeouts(), allow_redirects=False,
                              stream=True) as response:
                code = response.status_code
                if not 200 <= code < 300:
                    redirect = " (redirects are not followed)" if 300 <= code < 400 else ""
                    return Outcome(code=code, error=f"receiver answered HTTP {code}{redirect}")
                raw = _read_bounded(response)
                excerpt = raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
                return Outcome(code=code, excerpt=excerpt, bytes_read=len(raw))
        except RefusedDestination as error:
            return Outcome(error=f"refused: {error}"[:300], refused=True)
        except requests.RequestException as error:
            return Outcome(error=_describe_error(error))


def _describe_error(error: Exception) -> str:
    text = str(error)
    if isinstance(error, requests.Timeout):
        return f"no answer within {_timeouts()[1]:g} s"
    if isinstance(error, requests.ConnectionError):
        if "refused" in text.lower():
            return "connection refused"
        return f"could not connect: {text}"[:300]
    return f"{type(error).__name__}: {text}"[:300]
