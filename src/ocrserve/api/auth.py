"""API tokens: which requests may use the service, and who they are for the quota.

Auth is off unless tokens are configured (`OCR_API_TOKENS` and/or `OCR_API_TOKENS_FILE`).  It
is a pure ASGI middleware rather than a FastAPI dependency because it must answer before
anything else happens: FastAPI reads and parses a route's body (a multipart upload of up to
`OCR_MAX_FILE_SIZE`) before it runs the route's dependencies, and a stranger should not make
us do that.  It also covers every path, `/docs` included, so `OCR_AUTH_OPEN_PATHS` means what
it says: exact paths, except that an entry ending in `/*` opens every path below it
(`/docs/assets/*`, the documentation pages' scripts), never a path with a `..` segment; and
where `/docs` or `/redoc` is open, so are those scripts, or the open page would be blank.  Its
403 takes the contract's error shape of the route its path leads to (`error_responses.contract_of`),
since no route has run yet to name its contract.

Tokens are kept only as sha256 digests.  A presented token is hashed and compared with
`hmac.compare_digest` against every configured digest, without stopping at a match, so the
time taken says nothing about which token (or how much of one) matched; comparing digests
rather than the tokens also keeps their lengths out of the timing.  The hex digest is the
token's id: the quota store's key, and (its first 8 characters) what logs show.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import ConfigError, Forbidden
from ..service.quota import short_id
from ..settings import Settings
from .error_responses import ocrserve_error_response
from .page_paths import ASSETS_URL, DOCS_URL, REDOC_URL

log = logging.getLogger("ocrserve.api.auth")
SCHEMES = (b"token", b"bearer")  # PaddleX cloud style, and the usual one
MISSING = "missing API token: send `Authorization: token <token>` or `Authorization: Bearer <token>`"
INVALID = "invalid API token"


def read_tokens_file(path: Path) -> list[str]:
    """One token a line; blank lines and lines starting with `#` are skipped."""
    try:
        lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read OCR_API_TOKENS_FILE={path}: {exc}") from exc
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


def configured_tokens(settings: Settings) -> list[str]:
    """Tokens from `api_tokens` (comma-separated) and `api_tokens_file`, checked for use in a header.

    A setting that is given but yields no token is an error, not "auth off": an operator who
    set it meant to protect the service.
    """
    tokens: list[str] = []
    raw = settings.api_tokens.get_secret_value() if settings.api_tokens is not None else ""
    if raw.strip():
        from_env = [t.strip() for t in raw.split(",") if t.strip()]
        if not from_env:
            raise ConfigError("OCR_API_TOKENS holds no token (expected comma-separated tokens)")
        tokens += from_env
    if settings.api_tokens_file is not None:
        from_file = read_tokens_file(settings.api_tokens_file)
        if not from_file:
            raise ConfigError(f"OCR_API_TOKENS_FILE={settings.api_tokens_file} holds no token")
        tokens += from_file
    for number, token in enumerate(tokens, start=1):  # never quote the token itself
        if any(ch.isspace() for ch in token) or not token.isprintable() or not token.isascii():
            raise ConfigError(f"API token #{number} has spaces or non-printable or non-ASCII characters; "
                              "it could not be sent in an Authorization header")
    return tokens


@dataclass(frozen=True)
class TokenSet:
    """The configured tokens, as digests."""

    digests: tuple[bytes, ...]

    @classmethod
    def of(cls, tokens: Iterable[str]) -> TokenSet:
        return cls(tuple(hashlib.sha256(t.encode("ascii")).digest() for t in tokens))

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenSet | None:
        """The token set, or None when auth is off (no tokens configured)."""
        tokens = configured_tokens(settings)
        return cls.of(tokens) if tokens else None

    def identify(self, token: bytes) -> str | None:
        """The token's id when it is configured, else None; constant time over every token."""
        digest = hashlib.sha256(token).digest()
        found = False
        for known in self.digests:  # no early exit
            found |= hmac.compare_digest(known, digest)
        return digest.hex() if found else None


def presented_token(authorization: bytes) -> bytes | None:
    """The credential of `token <t>` or `Bearer <t>` (scheme case-insensitive), else None."""
    scheme, _, credential = authorization.strip().partition(b" ")
    credential = credential.strip()
    return credential if scheme.lower() in SCHEMES and credential else None


class OpenPaths:
    """The paths served without a token: exact ones, and prefixes from entries ending in `/*`;
    an open documentation page opens its assets too."""

    def __init__(self, entries: Iterable[str]) -> None:
        entries = list(entries)
        if {DOCS_URL, REDOC_URL} & set(entries):
            entries.append(f"{ASSETS_URL}/*")
        self.exact = frozenset(e for e in entries if not e.endswith("/*"))
        self.prefixes = tuple(e[:-1] for e in entries if e.endswith("/*"))  # keeps the slash: "/docs/assets/"

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        if path in self.exact:
            return True
        return path.startswith(self.prefixes) and ".." not in path.split("/")


class TokenAuth:
    """ASGI middleware: 403 unless the request is for an open path or carries a configured token.

    On success the token's id goes to `request.state.token_id` for the quota.  Open paths are
    neither authenticated nor counted.
    """

    def __init__(self, app: ASGIApp, tokens: TokenSet, open_paths: Iterable[str]) -> None:
        self.app = app
        self.tokens = tokens
        self.open_paths = OpenPaths(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope.get("headers") or [] if k == b"authorization"), None)
        credential = presented_token(header) if header is not None else None
        tid = self.tokens.identify(credential) if credential is not None else None
        if tid is None:
            response = ocrserve_error_response(Request(scope), Forbidden(MISSING if credential is None else INVALID))
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["token_id"] = tid
        log.debug("request %s: token %s", scope["state"].get("request_id", "-"), short_id(tid))
        await self.app(scope, receive, send)
