"""What real clients send and expect, against real `ocrserve serve` processes on loopback: result images as
links or base64 by the client's convention, links behind a reverse proxy, PaddleX options in the
spellings clients use, and what an answer says when a PDF is longer than a request reads.
"""

from __future__ import annotations

import base64
import io
import json
import time

import httpx
import pypdfium2 as pdfium
import pytest
import requests

from _support.server import start_server
from ocrserve.contracts.base import EXAMPLE_IMAGE_B64
from ocrserve.errors import ConfigError
from ocrserve.settings import load_settings

TOKEN = "tok-real-requests-5k2"
JOBS = "/api/v2/ocr/jobs"
TOKEN_AUTH = {"Authorization": f"token {TOKEN}"}  # the PaddleOCR cloud's scheme
BEARER_AUTH = {"Authorization": f"Bearer {TOKEN}"}


def env(tmp_path_factory, **extra: str) -> dict[str, str]:
    """Tokens on, and every file the server writes in this test's temporary directories."""
    return {"OCR_API_TOKENS": TOKEN, "OCR_JOB_DIR": str(tmp_path_factory.mktemp("jobs")),
            "OCR_RESULT_FILES_DIR": str(tmp_path_factory.mktemp("results")),
            "OCR_QUOTA_DB": str(tmp_path_factory.mktemp("quota") / "quota.sqlite3"),
            "OCR_JOB_SECRET": "r" * 32, "OCR_JOB_MODELS": "PP-OCRv6=pp-ocrv4-mobile", **extra}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Every setting at its default (OCR_RESULT_IMAGES=auto, no trusted proxy, no public URL)."""
    with start_server(tmp_path_factory, env(tmp_path_factory)) as base:
        yield base


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """Behind a reverse proxy on this machine: OCR_TRUSTED_PROXIES names it."""
    with start_server(tmp_path_factory, env(tmp_path_factory, OCR_TRUSTED_PROXIES="127.0.0.1")) as base:
        yield base


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """OCR_PUBLIC_URL set, and a trusted proxy too: the configured address wins over the headers."""
    extra = {"OCR_PUBLIC_URL": "https://ocr.example.com/tools/ocr/", "OCR_TRUSTED_PROXIES": "127.0.0.1"}
    with start_server(tmp_path_factory, env(tmp_path_factory, **extra)) as base:
        yield base


def paddlex(base: str, headers: dict[str, str], **body) -> dict:
    r = httpx.post(f"{base}/ocr", json={"file": EXAMPLE_IMAGE_B64, **body}, headers=headers, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def squeezed(texts: list[str]) -> list[str]:
    """The lines without spaces: pp-ocrv4-mobile reads the example page's word gaps unevenly."""
    return ["".join(t.split()) for t in texts]


def is_jpeg_link(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "files/") and "sig=" in value


# --- result images: the client's convention decides --------------------------------------------
def test_cloud_clients_get_links_that_a_plain_get_fetches(server):
    page = paddlex(server, TOKEN_AUTH)["result"]["ocrResults"][0]
    for key in ("ocrImage", "inputImage"):
        assert is_jpeg_link(page[key], f"{server}/"), page[key]
        image = requests.get(page[key], timeout=30)  # no token: the link carries its own signature
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert image.content[:3] == b"\xff\xd8\xff"


def test_other_clients_get_base64(server):
    for headers in (BEARER_AUTH, {"Authorization": f"bearer {TOKEN}"}):
        page = paddlex(server, headers)["result"]["ocrResults"][0]
        assert base64.b64decode(page["ocrImage"])[:3] == b"\xff\xd8\xff"
        assert not page["inputImage"].startswith("http")


def test_forwarded_headers_from_an_untrusted_client_are_ignored(server):
    forged = {**TOKEN_AUTH, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    page = paddlex(server, forged)["result"]["ocrResults"][0]
    assert is_jpeg_link(page["ocrImage"], f"{server}/"), page["ocrImage"]
    assert requests.get(page["ocrImage"], timeout=30).status_code == 200


def test_a_trusted_proxy_s_scheme_and_host_make_the_links(proxied):
    headers = {**TOKEN_AUTH, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "ocr.example.com:8443",
               "X-Forwarded-For": "203.0.113.7"}
    page = paddlex(proxied, headers)["result"]["ocrResults"][0]
    link = page["ocrImage"]
    assert is_jpeg_link(link, "https://ocr.example.com:8443/"), link
    # the proxy forwards that address to this server: the same path and signature serve the image
    image = requests.get(link.replace("https://ocr.example.com:8443", proxied), timeout=30)
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
    # a host header that is not a host is never put in a link
    bad = paddlex(proxied, {**TOKEN_AUTH, "X-Forwarded-Host": "a.example/evil?x="})["result"]["ocrResults"][0]
    assert is_jpeg_link(bad["ocrImage"], f"{proxied}/"), bad["ocrImage"]


def test_the_public_url_makes_the_links(published):
    forged = {**TOKEN_AUTH, "X-Forwarded-Host": "other.example"}
    link = paddlex(published, forged)["result"]["ocrResults"][0]["ocrImage"]
    assert is_jpeg_link(link, "https://ocr.example.com/tools/ocr/"), link
    image = requests.get(link.replace("https://ocr.example.com/tools/ocr", published), timeout=30)
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
    # the job API's links too
    job = submit(published, {"model": "PP-OCRv6", "optionalPayload": json.dumps({"visualize": False})})
    status = wait_done(published, job)
    assert status["resultUrl"]["jsonUrl"].startswith("https://ocr.example.com/tools/ocr/files/jobs/")


# --- PaddleX options in snake_case, "" and null unset, unknown keys said -----------------------------
def test_paddlex_ocr_takes_snake_case_options_and_names_the_keys_it_ignores(server):
    body = {"use_textline_orientation": False, "use_doc_orientation_classify": "", "use_doc_unwarping": None,
            "text_det_limit_side_len": "", "text_det_thresh": 0.25, "text_rec_score_thresh": 0.2,
            "visualize": False, "det_model_dir": "/models/det", "textDetBoxThresh": None}
    answer = paddlex(server, BEARER_AUTH, **body)
    pruned = answer["result"]["ocrResults"][0]["prunedResult"]
    assert pruned["model_settings"]["use_textline_orientation"] is False
    assert pruned["model_settings"]["use_doc_preprocessor"] is True  # "" is unset: the default, on
    assert pruned["text_det_params"]["thresh"] == 0.25 and pruned["text_rec_score_thresh"] == 0.2
    assert squeezed(pruned["rec_texts"]) == ["Invoice2026-0042", "Total:128.50EUR"]
    assert "ocrImage" not in answer["result"]["ocrResults"][0]
    assert answer["warnings"] == ["ignored unknown option(s), as PaddleX does: det_model_dir"]
    # camelCase alone: no warnings field at all, as PaddleX answers
    plain = paddlex(server, BEARER_AUTH, useTextlineOrientation=False, visualize=False)
    assert "warnings" not in plain
    # a bad value under either spelling is the same 422 as before
    r = httpx.post(f"{server}/ocr", json={"file": EXAMPLE_IMAGE_B64, "text_det_thresh": 3}, headers=BEARER_AUTH)
    assert r.status_code == 422 and "textDetThresh" in r.json()["errorMsg"]


def submit(base: str, fields: dict[str, str], document: bytes | None = None) -> str:
    files = {"file": ("page.png", document or base64.b64decode(EXAMPLE_IMAGE_B64), "image/png")}
    r = httpx.post(base + JOBS, data=fields, files=files, headers=TOKEN_AUTH, timeout=60)
    assert r.status_code == 200 and r.json()["code"] == 0, r.text
    return r.json()["data"]["jobId"]


def wait_done(base: str, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = httpx.get(f"{base}{JOBS}/{job_id}", headers=TOKEN_AUTH, timeout=30).json()["data"]
        if data["state"] in ("done", "failed"):
            assert data["state"] == "done", data
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.5)


def test_job_payload_as_langflow_sends_it(server):
    # Langflow's PaddleOCR bundle: snake_case switches, "" for the numbers left blank, its own extra keys
    payload = {"use_textline_orientation": False, "use_doc_orientation_classify": True,
               "text_det_limit_side_len": "", "text_det_thresh": "", "text_rec_score_thresh": 0.3,
               "visualize": False, "return_markdown": True}
    r = httpx.post(server + JOBS, data={"model": "PP-OCRv6", "optionalPayload": json.dumps(payload)},
                   files={"file": ("page.png", base64.b64decode(EXAMPLE_IMAGE_B64), "image/png")},
                   headers=TOKEN_AUTH, timeout=60)
    assert r.status_code == 200, r.text
    warning = "ignored unknown option(s), as PaddleX does: return_markdown"
    assert r.json()["data"]["warnings"] == [warning]
    status = wait_done(server, r.json()["data"]["jobId"])
    assert status["warnings"] == [warning]
    lines = httpx.get(status["resultUrl"]["jsonUrl"], timeout=30).text.splitlines()
    pruned = json.loads(lines[0])["result"]["ocrResults"][0]["prunedResult"]
    assert pruned["model_settings"]["use_textline_orientation"] is False
    assert pruned["text_rec_score_thresh"] == 0.3
    assert squeezed(pruned["rec_texts"]) == ["Invoice2026-0042", "Total:128.50EUR"]
    # a bad value under the snake_case spelling is the client's 400, named by its field
    r = httpx.post(server + JOBS, data={"optionalPayload": json.dumps({"text_det_thresh": "high"})},
                   files={"file": ("page.png", base64.b64decode(EXAMPLE_IMAGE_B64), "image/png")},
                   headers=TOKEN_AUTH, timeout=60)
    assert r.status_code == 400 and "textDetThresh" in r.json()["msg"], r.text


# --- a PDF longer than a request reads ------------------------------------------------------------
def long_pdf(pages: int) -> bytes:
    """`pages` small blank pages (pdfium writes the file): each is read fast, as only the count matters."""
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(150, 60).close()
    out = io.BytesIO()
    doc.save(out)
    doc.close()
    return out.getvalue()


def test_a_long_pdf_says_how_many_pages_were_read_and_where_the_rest_go(server):
    pdf = long_pdf(13)
    r = httpx.post(f"{server}/ocr", json={"file": base64.b64encode(pdf).decode(), "fileType": 0,
                                          "visualize": False}, headers=BEARER_AUTH, timeout=120)
    assert r.status_code == 200, r.text
    answer = r.json()
    info = answer["result"]["dataInfo"]
    assert info["numPages"] == 10 and len(answer["result"]["ocrResults"]) == 10 and info["totalPages"] == 13
    [note] = answer["warnings"]
    assert "first 10 of the PDF's 13 pages" in note and "POST /api/v2/ocr/jobs" in note

    r = httpx.post(f"{server}/upload_pdf", files={"file": ("long.pdf", pdf, "application/pdf")},
                   headers=BEARER_AUTH, timeout=120)
    assert r.status_code == 200, r.text
    seed = r.json()
    assert len(seed["results"]) == 10 and seed["total_pages"] == 13
    assert seed["warnings"] == [note]

    short = httpx.post(f"{server}/upload_pdf", files={"file": ("short.pdf", long_pdf(2), "application/pdf")},
                       headers=BEARER_AUTH, timeout=120).json()
    assert short["total_pages"] == 2 and "warnings" not in short


def test_proxy_and_public_url_settings_are_checked_at_start():
    settings = load_settings(trusted_proxies="10.0.0.5, 10.1.0.0/16,::1", public_url="https://ocr.example.com/ocr/")
    assert settings.trusted_proxies == ["10.0.0.5", "10.1.0.0/16", "::1"]
    assert settings.public_url == "https://ocr.example.com/ocr"
    assert load_settings(trusted_proxies="*").trusted_proxies == ["*"] and load_settings().trusted_proxies == []
    assert load_settings().result_images == "auto" and load_settings(public_url="").public_url is None
    with pytest.raises(ConfigError, match="OCR_TRUSTED_PROXIES.*proxy.example"):
        load_settings(trusted_proxies="proxy.example")
    with pytest.raises(ConfigError, match="OCR_PUBLIC_URL"):
        load_settings(public_url="ocr.example.com")
