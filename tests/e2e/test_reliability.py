"""Bad input battery, temp files and graceful shutdown, against a real `ocrserve serve` on loopback.

Every bad input must get a 4xx with a JSON message naming the problem, leave no temporary file
behind, and leave the server healthy (checked after each case).
"""

from __future__ import annotations

import base64
import http.server
import io
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pypdf
import pytest
from PIL import Image

from _support.http import b64, post
from _support.server import free_port, start_server


def png_bytes(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("L", size, 255).save(buf, format="PNG")
    return buf.getvalue()


def pdf_bytes(pages: int, password: str | None = None) -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if password:
        writer.encrypt(password)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def slow_url(tmp_path_factory):
    """A local server whose /slow never answers in time and whose /redirect points at loopback."""
    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/slow":
                release.wait(20)
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.2:{self.server.server_address[1]}/x.png")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    release.set()
    httpd.shutdown()


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("server-tmp")
    env = {"TMPDIR": str(tmp), "OCR_MAX_FILE_SIZE": "2MB", "OCR_URL_TIMEOUT": "1",
           "OCR_URL_ALLOWLIST": "127.0.0.1"}
    with start_server(tmp_path_factory, env) as base:
        yield base, tmp


def case_bodies(slow_url: str, samples_dir) -> list[tuple[str, dict, int]]:
    png = (samples_dir / "scenes/s01_sign_zh_en.png").read_bytes()
    jpg = (samples_dir / "scenes/s03_receipt_zh.jpg").read_bytes()
    enc = base64.b64encode
    return [
        ("empty body", {"content": b"", "headers": {"content-type": "application/json"}}, 400),
        ("wrong content type", {"content": b"hello", "headers": {"content-type": "text/plain"}}, 415),
        ("invalid base64", {"json": {"file": "@@@ not base64 @@@"}}, 400),
        ("truncated png", {"json": {"file": enc(png[: len(png) // 3]).decode()}}, 400),
        ("truncated jpeg", {"json": {"file": enc(jpg[: len(jpg) // 3]).decode()}}, 400),
        ("text named .png", {"files": {"image_file": ("a.png", b"just some text", "image/png")}}, 415),
        ("1x1 image", {"json": {"file": enc(png_bytes((1, 1))).decode()}}, 400),
        ("0-byte upload", {"files": {"image_file": ("a.png", b"", "image/png")}}, 400),
        ("30000x30000 declared", {"json": {"file": enc(png_bytes((30000, 30000))).decode()}}, 413),
        ("oversize upload", {"files": {"image_file": ("a.png", b"\0" * (3 * 1024 * 1024), "image/png")}}, 413),
        ("encrypted pdf", {"json": {"file": enc(pdf_bytes(1, "secret")).decode(), "fileType": 0}}, 400),
        ("malformed pdf", {"json": {"file": enc(b"%PDF-1.7\n1 0 obj <<>> garbage").decode()}}, 400),
        ("5000-page pdf", {"json": {"file": enc(pdf_bytes(5000)).decode(), "fileType": 0}}, 413),
        ("url to 127.0.0.2", {"json": {"file": "http://127.0.0.2:9/x.png"}}, 400),
        ("url to localhost", {"json": {"file": "http://localhost:9/x.png"}}, 400),
        ("file url", {"json": {"file": "file:///etc/passwd"}}, 400),
        ("redirect to loopback", {"json": {"file": f"{slow_url}/redirect"}}, 400),
        ("url never answers", {"json": {"file": f"{slow_url}/slow"}}, 408),
        ("unknown fileType", {"json": {"file": "aGVsbG8=", "fileType": 3}}, 422),
        ("threshold out of range", {"json": {"file": "aGVsbG8=", "textDetBoxThresh": -1}}, 422),
        ("huge json", {"content": b'{"file": "' + b"A" * (4 * 1024 * 1024) + b'"}',
                       "headers": {"content-type": "application/json"}}, 413),
    ]


def test_bad_input_battery(guarded_server, slow_url, samples_dir):
    base, tmp = guarded_server
    good = b64(samples_dir / "scenes/s09_large_text_60px.png")
    baseline = set(tmp.iterdir())  # onnxruntime leaves a session-id file (.ses) at start-up
    for name, request, status in case_bodies(slow_url, samples_dir):
        r = post(base, "/ocr", **request)
        assert r.status_code == status, (name, r.status_code, r.text[:300])
        body = r.json()
        message = body.get("errorMsg") or body.get("detail")
        assert isinstance(message, str) and len(message) > 10, (name, body)
        assert "Traceback" not in r.text
        assert httpx.get(f"{base}/health", timeout=10).status_code == 200, name
        assert set(tmp.iterdir()) == baseline, (name, set(tmp.iterdir()) - baseline)
    ok = post(base, "/ocr", json={"file": good})
    assert ok.status_code == 200 and ok.json()["result"]["ocrResults"][0]["prunedResult"]["rec_texts"]


def test_page_cap_reads_only_the_first_pages(guarded_server):
    base, _ = guarded_server
    r = post(base, "/ocr", json={"file": base64.b64encode(pdf_bytes(50)).decode(), "fileType": 0})
    assert r.status_code == 200
    assert r.json()["result"]["dataInfo"]["numPages"] == 10  # OCR_MAX_PDF_PAGES, like PaddleX



def test_sigterm_finishes_in_flight_requests_then_exits_0(tmp_path_factory, samples_dir):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ocrserve", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=dict(os.environ, OCR_MODEL="pp-ocrv4-mobile", OCR_SHUTDOWN_GRACE="240",
                                     OCR_REQUEST_TIMEOUT="240"),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.3)
        pdf = b64(samples_dir / "pdf/smi_p8-10.pdf")  # 3 dense pages: several seconds of work
        with ThreadPoolExecutor(max_workers=1) as pool:
            # OCRed, not read from the text layer (which takes a fraction of a second): really in flight
            in_flight = pool.submit(post, base, "/ocr", json={"file": pdf, "fileType": 0, "pdfText": "ocr"})
            time.sleep(1.0)  # the request is being served
            proc.send_signal(signal.SIGTERM)
            response = in_flight.result(timeout=300)
        assert response.status_code == 200, response.text
        assert response.json()["result"]["dataInfo"]["numPages"] == 3
        assert proc.wait(timeout=60) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base}/health", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_full_queue_is_503_with_retry_after(tmp_path_factory, samples_dir):
    pdf = b64(samples_dir / "pdf/tasn1_p6-8.pdf")
    with start_server(tmp_path_factory, {"OCR_MAX_QUEUE": "1"}) as base:
        with ThreadPoolExecutor(max_workers=4) as pool:
            # OCRed, not read from the text layer, so the first request still holds the queue
            responses = list(pool.map(lambda _: post(base, "/ocr", json={"file": pdf, "fileType": 0, "pdfText": "ocr"}),
                                      range(4)))
        statuses = sorted(r.status_code for r in responses)
        assert 200 in statuses and 503 in statuses, statuses
        refused = next(r for r in responses if r.status_code == 503)
        assert int(refused.headers["retry-after"]) >= 1 and "OCR_MAX_QUEUE" in refused.json()["errorMsg"]
        assert httpx.get(f"{base}/health").status_code == 200


def test_request_past_its_deadline_is_504(tmp_path_factory, samples_dir):
    pdf = b64(samples_dir / "pdf/tasn1_p6-8.pdf")
    with start_server(tmp_path_factory, {"OCR_REQUEST_TIMEOUT": "0.05"}) as base:
        # OCRed, not read from the PDF's text layer, which can finish inside the deadline
        r = post(base, "/ocr", json={"file": pdf, "fileType": 0, "pdfText": "ocr"})
        assert r.status_code == 504 and "OCR_REQUEST_TIMEOUT" in r.json()["errorMsg"]
        assert httpx.get(f"{base}/health").status_code == 200
