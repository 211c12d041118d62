"""Which webhook URLs the portal will POST to: public http(s) endpoints only.

Suppliers choose webhook URLs and the portal's workers send to them from inside DCC's network,
so an unchecked URL is a server-side request forgery: 127.0.0.1, the cloud metadata service at
169.254.169.254, the database on 10.x, ... This module is the one policy, used twice:

- at save time (``validate_endpoint_url``, called by the service, the API serializer and the
  form): the URL's spelling, and the addresses its name resolves to now;
- at delivery (``parse_target`` and ``resolve_checked``, called by ``outbound``): again, on the
  addresses the name resolves to at that moment, and the connection goes to the address checked
  (a name that resolved to a public address at save time may resolve elsewhere later).

A name that does not resolve at save time is accepted: it is checked when it is delivered to.
``WEBHOOK_ALLOW_LOOPBACK`` (tests and the demo only; refused with DEBUG off) lets 127.0.0.0/8
and ::1 through, nothing else.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
from django.conf import settings
from django.core.exceptions import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = {"http": 80, "https": 443}
# Ports: 80, 443 and the unprivileged ones. Below 1024 live SSH, SMTP, LDAP, ... on which a
# POST from the portal would be a cross-protocol attack on someone's public host.
MIN_UNPRIVILEGED_PORT = 1024

# Names that only mean something inside a network: never a supplier's public endpoint.
INTERNAL_SUFFIXES = ("localhost", "internal", "local", "localdomain", "home.arpa", "lan", "intranet")

# Ranges ipaddress (Python 3.11) counts as global that a webhook must not reach all the same.
NOT_PUBLIC = {
    ipaddress.ip_network("64:ff9b::/96"): "a NAT64 address (it reaches IPv4 through a translator)",
    ipaddress.ip_network("64:ff9b:1::/48"): "a local-use NAT64 address",
    ipaddress.ip_network("192.88.99.0/24"): "a 6to4 relay address",
    ipaddress.ip_network("3fff::/20"): "a documentation address",
    ipaddress.ip_network("5f00::/16"): "an IPv6 segment-routing address",
    ipaddress.ip_network("2001:20::/28"): "an ORCHIDv2 overlay identifier",
    ipaddress.ip_network("100.64.0.0/10"): "a shared (carrier-grade NAT) address",
}
DOCUMENTATION = [ipaddress.ip_network(net) for net in
                 ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")
LOOPBACK_V6 = ipaddress.ip_address("::1")

LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# A last label of digits or 0x-hex makes the host an IPv4 address to browsers and to libc
# (WHATWG URL "ends in a number"), however odd the spelling: 127.1, 0x7f.1, 2130706433.
NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")

PUBLIC_ONLY = "webhooks go to public (globally routable) addresses only"


class UnsafeURL(ValueError):
    """The URL (or an address its name resolves to) is not one the portal sends to."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # ASCII (IDNA), lower case, no trailing dot, no brackets
    port: int
    address: IPAddress | None  # when the host is an IP literal


def address_refusal(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why ``ip`` may not be sent to (a phrase such as "a private address"), or None."""
    if allow_loopback and (ip == LOOPBACK_V6 or (ip.version == 4 and ip in LOOPBACK_V4)):
        return None
    if ip.version == 6:
        assert isinstance(ip, ipaddress.IPv6Address)
        if ip.scope_id:
            return "an address with a zone (interface) id"
        # IPv6 spellings that carry an IPv4 address: the v4 inside must be public too.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and int(ip) >> 32 == 0 and int(ip) > 1:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # IPv4-compatible ::a.b.c.d
        if embedded is not None:
            inner = address_refusal(embedded)
            if inner is not None:
                return f"an IPv6 address embedding {embedded}, {inner}"
    for network, why in NOT_PUBLIC.items():
        if ip in network:
            return why
    checks = [
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.version == 6 and getattr(ip, "is_site_local", False), "a site-local address"),
        (any(ip in net for net in DOCUMENTATION), "a documentation address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a globally routable address"),
    ]
    return next((why for hit, why in checks if hit), None)


def _ip_literal(host: str) -> IPAddress | None:
    """The address when ``host`` is an IP literal; UnsafeURL for an odd IPv4 spelling."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeURL(f"{host} is not a valid IPv6 address.") from None
    if not NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        return None
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        # Octal (0177.0.0.1), hex (0x7f.1), short (127.1) or one number (2130706433): all are
        # addresses to someone's parser. Only the plain spelling is accepted, so what is checked
        # is what every parser connects to.
        raise UnsafeURL("Write an IP address as four decimal numbers (a.b.c.d) or use a host name.") from None
    return address


def _ascii_host(host: str) -> str:
    if "%" in host:
        raise UnsafeURL("Percent-encoding and zone ids are not allowed in the host.")
    if not host.isascii():
        try:
            # What requests sends (IDNA 2008 with UTS 46 mapping): fullwidth digits and the
            # like map to ASCII here, so they are checked as what they become.
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            raise UnsafeURL("The host is not a valid international domain name.") from None
    host = host.lower()
    return host[:-1] if host.endswith(".") else host


def parse_target(url: str, *, allow_loopback: bool) -> Target:
    """Scheme, host, port and (for a literal) the address of ``url``, refusing every spelling the
    portal does not send to, before any name is resolved."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in url):
        raise UnsafeURL("The URL contains spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeURL(f"The URL cannot be read: {error}.") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeURL("Use an http:// or https:// URL.")
    if "@" in parts.netloc:
        raise UnsafeURL("Leave user names and passwords out of the URL (deliveries are signed instead).")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.")
    host = _ascii_host(parts.hostname)
    address = _ip_literal(host)
    if address is not None:
        why = address_refusal(address, allow_loopback=allow_loopback)
        if why:
            raise UnsafeURL(f"{address} is {why}: {PUBLIC_ONLY}.")
    else:
        labels = host.split(".")
        if len(host) > 253 or not all(LABEL.match(label) for label in labels):
            raise UnsafeURL(f"{host} is not a valid host name.")
        loopback_name = host == "localhost" and allow_loopback
        if not loopback_name and any(host == s or host.endswith("." + s) for s in INTERNAL_SUFFIXES):
            raise UnsafeURL(f"{host} is a name of an internal network: {PUBLIC_ONLY}.")
        if len(labels) < 2 and not loopback_name:
            # A single label is completed by the resolver's search domains: an internal name.
            raise UnsafeURL(f"{host} is not a fully qualified domain name (for example hooks.example.com).")
    if scheme == "http" and not allow_loopback:
        # Checked after the address rules, so a URL at an internal address is told that first. Deliveries
        # carry a supplier's events: outside the loopback test set-up they travel over TLS only.
        raise UnsafeURL("Use an https:// URL: deliveries are sent over TLS only.")
    port = SCHEMES[scheme] if port is None else port
    if port in SCHEMES.values():
        pass
    elif port < MIN_UNPRIVILEGED_PORT:
        raise UnsafeURL(f"Port {port} is not allowed: use 80, 443 or a port from {MIN_UNPRIVILEGED_PORT} up.")
    return Target(scheme=scheme, host=host, port=port, address=address)


def resolve_checked(target: Target, *, allow_loopback: bool) -> list[IPAddress]:
    """Every address ``target``'s host resolves to now, each checked: UnsafeURL when any one is
    not public (a name answering a public and a private address is refused, whichever a
    client would try first). socket.gaierror when the name does not resolve."""
    if target.address is not None:
        return [target.address]
    answers = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            raise UnsafeURL(f"{target.host} resolves to an address that is not IP.")
        ip = ipaddress.ip_address(sockaddr[0])
        why = address_refusal(ip, allow_loopback=allow_loopback)
        if why:
            raise UnsafeURL(f"{target.host} resolves to {ip}, {why}: {PUBLIC_ONLY}.")
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnsafeURL(f"{target.host} resolves to no address.")
    return addresses


def validate_endpoint_url(url: str) -> None:
    """The save-time check, one function for the service, the API serializer and the form:
    Django ValidationError with a message for the user when ``url`` is refused."""
    allow_loopback = settings.WEBHOOK_ALLOW_LOOPBACK
    try:
        target = parse_target(url, allow_loopback=allow_loopback)
        try:
            resolve_checked(target, allow_loopback=allow_loopback)
        except (socket.gaierror, UnicodeError):
            pass  # not resolvable now: accepted, and checked again at every delivery
    except UnsafeURL as error:
        raise ValidationError(str(error), code="unsafe_url") from None
