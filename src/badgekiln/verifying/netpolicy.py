"""Which addresses ``verify`` may connect to: public internet addresses only.

A badge given to ``verify`` comes from a stranger, and every URL in it (the assertion's id, the
badge class, the issuer, keys, did:web hosts, status lists, redirects) is chosen by that
stranger. Without a rule, ``verify`` is a way into the verifier's own network: the cloud
metadata service (169.254.169.254), a router's admin page, a database on localhost.

The rule: a host is resolved **once**; every address it resolves to must be a public internet
address (:func:`refusal` says why one is not); the connection then goes to one of those checked
addresses, never to the name again (no DNS-rebinding window). Loopback (127.0.0.0/8, ::1) is
allowed only with ``allow_local`` (``--allow-local``, to check a local build). Private,
shared (CGNAT), link-local, multicast, unspecified, documentation and reserved ranges are never
allowed, nor are IPv6 forms that carry an IPv4 address (mapped, compatible, translated, NAT64,
6to4, Teredo), nor IPv4 addresses written in anything but dotted decimal (``2130706433``,
``0x7f.1``, ``0177.0.0.1``, ``127.1``).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4_BLOCKS = [
    (ipaddress.IPv4Network(net), what)
    for net, what in (
        ("0.0.0.0/8", "an unspecified ('this network') address"),
        ("10.0.0.0/8", "a private address (10.0.0.0/8)"),
        ("100.64.0.0/10", "a shared carrier-grade NAT address (100.64.0.0/10)"),
        ("127.0.0.0/8", "a loopback address (this machine)"),
        ("169.254.0.0/16", "a link-local address (169.254.0.0/16, where cloud metadata services live)"),
        ("172.16.0.0/12", "a private address (172.16.0.0/12)"),
        ("192.0.0.0/24", "an IETF protocol address (192.0.0.0/24)"),
        ("192.0.2.0/24", "a documentation address (192.0.2.0/24)"),
        ("192.88.99.0/24", "a 6to4 relay address (192.88.99.0/24)"),
        ("192.168.0.0/16", "a private address (192.168.0.0/16)"),
        ("198.18.0.0/15", "a benchmarking address (198.18.0.0/15)"),
        ("198.51.100.0/24", "a documentation address (198.51.100.0/24)"),
        ("203.0.113.0/24", "a documentation address (203.0.113.0/24)"),
        ("224.0.0.0/4", "a multicast address (224.0.0.0/4)"),
        ("240.0.0.0/4", "a reserved address (240.0.0.0/4)"),
    )
]
_V6_BLOCKS = [
    (ipaddress.IPv6Network(net), what)
    for net, what in (
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address (this machine)"),
        ("100::/64", "a discard-only address (100::/64)"),
        ("2001::/23", "an IETF protocol address (2001::/23, Teredo included)"),
        ("2001:db8::/32", "a documentation address (2001:db8::/32)"),
        ("3fff::/20", "a documentation address (3fff::/20)"),
        ("5f00::/16", "a segment-routing address (5f00::/16)"),
        ("fc00::/7", "a unique local (private) address (fc00::/7)"),
        ("fe80::/10", "a link-local address (fe80::/10)"),
        ("fec0::/10", "a site-local address (fec0::/10)"),
        ("ff00::/8", "a multicast address (ff00::/8)"),
    )
]
# IPv6 forms that carry an IPv4 address: a filter that looks only at the IPv6 address misses
# that ::ffff:127.0.0.1 or 64:ff9b::a9fe:a9fe reach 127.0.0.1 or 169.254.169.254.
_V6_EMBEDDING = [
    (ipaddress.IPv6Network(net), what)
    for net, what in (
        ("::ffff:0:0/96", "IPv4-mapped"),
        ("::ffff:0:0:0/96", "IPv4-translated"),
        ("::/96", "IPv4-compatible"),
        ("64:ff9b::/96", "NAT64"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("2002::/16", "6to4"),
    )
]
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")


class AddressRefused(Exception):
    """A host or address that ``verify`` will not connect to; the message says why."""


def _embedded_v4(ip: ipaddress.IPv6Address, net: ipaddress.IPv6Network) -> ipaddress.IPv4Address:
    if net.prefixlen == 16:  # 6to4: the IPv4 address is bits 16..47
        return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def refusal(ip: IPAddress, *, allow_local: bool = False) -> str | None:
    """Why ``ip`` may not be connected to, or None when it may.

    Args:
        ip: The address.
        allow_local: Allow loopback (127.0.0.0/8 and ::1), for checking a local build.

    Returns:
        A phrase such as ``"a private address (10.0.0.0/8)"``, or None.
    """
    if ip.version == 6 and ip.scope_id:
        return "a scoped (interface-local) IPv6 address"
    if allow_local and ip.is_loopback and (ip.version == 4 or ip == ipaddress.IPv6Address("::1")):
        return None
    if ip.version == 6:
        if ip != ipaddress.IPv6Address("::") and ip != ipaddress.IPv6Address("::1"):
            for net, what in _V6_EMBEDDING:
                if ip in net:
                    return f"an IPv6 form ({what}) of {_embedded_v4(ip, net)}"
        blocks: Sequence[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = _V6_BLOCKS
    else:
        blocks = _V4_BLOCKS
    for block, label in blocks:
        if ip in block:
            return label
    if ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_private or not ip.is_global:
        return "not a public internet address"
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address when ``host`` (as ``urlsplit().hostname`` gives it) is an IP literal, else None.

    Raises:
        AddressRefused: An IPv4 address not written as four decimal numbers (``2130706433``,
            ``0x7f.1``, ``0177.0.0.1``, ``127.1``): the resolver would read it as an address that
            the text does not show; or a malformed IPv6 literal.
    """
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError as e:
            raise AddressRefused(f"{host!r} is not a valid IPv6 address") from e
    try:
        return ipaddress.IPv4Address(host)
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
    except (OSError, ValueError):
        return None
    raise AddressRefused(
        f"host {host!r} is an IPv4 address in an unusual spelling; write it as four decimal "
        "numbers (it would still have to be a public address)"
    )


def check_host_name(host: str) -> str:
    """``host`` as ASCII (IDNA), checked to be a plausible DNS name.

    Raises:
        AddressRefused: Not a DNS name (empty, bad characters, a numeric last label).
    """
    try:
        ascii_host = host.encode("idna").decode("ascii").lower().rstrip(".")
    except UnicodeError as e:
        raise AddressRefused(f"host {host!r} is not a valid host name") from e
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise AddressRefused(f"host {host!r} is not a valid host name")
    if labels[-1].isdigit():
        raise AddressRefused(f"host {host!r} ends in a number: neither a host name nor an IPv4 address")
    return ascii_host


@dataclass(frozen=True)
class Endpoint:
    """One checked address to connect to: ``family`` and ``sockaddr`` as ``socket`` wants them."""

    family: int
    sockaddr: tuple
    address: str


def resolve(host: str, port: int, *, allow_local: bool, timeout: float) -> list[Endpoint]:
    """Resolve ``host`` once and check every address; the connection must use these endpoints.

    Args:
        host: An IP literal or a host name (as ``urlsplit().hostname`` gives it).
        port: The TCP port.
        allow_local: Allow loopback addresses.
        timeout: Seconds to wait for the resolver.

    Returns:
        Every address of ``host``, each allowed.

    Raises:
        AddressRefused: The host, or any address it resolves to, is not allowed.
        OSError: The name does not resolve (``TimeoutError`` after ``timeout``).
    """
    literal = literal_address(host)
    if literal is not None:
        why = refusal(literal, allow_local=allow_local)
        if why:
            raise AddressRefused(f"{host} is {why}{_hint(literal)}")
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        sockaddr = (str(literal), port, 0, 0) if literal.version == 6 else (str(literal), port)
        return [Endpoint(family, sockaddr, str(literal))]
    name = check_host_name(host)
    infos = _getaddrinfo(name, port, timeout)
    endpoints = []
    for family, _, _, _, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        try:
            ip = ipaddress.ip_address(sockaddr[0])
            if isinstance(ip, ipaddress.IPv6Address) and sockaddr[3] and ip.scope_id is None:
                ip = ipaddress.IPv6Address(f"{ip}%{sockaddr[3]}")
        except ValueError as e:
            raise AddressRefused(f"{host} resolves to {sockaddr[0]!r}, which is not an IP address") from e
        why = refusal(ip, allow_local=allow_local)
        if why:  # one bad address refuses the name: a resolver may hand out any of them
            raise AddressRefused(f"{host} resolves to {ip}, {why}{_hint(ip)}")
        endpoints.append(Endpoint(family, tuple(sockaddr), str(ip)))
    if not endpoints:
        raise OSError(f"{host} has no IPv4 or IPv6 address")
    return list(dict.fromkeys(endpoints))


def _hint(ip: IPAddress) -> str:
    if ip.is_loopback:
        return "; verify fetches from this machine only with --allow-local"
    return "; verify fetches only from public internet addresses"


def _getaddrinfo(name: str, port: int, timeout: float) -> list:
    """``socket.getaddrinfo`` bounded by ``timeout`` (the resolver has no timeout of its own)."""
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["infos"] = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as e:
            box["error"] = e

    thread = threading.Thread(target=work, name="verify-resolve", daemon=True)
    thread.start()
    thread.join(max(timeout, 0.0))
    if thread.is_alive():
        raise TimeoutError(f"resolving {name} took longer than {timeout:.0f} s")
    if "error" in box:
        error = box["error"]
        raise OSError(f"cannot resolve {name}: {error}") from error  # type: ignore[misc]
    return box["infos"]  # type: ignore[return-value]
