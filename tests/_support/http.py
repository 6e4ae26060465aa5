"""Small request helpers for the end-to-end tests against a real server on loopback."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def post(base: str, path: str, **kw) -> httpx.Response:
    return httpx.post(f"{base}{path}", timeout=120, **kw)

