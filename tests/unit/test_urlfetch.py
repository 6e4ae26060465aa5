"""SSRF guard and limits of urlfetch: address checks offline, fetches only against a server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import httpx
import pytest

from ocrserve import urlfetch
from ocrserve.errors import BadInput, ConfigError, InputTooLarge
from ocrserve.urlfetch import FetchPolicy, FetchTimeout, check_address, fetch_url, is_url

PAYLOAD = bytes(range(256)) * 40
BIG_CHUNKS = 800  # x 64 KiB = 50 MiB, produced lazily
LOCAL = ("127.0.0.1",)


class Handler(BaseHTTPRequestHandler):
    """Routes: /img.png, /redirect?<target>, /chain/<n>, /big, /declared-big, /slow, anything else 404."""

    server: LocalServer

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        path, _, query = self.path.partition("?")
        if path == "/img.png":
            self._send(200, PAYLOAD)
        elif path == "/redirect":
            self._send(302, Location=unquote(query))
        elif path.startswith("/chain/"):
            self._send(302, Location=f"/chain/{int(path.rsplit('/', 1)[1]) + 1}")
        elif path == "/big":
            self._stream_big()
        elif path == "/declared-big":
            self._send(200, PAYLOAD, length=10**9)
        elif path == "/slow":
            self.server.release.wait(5)
            self._send(200, PAYLOAD)
        else:
            self.send_error(404, "secret upstream body text")

    def _send(self, status: int, body: bytes = b"", length: int | None = None, **headers: str) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body) if length is None else length)}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _stream_big(self) -> None:
        """No Content-Length: the client only learns the size by reading; record whether it hung up."""
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(BIG_CHUNKS):
                self.wfile.write(b"x" * 65536)
            self.server.big_outcome = "finished"
        except (BrokenPipeError, ConnectionResetError):
            self.server.big_outcome = "broken"
        finally:
            self.server.big_done.set()


class LocalServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: list[str] = []
        self.release = threading.Event()
        self.big_done = threading.Event()
        self.big_outcome = ""

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up mid-reply is what several tests cause on purpose; keep other errors loud."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    srv = LocalServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.release.set()  # wake a /slow handler so server_close can join its thread
    srv.shutdown()
    srv.server_close()
    thread.join()


def fetch(url: str, **policy: object) -> bytes:
    return asyncio.run(fetch_url(url, FetchPolicy(**policy)))  # type: ignore[arg-type]


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                "fe80::1", "::1", "::ffff:127.0.0.1", "0.0.0.0", "::", "100.64.0.1",
                                "224.0.0.1", "fc00::1", "2002:7f00:1::1", "240.0.0.1"])
def test_check_address_refuses_internal(ip: str) -> None:
    with pytest.raises(BadInput, match="private/loopback") as info:
        check_address(ipaddress.ip_address(ip), "example.com", FetchPolicy())
    assert ip not in str(info.value)


@pytest.mark.parametrize("ip", ["93.184.216.34", "2606:4700::1111"])
def test_check_address_allows_public(ip: str) -> None:
    check_address(ipaddress.ip_address(ip), "example.com", FetchPolicy())


@pytest.mark.parametrize("allowlist,ip,host", [
    (("10.1.2.3",), "10.1.2.3", "files"), (("10.0.0.0/8",), "10.1.2.3", "files"),
    (("Files.Internal",), "10.1.2.3", "files.internal."), (("127.0.0.1",), "::ffff:127.0.0.1", "x"),
    (("metadata",), "169.254.169.254", "metadata"),
])
def test_check_address_allowlist(allowlist: tuple[str, ...], ip: str, host: str) -> None:
    check_address(ipaddress.ip_address(ip), host, FetchPolicy(allowlist=allowlist))


def test_allowlist_covers_only_its_entries() -> None:
    with pytest.raises(BadInput):
        check_address(ipaddress.ip_address("10.2.0.1"), "other", FetchPolicy(allowlist=("10.1.0.0/16", "files")))
    with pytest.raises(ConfigError):
        FetchPolicy(allowlist=("10.0.0.0/33",))


@pytest.mark.parametrize("host", ["metadata.google.internal", "METADATA", "metadata."])
def test_metadata_host_names_refused_even_if_public(host: str) -> None:
    with pytest.raises(BadInput, match="metadata"):
        check_address(ipaddress.ip_address("93.184.216.34"), host, FetchPolicy())


@pytest.mark.parametrize("value,expected", [("http://a.b/x", True), ("HTTPS://a.b", True), ("https://", False),
                                            ("file:///etc/passwd", False), ("/tmp/x.png", False), ("iVBORw0", False)])
def test_is_url(value: str, expected: bool) -> None:
    assert is_url(value) is expected


def fake_dns(monkeypatch: pytest.MonkeyPatch, *ips: str) -> None:
    async def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        return [ipaddress.ip_address(ip) for ip in ips]

    monkeypatch.setattr(urlfetch, "resolve_host", resolve)


def no_network() -> tuple[httpx.MockTransport, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=b"ok")

    return httpx.MockTransport(handler), sent


def test_name_resolving_to_private_address_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, "10.0.0.1")
    transport, sent = no_network()
    with pytest.raises(BadInput, match="'evil.example' resolves to a private/loopback") as info:
        asyncio.run(fetch_url("http://evil.example/a.png", FetchPolicy(), transport))
    assert "10.0.0.1" not in str(info.value) and sent == []


def test_every_resolved_address_must_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_getaddrinfo(self: object, host: str, port: int, **kw: object) -> list[tuple]:
        assert host == "evil.example"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ("93.184.216.34", "169.254.169.254")]

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", fake_getaddrinfo)
    transport, sent = no_network()
    with pytest.raises(BadInput, match="private/loopback"):
        asyncio.run(fetch_url("https://evil.example/a.png", FetchPolicy(), transport))
    assert sent == []


@pytest.mark.parametrize("url,ip,host_header,sni", [
    ("https://good.example:8443/a.png?sig=1", "93.184.216.34", "good.example:8443", "good.example"),
    ("http://[2606:4700::1111]:8080/a.png", "2606:4700::1111", "[2606:4700::1111]:8080", None),
])
def test_connects_to_checked_ip_with_original_host_and_sni(
    monkeypatch: pytest.MonkeyPatch, url: str, ip: str, host_header: str, sni: str | None
) -> None:
    fake_dns(monkeypatch, ip)
    transport, sent = no_network()
    assert asyncio.run(fetch_url(url, FetchPolicy(), transport)) == b"ok"
    (request,) = sent
    assert request.url.host == ip and request.headers["host"] == host_header
    assert request.extensions.get("sni_hostname") == sni


def test_loopback_refused_unless_allowlisted(server: LocalServer) -> None:
    url = f"http://127.0.0.1:{server.server_port}/img.png"
    with pytest.raises(BadInput, match="private/loopback"):
        fetch(url)
    assert fetch(url, allowlist=LOCAL) == PAYLOAD


def test_localhost_refused_unless_allowlisted(server: LocalServer) -> None:
    url = f"http://localhost:{server.server_port}/img.png"
    with pytest.raises(BadInput, match="'localhost' resolves to a private/loopback"):
        fetch(url)
    # localhost may also resolve to ::1, where nothing listens: the fetch falls back to 127.0.0.1
    assert fetch(url, allowlist=("localhost",)) == PAYLOAD


def test_redirect_to_non_allowlisted_address_refused(server: LocalServer) -> None:
    """Only the name is allowlisted, so the hop to the same server by IP is refused before connecting."""
    port = server.server_port
    server.hits.clear()
    with pytest.raises(BadInput, match="'127.0.0.1' resolves to a private/loopback"):
        fetch(f"http://localhost:{port}/redirect?http://127.0.0.1:{port}/img.png", allowlist=("localhost",))
    assert server.hits == [f"/redirect?http://127.0.0.1:{port}/img.png"]


def test_redirect_to_file_scheme_refused(server: LocalServer) -> None:
    with pytest.raises(BadInput, match="'file'"):
        fetch(f"http://127.0.0.1:{server.server_port}/redirect?file:///etc/passwd", allowlist=LOCAL)


def test_too_many_redirects(server: LocalServer) -> None:
    url = f"http://127.0.0.1:{server.server_port}/chain/0"
    with pytest.raises(BadInput, match="more than 2 redirects"):
        fetch(url, allowlist=LOCAL, max_redirects=2)
    relative = f"http://127.0.0.1:{server.server_port}/redirect?/img.png"
    assert fetch(relative, allowlist=LOCAL, max_redirects=1) == PAYLOAD


def test_streamed_body_over_cap_refused_and_connection_dropped(server: LocalServer) -> None:
    with pytest.raises(InputTooLarge, match="larger than the limit of 1048576"):
        fetch(f"http://127.0.0.1:{server.server_port}/big", allowlist=LOCAL, max_bytes=1024 * 1024)
    assert server.big_done.wait(30)
    assert server.big_outcome == "broken"  # the server could not send all 50 MiB: we hung up


def test_content_length_over_cap_refused(server: LocalServer) -> None:
    with pytest.raises(InputTooLarge, match="1000000000 bytes"):
        fetch(f"http://127.0.0.1:{server.server_port}/declared-big", allowlist=LOCAL)


def test_slow_server_times_out(server: LocalServer) -> None:
    with pytest.raises(FetchTimeout):  # the handler waits 5 s (or until teardown releases it)
        fetch(f"http://127.0.0.1:{server.server_port}/slow", allowlist=LOCAL, timeout_s=1)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x.png", "gopher://127.0.0.1/",
                                 "data:image/png;base64,AAAA"])
def test_other_schemes_refused(url: str) -> None:
    with pytest.raises(BadInput, match=repr(url.split(":")[0])):
        fetch(url, allowlist=LOCAL)


def test_http_error_status(server: LocalServer) -> None:
    with pytest.raises(BadInput, match="returned HTTP 404") as info:
        fetch(f"http://127.0.0.1:{server.server_port}/missing", allowlist=LOCAL)
    assert "secret" not in str(info.value)


def test_connection_refused_is_bad_input() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(BadInput, match="could not connect"):
        fetch(f"http://127.0.0.1:{port}/x", allowlist=LOCAL)
