"""Text outside the Basic Multilingual Plane, lone surrogates and control characters, from a PDF's text
layer to every output: JSON of each contract, the job's JSONL, every export format, the CLI.

The PDFs are built here: a ToUnicode map names math letters (as unicode-math sets them), a CJK
Extension B ideograph, an emoji and a ligature, and, as a broken map does, lone surrogate halves and
a control character.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import httpx
import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest

from _support import pdfs
from _support.server import start_server
from ocrserve import OCR
from ocrserve.export import FORMATS, export
from ocrserve.result import OCRPage, TextLine
from ocrserve.unicode_text import proper_unicode, utf8

ASTRAL = ("𝑎", "𝑰", "𠀋", "😀")


def no_bad_code_points(text: str) -> bool:
    """No surrogate half and no C0/C1 control but the line structure."""
    return not any(0xD800 <= ord(c) <= 0xDFFF or (ord(c) < 0x20 and c not in "\t\n\r") or 0x7F <= ord(c) <= 0x9F
                   for c in text)


def test_proper_unicode_joins_pairs_and_replaces_lone_halves():
    assert proper_unicode("x\ud835\udc4ey") == "x𝑎y"
    assert proper_unicode("\ud800a\udc00") == "\ufffda\ufffd"
    assert proper_unicode("plain 文字 😀") == "plain 文字 😀"
    assert utf8("a\ud83d\ude00\udc00", what="test").decode("utf-8") == "a😀\ufffd"


def test_text_layer_reads_characters_outside_the_bmp_as_one_code_point():
    [page] = OCR(model="pp-ocrv6-tiny")(pdfs.unicode_pdf())
    assert page.source == "text_layer"
    texts = [line.text for line in page.lines]
    assert texts[:3] == pdfs.LINES
    assert texts[3] == pdfs.ASTRAL_LINE + " \ufffd \ufffd", texts[3]  # each lone half once; the BEL dropped
    assert all(no_bad_code_points(t) for t in texts)
    json.dumps(page.to_dict(), ensure_ascii=False).encode("utf-8")  # would raise on a surrogate


def test_the_pair_and_its_neighbours_keep_their_boxes():
    """One box per code point: the line with the pairs is as wide as the same line drawn with them."""
    [page] = OCR(model="pp-ocrv6-tiny")(pdfs.unicode_pdf(lone_halves=False))
    line = page.lines[3]
    assert line.text == pdfs.ASTRAL_LINE
    xs = [x for x, _ in line.polygon]
    assert max(xs) - min(xs) > 200  # the whole line, not the pairs' halves alone


def strange_result() -> OCRPage:
    """A result whose text no source mended: a pair as two halves, a lone half, a control."""
    line = TextLine(text="x\ud835\udc4e lone\udc00 bell\x07", score=0.9, polygon=[[0, 0], [90, 0], [90, 10], [0, 10]])
    return OCRPage(width=100, height=20, lines=[line], detected_polygons=[line.polygon], doc_angle=0,
                     det_params={}, text_rec_score_thresh=0.0, use_textline_orientation=False, return_word_box=False,
                     image=np.full((20, 100, 3), 255, np.uint8))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_export_format_encodes_any_string(fmt):
    data = export([strange_result()], fmt, name="strange.png")
    if fmt == "pdf":
        assert len(pdfium.PdfDocument(data)) == 1
        return
    text = data.decode("utf-8")
    assert "x𝑎" in text and "lone\ufffd" in text
    if fmt in ("hocr", "alto"):
        ET.fromstring(data)  # XML 1.0: the control character is gone too


def test_a_saved_json_encodes_any_string(tmp_path):
    path = strange_result().save_json(tmp_path / "r.json")
    assert "x𝑎" in json.loads(path.read_text(encoding="utf-8"))["res"]["rec_texts"][0]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OCR_MODEL": "pp-ocrv6-tiny", "OCR_JOB_MODELS": "PP-OCRv6=pp-ocrv6-tiny",
           "OCR_JOB_DIR": str(tmp_path_factory.mktemp("jobs"))}
    with start_server(tmp_path_factory, env) as base:
        yield base


def test_every_json_contract_answers_the_pdf(server):
    data = pdfs.unicode_pdf()
    body = {"file": base64.b64encode(data).decode(), "fileType": 0}
    r = httpx.post(f"{server}/ocr", json=body, timeout=120)
    assert r.status_code == 200, r.text
    texts = r.json()["result"]["ocrResults"][0]["prunedResult"]["rec_texts"]
    assert texts[3].startswith(pdfs.ASTRAL_LINE) and all(no_bad_code_points(t) for t in texts)

    r = httpx.post(f"{server}/upload_pdf", files={"file": ("u.pdf", data, "application/pdf")}, timeout=120)
    assert r.status_code == 200, r.text
    assert all(a in r.text for a in ASTRAL)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_endpoint_in_every_format(server, fmt):
    r = httpx.post(f"{server}/v1/export", data={"format": fmt}, files={"file": ("u.pdf", pdfs.unicode_pdf())},
                   timeout=120)
    assert r.status_code == 200, r.text
    if fmt == "pdf":
        assert len(pdfium.PdfDocument(r.content)) == 1
        assert len(pikepdf.open(io.BytesIO(r.content)).pages) == 1
        return
    text = r.content.decode("utf-8")
    assert all(a in text for a in ASTRAL) and "\ud835" not in text
    if fmt in ("hocr", "alto"):
        ET.fromstring(r.content)


def test_a_job_reads_the_pdf_to_the_end(server):
    jobs = f"{server}/api/v2/ocr/jobs"
    r = httpx.post(jobs, data={"model": "PP-OCRv6"}, files={"file": ("u.pdf", pdfs.unicode_pdf())}, timeout=60)
    assert r.status_code == 200, r.text
    job_id = r.json()["data"]["jobId"]
    for _ in range(600):
        state = httpx.get(f"{jobs}/{job_id}", timeout=10).json()["data"]
        if state["state"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert state["state"] == "done", state
    lines = httpx.get(state["resultUrl"]["jsonUrl"], timeout=30).text.splitlines()
    page = json.loads(lines[0])["result"]["ocrResults"][0]
    assert page["prunedResult"]["rec_texts"][3].startswith(pdfs.ASTRAL_LINE)


def test_a_lone_surrogate_in_a_request_is_a_4xx_not_a_500(server):
    # JSON may escape a lone half; the error message that echoes the value must still encode
    raw = b'{"file": "\\ud800not base64", "fileType": 1}'
    r = httpx.post(f"{server}/ocr", content=raw, headers={"Content-Type": "application/json"}, timeout=30)
    assert 400 <= r.status_code < 500, r.text
    r = httpx.post(f"{server}/ocr", content=b'{"file": 1, "fileType": "\\udc00"}',
                   headers={"Content-Type": "application/json"}, timeout=30)
    assert 400 <= r.status_code < 500, r.text
    assert httpx.get(f"{server}/ready", timeout=10).status_code == 200


def test_cli_predict_prints_the_pdf(tmp_path):
    path = tmp_path / "u.pdf"
    path.write_bytes(pdfs.unicode_pdf())
    for extra in (["--json"], []):
        done = subprocess.run([sys.executable, "-m", "ocrserve", "predict", str(path), "--model", "pp-ocrv6-tiny",
                               *extra], capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        out = done.stdout.decode("utf-8")
        assert all(a in out for a in ASTRAL)
