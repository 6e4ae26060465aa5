"""Signed, expiring capability links: whoever holds the URL may read the file, nobody can forge one.

Clients of the official PaddleOCR API download result files without their Authorization header
(pre-signed links, as the cloud's), so a link must carry its own proof: an HMAC-SHA256 over the
path and its expiry, with a server secret.  The secret comes from `OCR_JOB_SECRET`, or is
generated once into a file that every worker process of the machine shares.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from .errors import ConfigError

SECRET_BYTES = 32


def secret_source(configured: str | None, path: Path) -> Callable[[], bytes]:
    """The configured secret (text), else the one kept at `path`."""
    if configured:
        return lambda: configured.encode()
    return lambda: load_or_create_secret(path)


def load_or_create_secret(path: Path) -> bytes:
    """The secret kept at `path`, created (0600, atomically, once across processes) when absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(SECRET_BYTES))
    for _ in range(50):  # another process may have created it and not written it yet
        text = path.read_text(encoding="ascii").strip()
        if text:
            return bytes.fromhex(text)
        time.sleep(0.01)
    raise ConfigError(f"the link secret file {path} is empty; delete it or set OCR_JOB_SECRET")


class LinkSigner:
    """Signs `path` until `expires` (unix seconds); `verify` checks both in constant time.

    The secret is read on first use, so a server that never links creates no secret file.
    """

    def __init__(self, secret: Callable[[], bytes]) -> None:
        self._load = secret
        self._secret: bytes | None = None

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            secret = self._load()
            if len(secret) < 16:
                raise ConfigError("the link secret must be at least 16 bytes")
            self._secret = secret
        return self._secret

    def signature(self, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def sign(self, path: str, expires: int) -> str:
        """`path?expires=...&sig=...`: relative; the caller prefixes the server's base URL."""
        return f"{path}?expires={expires}&sig={self.signature(path, expires)}"

    def verify(self, path: str, expires: str | None, sig: str | None, now: float | None = None) -> bool:
        if not expires or not sig or not expires.isdigit():
            return False
        if int(expires) < (time.time() if now is None else now):
            return False
        return hmac.compare_digest(self.signature(path, int(expires)), sig)
