"""Fetch an http(s) URL that a client sent us, without letting it reach our own network (SSRF guard).

A URL from a client is an order to make a request from inside our network. Left unguarded it
reads the cloud metadata service (169.254.169.254 hands out credentials), admin ports on
loopback, or hosts on the private network. So, for the first URL and again for every redirect
hop (redirects are followed by hand, never by httpx):

1. only `http` and `https` are accepted;
2. the host name is resolved and EVERY resolved address must be public (see `check_address`),
   unless the name or the address is on `FetchPolicy.allowlist`;
3. the connection goes to the address that was checked, not to the name again: the request URL's
   host is rewritten to the IP, the original `Host` header is sent, and for https the
   `sni_hostname` request extension carries the original name so SNI and certificate
   verification still use it. A DNS server that answers "public" to our check and "private" to
   the connect (DNS rebinding) therefore gets nowhere;
4. the body is streamed and dropped as soon as it passes `max_bytes` (or Content-Length says it
   will), and one wall-clock budget covers all hops, on top of httpx's connect/read timeouts.

Error messages name the URL's host (the client's own input) but never an address it resolved
to, and never carry the upstream body; query strings are left out (signed URLs keep their
secrets there).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import Union

import httpx

from .errors import BadInput, ConfigError, FetchTimeout, InputTooLarge

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

SCHEMES = ("http", "https")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: cloud metadata service names, refused by name too: some setups map them to addresses that look public
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata"})
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
#: receives a body chunk by chunk instead of it being collected (a job's document goes to disk so)
Sink = Callable[[bytes], Awaitable[None]]


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch; frozen so one instance can be shared by concurrent requests."""

    max_bytes: int = 20 * 1024 * 1024
    #: connect + read timeout, and the wall-clock budget of the whole fetch (all hops)
    timeout_s: float = 10.0
    max_redirects: int = 3
    #: host names, IPs or CIDRs that may be private/loopback ("127.0.0.1", "10.0.0.0/8", "files.internal")
    allowlist: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _parse_allowlist(self.allowlist)  # a malformed CIDR fails at startup, not on the first request


def is_url(value: str) -> bool:
    """True for `http://` or `https://` strings with a host: tells a URL apart from a path or base64."""
    head = value[:8].lower()
    if not (head.startswith("http://") or head.startswith("https://")):
        return False
    try:
        return bool(httpx.URL(value).host)
    except (httpx.InvalidURL, ValueError):
        return False


def _normalize_host(host: str) -> str:
    """Lower case, no trailing dot: `Metadata.Google.Internal.` must match like the plain name."""
    return host.strip().rstrip(".").lower()


@lru_cache(maxsize=64)
def _parse_allowlist(allowlist: tuple[str, ...]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Split allowlist entries into host names and networks (an IP is a /32 or /128 network)."""
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in allowlist:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            if "/" in entry:
                raise ConfigError(f"allowlist entry {entry!r} is neither a host name nor a valid CIDR") from None
            names.add(_normalize_host(entry))
    return frozenset(names), tuple(networks)


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv6 form (::ffff:a.b.c.d, 6to4, NAT64), else `ip` itself.

    `::ffff:127.0.0.1` connects to loopback on a dual-stack socket, so it must be judged as 127.0.0.1.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def _is_allowlisted(ip: IPAddress, host: str, policy: FetchPolicy) -> bool:
    """True if the host name (exact, case-insensitive) or the address is on the allowlist."""
    names, networks = _parse_allowlist(policy.allowlist)
    if _normalize_host(host) in names:
        return True
    return any(candidate in net for candidate in (ip, _unwrap(ip)) for net in networks)


def _is_forbidden(ip: IPAddress) -> bool:
    """True unless `ip` is a plain globally routable unicast address.

    `is_global` alone is not enough (Python 3.11 calls multicast global), hence the explicit list.
    """
    ip = _unwrap(ip)
    if (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global):
        return True
    if isinstance(ip, ipaddress.IPv4Address):
        return ip in _CGNAT
    return ip.is_site_local


def check_address(ip: IPAddress, host: str, policy: FetchPolicy) -> None:
    """Raise BadInput if connecting to `ip` (resolved from `host`) could reach our own network.

    Refused: loopback, private (RFC 1918, fc00::/7), link-local (incl. 169.254.169.254, the cloud
    metadata service), multicast, reserved, unspecified, carrier-grade NAT, IPv6 forms embedding
    any of those, and the metadata host names -- unless `host` or `ip` is on `policy.allowlist`.
    """
    if _is_allowlisted(ip, host, policy):
        return
    if _normalize_host(host) in METADATA_HOSTS:
        raise BadInput(f"host {host!r} is the cloud metadata service; refusing to fetch it")
    if _is_forbidden(ip):
        raise BadInput(f"host {host!r} resolves to a private/loopback address; refusing to fetch it")


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """All addresses `host` resolves to, in resolver order, without duplicates.

    Uses the event loop's getaddrinfo (a thread) so a slow DNS server does not block the loop.
    """
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BadInput(f"cannot resolve host {host!r}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0])
        if ip not in addresses:
            addresses.append(ip)
    return addresses


def _display(url: httpx.URL) -> str:
    """The URL as shown in messages: no user info, no query (it may hold a signature), no fragment."""
    return f"{url.scheme}://{url.netloc.decode('ascii')}{url.path}"


def _parse(url: str | httpx.URL) -> httpx.URL:
    """Parse and accept only http(s) URLs with a host."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise BadInput(f"not a valid URL: {exc}") from exc
    if parsed.scheme not in SCHEMES:
        raise BadInput(f"URL scheme {parsed.scheme or '(none)'!r} is not allowed; use http or https")
    if not parsed.host:
        raise BadInput("the URL has no host")
    return parsed


async def _checked_addresses(url: httpx.URL, policy: FetchPolicy) -> list[IPAddress]:
    """Resolve the URL's host and check every address; the fetch may only connect to these."""
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    addresses = await resolve_host(host, port)
    if not addresses:
        raise BadInput(f"cannot resolve host {url.host!r}")
    for ip in addresses:
        check_address(ip, host, policy)
    return addresses


def _pinned_stream(
    client: httpx.AsyncClient, url: httpx.URL, ip: IPAddress
) -> AbstractAsyncContextManager[httpx.Response]:
    """Stream a GET for `url` from `ip`, keeping Host, SNI and certificate checks on the name.

    Connecting to the checked address (not the name) is what defeats DNS rebinding.
    """
    extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
    headers = {"Host": url.netloc.decode("ascii"), "Accept-Encoding": "identity"}
    return client.stream("GET", url.copy_with(host=str(ip), fragment=None), headers=headers, extensions=extensions)


def _transport_error(exc: httpx.TransportError, url: httpx.URL) -> BadInput:
    """A short reason; the exception text is not used since it may name the resolved address."""
    if isinstance(exc, httpx.TimeoutException):
        return FetchTimeout(f"fetching {_display(url)} timed out")
    if isinstance(exc, httpx.ConnectError):
        tls = "CERTIFICATE_VERIFY_FAILED" in str(exc)
        reason = "TLS certificate verification failed" if tls else "could not connect"
    elif isinstance(exc, httpx.RemoteProtocolError):
        reason = "the server broke the HTTP protocol"
    else:
        reason = "the connection failed"
    return BadInput(f"fetching {_display(url)} failed: {reason}")


async def _read_capped(response: httpx.Response, url: httpx.URL, max_bytes: int, sink: Sink | None) -> bytes:
    """The body (empty when `sink` took it), refused as soon as it is known to be (or has become) larger
    than `max_bytes`."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise InputTooLarge(f"{_display(url)} is {int(declared)} bytes, over the limit of {max_bytes}")
    chunks: list[bytes] = []
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise InputTooLarge(f"{_display(url)} is larger than the limit of {max_bytes} bytes")
        if sink is None:
            chunks.append(chunk)
        else:
            await sink(chunk)
    return b"".join(chunks)


async def _fetch_hop(client: httpx.AsyncClient, url: httpx.URL, policy: FetchPolicy,
                     sink: Sink | None) -> httpx.URL | bytes:
    """One request: the body on success, or the next URL when the server redirects."""
    addresses = await _checked_addresses(url, policy)
    for i, ip in enumerate(addresses):
        try:
            async with _pinned_stream(client, url, ip) as response:
                if response.status_code in REDIRECT_STATUSES and "Location" in response.headers:
                    return url.join(response.headers["Location"])
                if response.status_code >= 300:
                    raise BadInput(f"fetching {_display(url)} returned HTTP {response.status_code}")
                return await _read_capped(response, url, policy.max_bytes, sink)
        except httpx.ConnectError as exc:
            if i + 1 == len(addresses):  # try the next checked address only when the connect failed
                raise _transport_error(exc, url) from exc
        except httpx.TransportError as exc:
            raise _transport_error(exc, url) from exc
    raise AssertionError("unreachable: _checked_addresses never returns an empty list")


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context (httpx's default CA bundle) for all fetches: loading it costs milliseconds."""
    return httpx.create_ssl_context()


async def _fetch_all_hops(
    url: httpx.URL, policy: FetchPolicy, transport: httpx.AsyncBaseTransport | None, sink: Sink | None
) -> bytes:
    """Follow redirects by hand so every hop goes through the same scheme and address checks."""
    timeout = httpx.Timeout(policy.timeout_s)
    # trust_env=False: a proxy from the environment would connect by name and undo the address pinning
    async with httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False,
                                 trust_env=False, verify=_ssl_context()) as client:
        current = url
        for _hop in range(policy.max_redirects + 1):
            result = await _fetch_hop(client, current, policy, sink)
            if isinstance(result, bytes):
                return result
            current = _parse(result)
    raise BadInput(f"fetching {_display(url)}: more than {policy.max_redirects} redirects")


async def fetch_url(url: str, policy: FetchPolicy, transport: httpx.AsyncBaseTransport | None = None,
                    sink: Sink | None = None) -> bytes:
    """The body behind a client's http(s) URL, fetched under `policy` (see the module docstring).

    Raises BadInput (bad scheme, forbidden address, HTTP error, too many redirects, connection
    failure), InputTooLarge (over `max_bytes`) or FetchTimeout (over `timeout_s`, all hops together).
    `transport` replaces httpx's network transport (tests); the address checks still run.
    `sink` receives the body as it arrives instead, and the body returned is then empty.
    """
    parsed = _parse(url)
    try:
        return await asyncio.wait_for(_fetch_all_hops(parsed, policy, transport, sink), timeout=policy.timeout_s)
    except asyncio.TimeoutError as exc:
        raise FetchTimeout(f"fetching {_display(parsed)} did not finish within {policy.timeout_s:g} s") from exc
