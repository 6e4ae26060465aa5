"""Result images as links (`OCR_RESULT_IMAGES=url`, PaddleX's `return_img_urls`, as the PaddleOCR
cloud answers): the JPEG is kept on disk for `OCR_RESULT_FILES_TTL` and served at a signed,
expiring URL that works without a token, since the cloud's clients fetch it without one.

Files live in one directory that every worker process of the machine shares; expired ones are
swept as new ones are written.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import tempfile
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..errors import NotFound
from ..settings import Settings
from ..signed_links import LinkSigner
from .forwarded import public_base_url

router = APIRouter()
PREFIX = "/files/"
_NAME = re.compile(r"^[A-Za-z0-9_-]{32}\.jpg$")
SWEEP_EVERY_S = 60.0


class ResultFiles:
    """Write-once JPEGs named by 192 random bits, each readable until its TTL ends."""

    def __init__(self, directory: Path, ttl_s: float, signer: LinkSigner) -> None:
        self.directory = directory
        self.ttl_s = ttl_s
        self.signer = signer
        self._swept = 0.0

    def put(self, data: bytes) -> tuple[str, int]:
        """Store one JPEG; its name and the unix time it expires."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = secrets.token_urlsafe(24) + ".jpg"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".part-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, self.directory / name)
        self.sweep()
        return name, int(time.time() + self.ttl_s)

    def link(self, base_url: str, data: bytes) -> str:
        name, expires = self.put(data)
        return base_url.rstrip("/") + self.signer.sign(PREFIX + name, expires)

    def read(self, name: str, expires: str | None, sig: str | None) -> bytes:
        if not _NAME.match(name) or not self.signer.verify(PREFIX + name, expires, sig):
            raise NotFound("no such result file, or its link has expired")
        try:
            return (self.directory / name).read_bytes()
        except FileNotFoundError:
            raise NotFound("no such result file, or its link has expired") from None

    def sweep(self, now: float | None = None) -> int:
        """Delete files past their TTL (at most once a minute); the number deleted."""
        now = time.time() if now is None else now
        if now - self._swept < SWEEP_EVERY_S:
            return 0
        self._swept = now
        deleted = 0
        for path in self.directory.glob("*"):
            try:
                if path.stat().st_mtime + self.ttl_s < now:
                    path.unlink()
                    deleted += 1
            except FileNotFoundError:
                pass  # another worker swept it first
        return deleted


def result_files_from_settings(settings: Settings, signer: LinkSigner) -> ResultFiles:
    return ResultFiles(settings.result_files_dir, settings.result_files_ttl, signer)


def publish(images: dict[str, bytes], files: ResultFiles | None, base_url: str) -> dict[str, str]:
    """Each image as base64 text, or as a signed link when the operator asked for links."""
    if files is None:
        return {key: base64.b64encode(data).decode("ascii") for key, data in images.items()}
    return {key: files.link(base_url, data) for key, data in images.items()}


def images_as_links(request: Request) -> bool:
    """OCR_RESULT_IMAGES: `url`, `base64`, or `auto`: links for the PaddleOCR cloud's clients, which send
    `Authorization: token ...` and download the images the cloud links, base64 for PaddleX serving's."""
    mode: str = request.app.state.settings.result_images
    if mode != "auto":
        return mode == "url"
    scheme = request.headers.get("authorization", "").strip().partition(" ")[0]
    return scheme.lower() == "token"


def destination(request: Request) -> tuple[ResultFiles | None, str]:
    """Where this response's result images go (signed files, or None: base64 in the body) and the base URL
    their links name."""
    return (request.app.state.result_files if images_as_links(request) else None), public_base_url(request)


@router.get(PREFIX + "{name}", operation_id="getResultFile", include_in_schema=True, response_class=Response,
            summary="A result image behind a signed, expiring link (OCR_RESULT_IMAGES=url)",
            responses={200: {"content": {"image/jpeg": {}}}})
async def get_result_file(request: Request, name: str, expires: str | None = None, sig: str | None = None
                          ) -> Response:
    files: ResultFiles = request.app.state.result_files
    data = files.read(name, expires, sig)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
