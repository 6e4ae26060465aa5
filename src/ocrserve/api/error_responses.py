"""The one exception-to-status table, and the error body each contract expects.

Handlers never leak stack traces: a client sees a status, a message written for it and the
request id; the log gets the full story once, under the same id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import errors as e
from ..contracts import paddlex
from ..contracts.base import Contract
from .deps import ProperJSONResponse as JSONResponse

log = logging.getLogger("ocrserve.api")

#: the only place an error kind becomes an HTTP status
STATUS: dict[type[Exception], int] = {
    e.JobNotFound: 404,
    e.ModelNotServed: 400,
    e.StoreFull: 503,
    e.FetchTimeout: 408,
    e.InputTooLarge: 413,
    e.UnsupportedInput: 415,
    e.BadInput: 400,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.QuotaExceeded: 429,
    e.QuotaUnavailable: 503,
    e.StoreUnavailable: 503,
    e.Overloaded: 503,
    e.DeadlineExceeded: 504,
    e.ClientGone: 499,  # nginx's 'client closed request': nobody reads it, the logs and metrics do
    e.ModelMissing: 503,
    e.ModelCorrupt: 503,
    e.ProviderUnavailable: 503,
    e.ConfigError: 500,
    e.InferenceError: 500,
    e.OCRServeError: 500,
}


def status_for(exc: Exception) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


# --- which contract's error shape ------------------------------------------------------------
ChooseContract = Callable[[Request], Contract]


def contract_route(contract: Contract | ChooseContract) -> type[APIRoute]:
    """The route class of a router whose routes answer in one contract's shapes, errors included:
    `APIRouter(route_class=contract_route(CONTRACT))` binds it once, for every route on it; a path
    that serves two contracts passes a function of the request that chooses."""
    choose = contract if callable(contract) else (lambda request: contract)
    return type("ContractRoute", (APIRoute,), {"contract_for": staticmethod(choose)})


def include_contract_router(app: FastAPI, router: APIRouter, **options: Any) -> None:
    """`app.include_router`, remembering the router's routes, so that an error raised before routing
    (auth, the body cap) can still answer in the contract of the route its path leads to."""
    app.include_router(router, **options)
    app.state.contract_routes = [*getattr(app.state, "contract_routes", []),
                                 *(route for route in router.routes if hasattr(route, "contract_for"))]


def _route_chooser(request: Request) -> ChooseContract | None:
    """The contract chooser of the route that serves (or, by method, would serve) this request's path."""
    routed: ChooseContract | None = getattr(request.scope.get("route"), "contract_for", None)
    if routed is not None:
        return routed
    state = getattr(request.scope.get("app"), "state", None)
    for route in getattr(state, "contract_routes", ()):
        if route.matches(request.scope)[0] is not Match.NONE:
            chooser: ChooseContract = route.contract_for
            return chooser
    return None


def contract_of(request: Request) -> Contract:
    """Which contract's error shape this request expects: the one a route chose by what it was sent
    (one path, two contracts), else its router's; for what fails before routing (auth, the body
    cap), the router's of the route its path leads to; PaddleX's for a path no route serves."""
    explicit: Contract | None = getattr(request.state, "contract", None)
    if explicit is not None:
        return explicit
    choose = _route_chooser(request)
    return choose(request) if choose is not None else paddlex.CONTRACT


def error_response(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    request_id = getattr(request.state, "request_id", "-")
    body = contract_of(request).error_body(status, message, request_id)
    return JSONResponse(body, status_code=status, headers=headers)


#: states a client is told to retry, not faults: the engine still loading (its failure to load is
#: logged at ERROR once, by the loader) and a full queue
_TRANSIENT = (e.ModelMissing, e.Overloaded)


def ocrserve_error_response(request: Request, exc: e.OCRServeError) -> JSONResponse:
    """Log an ocrserve error once and answer it in the contract's shape.

    The exception handler below uses it, and so does the auth middleware, which answers before
    routing (outside FastAPI's exception handlers) so that no body is read for a stranger.
    Errors that carry `retry_after` (overload, quota) send it as `Retry-After`.
    """
    status = status_for(exc)
    level = logging.WARNING if isinstance(exc, _TRANSIENT) else logging.ERROR if status >= 500 else logging.INFO
    log.log(level, "request %s: %s %s -> %d %s: %s", getattr(request.state, "request_id", "-"),
            request.method, request.url.path, status, exc.kind, exc, exc_info=status == 500)
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return error_response(request, status, str(exc), headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(e.OCRServeError)
    async def _ours(request: Request, exc: e.OCRServeError) -> JSONResponse:
        return ocrserve_error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in err.items() if k in ("loc", "msg", "type")} for err in exc.errors()]
        message = json.dumps(errors, ensure_ascii=False, default=str)
        log.info("request %s: %s -> 422 %s", getattr(request.state, "request_id", "-"), request.url.path, message)
        return error_response(request, 422, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_response(request, exc)


def unexpected_response(request: Request, exc: Exception) -> JSONResponse:
    """A fault no handler names: the stack trace to the log once, a plain 500 to the client."""
    log.error("request %s: %s %s -> 500 unexpected", getattr(request.state, "request_id", "-"),
              request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "internal server error")


class MiddlewareSignal(Exception):
    """Raised through the app by an outer middleware to reach itself (a body over its limit): not a fault."""


class UnexpectedErrors:
    """Answers an exception that no handler took, inside the other middlewares.

    Starlette's last-resort handler sits outside every middleware, so its 500 would carry no CORS
    header (a browser page could not read it), no request id, and would not be counted.  Installed
    innermost, this one answers first and the layers around it see an ordinary 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except MiddlewareSignal:
            raise
        except Exception as exc:
            if started:  # a streamed body failed midway: nothing can be answered any more
                raise
            await unexpected_response(Request(scope), exc)(scope, receive, send)
