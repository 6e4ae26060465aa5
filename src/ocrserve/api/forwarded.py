"""The address clients reach the service at, for the absolute links it hands out.

`OCR_PUBLIC_URL` wins when set.  Otherwise a link uses the scheme and host the request came to;
behind a reverse proxy those are the proxy's `X-Forwarded-Proto` and `X-Forwarded-Host`, believed
only from the peers `OCR_TRUSTED_PROXIES` names, so that a client cannot point our links at a host
of its choosing.  uvicorn's own ProxyHeadersMiddleware (X-Forwarded-Proto and -For) does the
trust check and the rewriting; this subclass adds X-Forwarded-Host to it.  `ocrserve serve` and
gunicorn.conf.py turn uvicorn's own copy off, so the app applies the one setting under every
server (uvicorn, gunicorn, Ray Serve) and uvicorn's default trust of 127.0.0.1 does not apply.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ..settings import Settings

# host[:port] as a Host header carries it: a name, an IPv4 address or a bracketed IPv6 one
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


class ForwardedHeaders(ProxyHeadersMiddleware):
    """uvicorn's proxy headers middleware over `trusted`, plus X-Forwarded-Host (the first entry)."""

    def __init__(self, app: ASGIApp, trusted: list[str]) -> None:
        super().__init__(app, trusted_hosts=trusted)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        peer = scope.get("client")
        if scope["type"] in ("http", "websocket") and (peer[0] if peer else None) in self.trusted_hosts:
            forwarded = next((v for k, v in scope["headers"] if k == b"x-forwarded-host"), None)
            host = forwarded.decode("latin-1").split(",")[0].strip() if forwarded else ""
            if _HOST.match(host):  # anything else (a path, a user part) would make a wrong link
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"] + [
                    (b"host", host.encode("latin-1"))]
        await super().__call__(scope, receive, send)  # type: ignore[arg-type]


def public_base_url(request: Request) -> str:
    """Where this request's client reaches the service, ending in `/`: the base of every link."""
    settings: Settings = request.app.state.settings
    if settings.public_url:
        return settings.public_url + "/"
    return str(request.base_url)
