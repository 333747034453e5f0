"""Where webhooks may POST: public addresses, plus the ranges the ``webhooks.allow_targets``
setting opens up.

A webhook URL is a request the server makes on an admin's behalf; without a check it could reach
the database, the cloud metadata service (169.254.169.254) or anything else on the server's own
network (server-side request forgery). So addresses in these ranges are refused, when a webhook
is added (literal IPs and names that resolve there) and again before every delivery, after DNS
resolution (a name can be re-pointed after it was added):

- ``loopback``: 127.0.0.0/8, ::1
- ``private``: 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier NAT), fc00::/7
- ``link-local``: 169.254/16 (cloud metadata), fe80::/10
- always refused: unspecified (0.0.0.0, ::), multicast, reserved

``webhooks.allow_targets`` holds a list of those range names and/or CIDR blocks
(``["loopback"]``, ``["10.20.0.0/16"]``); ``LEADGATE_WEBHOOKS_ALLOW`` (comma-separated, same
syntax) adds to it for one process, for development and test set-ups.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import Connection

from leadgate.errors import FieldError
from leadgate.store.settings import get_setting

ALLOW_KEY = "webhooks.allow_targets"
ENV_VAR = "LEADGATE_WEBHOOKS_ALLOW"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

RANGES: dict[str, tuple[str, ...]] = {
    "loopback": ("127.0.0.0/8", "::1/128"),
    "private": ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"),
    "link-local": ("169.254.0.0/16", "fe80::/10"),
}
_BLOCKED = tuple(ipaddress.ip_network(n) for names in RANGES.values() for n in names)


class TargetError(FieldError):
    """Raised when a webhook URL or an allow-list entry is refused (names the field)."""


def parse_allow(entries: Iterable[object], field: str = ALLOW_KEY) -> list[str]:
    """Check allow-list entries (range names or CIDR blocks); returns them normalised."""
    out: list[str] = []
    for entry in entries:
        text = str(entry).strip().lower()
        if text in RANGES:
            out.append(text)
            continue
        try:
            out.append(str(ipaddress.ip_network(text, strict=False)))
        except ValueError:
            raise TargetError(
                f"{entry!r} is neither {', '.join(RANGES)} nor a CIDR block like 10.0.0.0/8",
                field,
            ) from None
    return out


def allowed_networks(conn: Connection) -> tuple[Network, ...]:
    """The networks the setting and ``LEADGATE_WEBHOOKS_ALLOW`` open up."""
    entries = list(get_setting(conn, ALLOW_KEY) or [])
    env = os.environ.get(ENV_VAR, "")
    entries += [e for e in env.split(",") if e.strip()]
    nets: list[Network] = []
    for entry in parse_allow(entries):
        nets += [ipaddress.ip_network(n) for n in RANGES.get(entry, (entry,))]
    return tuple(nets)


def refusal(address: Address, allowed: tuple[Network, ...]) -> str | None:
    """Why ``address`` may not be a webhook target, or ``None`` when it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(address in net for net in allowed):
        return None
    for net in _BLOCKED:
        if address.version == net.version and address in net:
            name = next(k for k, v in RANGES.items() if str(net) in v)
            return f"{address} is a {name} address (allow it with the {ALLOW_KEY} setting)"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return f"{address} is not a routable address"
    return None


def resolve(host: str, port: int | None) -> list[Address]:
    """Every address ``host`` resolves to (a literal IP is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_target(url: str, allowed: tuple[Network, ...], *, field: str = "url") -> None:
    """Refuse ``url`` when its host is, or resolves to, a refused address.

    A name that does not resolve (yet) is accepted when adding; delivery checks again.

    Raises:
        TargetError: the host is in a refused range (field ``url``).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = resolve(host, parts.port)
    except (OSError, ValueError):
        return
    for address in addresses:
        reason = refusal(address, allowed)
        if reason is not None:
            raise TargetError(f"{host} refused: {reason}", field)


def delivery_refusal(url: str, allowed: tuple[Network, ...]) -> str | None:
    """Before a delivery: why ``url`` may not be called now, or ``None``. A name that does not
    resolve is left to the HTTP client (it fails and is retried like any unreachable host)."""
    try:
        check_target(url, allowed)
    except TargetError as exc:
        return f"refused target: {exc}"
    return None
