"""What a browser gets: `/` by content negotiation, /docs and /redoc with no network, CORS.

Every test here is HTTP-layer only: the app is built by `create_app` but its lifespan never
runs (TestClient is used without `with`), so no engine is loaded; the model directory is an
empty temporary folder, so nothing could be loaded anyway.  Preflights, auth's 403, the docs
pages and their assets are answered before any engine would be asked.
"""

from __future__ import annotations

import fnmatch
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

from _support.packaging import package_data_patterns
from ocrserve import load_settings
from ocrserve.api.app import create_app
from ocrserve.api.auth import OpenPaths
from ocrserve.api.browser import WELCOME, index_html, wants_html

# what Chromium 130 sends for a page load, and Firefox's
CHROMIUM_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
                   "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
FIREFOX_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ORIGIN = "http://a.example"
TOKEN = "tok-browser-4kq9z2mw"


def client_for(tmp_path: Path, **settings) -> TestClient:
    """A client over the whole app, engine never loaded (no lifespan; empty model dir)."""
    app = create_app(load_settings(model="pp-ocrv6-tiny", model_dir=tmp_path / "models", **settings))
    return TestClient(app, base_url="http://testserver")


class Links(HTMLParser):
    """Every src= and href= of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def links_of(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls


def assert_local(page_url: str, html: str) -> list[str]:
    """Every src/href of the page stays on the server; returns their paths."""
    paths = []
    for url in links_of(html):
        absolute = urlsplit(urljoin(page_url, url))
        assert absolute.scheme == "http" and absolute.netloc == "testserver", f"{page_url} loads {url}"
        paths.append(absolute.path)
    assert "://" not in html, f"{page_url} names an outside URL"
    return paths


# --- /docs and /redoc ------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(tmp_path, page):
    client = client_for(tmp_path)
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assets = assert_local(f"http://testserver{page}", r.text)
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts and all(a.startswith("/docs/assets/") for a in assets), assets
    if page == "/docs":
        assert any(a.endswith(".css") for a in assets)
        assert "url: '/openapi.json'" in r.text and '"validatorUrl": null' in r.text
    else:
        assert '<redoc spec-url="/openapi.json">' in r.text
    for asset in assets:
        got = client.get(asset)
        kind = got.headers["content-type"]
        assert got.status_code == 200, asset
        if asset.endswith(".js"):
            assert "javascript" in kind and len(got.content) > 100_000, (asset, kind, len(got.content))
        elif asset.endswith(".css"):
            assert kind.startswith("text/css") and len(got.content) > 10_000, (asset, kind, len(got.content))
        else:
            assert kind.startswith("image/") and len(got.content) > 100, (asset, kind)
    assert client.get("/openapi.json").status_code == 200


def test_docs_assets_and_redirect_page(tmp_path):
    client = client_for(tmp_path)
    r = client.get("/docs/oauth2-redirect")
    assert r.status_code == 200 and "oauth2" in r.text.lower()
    assert client.get("/docs/assets/no-such-file.js").status_code == 404
    paths = set(client.get("/openapi.json").json()["paths"])
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect"} & paths and "/" in paths


def test_every_schema_reference_resolves(tmp_path):
    """ReDoc renders nothing but "Something went wrong" for a spec with a dangling $ref."""
    spec = client_for(tmp_path).get("/openapi.json").json()

    def refs(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    dangling = []
    for ref in set(refs(spec)):
        node = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
        if node is None:
            dangling.append(ref)
    assert not dangling, dangling


def test_docs_follow_the_root_path(tmp_path):
    app = create_app(load_settings(model="pp-ocrv6-tiny", model_dir=tmp_path / "models"))
    client = TestClient(app, root_path="/ocr")
    html = client.get("/docs").text
    assert "url: '/ocr/openapi.json'" in html and 'src="/ocr/docs/assets/swagger-ui-bundle.js"' in html
    assert 'src="/ocr/docs/assets/redoc.standalone.js"' in client.get("/redoc").text


# --- GET / ---------------------------------------------------------------------------------
@pytest.mark.parametrize("accept", [CHROMIUM_ACCEPT, FIREFOX_ACCEPT, "text/html"])
def test_root_gives_a_browser_the_html_page(tmp_path, accept):
    r = client_for(tmp_path).get("/", headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["vary"] == "Accept"
    assert "ocrserve" in r.text and "demo" in r.text.lower()
    assert set(assert_local("http://testserver/", r.text)) == {"/docs", "/redoc", "/health", "/favicon.ico"}


@pytest.mark.parametrize("accept", ["application/json", "*/*", None, "application/json, text/html;q=0.5",
                                    "not a media type"])
def test_root_keeps_the_json_for_api_clients(tmp_path, accept):
    client = client_for(tmp_path)
    if accept is None:
        client.headers.pop("accept", None)  # httpx sends */* unless told otherwise
    r = client.get("/", headers={"Accept": accept} if accept else None)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {"message": "Welcome to RapidOCR API Server!", "service": "ocrserve", "docs": "/docs"}
    assert r.headers["vary"] == "Accept"


def test_root_in_openapi_names_both_media_types(tmp_path):
    op = client_for(tmp_path).get("/openapi.json").json()["paths"]["/"]["get"]
    assert op["operationId"] == "root"
    assert {"application/json", "text/html"} <= set(op["responses"]["200"]["content"])


def test_accept_negotiation_rules():
    assert wants_html(CHROMIUM_ACCEPT) and wants_html("text/*")
    for accept in (None, "", "*/*", "application/json", "image/png", "text/html;q=0.5, application/json",
                   "garbage", ";;;", "a/b/c"):
        assert not wants_html(accept), accept
    assert WELCOME["docs"] == "/docs"


def test_index_page_ships_as_package_data():
    html = index_html()
    assert html.lstrip().lower().startswith("<!doctype html>") and "ocrserve" in html
    patterns = package_data_patterns()
    assert any(fnmatch.fnmatch("api/static/index.html", p) for p in patterns), patterns


# --- CORS ----------------------------------------------------------------------------------
def preflight(client: TestClient, origin: str = ORIGIN, path: str = "/v1/ocr"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": "content-type"})


def test_cors_preflight_for_a_configured_origin(tmp_path):
    client = client_for(tmp_path, cors_origins=ORIGIN)
    r = preflight(client)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert {"GET", "POST", "DELETE", "OPTIONS"} <= {m.strip() for m in r.headers["access-control-allow-methods"]
                                                    .split(",")}
    allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-request-id"} <= allowed
    simple = client.get("/health", headers={"Origin": ORIGIN})  # 503 while no engine: still readable
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    exposed = {h.strip().lower() for h in simple.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "server-timing", "retry-after"} <= exposed


def test_cors_other_origin_gets_no_allow_origin(tmp_path):
    client = client_for(tmp_path, cors_origins=ORIGIN)
    assert "access-control-allow-origin" not in preflight(client, "http://b.example").headers
    assert "access-control-allow-origin" not in client.get("/", headers={"Origin": "http://b.example"}).headers


def test_no_cors_setting_no_cors_headers(tmp_path):
    client = client_for(tmp_path)
    r = preflight(client)
    assert not [k for k in r.headers if k.lower().startswith("access-control-")]
    r = client.get("/", headers={"Origin": ORIGIN})
    assert not [k for k in r.headers if k.lower().startswith("access-control-")]


def test_cors_any_origin_without_credentials(tmp_path):
    client = client_for(tmp_path, cors_origins="*")
    r = preflight(client, "http://anywhere.example")
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    assert client.get("/", headers={"Origin": "http://x.example"}).headers["access-control-allow-origin"] == "*"


def test_cors_is_outside_token_auth(tmp_path):
    client = client_for(tmp_path, cors_origins=ORIGIN, api_tokens=TOKEN)
    r = preflight(client)  # a browser never sends Authorization on a preflight
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ORIGIN
    denied = client.post("/v1/ocr", json={"image": "aGVsbG8="}, headers={"Origin": ORIGIN})
    assert denied.status_code == 403
    assert denied.headers["access-control-allow-origin"] == ORIGIN  # so the page can read the error
    assert "x-request-id" in denied.headers


# --- auth and the docs ----------------------------------------------------------------------
def test_docs_and_assets_open_when_auth_is_on(tmp_path):
    client = client_for(tmp_path, api_tokens=TOKEN)
    for path in ("/", "/docs", "/redoc", "/docs/oauth2-redirect", "/docs/assets/swagger-ui.css",
                 "/docs/assets/redoc.standalone.js", "/openapi.json"):
        assert client.get(path).status_code == 200, path
    assert client.post("/v1/ocr", json={"image": "aGVsbG8="}).status_code == 403
    closed = client_for(tmp_path, api_tokens=TOKEN, auth_open_paths="/health")
    assert closed.get("/docs/assets/swagger-ui.css").status_code == 403
    assert closed.get("/docs").status_code == 403
    only_docs = client_for(tmp_path, api_tokens=TOKEN, auth_open_paths="/docs,/openapi.json")
    assert only_docs.get("/docs/assets/swagger-ui-bundle.js").status_code == 200  # else a blank page
    assert only_docs.get("/redoc").status_code == 403


def test_open_path_prefixes():
    paths = OpenPaths(["/health", "/files/*"])
    assert "/health" in paths and "/files/a.js" in paths and "/files/a/b.js" in paths
    for path in ("/health/", "/files", "/filesX/a.js", "/files/../v1/ocr", "/files/a/../../v1/ocr", "/v1/ocr",
                 "/docs/assets/swagger-ui.css"):
        assert path not in paths, path
    assert "/docs/assets/swagger-ui.css" in OpenPaths(["/redoc"])  # an open docs page opens its assets


def test_an_unexpected_fault_answers_inside_cors_with_a_request_id(tmp_path, caplog):
    """HTTP layer only: a route that fails with an exception no handler names (a bug), added for the test."""
    app = create_app(load_settings(model="pp-ocrv6-tiny", model_dir=tmp_path / "models", cors_origins=ORIGIN))

    def broken() -> None:
        raise RuntimeError("a bug's detail the client must not see")

    app.add_api_route("/v1/broken-for-test", broken, methods=["GET"])
    client = TestClient(app, base_url="http://testserver", raise_server_exceptions=False)
    r = client.get("/v1/broken-for-test", headers={"Origin": ORIGIN})
    assert r.status_code == 500
    assert r.headers["access-control-allow-origin"] == ORIGIN  # the page can read the error
    assert r.headers["x-request-id"] and r.headers["x-request-id"] in r.text
    assert "internal server error" in r.text and "a bug's detail" not in r.text
    logged = [rec for rec in caplog.records if rec.name == "ocrserve.api" and "500 unexpected" in rec.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None  # the trace goes to the log, once
    assert 'route="/v1/broken-for-test",status="500"} 1.0' in client.get("/metrics").text  # counted
    assert client.get("/", headers={"Origin": ORIGIN}).status_code == 200  # and it keeps serving


# --- favicon ------------------------------------------------------------------------------------
def test_favicon_is_served_linked_and_open_when_auth_is_on(tmp_path):
    """Browsers ask for /favicon.ico on every visit: it was a 404 in every access log."""
    client = client_for(tmp_path, api_tokens=TOKEN)
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/")
    assert r.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    page = client.get("/", headers={"Accept": CHROMIUM_ACCEPT}).text
    assert "/favicon.ico" in {urlsplit(urljoin("http://testserver/", u)).path for u in links_of(page)}
    closed = client_for(tmp_path, api_tokens=TOKEN, auth_open_paths="/health")
    assert closed.get("/favicon.ico").status_code == 403  # open by the default list, not by exception
    assert any(fnmatch.fnmatch("api/static/favicon.ico", p) for p in package_data_patterns())
