"""PaddleOCR's official job API, driven by the official client itself (`paddleocr==3.7.0`, unchanged)
against a real `ocrserve serve` on loopback.

The client needs paddlex (not paddlepaddle) and pins the GUI build of OpenCV, which would fight ours,
so it lives in its own virtualenv, built once (`OCR_TEST_PADDLEOCR_VENV`, default under the
repository's ignored `.cache/`, never the user's home); when it cannot be built, these tests fail,
they do not skip.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import threading
import xml.etree.ElementTree as ET
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pikepdf
import pypdfium2 as pdfium
import pytest
import xmlschema

from _support.jobdocs import mixed_pdf
from _support.layout_pages import OUTLINED_HEADING, outlined_pdf
from _support.paddleocr_client import client_venv, run_client
from _support.paths import DATA
from _support.server import start_server
from ocrserve.tools.evaluation import char_accuracy

TOKEN, OTHER = "tok-jobs-a", "tok-jobs-b"
JOBS = "/api/v2/ocr/jobs"
# PP-OCRv6 is the client's default; mapped to the server's own set here so one set serves most tests
MODELS = "PP-OCRv6=pp-ocrv4-mobile,PP-OCRv5=pp-ocrv5-mobile"


@pytest.fixture(scope="module")
def client_python() -> Path:
    return client_venv()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OCR_API_TOKENS": f"{TOKEN},{OTHER}", "OCR_JOB_DIR": str(tmp_path_factory.mktemp("jobs")),
           "OCR_JOB_MODELS": MODELS, "OCR_JOB_SECRET": "s" * 32, "OCR_URL_ALLOWLIST": "127.0.0.1"}
    with start_server(tmp_path_factory, env) as base:
        yield base


def texts(page: dict) -> list[str]:
    return page["prunedResult"]["rec_texts"]


ALTO_DIR = DATA / "alto"
ALTO_NS = "{http://www.loc.gov/standards/alto/ns-v4#}"
XHTML = "{http://www.w3.org/1999/xhtml}"
FORMAT_LINKS = {"pdfUrl": "application/pdf", "txtUrl": "text/plain", "markdownUrl": "text/markdown",
                "hocrUrl": "text/vnd.hocr+html", "altoUrl": "application/alto+xml"}


def alto_schema() -> xmlschema.XMLSchema:
    # the published schema imports xlink from its web address: read it from the copy beside it instead
    text = (ALTO_DIR / "alto-4-4.xsd").read_text(encoding="utf-8").replace(
        'schemaLocation="http://www.loc.gov/standards/xlink/xlink.xsd"', 'schemaLocation="xlink.xsd"')
    return xmlschema.XMLSchema(io.StringIO(text), base_url=str(ALTO_DIR) + "/")


def test_output_formats_are_signed_links_built_from_the_pages(client_python, server, samples_dir, tmp_path):
    pdf = tmp_path / "mixed.pdf"  # a text-layer page, a scan, a text-layer page
    pdf.write_bytes(mixed_pdf(samples_dir))
    formats = ["pdf", "txt", "md", "hocr", "alto", "json"]
    # the export endpoint's own threshold, so that its answer is the one to compare with
    options = {"textRecScoreThresh": 0.5, "outputFormats": formats}
    out = run_client(client_python, server, f"""
        job = client.submit_ocr(file_path={str(pdf)!r}, options=OCROptions(visualize=False, extra_options={options!r}))
        result = client.wait_ocr_result(job)
        out = {{"pages": [p.raw for p in result.pages], "links": client.get_status(job.job_id).result}}
    """)
    assert len(out["pages"]) == 3  # the official client reads the job as ever, the new links beside jsonUrl
    links = out["links"]
    assert set(links) == {"jsonUrl", *FORMAT_LINKS}
    files = {}
    for key, media_type in FORMAT_LINKS.items():
        answer = httpx.get(links[key], timeout=60)  # no token, as the client downloads jsonUrl
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(media_type), key
        files[key] = answer.content
        assert httpx.get(links[key].replace("sig=", "sig=0")).status_code == 404
    page_texts = ["".join(texts(p)) for p in out["pages"]]

    doc = pdfium.PdfDocument(files["pdfUrl"])
    assert len(doc) == 3
    for index, expected in enumerate(page_texts):
        page = doc[index]
        page.render(scale=0.2).close()
        read_back = page.get_textpage().get_text_range()
        assert char_accuracy(expected, read_back) >= 0.99, (index, expected, read_back)
    with pikepdf.open(io.BytesIO(files["pdfUrl"])) as checked:
        assert len(checked.pages) == 3 and checked.check_pdf_syntax() == []
    original = pdfium.PdfDocument(pdf.read_bytes())  # the born-digital pages pass through as they were
    for index in (0, 2):
        assert len(list(doc[index].get_objects())) == len(list(original[index].get_objects()))
    assert len(list(doc[1].get_objects())) > len(list(original[1].get_objects()))  # the scan gained its text

    alto = ET.fromstring(files["altoUrl"])
    alto_schema().validate(alto)
    assert [p.get("PHYSICAL_IMG_NR") for p in alto.iter(f"{ALTO_NS}Page")] == ["1", "2", "3"]
    strings = [s.get("CONTENT") for s in alto.iter(f"{ALTO_NS}String")]
    assert char_accuracy("".join(page_texts), "".join(strings)) >= 0.99
    hocr = ET.fromstring(files["hocrUrl"])
    assert [d.get("id") for d in hocr.iter(f"{XHTML}div") if d.get("class") == "ocr_page"] == \
        ["page_1", "page_2", "page_3"]
    words = [w.text for w in hocr.iter(f"{XHTML}span") if w.get("class") == "ocrx_word"]
    assert char_accuracy("".join(page_texts), "".join(words)) >= 0.99

    for fmt, key in (("txt", "txtUrl"), ("md", "markdownUrl")):
        with pdf.open("rb") as fh:
            sync = httpx.post(f"{server}/v1/export", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300,
                              files={"file": fh}, data={"format": fmt})
        assert sync.status_code == 200, sync.text
        assert files[key] == sync.content, fmt
    assert files["txtUrl"].decode().split("\f") == ["\n".join(texts(p)) + "\n" for p in out["pages"]]


def test_unknown_output_format_is_refused_naming_the_accepted(client_python, server, samples_dir):
    err = run_client(client_python, server, f"""
        client.submit_ocr(file_path={str(samples_dir / 'bench/screenshot.png')!r},
                          options=OCROptions(extra_options={{"outputFormats": ["pdf", "docx"]}}))
        out = {{}}
    """)
    assert err["error"] == "InvalidRequestError", err
    accepted = err["message"].rsplit(":", 1)[-1]
    assert "'docx'" in err["message"] and all(name in accepted for name in ("pdf", "txt", "md", "hocr", "alto", "json")), err


def test_pdf_every_page_as_the_sync_endpoint_reads_it(client_python, server, samples_dir):
    pdf = samples_dir / "pdf/tasn1_p6-8.pdf"
    out = run_client(client_python, server, f"""
        result = client.ocr(file_path={str(pdf)!r}, options=OCROptions(visualize=False))
        out = {{"pages": [p.raw for p in result.pages], "info": result.data_info, "job": result.job_id}}
    """)
    assert len(out["pages"]) == 3
    assert out["info"]["type"] == "pdf" and out["info"]["numPages"] == 3 and len(out["info"]["pages"]) == 3
    assert all("ocrImage" not in p for p in out["pages"])
    sync = httpx.post(f"{server}/ocr", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300,
                      json={"file": base64.b64encode(pdf.read_bytes()).decode(), "fileType": 0, "visualize": False})
    assert sync.status_code == 200, sync.text
    assert [texts(p) for p in out["pages"]] == [texts(p) for p in sync.json()["result"]["ocrResults"]]
    status = httpx.get(f"{server}{JOBS}/{out['job']}", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert status["code"] == 0 and status["data"]["state"] == "done"
    progress = status["data"]["extractProgress"]
    assert progress["totalPages"] == progress["extractedPages"] == 3 and progress["startTime"] <= progress["endTime"]


def test_image_with_result_images_saved_by_the_client(client_python, server, samples_dir, tmp_path):
    image = samples_dir / "pages/p05_en_table_smi_p12.png"
    out = run_client(client_python, server, f"""
        result = client.ocr(file_path={str(image)!r}, options=OCROptions(visualize=True))
        saved = client.save_ocr_result_resources(result, {str(tmp_path)!r})
        out = {{"pages": [p.raw for p in result.pages], "info": result.data_info, "saved": saved,
                "url": result.pages[0].ocr_image_url}}
    """)
    assert len(out["pages"]) == 1 and out["info"]["type"] == "image"
    assert texts(out["pages"][0])
    assert out["saved"] == [str(tmp_path / "ocr-page-1.jpg")]
    assert Path(out["saved"][0]).read_bytes()[:3] == b"\xff\xd8\xff"
    assert {"ocrImage", "inputImage"} <= set(out["pages"][0])
    # the link works without a token (the client fetched it so); a tampered one does not
    assert httpx.get(out["url"]).status_code == 200
    assert httpx.get(out["url"].replace("sig=", "sig=0")).status_code == 404


def test_page_ranges_read_only_those_pages_and_are_checked(client_python, server, samples_dir):
    pdf = samples_dir / "pdf/smi_p8-10.pdf"
    out = run_client(client_python, server, f"""
        result = client.ocr(file_path={str(pdf)!r}, page_ranges="2-3", options=OCROptions(visualize=False))
        out = {{"pages": [p.raw for p in result.pages], "info": result.data_info}}
    """)
    assert len(out["pages"]) == 2 and out["info"]["numPages"] == 2
    for bad, why in (("4", "past the end of the document, which has 3 pages"), ("2-x", "is not a page")):
        err = run_client(client_python, server, f"""
            client.submit_ocr(file_path={str(pdf)!r}, page_ranges={bad!r})
            out = {{}}
        """)
        assert err["error"] == "InvalidRequestError" and why in err["message"], err


def test_wrong_token_is_an_auth_error(client_python, server, samples_dir):
    err = run_client(client_python, server, f"""
        client.submit_ocr(file_path={str(samples_dir / 'bench/screenshot.png')!r})
        out = {{}}
    """, token="not-a-token")
    assert err["error"] == "AuthError" and "invalid API token" in err["message"]


def test_corrupt_pdf_is_a_failed_job_naming_the_problem(client_python, server, tmp_path):
    corrupt = tmp_path / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer garbage" + b"\0" * 300)
    err = run_client(client_python, server, f"""
        client.ocr(file_path={str(corrupt)!r})
        out = {{}}
    """)
    assert err["error"] == "JobFailedError" and "PDF cannot be read" in err["message"], err


def test_models_served_and_refused(client_python, server, samples_dir):
    image = samples_dir / "bench/screenshot.png"
    out = run_client(client_python, server, f"""
        result = client.ocr(file_path={str(image)!r}, model="PP-OCRv5", options=OCROptions(visualize=False))
        out = {{"texts": result.pages[0].pruned_result["rec_texts"]}}
    """)
    assert out["texts"]  # read by a second model set, loaded on first use
    memory = httpx.get(f"{server}/health").json()["memory"]
    assert memory["job_model_sets_mib"]["pp-ocrv5-mobile"] > 10 and memory["rss_mib"] > 100  # and accounted
    err = run_client(client_python, server, f"""
        client.submit_ocr(file_path={str(image)!r}, model="PP-OCRv5-latin")
        out = {{}}
    """)
    assert err["error"] == "InvalidRequestError" and "serves: PP-OCRv5, PP-OCRv6" in err["message"], err


def test_batch_status_lists_the_batch_jobs(client_python, server, samples_dir):
    image = samples_dir / "bench/screenshot.png"
    out = run_client(client_python, server, f"""
        jobs = [client.submit_ocr(file_path={str(image)!r}, batch_id="batch-7",
                                  options=OCROptions(visualize=False)) for _ in range(2)]
        results = [client.wait_ocr_result(j) for j in jobs]
        batch = client.get_batch_status("batch-7")
        out = {{"ids": [j.job_id for j in jobs], "batch": [[s.job_id, s.state, s.progress.extracted_pages]
                                                          for s in batch.jobs]}}
    """)
    assert [b[0] for b in out["batch"]] == out["ids"]
    assert all(state == "done" and pages == 1 for _, state, pages in out["batch"])


def test_a_job_is_invisible_to_other_tokens(client_python, server, samples_dir):
    out = run_client(client_python, server, f"""
        job = client.submit_ocr(file_path={str(samples_dir / 'bench/screenshot.png')!r}, batch_id="mine")
        out = {{"id": job.job_id}}
    """)
    for token in (OTHER,):
        err = run_client(client_python, server, f"""
            client.get_status({out['id']!r})
            out = {{}}
        """, token=token)
        assert err["status"] == 404 and "no job" in err["message"], err
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{server}{JOBS}/batch/mine", headers=headers).status_code == 404
        assert httpx.delete(f"{server}{JOBS}/{out['id']}", headers=headers).status_code == 404


def test_cancel_stops_a_job(client_python, server, samples_dir):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (samples_dir / "pdf/scanned_lshort_p50-51.pdf").open("rb") as fh:
        r = httpx.post(f"{server}{JOBS}", headers=headers, files={"file": fh},
                       data={"model": "PP-OCRv6", "optionalPayload": "{}"})
    assert r.status_code == 200 and r.json()["code"] == 0, r.text
    job_id = r.json()["data"]["jobId"]
    cancelled = httpx.delete(f"{server}{JOBS}/{job_id}", headers=headers).json()["data"]
    assert cancelled["state"] == "failed" and "cancelled" in cancelled["errorMsg"]
    err = run_client(client_python, server, f"""
        client.wait_ocr_result({job_id!r})
        out = {{}}
    """)
    assert err["error"] == "JobFailedError" and "cancelled" in err["message"]


def test_the_cli_unchanged(client_python, server, samples_dir, tmp_path):
    out_file, resources = tmp_path / "out.json", tmp_path / "res"
    resources.mkdir()
    done = subprocess.run([str(client_python), "-m", "paddleocr", "api", "--model_type", "ocr",
                           "--file_path", str(samples_dir / "bench/screenshot.png"), "--base_url", server,
                           "--token", TOKEN, "--visualize", "True", "--output", str(out_file),
                           "--save_resources", str(resources)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out_file.read_text())
    assert len(result["pages"]) == 1 and result["pages"][0]["prunedResult"]["rec_texts"]
    assert [p.name for p in resources.iterdir()] == ["ocr-page-1.jpg"]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_file_url_through_the_async_client(client_python, server, samples_dir):
    files = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(samples_dir)))
    threading.Thread(target=files.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{files.server_port}/bench/screenshot.png"
    try:
        out = run_client(client_python, server, f"""
            import asyncio
            from paddleocr import AsyncPaddleOCRClient

            async def main():
                async with AsyncPaddleOCRClient(token=sys.argv[2], base_url=sys.argv[1]) as aclient:
                    result = await aclient.ocr(file_url={url!r}, options=OCROptions(visualize=False))
                    return result.pages[0].pruned_result["rec_texts"]

            out = {{"texts": asyncio.run(main())}}
            refused = None
            try:
                client.submit_ocr(file_url="http://169.254.169.254/latest/meta-data")
            except paddleocr.InvalidRequestError as exc:
                refused = str(exc)
            out["refused"] = refused
        """)
    finally:
        files.shutdown()
    assert out["texts"]
    assert out["refused"] and "refusing to fetch" in out["refused"]


def test_document_parsing_with_the_official_client(client_python, server, samples_dir, tmp_path):
    """PP-StructureV3 as a job: `parse_document` reads each page's Markdown and blocks from the JSONL, and
    `save_document_parsing_result_resources` downloads every figure and drawing it links."""
    pdf = tmp_path / "mixed.pdf"  # a text-layer page, a scan, a text-layer page
    pdf.write_bytes(mixed_pdf(samples_dir))
    saved = tmp_path / "resources"
    saved.mkdir()
    out = run_client(client_python, server, f"""
        from paddleocr import PPStructureV3Options
        result = client.parse_document(file_path={str(pdf)!r}, model="PP-StructureV3",
                                       options=PPStructureV3Options(use_seal_recognition=True))
        paths = client.save_document_parsing_result_resources(result, {str(saved)!r})
        out = {{"pages": [p.raw for p in result.pages], "markdown": [p.markdown_text for p in result.pages],
                "info": result.data_info, "paths": paths}}
    """)
    assert "pages" in out, out
    assert len(out["pages"]) == 3 and out["info"]["type"] == "pdf" and out["info"]["numPages"] == 3
    for raw, markdown in zip(out["pages"], out["markdown"]):
        assert markdown.strip() and raw["prunedResult"]["parsing_res_list"], raw
        assert raw["prunedResult"]["model_settings"]["use_seal_recognition"] is False  # not honoured, said so
    sync = httpx.post(f"{server}/layout-parsing", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300,
                      json={"file": base64.b64encode(pdf.read_bytes()).decode(), "fileType": 0, "visualize": False})
    assert sync.status_code == 200, sync.text
    # the same Markdown, its figures named as files of their own per page (the client saves them by those names)
    assert out["markdown"] == [p["markdown"]["text"].replace("(imgs/", f"(p{n}_")
                               for n, p in enumerate(sync.json()["result"]["layoutParsingResults"], start=1)]
    for raw in out["pages"]:
        assert all("/" not in name for name in [*raw["markdown"].get("images", {}), *raw.get("outputImages", {})])
    assert out["paths"] and all(Path(p).is_file() and Path(p).stat().st_size > 0 for p in out["paths"])
    assert any(Path(p).name.endswith(".jpg") for p in out["paths"])  # the pages' drawings at least


def test_document_parsing_of_a_page_range_takes_its_headings_from_the_document_s_outline(client_python, server,
                                                                                         tmp_path):
    pdf = tmp_path / "outlined.pdf"
    pdf.write_bytes(outlined_pdf())
    out = run_client(client_python, server, f"""
        result = client.parse_document(file_path={str(pdf)!r}, model="PP-StructureV3", page_ranges="2")
        out = {{"markdown": [p.markdown_text for p in result.pages]}}
    """)
    assert "markdown" in out, out
    (markdown,) = out["markdown"]
    assert f"\n\n### {OUTLINED_HEADING}\n\n" in markdown
