"""What a browser sees: `/` by content negotiation, `/docs` and `/redoc` with no network, and CORS.

FastAPI's own documentation pages load Swagger UI and ReDoc from a CDN, so an air-gapped
install shows a blank page.  Here the same pages (FastAPI's `get_swagger_ui_html` and
`get_redoc_html`) point at copies served by this process under `/docs/assets/`: the
swagger-ui-dist and ReDoc standalone builds that the `fastapi-offline` package ships (its
static folder only; its app factory is not used).  Swagger UI's online validator badge is off,
and ReDoc does not load Google Fonts, so neither page reaches outside the server.

`GET /` keeps the JSON body that RapidOCR API clients probe for, and gives a browser (an
Accept header that prefers text/html to JSON) a small HTML page instead; both vary on Accept.

CORS (`OCR_CORS_ORIGINS`) is Starlette's `CORSMiddleware`.  `install_browser_routes` is the
app factory's last step, so that middleware is the outermost: a preflight is answered before
token auth (which would 403 it, since browsers send no Authorization on a preflight), and error
responses from every inner layer, the 403 of auth and the 413 of the body limit included, carry
the CORS headers that let the page read them.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import mimeparse
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from starlette.middleware.cors import CORSMiddleware
from starlette.staticfiles import StaticFiles

from ..settings import Settings

ASSETS_PACKAGE = ("fastapi_offline", "static")  # swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js
ASSETS_URL = "/docs/assets"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"

CORS_METHODS = ["GET", "POST", "DELETE", "OPTIONS"]
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "X-Request-ID"]
CORS_EXPOSED_HEADERS = ["X-Request-ID", "Server-Timing", "Retry-After"]

#: what `GET /` answers an API client: rapidocr_api's body, which its clients probe for
WELCOME = {"message": "Welcome to RapidOCR API Server!", "service": "ocrserve", "docs": "/docs"}
#: offered in increasing preference, so that a tie (`*/*`) goes to JSON
_OFFERED = ["text/html", "application/json"]
_VARY = {"Vary": "Accept"}


class Welcome(BaseModel):
    """`GET /` for API clients."""

    message: str
    service: str
    docs: str


def wants_html(accept: str | None) -> bool:
    """True when the Accept header prefers text/html to application/json (a browser's does);
    a missing, `*/*`, JSON or unreadable header gets JSON."""
    if not accept:
        return False
    try:
        return mimeparse.best_match(_OFFERED, accept) == "text/html"
    except (mimeparse.MimeTypeParseException, ValueError):
        return False


@lru_cache(maxsize=1)
def index_html() -> str:
    """The placeholder page shipped as package data (ocrserve/api/static/index.html)."""
    return resources.files(__package__).joinpath("static").joinpath("index.html").read_text(encoding="utf-8")


def install_browser_routes(app: FastAPI, settings: Settings) -> None:
    """Register `/`, `/docs` (+ `/docs/oauth2-redirect`), `/redoc` and `/docs/assets/...`, and
    add CORS when `settings.cors_origins` names any origin.

    Call it last in the app factory, on an app built with `docs_url=None, redoc_url=None` and
    no `/` route of its own: the CORS middleware must be the outermost layer.
    """
    taken = {getattr(r, "path", None) for r in app.router.routes}
    clash = sorted(p for p in ("/", DOCS_URL, REDOC_URL, ASSETS_URL) if p in taken)
    if clash:
        raise RuntimeError(f"routes already registered at {', '.join(clash)}: build the app with "
                           "FastAPI(docs_url=None, redoc_url=None) and no `/` route of its own")

    @app.get("/", operation_id="root", response_model=Welcome,
             summary="RapidOCR API's welcome probe (JSON); a browser gets an HTML page",
             responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
    async def root(request: Request) -> Response:
        if wants_html(request.headers.get("accept")):
            return HTMLResponse(index_html(), headers=_VARY)
        return JSONResponse(WELCOME, headers=_VARY)

    app.mount(ASSETS_URL, StaticFiles(packages=[ASSETS_PACKAGE]), name="docs-assets")
    openapi_url = app.openapi_url
    if openapi_url is not None:
        _docs_pages(app, openapi_url)

    if settings.cors_origins:
        any_origin = "*" in settings.cors_origins
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=CORS_METHODS,
                           allow_headers=CORS_REQUEST_HEADERS, expose_headers=CORS_EXPOSED_HEADERS,
                           allow_credentials=not any_origin)


def _docs_pages(app: FastAPI, openapi_url: str) -> None:
    redirect_url = app.swagger_ui_oauth2_redirect_url or f"{DOCS_URL}/oauth2-redirect"

    def root_path(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        base = root_path(request)
        return get_swagger_ui_html(
            openapi_url=base + openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{base}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{base}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{base}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=base + redirect_url, init_oauth=app.swagger_ui_init_oauth,
            # no badge from the online validator: it would send the spec's URL to a third party
            swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        base = root_path(request)
        return get_redoc_html(openapi_url=base + openapi_url, title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{base}{ASSETS_URL}/redoc.standalone.js",
                              redoc_favicon_url=f"{base}{ASSETS_URL}/favicon.png", with_google_fonts=False)
