"""Small request helpers: for a real server on loopback, and for an app in process."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import httpx


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def post(base: str, path: str, **kw) -> httpx.Response:
    return httpx.post(f"{base}{path}", timeout=120, **kw)



def wait_in_process_ready(client: Any, timeout: float = 120) -> None:
    """Until an in-process app (FastAPI's TestClient) answers /ready with 200: its engine has loaded."""
    deadline = time.monotonic() + timeout
    while client.get("/ready").status_code != 200:
        assert time.monotonic() < deadline, client.get("/health").text
        time.sleep(0.2)
