"""The contract modules: their defaults and precedence, the OpenAPI document they generate, and
what every "Try it out" of /docs sends (in process, the real pp-ocrv4-mobile engine)."""

from __future__ import annotations

import importlib
import json
import logging
import pkgutil
import time

import pytest
from fastapi.testclient import TestClient

import ocrserve.contracts
from _support.http import wait_in_process_ready
from ocrserve import load_settings
from ocrserve.api.app import create_app
from ocrserve.contracts import hub, paddlex, rapidocr, seed
from ocrserve.contracts.base import EXAMPLE_IMAGE_B64, Contract
from ocrserve.engine import OCROptions


def _contracts() -> dict[str, Contract]:
    """Every contract module's CONTRACT, found in the package (a new module is tested without a list to edit)."""
    found = {}
    for info in pkgutil.iter_modules(ocrserve.contracts.__path__):
        contract = getattr(importlib.import_module(f"ocrserve.contracts.{info.name}"), "CONTRACT", None)
        if isinstance(contract, Contract):
            found[contract.name] = contract
    return found


CONTRACTS = _contracts()

MODEL = "pp-ocrv4-mobile"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(load_settings(model=MODEL))) as c:
        wait_in_process_ready(c)
        yield c


@pytest.fixture(scope="module")
def operator_client():
    """An operator who set thresholds and turned result images off."""
    settings = load_settings(model=MODEL, text_score=0.7, box_thresh=0.55, visualize=False)
    with TestClient(create_app(settings)) as c:
        wait_in_process_ready(c)
        yield c


def effective(client: TestClient, contract_name: str, options: OCROptions | None = None):
    service = client.app.state.service
    return service.pipeline.resolve_options(options, CONTRACTS[contract_name].defaults)


# --- defaults and precedence ---------------------------------------------------------------------
ORIGINAL_DEFAULTS = {  # (score threshold, box threshold, unclip ratio) of each original; None = model set's
    "paddlex": (0.0, None, None),
    "rapidocr": (0.5, 0.5, 1.6),
    "hub": (0.5, 0.6, 1.5),
    "seed": (0.5, 0.5, 1.6),
    "jobs": (0.0, None, None),  # PaddleOCR's official job API: PaddleX's pipeline defaults
    "export": (0.5, None, None),  # ours: files people keep, so doubtful lines are left out
    "pp-structurev3": (0.0, None, None),  # PaddleX's PP-StructureV3 serving: every line kept, as its /ocr
}


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_each_contract_resolves_to_its_originals_defaults(client, name):
    assert set(ORIGINAL_DEFAULTS) == set(CONTRACTS)  # a new contract states its defaults here
    model_set = client.app.state.service.pipeline.models.model_set
    score, box, unclip = ORIGINAL_DEFAULTS[name]
    got = effective(client, name)
    assert got.text_rec_score_thresh == score
    assert got.det.box_thresh == (box if box is not None else model_set.det.box_thresh)
    assert got.det.unclip_ratio == (unclip if unclip is not None else model_set.det.unclip_ratio)


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_request_beats_setting_beats_contract_default(operator_client, name):
    assert effective(operator_client, name).text_rec_score_thresh == 0.7  # the operator's setting
    assert effective(operator_client, name).det.box_thresh == 0.55
    asked = OCROptions(text_rec_score_thresh=0.2, text_det_box_thresh=0.3)
    assert effective(operator_client, name, asked).text_rec_score_thresh == 0.2  # the request
    assert effective(operator_client, name, asked).det.box_thresh == 0.3


def test_result_images_follow_request_then_setting_then_original():
    plain, off, on = load_settings(), load_settings(visualize=False), load_settings(visualize=True)
    assert paddlex.CONTRACT.visualize(None, plain) is True  # PaddleX returns them
    assert rapidocr.CONTRACT.visualize(None, plain) is False and seed.CONTRACT.visualize(None, plain) is False
    assert hub.CONTRACT.visualize(None, plain) is False
    assert paddlex.CONTRACT.visualize(None, off) is False and rapidocr.CONTRACT.visualize(None, on) is True
    assert paddlex.CONTRACT.visualize(True, off) is True and paddlex.CONTRACT.visualize(False, on) is False


def test_paddlex_reports_its_defaults_and_the_operators(client, operator_client):
    body = {"file": EXAMPLE_IMAGE_B64}
    page = client.post("/ocr", json=body).json()["result"]["ocrResults"][0]
    assert page["prunedResult"]["text_rec_score_thresh"] == 0.0 and "ocrImage" in page
    page = operator_client.post("/ocr", json=body).json()["result"]["ocrResults"][0]
    assert page["prunedResult"]["text_rec_score_thresh"] == 0.7 and set(page) == {"prunedResult"}
    assert page["prunedResult"]["text_det_params"]["box_thresh"] == 0.55


# --- the OpenAPI document and /docs ---------------------------------------------------------------
def _refs(node, found):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.add(node["$ref"])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def test_openapi_is_generated_from_the_models_and_every_reference_resolves(client):
    spec = client.get("/openapi.json").json()
    components = spec.get("components", {}).get("schemas", {})
    for ref in _refs(spec, set()):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in components, ref
    ocr = spec["paths"]["/ocr"]["post"]
    assert set(ocr["requestBody"]["content"]) == {"application/json", "multipart/form-data",
                                                  "application/x-www-form-urlencoded"}
    assert ocr["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]["image_file"]["format"] \
        == "binary"
    for name in ("OCRResponse", "BetaResponse", "HealthResponse", "PDFResponse"):
        assert any(key.endswith(name) for key in components), name


def _examples(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                if "example" in content:
                    yield path, method, media, content["example"]


def test_every_try_it_out_returns_real_text_with_its_prefilled_values(client):
    """What Swagger UI pre-fills is each media type's example; sent as is, each must read the example page."""
    spec = client.get("/openapi.json").json()
    sent = []
    for path, method, media, example in _examples(spec):
        if media == "application/json":
            r = client.request(method, path, json=example)
        else:
            r = client.request(method, path, data=example)
        assert r.status_code == 200, (path, media, r.text)
        text = json.dumps(r.json(), ensure_ascii=False)
        assert "Invoice 2026-0042" in text and "128.50" in text, (path, media, text[:300])
        sent.append((path, media))
    assert {p for p, _ in sent} >= {"/ocr", "/predict/ocr_system", "/paddleocr", "/easyocr", "/v1/ocr"}
    for path in ("/upload", "/upload_pdf", "/ocr"):  # form fields pre-fill their examples, never a bound
        schema = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        for name in ("text_score",):
            assert schema["properties"][name].get("examples") == [0.5], (path, schema["properties"][name])


# --- engine load failures -------------------------------------------------------------------------
def test_a_load_failure_of_any_type_is_reported_with_its_traceback(caplog):
    def broken(settings, on_batch=None):
        raise RuntimeError("the accelerator vanished")

    with caplog.at_level(logging.ERROR, logger="ocrserve.service"):
        with TestClient(create_app(load_settings(model=MODEL), pipeline_factory=broken)) as c:
            deadline = time.monotonic() + 10
            while c.get("/health").json()["status"] == "loading":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            health = c.get("/health")
            assert health.status_code == 503 and health.json()["status"] == "failed"
            assert "the accelerator vanished" in health.json()["errorMsg"]
            r = c.post("/ocr", json={"file": EXAMPLE_IMAGE_B64})
            assert r.status_code == 503 and "the accelerator vanished" in r.json()["errorMsg"]
    assert any(rec.exc_info and "the accelerator vanished" in str(rec.exc_info[1]) for rec in caplog.records)


@pytest.mark.parametrize("load_before_serving", [False, True])
def test_a_server_loading_before_serving_starts_only_once_the_load_has_ended(load_before_serving):
    def slow_then_broken(settings, on_batch=None):  # a load's end, seen without loading models
        time.sleep(1.0)
        raise RuntimeError("slow load failed")

    app = create_app(load_settings(model=MODEL), pipeline_factory=slow_then_broken,
                     load_before_serving=load_before_serving)
    with TestClient(app) as c:  # entering runs the start (lifespan)
        status = c.get("/health").json()["status"]
    assert status == ("failed" if load_before_serving else "loading")
