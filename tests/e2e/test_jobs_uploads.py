"""A job's document streams to disk under its own limit (OCR_JOB_MAX_FILE_SIZE), not OCR_MAX_FILE_SIZE.

Real `ocrserve serve` processes on loopback, over plain HTTP as the official client speaks it: a
document bigger than the synchronous limit is accepted, read and stored byte for byte without the
server's memory growing by its size; past the job limit it is a 413 in the jobs contract's shape,
whichever way it arrives, and no temp file stays behind.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from _support import pdfs
from _support.jobdocs import padded_pdf
from _support.server import start_server

TOKEN = "tok-uploads"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JOBS = "/api/v2/ocr/jobs"
MB = 1024 * 1024
BOUNDARY = "ocrserve-test-boundary"


def env(job_dir: Path, **extra: str) -> dict[str, str]:
    return {"OCR_API_TOKENS": TOKEN, "OCR_JOB_DIR": str(job_dir), "OCR_JOB_MODELS": "PP-OCRv6=pp-ocrv4-mobile",
            "OCR_URL_ALLOWLIST": "127.0.0.1", **extra}


def submit(base: str, data: bytes, **fields: str) -> httpx.Response:
    return httpx.post(f"{base}{JOBS}", headers=AUTH, timeout=120, files={"file": ("doc.pdf", data, "application/pdf")},
                      data={"model": "PP-OCRv6", "optionalPayload": json.dumps({"visualize": False}), **fields})


def wait_done(base: str, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = httpx.get(f"{base}{JOBS}/{job_id}", headers=AUTH, timeout=30).json()["data"]
        if data["state"] in ("done", "failed"):
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.3)


def multipart(data: bytes, chunk: int = 64 * 1024):
    """A multipart body, chunk by chunk (httpx sends a generator chunked, without Content-Length)."""
    yield (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\nPP-OCRv6\r\n'
           f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="doc.pdf"\r\n'
           "Content-Type: application/pdf\r\n\r\n").encode()
    for start in range(0, len(data), chunk):
        yield data[start:start + chunk]
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def temp_files(job_dir: Path) -> list[str]:
    return sorted(p.name for p in job_dir.iterdir() if p.name.startswith("."))


def peak_rss_reset(pid: int) -> int:
    """Reset the process's peak RSS (VmHWM) to its current RSS, and return that, in bytes."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _status_kib(pid, "VmHWM") * 1024


def peak_rss(pid: int) -> int:
    return _status_kib(pid, "VmHWM") * 1024


def _status_kib(pid: int, key: str) -> int:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith(key + ":"))
    return int(line.split()[1])


@pytest.fixture(scope="module")
def default_limits(tmp_path_factory):
    job_dir = tmp_path_factory.mktemp("jobs")
    with start_server(tmp_path_factory, env(job_dir, OCR_MAX_FILE_SIZE=str(20 * MB))) as base:
        yield base, job_dir


@pytest.fixture(scope="module")
def low_limit(tmp_path_factory):
    job_dir = tmp_path_factory.mktemp("jobs")
    with start_server(tmp_path_factory, env(job_dir, OCR_JOB_MAX_FILE_SIZE="1MB")) as base:
        yield base, job_dir


def test_a_document_over_the_sync_limit_is_a_job_streamed_to_disk(default_limits):
    base, job_dir = default_limits
    pid = httpx.get(f"{base}/health").json()["worker_id"]
    first = submit(base, pdfs.text_pdf())  # the job thread's model sessions and first page, before measuring
    assert first.status_code == 200, first.text
    assert wait_done(base, first.json()["data"]["jobId"])["state"] == "done"

    big = padded_pdf(25 * 1000 * 1000)  # over OCR_MAX_FILE_SIZE (20 MiB), far under the job limit
    before = peak_rss_reset(pid)
    answer = submit(base, big)
    assert answer.status_code == 200, answer.text
    job_id = answer.json()["data"]["jobId"]
    data = wait_done(base, job_id)
    grown = peak_rss(pid) - before  # upload, page count and the job's one page, at their highest
    assert data["state"] == "done" and data["extractProgress"]["totalPages"] == 1, data
    assert grown < len(big) // 3, f"peak RSS grew by {grown} bytes for a {len(big)}-byte upload"
    stored = (job_dir / job_id / "input").read_bytes()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(big).digest()
    lines = httpx.get(data["resultUrl"]["jsonUrl"], timeout=60).text.strip().split("\n")
    assert json.loads(lines[0])["result"]["ocrResults"][0]["prunedResult"]["rec_texts"] == pdfs.LINES
    assert temp_files(job_dir) == []

    sync = httpx.post(f"{base}/v1/export", headers=AUTH, timeout=120, files={"file": ("doc.pdf", big)},
                      data={"format": "txt"})
    assert sync.status_code == 413  # the synchronous limit still holds everywhere else


def test_over_the_job_limit_is_a_413_naming_it_whichever_way_it_comes(low_limit, tmp_path):
    base, job_dir = low_limit
    over = padded_pdf(2 * MB)
    declared = submit(base, over)  # Content-Length says so: refused before the body is read
    chunked = httpx.post(f"{base}{JOBS}", headers={**AUTH, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
                         content=multipart(over), timeout=120)  # no length: refused as the file part passes it
    for answer in (declared, chunked):
        assert answer.status_code == 413, answer.text
        body = answer.json()
        assert body["code"] == 413 and body["data"] is None and body["logId"], body
        assert "1048576 bytes" in body["msg"] and "OCR_JOB_MAX_FILE_SIZE" in body["msg"], body

    (tmp_path / "doc.pdf").write_bytes(over)
    files = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(tmp_path)))
    threading.Thread(target=files.serve_forever, daemon=True).start()
    try:
        fetched = httpx.post(f"{base}{JOBS}", headers=AUTH, timeout=60,
                             json={"fileUrl": f"http://127.0.0.1:{files.server_port}/doc.pdf"})
    finally:
        files.shutdown()
    assert fetched.status_code == 413 and "OCR_JOB_MAX_FILE_SIZE" in fetched.json()["msg"], fetched.text

    under = submit(base, padded_pdf(MB - 4096))
    assert under.status_code == 200, under.text
    assert temp_files(job_dir) == []
    assert [p.name for p in job_dir.iterdir() if p.is_dir()] == [under.json()["data"]["jobId"]]


def test_an_upload_cut_off_midway_leaves_no_temp_file(low_limit):
    base, job_dir = low_limit
    host, port = urlsplit(base).hostname, urlsplit(base).port
    body = b"".join(multipart(padded_pdf(900 * 1024)))
    head = (f"POST {JOBS} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection((host, port)) as conn:
        conn.sendall(head.encode() + body[: len(body) // 2])
        deadline = time.monotonic() + 30
        while not temp_files(job_dir):  # the file part is on its way to disk
            assert time.monotonic() < deadline, "no temp file while the upload streamed in"
            time.sleep(0.05)
    deadline = time.monotonic() + 30
    while temp_files(job_dir):
        assert time.monotonic() < deadline, f"temp files left: {temp_files(job_dir)}"
        time.sleep(0.1)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass
