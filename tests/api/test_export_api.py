"""`POST /v1/export` and the per-request text-layer option of the PDF-taking contracts, in process."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from _support import pdfs
from _support.http import wait_in_process_ready
from ocrserve import load_settings
from ocrserve.api.app import create_app


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(load_settings(model="pp-ocrv6-small", max_pdf_pages=3))) as c:
        wait_in_process_ready(c)
        yield c


def post(client, data: bytes, name: str, **fields):
    return client.post("/v1/export", data=fields, files={"file": (name, data)})


def test_searchable_pdf_of_a_scan(client):
    r = post(client, pdfs.scanned_pdf(), "scan 1.pdf", format="pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'inline; filename="scan1.pdf"'
    doc = pdfium.PdfDocument(r.content)
    assert "The quick brown fox" in doc[0].get_textpage().get_text_range()
    doc.close()


def test_markdown_from_the_text_layer(client, samples_dir):
    r = post(client, (samples_dir / "pdf/tasn1_p6-8.pdf").read_bytes(), "tasn1.pdf", format="md")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    assert "- UTF8String;" in r.text.splitlines()
    assert "text_layer" in r.headers["server-timing"]


def test_alto_and_text_of_an_image(client, samples_dir):
    image = (samples_dir / "scenes/s09_large_text_60px.png").read_bytes()
    alto = post(client, image, "sign.png", format="alto")
    assert alto.headers["content-type"].startswith("application/alto+xml")
    strings = ET.fromstring(alto.content).findall(".//{http://www.loc.gov/standards/alto/ns-v4#}String")
    assert "remove" in [s.get("CONTENT") for s in strings]
    assert "rm - remove files or directories" in post(client, image, "sign.png", format="txt").text


def test_pdf_text_option_and_errors(client):
    r = post(client, pdfs.invisible_ocr_pdf(), "ocr.pdf", format="json", pdf_text="ocr")
    assert "text_source" not in r.json()[0]["prunedResult"]
    r = post(client, pdfs.invisible_ocr_pdf(), "ocr.pdf", format="json")
    assert r.json()[0]["prunedResult"]["text_source"] == "text_layer"
    bad = post(client, pdfs.text_pdf(), "a.pdf", format="docx")
    assert bad.status_code == 422 and bad.json()["success"] is False and bad.json()["request_id"]
    broken = post(client, b"%PDF-1.7 not really", "a.pdf", format="txt")
    assert broken.status_code == 400 and "PDF" in broken.json()["error"]


def test_paddlex_and_seed_take_the_option(client):
    file = base64.b64encode(pdfs.invisible_ocr_pdf()).decode()
    page = client.post("/ocr", json={"file": file, "fileType": 0, "visualize": False}).json()
    assert page["result"]["ocrResults"][0]["prunedResult"]["text_source"] == "text_layer"
    page = client.post("/ocr", json={"file": file, "fileType": 0, "visualize": False, "pdfText": "ocr"}).json()
    assert "text_source" not in page["result"]["ocrResults"][0]["prunedResult"]
    drawn = client.post("/ocr", json={"file": file, "fileType": 0}).json()  # result images of a text-layer page
    assert drawn["result"]["ocrResults"][0]["ocrImage"]
    r = client.post("/upload_pdf", data={"pdf_text": "text"}, files={"file": ("s.pdf", pdfs.scanned_pdf())})
    assert r.status_code == 200 and r.json()["results"][0]["result"] == []  # text only: a bare scan has none


def test_openapi_documents_every_media_type(client):
    op = client.get("/openapi.json").json()["paths"]["/v1/export"]["post"]
    assert set(op["responses"]["200"]["content"]) == {"text/plain", "text/markdown", "text/vnd.hocr+html",
                                                       "application/alto+xml", "application/json", "application/pdf"}
    assert "multipart/form-data" in op["requestBody"]["content"]
    pdx = client.get("/openapi.json").json()
    assert "pdfText" in str(pdx["paths"]["/ocr"]) or "pdfText" in str(pdx.get("components", {}))


def test_document_orientation_switch(client, samples_dir):
    """`use_doc_orientation_classify` (the page sends its checkbox): a sideways photo is turned upright
    unless it is off."""
    buf = io.BytesIO()
    Image.open(samples_dir / "scenes/s09_large_text_60px.png").rotate(90, expand=True).save(buf, "PNG")
    turned = post(client, buf.getvalue(), "sideways.png", format="json").json()[0]["prunedResult"]
    assert turned["doc_preprocessor_res"]["angle"] == 270
    kept = post(client, buf.getvalue(), "sideways.png", format="json",
                use_doc_orientation_classify="false").json()[0]["prunedResult"]
    assert kept["model_settings"]["use_doc_preprocessor"] is False and "doc_preprocessor_res" not in kept
