"""Every contract against a real `ocrserve serve` on 127.0.0.1, called as each peer's client would.

The server runs in a subprocess with the pp-ocrv4-mobile set (the fastest to load); a second
tiny HTTP server on 127.0.0.1 serves files for the URL inputs.  Responses are validated against
JSON Schemas written from the peers' contracts (tests/contract_schemas.py).
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import cv2
import httpx
import jsonschema
import numpy as np
import pytest

from _support import contract_schemas as cs
from _support.http import b64, post
from _support.server import free_port, start_server  # noqa: F401  (free_port: re-exported for importers)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"OCR_URL_ALLOWLIST": "127.0.0.1", "OCR_MAX_FILE_SIZE": "8MB", "OCR_MAX_PDF_PAGES": "3"}
    with start_server(tmp_path_factory, env) as base:
        yield base


@pytest.fixture(scope="module")
def file_server(samples_dir):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(samples_dir), **kw)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


# --- PaddleX ----------------------------------------------------------------------------------
def test_paddlex_image_base64(server, samples_dir):
    r = post(server, "/ocr", json={"file": b64(samples_dir / "scenes/s01_sign_zh_en.png"), "fileType": 1})
    assert r.status_code == 200 and r.headers["x-request-id"] == r.json()["logId"]
    jsonschema.validate(r.json(), cs.PADDLEX_RESPONSE)
    page = r.json()["result"]["ocrResults"][0]
    assert page["prunedResult"]["rec_texts"][0] == "复制文件和目录"
    assert "ocrImage" in page  # PaddleX's default: result images unless asked not to
    assert r.json()["result"]["dataInfo"] == {"width": 960, "height": 360, "type": "image"}


def test_paddlex_visualize_and_sniffed_type(server, samples_dir):
    data = "data:image/png;base64," + b64(samples_dir / "scenes/s06_image_rot90_zh.png")
    r = post(server, "/ocr", json={"file": data, "visualize": True})
    jsonschema.validate(r.json(), cs.PADDLEX_RESPONSE)
    page = r.json()["result"]["ocrResults"][0]
    assert page["prunedResult"]["doc_preprocessor_res"]["angle"] == 90
    for key in ("ocrImage", "inputImage", "docPreprocessingImage"):
        img = cv2.imdecode(np.frombuffer(base64.b64decode(page[key]), np.uint8), cv2.IMREAD_COLOR)
        assert img is not None and max(img.shape[:2]) <= 2000
    ocr_img = cv2.imdecode(np.frombuffer(base64.b64decode(page["ocrImage"]), np.uint8), cv2.IMREAD_COLOR)
    assert ocr_img.shape[1] == 2 * 260  # boxes left, text right


def test_paddlex_pdf_pages_and_cap(server, samples_dir):
    r = post(server, "/ocr", json={"file": b64(samples_dir / "pdf/tasn1_p6-8.pdf"), "fileType": 0})
    body = r.json()
    jsonschema.validate(body, cs.PADDLEX_RESPONSE)
    assert body["result"]["dataInfo"]["numPages"] == 3 and len(body["result"]["ocrResults"]) == 3
    assert body["result"]["dataInfo"]["pages"][0] == {"width": 1224, "height": 1584}


def test_paddlex_url_input_and_guard(server, file_server):
    r = post(server, "/ocr", json={"file": f"{file_server}/scenes/s09_large_text_60px.png"})
    assert r.status_code == 200
    assert r.json()["result"]["ocrResults"][0]["prunedResult"]["rec_texts"][0] == "移除文件或者目录"
    port = file_server.rsplit(":", 1)[1]
    for url in (f"http://127.0.0.2:{port}/scenes/s01_sign_zh_en.png", "file:///etc/passwd",
                "http://169.254.169.254/latest/meta-data/"):
        r = post(server, "/ocr", json={"file": url})
        assert r.status_code == 400, (url, r.text)
        jsonschema.validate(r.json(), cs.PADDLEX_ERROR)


def test_paddlex_options_change_the_result(server, samples_dir):
    img = b64(samples_dir / "scenes/s05_line_rot180.png")
    on = post(server, "/ocr", json={"file": img}).json()["result"]["ocrResults"][0]["prunedResult"]
    off = post(server, "/ocr", json={"file": img, "useTextlineOrientation": False, "textRecScoreThresh": 0.0,
                                     "textDetLimitType": "max", "textDetLimitSideLen": 1280}).json()
    off = off["result"]["ocrResults"][0]["prunedResult"]
    assert on["rec_texts"][1].startswith("Sort entries") and not off["rec_texts"][1].startswith("Sort entries")
    assert off["model_settings"]["use_textline_orientation"] is False
    assert off["text_det_params"]["limit_type"] == "max" and off["text_det_params"]["limit_side_len"] == 1280
    strict = post(server, "/ocr", json={"file": img, "textRecScoreThresh": 0.999}).json()
    assert len(strict["result"]["ocrResults"][0]["prunedResult"]["rec_texts"]) < len(on["rec_texts"])
    words = post(server, "/ocr", json={"file": img, "returnWordBox": True}).json()
    assert "text_word_boxes" in words["result"]["ocrResults"][0]["prunedResult"]


def test_paddlex_defaults_are_paddlexs(server, samples_dir):
    """Result images unless asked not to, every line kept (textRecScoreThresh 0.0), a UUID logId."""
    img = b64(samples_dir / "scenes/s01_sign_zh_en.png")
    r = post(server, "/ocr", json={"file": img, "fileType": 1})
    page = r.json()["result"]["ocrResults"][0]
    assert base64.b64decode(page["ocrImage"])[:3] == b"\xff\xd8\xff" and "inputImage" in page
    assert page["prunedResult"]["text_rec_score_thresh"] == 0.0
    stages = {item.split(";")[0].strip() for item in r.headers["server-timing"].split(",")}
    assert {"queue", "decode", "det", "rec"} <= stages
    plain = post(server, "/ocr", json={"file": img, "visualize": False}).json()["result"]["ocrResults"][0]
    assert set(plain) == {"prunedResult"}
    rapid = post(server, "/ocr", data={"image_data": img, "text_score": "0.0"}).json()
    assert [v["rec_txt"] for v in rapid.values()] == page["prunedResult"]["rec_texts"]


def test_a_json_object_declared_as_a_form_is_served_as_paddlex(server, samples_dir):
    """PaddleX 3.0-beta's Node.js (axios) and PHP examples send JSON as application/x-www-form-urlencoded."""
    body = json.dumps({"image": b64(samples_dir / "scenes/s01_sign_zh_en.png")})
    r = post(server, "/ocr", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200, r.text
    jsonschema.validate(r.json(), cs.PADDLEX_BETA_RESPONSE)
    assert r.json()["result"]["texts"][0]["text"] == "复制文件和目录"


def test_paddlex_beta_body(server, samples_dir):
    r = post(server, "/ocr", json={"image": b64(samples_dir / "scenes/s01_sign_zh_en.png")})
    jsonschema.validate(r.json(), cs.PADDLEX_BETA_RESPONSE)
    assert r.json()["result"]["texts"][0]["text"] == "复制文件和目录"


@pytest.mark.parametrize(("body", "status"), [
    ({"file": "!!! not base64 !!!"}, 400),
    ({"file": base64.b64encode(b"plain text").decode()}, 415),
    ({"file": "aGVsbG8=", "fileType": 7}, 422),
    ({"file": "aGVsbG8=", "textDetThresh": 5}, 422),
    ({"nofile": 1}, 422),
])
def test_paddlex_errors(server, body, status):
    r = post(server, "/ocr", json=body)
    assert r.status_code == status, r.text
    jsonschema.validate(r.json(), cs.PADDLEX_ERROR)
    assert r.json()["errorCode"] == status and r.json()["logId"] == r.headers["x-request-id"]
    assert "Traceback" not in r.text


def test_oversize_body_is_413(server):
    r = post(server, "/ocr", content=b"{" + b" " * (12 * 1024 * 1024) + b"}",
             headers={"content-type": "application/json"})
    assert r.status_code == 413
    jsonschema.validate(r.json(), cs.PADDLEX_ERROR)


# --- RapidOCR API -------------------------------------------------------------------------------
def test_rapidocr_upload_and_base64_form(server, samples_dir):
    path = samples_dir / "scenes/s01_sign_zh_en.png"
    with path.open("rb") as fh:
        up = post(server, "/ocr", files={"image_file": fh})
    jsonschema.validate(up.json(), cs.RAPIDOCR_RESPONSE)
    assert up.json()["0"]["rec_txt"] == "复制文件和目录"
    form = post(server, "/ocr", data={"image_data": b64(path)})
    assert form.json() == up.json()
    no_rec = post(server, "/ocr", data={"image_data": b64(path), "use_rec": "false"}).json()
    assert [v["rec_txt"] for v in no_rec.values()] == [""] * len(no_rec)
    blank = cv2.imencode(".png", np.full((200, 300, 3), 255, np.uint8))[1].tobytes()
    assert post(server, "/ocr", files={"image_file": ("blank.png", blank)}).json() == {}


def test_rapidocr_missing_image_is_400_json(server):
    r = post(server, "/ocr", data={"use_det": "true"})
    assert r.status_code == 400 and "image_file" in r.json()["detail"]


# --- hub and seed ---------------------------------------------------------------------------------
def test_hub_serving(server, samples_dir):
    images = [b64(samples_dir / "scenes/s01_sign_zh_en.png"), b64(samples_dir / "scenes/s09_large_text_60px.png")]
    r = post(server, "/predict/ocr_system", json={"images": images})
    jsonschema.validate(r.json(), cs.HUB_RESPONSE)
    assert len(r.json()["results"]) == 2 and r.json()["results"][1][0]["text"] == "移除文件或者目录"
    bad = post(server, "/predict/ocr_system", content=b"images=1", headers={"content-type": "text/plain"})
    assert bad.json()["status"] == "112"


@pytest.mark.parametrize(("path", "body"), [
    ("/paddleocr", {"use_angle_cls": True, "det_db_box_thresh": 0.5}),
    ("/easyocr", {"languages": ["ch_sim", "en"]}),
    ("/v1/ocr", {"use_cls": True, "text_score": 0.5}),
])
def test_seed_json_endpoints(server, samples_dir, path, body):
    r = post(server, path, json={"image": b64(samples_dir / "scenes/s01_sign_zh_en.png"), **body})
    jsonschema.validate(r.json(), cs.SEED_RESPONSE)
    assert r.json()["results"][0]["text"] == "复制文件和目录"
    assert r.json()["image_size"] == {"width": 960, "height": 360}


def test_seed_easyocr_unsupported_language_lists_supported(server, samples_dir):
    r = post(server, "/easyocr", json={"image": b64(samples_dir / "scenes/s01_sign_zh_en.png"), "languages": ["ko"]})
    assert r.status_code == 400
    jsonschema.validate(r.json(), cs.SEED_ERROR)
    error = r.json()["error"]  # what would read Korean, how to get it, and what this server reads now
    assert "ocrserve models pull pp-ocrv5-korean" in error and "what is read here: " in error
    assert {"ch", "en"} <= set(error.split("what is read here: ")[1].split(", "))  # pp-ocrv4-mobile reads no kana


def test_seed_uploads(server, samples_dir):
    with (samples_dir / "scenes/s01_sign_zh_en.png").open("rb") as fh:
        r = post(server, "/upload", files={"file": fh}, data={"use_cls": "true"})
    jsonschema.validate(r.json(), cs.SEED_RESPONSE)
    with (samples_dir / "pdf/smi_p8-10.pdf").open("rb") as fh:
        r = post(server, "/upload_pdf", files={"file": fh})
    jsonschema.validate(r.json(), cs.SEED_PDF_RESPONSE)
    pages = r.json()["results"]
    assert [(p["page"], p["index"]) for p in pages] == [(1, 0), (2, 1), (3, 2)]  # one item per page
    assert all(p["result"] for p in pages) and pages[0]["bbox_image"] == [0, 0, *pages[0]["image_size"].values()]
    assert len({p["processing_time"] for p in pages}) == 3  # each page's own time
    with (samples_dir / "scenes/s01_sign_zh_en.png").open("rb") as fh:
        r = post(server, "/upload_pdf", files={"file": fh})
    assert r.status_code == 400
    jsonschema.validate(r.json(), cs.SEED_ERROR)


# --- operations and concurrency -------------------------------------------------------------------
def test_health_root_openapi(server):
    health = httpx.get(f"{server}/health").json()
    jsonschema.validate(health, cs.HEALTH_RESPONSE)
    assert health["providers"] == ["CPUExecutionProvider"] and health["model"] == "pp-ocrv4-mobile"
    assert health["model_version"] == "v4" and health["environment"] == "production"
    assert httpx.get(f"{server}/live").json() == {"live": True}
    assert httpx.get(f"{server}/").json()["message"].startswith("Welcome to RapidOCR API")
    spec = httpx.get(f"{server}/openapi.json").json()
    ops = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    assert {"infer", "checkHealth", "checkReady", "hubOcrSystem", "seedPaddleOCR", "seedEasyOCR", "seedV1OCR",
            "seedUpload", "seedUploadPDF"} <= ops
    assert httpx.get(f"{server}/docs").status_code == 200


def test_concurrent_requests_keep_their_own_options(server, samples_dir):
    img = b64(samples_dir / "scenes/s05_line_rot180.png")
    variants = [{"file": img}, {"file": img, "useTextlineOrientation": False},
                {"file": img, "textRecScoreThresh": 0.999}, {"file": img, "textDetBoxThresh": 0.9}]

    def call(i: int):
        body = post(server, "/ocr", json=variants[i % 4]).json()["result"]["ocrResults"][0]["prunedResult"]
        return body["rec_texts"], body["text_det_params"], body["model_settings"]

    expected = [call(i) for i in range(4)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        got = list(pool.map(call, range(24)))
    for i, result in enumerate(got):
        assert result == expected[i % 4]


def test_metrics_count_requests_and_pages(server, samples_dir):
    post(server, "/ocr", json={"file": b64(samples_dir / "scenes/s01_sign_zh_en.png")})
    text = httpx.get(f"{server}/metrics").text
    assert 'ocrserve_requests_total{method="POST",route="/ocr",status="200"}' in text
    pages = [line for line in text.splitlines() if line.startswith('ocrserve_pages_total{contract="paddlex"} ')]
    assert pages and float(pages[0].split()[1]) >= 1
    assert 'ocrserve_stage_duration_seconds_count{stage="det"}' in text
    for name in ("ocrserve_queue_depth", "ocrserve_queue_wait_seconds_count", "ocrserve_rec_batch_crops_count",
                 "ocrserve_rec_batch_padded_width_count"):
        value = [line for line in text.splitlines() if line.startswith(name + " ")]
        assert value, name
    assert float([line for line in text.splitlines() if line.startswith("ocrserve_rec_batch_crops_count ")][0]
                 .split()[1]) >= 1
