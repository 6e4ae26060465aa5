"""HTTP-layer behaviour in process (httpx over ASGI via TestClient), where a real server adds nothing:
engine failure reporting, body limits, request ids, the error table."""

from __future__ import annotations

import base64
import io
import logging
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from _support.http import wait_in_process_ready
from ocrserve import load_settings
from ocrserve.api.app import create_app
from ocrserve.api.error_responses import status_for
from ocrserve.errors import BadInput, DeadlineExceeded, FetchTimeout, InputTooLarge, ModelMissing, UnsupportedInput
from ocrserve.service.ocr_service import decode_base64


def test_missing_models_make_health_fail_and_requests_503(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    app = create_app(load_settings(model="pp-ocrv6-tiny", model_dir=tmp_path))
    with TestClient(app) as client:
        for _ in range(300):  # the loader thread fails fast; wait until it has
            if client.get("/health").json()["status"] != "loading":
                break
            time.sleep(0.1)
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "failed"
        assert "ocrserve models pull pp-ocrv6-tiny" in health.json()["errorMsg"]
        assert client.get("/ready").status_code == 503
        r = client.post("/ocr", json={"file": "aGVsbG8="})
        assert r.status_code == 503 and "models pull" in r.json()["errorMsg"]
    # the fault is logged once at ERROR by the loader; each request's retryable 503 only warns
    logged = [(rec.levelno, rec.getMessage()) for rec in caplog.records if rec.name.startswith("ocrserve")]
    assert [lv for lv, msg in logged if msg.startswith("engine failed to load")] == [logging.ERROR], logged
    assert [lv for lv, msg in logged if "/ocr -> 503" in msg] == [logging.WARNING], logged


def test_request_id_is_echoed_or_made():
    app = create_app(load_settings(model="pp-ocrv4-mobile"))
    with TestClient(app) as client:
        assert client.get("/", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
        made = client.get("/").headers["x-request-id"]
        assert str(uuid.UUID(made)) == made  # a UUID with dashes, as PaddleX's logId


def test_chunked_body_over_the_limit_is_cut_off(tmp_path):
    app = create_app(load_settings(model="pp-ocrv4-mobile", max_file_size=1024))
    sent = []

    def body():
        for _ in range(100):
            sent.append(1)
            yield b"x" * 1024

    with TestClient(app) as client:
        r = client.post("/ocr", content=body(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "limit" in r.json()["errorMsg"]


def test_image_over_width_limit_is_refused_from_its_header():
    app = create_app(load_settings(model="pp-ocrv4-mobile", max_image_width=1000))
    buf = io.BytesIO()
    Image.new("L", (1200, 10), 255).save(buf, format="PNG")
    with TestClient(app) as client:
        wait_in_process_ready(client)
        r = client.post("/ocr", json={"file": base64.b64encode(buf.getvalue()).decode()})
    assert r.status_code == 413 and "1200x10" in r.json()["errorMsg"]


@pytest.mark.parametrize(("exc", "status"), [(BadInput("x"), 400), (UnsupportedInput("x"), 415),
                                             (InputTooLarge("x"), 413), (FetchTimeout("x"), 408),
                                             (ModelMissing("x"), 503), (DeadlineExceeded("x"), 504),
                                             (RuntimeError("x"), 500)])
def test_one_status_table(exc, status):
    assert status_for(exc) == status


def test_base64_decoding_is_strict_but_accepts_data_urls_and_urlsafe():
    raw = bytes(range(256))
    assert decode_base64(base64.b64encode(raw).decode()) == raw
    assert decode_base64("data:application/octet-stream;base64," + base64.b64encode(raw).decode()) == raw
    assert decode_base64(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
    with pytest.raises(BadInput):
        decode_base64("not base64 at all!")
    with pytest.raises(BadInput):
        decode_base64("   ")
