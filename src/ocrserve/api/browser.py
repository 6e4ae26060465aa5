"""What a browser sees: `/` by content negotiation, `/docs` and `/redoc` with no network, and CORS.

FastAPI's own documentation pages load Swagger UI and ReDoc from a CDN, so an air-gapped
install shows a blank page.  Here the same pages (FastAPI's `get_swagger_ui_html` and
`get_redoc_html`) point at copies served by this process under `/docs/assets/`: the
swagger-ui-dist and ReDoc standalone builds that the `fastapi-offline` package ships (its
static folder only; its app factory is not used).  Swagger UI's online validator badge is off,
and ReDoc does not load Google Fonts, so neither page reaches outside the server.

`GET /` keeps the JSON body that RapidOCR API clients probe for, and gives a browser (an
Accept header that prefers text/html to JSON) the OCR page instead; both vary on Accept.  The
page is plain HTML, CSS and JavaScript under `static/`; its stylesheet and scripts are written
into the one HTML response (`index_html`), so it needs nothing else from the server to start:
with auth on, only `/` has to be open (the default), and the page then sends the token the
person types for `/ocr`.  What this server offers (model set, limits, whether a token is needed,
the option defaults) is written in as JSON too (`page_config`), so no extra endpoint is needed;
it is written at each request, so the model sets offered are those whose files are there now.
A Content-Security-Policy names the inline scripts by hash and lets the page talk to this
server only.

CORS (`OCR_CORS_ORIGINS`) is Starlette's `CORSMiddleware`.  `install_browser_routes` is the
app factory's last step, so that middleware is the outermost: a preflight is answered before
token auth (which would 403 it, since browsers send no Authorization on a preflight), and error
responses from every inner layer, the 403 of auth and the 413 of the body limit included, carry
the CORS headers that let the page read them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

import mimeparse
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Match
from starlette.staticfiles import StaticFiles

from ..contracts import jobs as jobs_contract
from ..export import FORMATS
from ..jobs.models import runnable_job_models
from ..settings import Settings
from .auth import configured_tokens
from .deps import ProperJSONResponse as JSONResponse
from .page_paths import ASSETS_URL, DOCS_URL, FAVICON_URL, REDOC_URL

ASSETS_PACKAGE = ("fastapi_offline", "static")  # swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js

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
        return bool(mimeparse.best_match(_OFFERED, accept) == "text/html")
    except (mimeparse.MimeTypeParseException, ValueError):
        return False


#: `<link rel="stylesheet" href="X.css">` and `<script src="X.js"></script>` in index.html: the
#: files written in.  Relative links, so index.html also opens from disk while it is edited.
_ASSET_TAG = re.compile(r'<link rel="stylesheet" href="(?P<css>[\w/.-]+\.css)">|<script src="(?P<js>[\w/.-]+\.js)"></script>')
_CONFIG_TAG = '<script type="application/json" id="server-config">{}</script>'
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def _static_text(name: str) -> str:
    node = resources.files(__package__).joinpath("static")
    for part in name.split("/"):
        if part in ("", ".", ".."):
            raise ValueError(f"page asset {name!r}: only plain relative paths under static/")
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def index_html() -> str:
    """The page (package data under ocrserve/api/static) with page.css and js/*.js written in."""
    def inline(match: re.Match[str]) -> str:
        name = match["css"] or match["js"]
        text = _static_text(name)
        tag = "style" if match["css"] else "script"
        if f"</{tag}" in text.lower():  # it would end the element early
            raise ValueError(f"page asset {name} contains '</{tag}'")
        return f"<{tag}>\n{text}</{tag}>"

    return _ASSET_TAG.sub(inline, _static_text("index.html"))


def page_config(settings: Settings, jobs: bool = False, languages: list[str] | None = None) -> dict[str, Any]:
    """What the page shows and sends by default: this process's model set (read at once by
    `/ocr`), the limits it can tell a person about, whether a token is needed, the options that
    apply when a PaddleX request leaves them out, and, when the job API is served (`jobs`), its
    model names that can run now (other model sets, and every page of a PDF past `max_pdf_pages`,
    go there)."""
    from ..contracts import paddlex

    score = settings.text_score if settings.text_score is not None else paddlex.CONTRACT.defaults.text_rec_score_thresh
    return {
        "model": settings.model,
        "models": [settings.model],
        # the language codes this server reads now, beside its model set's own (`lang` of a request)
        "languages": languages or [],
        "auth": bool(configured_tokens(settings)),
        "maxFileSize": settings.max_file_size,
        "maxPdfPages": settings.max_pdf_pages,
        "defaults": {"useDocOrientationClassify": settings.use_doc_orientation_classify,
                     "useTextlineOrientation": settings.use_textline_orientation,
                     "textRecScoreThresh": score},
        # the download buttons, in this order; json and txt of a synchronous read are made in the page
        "formats": [{"id": f.name, "label": f.button, "title": f.title, "suffix": f.download_suffix,
                     "linkKey": f.link_key} for f in FORMATS.values()],
        "jobs": {"models": runnable_job_models(settings), "maxPages": settings.job_max_pages,
                 "maxFileSize": settings.job_max_file_size} if jobs else None,
    }


def _other_languages(request: Request) -> list[str]:
    """The codes this server reads with a language set it has installed (the model set's own are its default)."""
    service = getattr(request.app.state, "service", None)
    pipeline = getattr(service, "pipeline", None)
    if service is None or pipeline is None:
        return []
    languages: list[str] = service.languages.offered(pipeline.characters).by_language_sets
    return languages


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def page_html(settings: Settings, jobs: bool = False, languages: list[str] | None = None) -> str:
    """The page with what this server offers now written in."""
    config = json.dumps(page_config(settings, jobs, languages)).replace("<", "\\u003c")  # cannot close the <script>
    return index_html().replace(_CONFIG_TAG, _CONFIG_TAG.replace("{}", config))


def page_response_parts(settings: Settings, jobs: bool = False) -> tuple[str, str]:
    """The page for these settings, and its Content-Security-Policy (the same whatever the config
    written in: a JSON <script> with a type is data, not a script the policy names)."""
    html = page_html(settings, jobs)
    scripts = " ".join(_sha256(s) for s in _INLINE_SCRIPT.findall(html))
    styles = " ".join(_sha256(s) for s in _INLINE_STYLE.findall(html))
    # result images are data: URLs, or signed links to this server (absolute, so any scheme's host)
    policy = (f"default-src 'self'; script-src {scripts}; style-src {styles}; img-src 'self' data: blob: http: https:; "
              "object-src 'none'; base-uri 'none'; form-action 'none'")
    return html, policy


def install_browser_routes(app: FastAPI, settings: Settings) -> None:
    """Register `/`, `/favicon.ico`, `/docs` (+ `/docs/oauth2-redirect`), `/redoc` and `/docs/assets/...`, and
    add CORS when `settings.cors_origins` names any origin.

    Call it last in the app factory, on an app built with `docs_url=None, redoc_url=None` and
    no `/` route of its own: the CORS middleware must be the outermost layer.
    """
    taken = {getattr(r, "path", None) for r in app.router.routes}  # the app's own (a mount too)
    clash = sorted(p for p in ("/", FAVICON_URL, DOCS_URL, REDOC_URL, ASSETS_URL)
                   if p in taken or _serves(app, "GET", p))
    if clash:
        raise RuntimeError(f"routes already registered at {', '.join(clash)}: build the app with "
                           "FastAPI(docs_url=None, redoc_url=None) and no `/` route of its own")

    jobs = _serves(app, "POST", jobs_contract.PATH)
    policy = page_response_parts(settings, jobs)[1]
    page_headers = {**_VARY, "Content-Security-Policy": policy}

    @app.get("/", operation_id="root", response_model=Welcome,
             summary="RapidOCR API's welcome probe (JSON); a browser gets the OCR page",
             responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}})
    async def root(request: Request) -> Response:
        if wants_html(request.headers.get("accept")):  # model files are looked for on disk: off the event loop
            languages = await run_in_threadpool(_other_languages, request)
            return HTMLResponse(await run_in_threadpool(page_html, settings, jobs, languages), headers=page_headers)
        return JSONResponse(WELCOME, headers=_VARY)

    icon = resources.files(__package__).joinpath("static").joinpath("favicon.ico").read_bytes()

    @app.get(FAVICON_URL, include_in_schema=False)
    async def favicon() -> Response:
        # browsers ask for it on every page: without it each visit logs a 404
        return Response(icon, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})

    app.mount(ASSETS_URL, StaticFiles(packages=[ASSETS_PACKAGE]), name="docs-assets")
    openapi_url = app.openapi_url
    if openapi_url is not None:
        _docs_pages(app, openapi_url)

    if settings.cors_origins:
        any_origin = "*" in settings.cors_origins
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=CORS_METHODS,
                           allow_headers=CORS_REQUEST_HEADERS, expose_headers=CORS_EXPOSED_HEADERS,
                           allow_credentials=not any_origin)


def _serves(app: FastAPI, method: str, path: str) -> bool:
    """Whether a route answers `method path` (asked of the routes themselves: included routers do
    not list their paths)."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] is Match.FULL for route in app.router.routes)


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
