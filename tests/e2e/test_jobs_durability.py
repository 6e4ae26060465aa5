"""Jobs that outlive their server: SIGKILL mid-job and restart, TTL expiry, quota, callbacks.

Real `ocrserve serve` processes on loopback, spoken to over plain HTTP as the official client does
(its own virtualenv is exercised in test_jobs.py); no engine is mocked.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pypdfium2 as pdfium

from _support.jobdocs import mixed_pdf
from _support.server import free_port, wait_ready
from ocrserve.tools.evaluation import char_accuracy

TOKEN = "tok-durable"
JOBS = "/api/v2/ocr/jobs"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextlib.contextmanager
def serve(job_dir: Path, log: Path, *args: str, **env: str):
    """`ocrserve serve` on a free port with the job store in `job_dir`; yields (base URL, process)."""
    port = free_port()
    full_env = dict(os.environ, OCR_MODEL="pp-ocrv4-mobile", OCR_API_TOKENS=TOKEN, OCR_JOB_DIR=str(job_dir),
                    OCR_JOB_MODELS="PP-OCRv6=pp-ocrv4-mobile", **env)
    with log.open("a") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ocrserve", "serve", "--host", "127.0.0.1", "--port",
                                 str(port), *args], env=full_env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, base, log)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def submit(base: str, path: Path, payload: dict | None = None, **fields: str) -> str:
    with path.open("rb") as fh:
        r = httpx.post(f"{base}{JOBS}", headers=AUTH, files={"file": fh}, timeout=60,
                       data={"model": "PP-OCRv6", "optionalPayload": json.dumps({"visualize": False, **(payload or {})}),
                             **fields})
    assert r.status_code == 200, r.text
    return r.json()["data"]["jobId"]


def status(base: str, job_id: str) -> httpx.Response:
    return httpx.get(f"{base}{JOBS}/{job_id}", headers=AUTH, timeout=30)


def wait_for(base: str, job_id: str, until, timeout: float = 400) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = status(base, job_id).json()["data"]
        if until(data):
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.5)


def test_sigkill_mid_job_then_restart_reads_every_page_once(tmp_path, samples_dir):
    job_dir, log = tmp_path / "jobs", tmp_path / "server.log"
    pdf = samples_dir / "pdf/smi_p8-10.pdf"
    slow = {"OCR_JOB_LEASE_S": "3", "OCR_PDF_TEXT": "ocr"}  # every page through the engine, none from its text layer
    with serve(job_dir, log, **slow) as (base, proc):
        job_id = submit(base, pdf)
        seen = wait_for(base, job_id, lambda d: d["extractProgress"]["extractedPages"] >= 1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    with serve(job_dir, log, **slow) as (base, _):
        data = wait_for(base, job_id, lambda d: d["state"] in ("done", "failed"))
        assert data["state"] == "done", data
        assert data["extractProgress"]["extractedPages"] == 3
        lines = httpx.get(data["resultUrl"]["jsonUrl"], timeout=30).text.strip().split("\n")
    assert len(lines) == 3
    pages = [json.loads(line)["result"]["ocrResults"][0]["prunedResult"]["rec_texts"] for line in lines]
    assert all(pages) and len({tuple(p) for p in pages}) == 3  # three different pages, none twice
    assert seen["extractProgress"]["extractedPages"] < 3 and seen["state"] == "running"  # killed mid-job


def test_output_formats_of_a_job_killed_mid_document_are_complete_after_restart(tmp_path, samples_dir):
    job_dir, log, pdf = tmp_path / "jobs", tmp_path / "server.log", tmp_path / "mixed.pdf"
    pdf.write_bytes(mixed_pdf(samples_dir))  # page 1 from its text layer at once, page 2 a scan to OCR
    formats = {"outputFormats": ["pdf", "txt", "md", "hocr", "alto"]}
    with serve(job_dir, log, OCR_JOB_LEASE_S="3") as (base, proc):
        job_id = submit(base, pdf, formats)
        seen = wait_for(base, job_id, lambda d: d["extractProgress"]["extractedPages"] >= 1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert seen["state"] == "running" and seen["extractProgress"]["extractedPages"] < 3, seen  # killed mid-job
    with serve(job_dir, log, OCR_JOB_LEASE_S="3") as (base, _):
        resumed = wait_for(base, job_id, lambda d: d["state"] in ("done", "failed"))
        assert resumed["state"] == "done", resumed
        whole = wait_for(base, submit(base, pdf, formats), lambda d: d["state"] in ("done", "failed"))
        assert whole["state"] == "done", whole  # the same document, never interrupted
        got = {key: httpx.get(url, timeout=60).content for key, url in resumed["resultUrl"].items()}
        want = {key: httpx.get(url, timeout=60).content for key, url in whole["resultUrl"].items()}
    assert set(got) == {"jsonUrl", "pdfUrl", "txtUrl", "markdownUrl", "hocrUrl", "altoUrl"}
    pages = [json.loads(line)["result"]["ocrResults"][0]["prunedResult"]["rec_texts"]
             for line in got["jsonUrl"].decode().strip().split("\n")]
    assert len(pages) == 3 and all(pages)
    assert got["txtUrl"].decode().split("\f") == ["\n".join(p) + "\n" for p in pages]  # every page once, in order
    for key in ("txtUrl", "markdownUrl", "hocrUrl", "altoUrl"):
        assert got[key] == want[key], key
    unstamped = [re.sub(rb"/ID\s*\[<[0-9A-Fa-f]+>\s*<[0-9A-Fa-f]+>\]", b"", got["pdfUrl"]),
                 re.sub(rb"/ID\s*\[<[0-9A-Fa-f]+>\s*<[0-9A-Fa-f]+>\]", b"", want["pdfUrl"])]
    assert unstamped[0] == unstamped[1]  # the same PDF but for the random file identifier pdfium writes
    doc = pdfium.PdfDocument(got["pdfUrl"])
    assert len(doc) == 3
    for index, lines in enumerate(pages):
        assert char_accuracy("".join(lines), doc[index].get_textpage().get_text_range()) >= 0.99
    assert not (job_dir / job_id / "parts.jsonl").exists()  # the parts go once the files are built


def test_ttl_expiry_deletes_results_and_frees_the_disk_budget(tmp_path, samples_dir):
    job_dir, image = tmp_path / "jobs", samples_dir / "bench/screenshot.png"
    budget = str(image.stat().st_size * 3 // 2)  # room for one input, not two
    # long enough for the job thread's first model load and page on a busy machine, short enough to wait for
    with serve(job_dir, tmp_path / "server.log", OCR_JOB_TTL="20", OCR_JOB_MAX_BYTES=budget) as (base, _):
        job_id = submit(base, image)
        with image.open("rb") as fh:
            full = httpx.post(f"{base}{JOBS}", headers=AUTH, files={"file": fh}, data={"model": "PP-OCRv6"})
        assert full.status_code == 503 and "OCR_JOB_MAX_BYTES" in full.json()["msg"]
        assert int(full.headers["Retry-After"]) > 0
        data = wait_for(base, job_id, lambda d: d["state"] == "done", timeout=20)
        url = data["resultUrl"]["jsonUrl"]
        assert httpx.get(url).status_code == 200
        deadline = time.monotonic() + 30
        while status(base, job_id).status_code != 404:
            assert time.monotonic() < deadline
            time.sleep(0.5)
        body = status(base, job_id).json()
        assert body["code"] == 404 and "expired" in body["msg"]
        assert httpx.get(url).status_code == 404
        deadline = time.monotonic() + 10
        while (job_dir / job_id).exists():
            assert time.monotonic() < deadline, "expired job's files were not deleted"
            time.sleep(0.5)
        submit(base, image)  # the expired job's bytes no longer count


def test_two_workers_run_each_job_once_and_either_answers(tmp_path, samples_dir):
    with serve(tmp_path / "jobs", tmp_path / "server.log", "--workers", "2") as (base, _):
        ids = [submit(base, samples_dir / "bench/screenshot.png") for _ in range(4)]
        for job_id in ids:
            data = wait_for(base, job_id, lambda d: d["state"] in ("done", "failed"))
            assert data["state"] == "done", data
            lines = httpx.get(data["resultUrl"]["jsonUrl"], timeout=30).text.strip().split("\n")
            assert len(lines) == 1


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    failures_left = 1  # the first delivery is refused, so a retry must follow

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.failures_left > 0:
            _Receiver.failures_left -= 1
            self.send_response(500)
        else:
            _Receiver.received.append((dict(self.headers), body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_quota_at_submit_and_charged_per_page_and_signed_callback(tmp_path, samples_dir):
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    callback = f"http://127.0.0.1:{receiver.server_port}/hook"
    secret = "k" * 32
    try:
        with serve(tmp_path / "jobs", tmp_path / "server.log", OCR_DAILY_PAGE_LIMIT="2",
                   OCR_QUOTA_DB=str(tmp_path / "quota.sqlite3"), OCR_JOB_SECRET=secret,
                   OCR_URL_ALLOWLIST="127.0.0.1") as (base, _):
            over = httpx.post(f"{base}{JOBS}", headers=AUTH, timeout=60,
                              files={"file": (samples_dir / "pdf/smi_p8-10.pdf").open("rb")},
                              data={"model": "PP-OCRv6"})
            assert over.status_code == 429 and "3 pages but 2" in over.json()["msg"]
            assert int(over.headers["Retry-After"]) > 0
            job_id = submit(base, samples_dir / "pdf/smi_p8-10.pdf", pageRanges="1-2", callbackUrl=callback)
            wait_for(base, job_id, lambda d: d["state"] == "done")
            again = httpx.post(f"{base}{JOBS}", headers=AUTH, timeout=60,
                               files={"file": (samples_dir / "bench/screenshot.png").open("rb")},
                               data={"model": "PP-OCRv6"})
            assert again.status_code == 429  # the two pages read were charged
            deadline = time.monotonic() + 30
            while not _Receiver.received:
                assert time.monotonic() < deadline, "callback not delivered"
                time.sleep(0.3)
    finally:
        receiver.shutdown()
    headers, body = _Receiver.received[0]
    stamp, _, digest = headers["X-OCR-Signature"].partition(",v1=")
    timestamp = stamp.removeprefix("t=")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)
    data = json.loads(body)["data"]
    assert data["jobId"] == job_id and data["state"] == "done" and data["resultUrl"]["jsonUrl"]
