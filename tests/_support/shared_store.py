"""What every test of instances sharing one job store (PostgreSQL + SeaweedFS) configures alike."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from _support.paddleocr_client import DEFAULT_TOKEN
from _support.seaweedfs import SeaweedFS

JOBS = "/api/v2/ocr/jobs"
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
BUCKET, PREFIX = "ocr-jobs", "shared"
SECRET = "shared-secret-" + "x" * 24


def instance_env(tmp_path_factory, store: str, seaweed: SeaweedFS, prefix: str = PREFIX, **extra: str) -> dict[str, str]:
    """One instance's settings: its own OCR_JOB_DIR; the store, the blobs and the link secret shared."""
    return {"OCR_API_TOKENS": DEFAULT_TOKEN, "OCR_JOB_DIR": str(tmp_path_factory.mktemp("instance-jobs")),
            "OCR_JOB_STORE": store, "OCR_JOB_BLOBS": f"s3://{BUCKET}/{prefix}", "OCR_JOB_SECRET": SECRET,
            "OCR_JOB_MODELS": "PP-OCRv6=pp-ocrv4-mobile", "OCR_URL_ALLOWLIST": "127.0.0.1", **seaweed.env(),
            **extra}


def submit(base: str, path: Path, payload: dict | None = None) -> httpx.Response:
    """`path` as a job of the client's default model name, without result images unless asked."""
    with path.open("rb") as fh:
        return httpx.post(f"{base}{JOBS}", headers=AUTH, files={"file": fh}, timeout=60,
                          data={"model": "PP-OCRv6", "optionalPayload": json.dumps({"visualize": False, **(payload or {})})})


def wait_for(base: str, job_id: str, until, timeout: float = 400) -> dict:
    """The job's status from `base` once `until(status)` holds; the timeout is a hang guard."""
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{base}{JOBS}/{job_id}", headers=AUTH, timeout=30)
        if answer.status_code == 200:
            data = answer.json()["data"]
            if until(data):
                return data
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.5)


def ended(data: dict) -> bool:
    return data["state"] in ("done", "failed")
