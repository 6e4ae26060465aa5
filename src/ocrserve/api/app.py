"""The FastAPI application: one engine per process, loaded in the lifespan, every contract mounted.

`create_app()` is the factory (`uvicorn --factory ocrserve.api.app:create_app`); `app` is a
ready instance for `gunicorn -k uvicorn_worker.UvicornWorker ocrserve.api.app:app`
(see gunicorn.conf.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..jobs.models import unavailable_models
from ..jobs.result_links import job_signer
from ..jobs.runner import JobRunner
from ..jobs.store import open_store
from ..service.metrics import Metrics
from ..service.ocr_service import OCRService, PipelineFactory
from ..settings import Settings, load_settings
from ..version import __version__
from . import (
    result_files,
    routes_export,
    routes_hub,
    routes_jobs,
    routes_layout,
    routes_ocr,
    routes_ops,
    routes_seed,
)
from .auth import TokenAuth, TokenSet
from .browser import install_browser_routes
from .error_responses import MiddlewareSignal, UnexpectedErrors, include_contract_router, install_error_handlers
from .forwarded import ForwardedHeaders
from .metrics import MetricsMiddleware
from .quota_checks import quota_from_settings, within_quota
from .result_files import result_files_from_settings

log = logging.getLogger("ocrserve.api")
REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdAndBodyLimit:
    """Pure ASGI middleware: a request id on every response, and a body cap enforced while the
    body streams in (a client cannot make us buffer more than the limit).  `routes` gives paths a
    limit of their own: (bytes, the 413's message)."""

    def __init__(self, app: ASGIApp, max_body: int, routes: dict[str, tuple[int, str]] | None = None) -> None:
        self.app = app
        self.max_body = max_body
        self.routes = routes or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        max_body, refusal = self.routes.get(scope.get("path", ""), (
            self.max_body, f"the request body is over the limit of {self.max_body} bytes"))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            await self._too_large(scope, receive, send, request_id, refusal)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise _BodyTooLarge()
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLarge:
            await self._too_large(scope, receive, send, request_id, refusal)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, request_id: str, message: str) -> None:
        """413, after discarding a bounded amount of the unread body: closing a socket with
        unread data makes the kernel send a reset, which can destroy the 413 before the client
        reads it.  Bodies far over the limit are still cut off (the drain is capped)."""
        from starlette.requests import Request

        from .error_responses import error_response

        try:
            await asyncio.wait_for(_discard_body(receive, DRAIN_CAP), timeout=DRAIN_SECONDS)
        except asyncio.TimeoutError:
            pass

        request = Request(scope)
        request.state.request_id = request_id
        response = error_response(request, 413, message)
        response.headers[REQUEST_ID_HEADER] = request_id
        response.headers["Connection"] = "close"
        await response(scope, _drain, send)


async def _drain() -> Message:
    return {"type": "http.disconnect"}


DRAIN_CAP = 8 * 1024 * 1024
DRAIN_SECONDS = 2.0


async def _discard_body(receive: Receive, cap: int) -> None:
    discarded = 0
    while discarded < cap:
        message = await receive()
        if message["type"] != "http.request":
            return
        discarded += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class _BodyTooLarge(MiddlewareSignal):
    """Raised by the body cap's receive, through the app, back to the middleware that answers it."""


def body_limit(settings: Settings) -> int:
    """Bytes a request body may have: the file limit, base64-inflated, plus room for fields."""
    return settings.max_file_size * 4 // 3 + 64 * 1024


def create_app(settings: Settings | None = None, pipeline_factory: PipelineFactory | None = None,
               job_pipeline_factory: PipelineFactory | None = None, load_before_serving: bool = False) -> FastAPI:
    """The whole service.  `pipeline_factory` builds the engine at startup, `job_pipeline_factory`
    the jobs' one of the same model set in the job thread (defaults: every model in this process);
    ocrserve.ray_deployment passes one whose recognition runs in a Ray Serve deployment for both, so both
    servers answer from these same routes.  With `load_before_serving` the start ends only once the
    engine is loaded (or has failed to load), as it does for several workers."""
    settings = settings or load_settings()
    tokens = TokenSet.from_settings(settings)  # ConfigError here: bad token settings stop the start
    quota = quota_from_settings(settings, tokens)
    metrics = Metrics()
    service = OCRService(settings, metrics, pipeline_factory, job_pipeline_factory)
    signer = job_signer(settings)  # one secret signs every link this server hands out
    metrics.track_queue_depth(lambda: service.waiting)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        waiting = service.note_missing_models()  # OCR_WAIT_FOR_MODELS with files missing: /ready says so
        loader = asyncio.get_running_loop().run_in_executor(None, service.load)
        loader.add_done_callback(lambda f: f.exception())  # failure is reported by /health
        # workers share one socket (and Ray's proxy routes to any started replica): take connections
        # only once able to serve them, unless waiting for model files, when /live must answer meanwhile
        if (settings.workers > 1 or load_before_serving) and not waiting:
            await asyncio.wait([loader])
        # the job store is opened here, not in create_app, so building an app creates no files
        app.state.job_store = await asyncio.to_thread(open_store, settings)
        app.state.job_runner = JobRunner(app.state.job_store, service, settings, signer, quota)
        app.state.job_runner.start()
        for name, fix in unavailable_models(settings).items():  # said once here; /health lists what does run
            log.warning("job API model %s is not offered: its files are missing (%s)", name, fix)
        try:
            yield
        finally:
            await app.state.job_runner.stop()
            app.state.job_store.close()
            service.close()

    app = FastAPI(title="ocrserve", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="PP-OCR on ONNX Runtime behind the PaddleX, rapidocr_api, PaddleOCR hub-serving "
                              "and seed-service contracts.")
    app.state.service = service
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.quota = quota
    app.state.result_files = result_files_from_settings(settings, signer)
    app.state.job_signer = signer
    for module in (routes_ocr, routes_layout, routes_hub, routes_seed, routes_jobs, routes_export):  # the routes that OCR, and so count pages
        include_contract_router(app, module.router, dependencies=[Depends(within_quota)])
    include_contract_router(app, routes_jobs.status_router)
    app.include_router(routes_ops.router)
    app.include_router(result_files.router)
    install_error_handlers(app)
    app.add_middleware(UnexpectedErrors)  # innermost: its 500s pass auth, metrics, request ids and CORS
    if tokens is not None:  # innermost of the three: its 403s get a request id and are counted
        app.add_middleware(TokenAuth, tokens=tokens, open_paths=settings.auth_open_paths)
        log.info("auth on: %d API tokens; open paths: %s", len(tokens.digests),
                 ", ".join(settings.auth_open_paths) or "none")
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(RequestIdAndBodyLimit, max_body=body_limit(settings), routes=routes_jobs.body_limits(settings))
    if settings.trusted_proxies:  # outside the rest: every layer and route sees the client's scheme and host
        app.add_middleware(ForwardedHeaders, trusted=settings.trusted_proxies)
    install_browser_routes(app, settings)  # last: its CORS layer must be the outermost

    return app


app: FastAPI  # the default app, for `gunicorn ocrserve.api.app:app`: built on first access, below


def __getattr__(name: str) -> FastAPI:  # so that importing the module is cheap
    if name == "app":
        global app
        app = create_app()
        return app
    raise AttributeError(name)
