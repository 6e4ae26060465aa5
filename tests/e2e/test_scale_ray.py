"""`ocrserve serve --ray` against plain `ocrserve serve`: same contracts, same results.

Both servers run as subprocesses on 127.0.0.1 with the pp-ocrv4-mobile set.  The Ray one starts
a local Ray instance (bound to 127.0.0.1, a small object store), deploys the ingress and the
recognition deployment, and must answer the PaddleX `/ocr` (image and PDF) and the RapidOCR
`/ocr` requests exactly as the plain server does, and read a job's pages as the plain server reads
them, through the recognition deployment; SIGTERM must take everything down (exit 0).
"""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from _support.fakes import FakeRecognizer
from _support.server import start_server
from _support.workers import sample
from ocrserve.engine.batcher import recognize_together
from ocrserve.errors import InferenceError, ModelCorrupt
from ocrserve.ray_deployment import RemoteFailure, ingress_actor_options, to_wire
from ocrserve.settings import load_settings

RAY_ENV = {
    "OCR_RAY_OBJECT_STORE_MEMORY": str(200 * 1024 * 1024),
    "OCR_RAY_INGRESS_CPUS": "0.5",
    "OCR_RAY_REC_CPUS": "0.5",
    "OCR_MAX_PDF_PAGES": "2",
    "RAY_USAGE_STATS_ENABLED": "0",
    "OCR_JOB_MODELS": "PP-OCRv6=pp-ocrv4-mobile",  # the client's default name, mapped to OCR_MODEL
}
PLAIN_ENV = {"OCR_MAX_PDF_PAGES": "2"}
PDF = "pdf/tasn1_p6-8.pdf"  # three pages with a text layer; OCR_MAX_PDF_PAGES keeps two of them
JOBS = "/api/v2/ocr/jobs"


def requests_to_send(samples_dir) -> list[tuple[str, dict]]:
    """(label, httpx keyword arguments) for every request both servers get."""
    page = (samples_dir / "pages" / "p05_en_table_smi_p12.png").read_bytes()
    scene = (samples_dir / "scenes" / "s01_sign_zh_en.png").read_bytes()
    pdf = (samples_dir / PDF).read_bytes()
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    return [
        ("paddlex image", {"url": "/ocr", "json": {"file": b64(page), "fileType": 1}}),
        ("paddlex pdf", {"url": "/ocr", "json": {"file": b64(pdf), "fileType": 0}}),
        ("paddlex pdf by ocr", {"url": "/ocr", "json": {"file": b64(pdf), "fileType": 0, "pdfText": "ocr"}}),
        ("rapidocr upload", {"url": "/ocr", "files": {"image_file": ("scene.png", scene, "image/png")}}),
        ("paddlex bad base64", {"url": "/ocr", "json": {"file": "@@not base64@@", "fileType": 1}}),
    ]


def comparable(response: httpx.Response):
    """The status and JSON body, without the per-request id."""
    body = response.json()
    if isinstance(body, dict):
        body.pop("logId", None)
    return response.status_code, body


def answers(base: str, samples_dir) -> dict[str, tuple[int, object]]:
    with httpx.Client(base_url=base, timeout=120) as client:
        return {label: comparable(client.post(**kwargs)) for label, kwargs in requests_to_send(samples_dir)}


@pytest.fixture(scope="module")
def plain_answers(tmp_path_factory, samples_dir):
    with start_server(tmp_path_factory, PLAIN_ENV) as base:
        return answers(base, samples_dir)


@pytest.fixture(scope="module")
def ray_server(tmp_path_factory):
    """One `ocrserve serve --ray` for the module (a Ray start is the slow part); its exit is checked."""
    env = dict(RAY_ENV, OCR_JOB_DIR=str(tmp_path_factory.mktemp("jobs")))
    with start_server(tmp_path_factory, env, extra_args=("--ray",), ready_timeout=150) as base:
        yield base


def test_ray_serve_answers_like_the_plain_server(ray_server, samples_dir, plain_answers):
    base = ray_server
    ray_answers = answers(base, samples_dir)
    # concurrent pages share recognition batches in the Ray deployment too, with the same texts
    page = {"file": base64.b64encode((samples_dir / "pages" / "p05_en_table_smi_p12.png").read_bytes()).decode(),
            "fileType": 1}
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda _: comparable(httpx.post(f"{base}/ocr", json=page, timeout=120)),
                                   range(4)))
    health = httpx.get(f"{base}/health", timeout=10)
    assert set(ray_answers) == set(plain_answers)
    for label, expected in plain_answers.items():
        assert ray_answers[label] == expected, label
    assert plain_answers["paddlex image"][0] == 200
    assert len(plain_answers["paddlex image"][1]["result"]["ocrResults"][0]["prunedResult"]["rec_texts"]) > 5
    assert plain_answers["paddlex pdf"][1]["result"]["dataInfo"]["numPages"] == 2
    assert plain_answers["paddlex bad base64"][0] == 400
    assert all(answer == plain_answers["paddlex image"] for answer in concurrent)
    assert health.status_code == 200


def run_job(base: str, pdf: bytes) -> list[dict]:
    """Pages 1-2 of `pdf` as a job read by OCR (not from the text layer); its JSONL lines once done."""
    with httpx.Client(base_url=base, timeout=60) as client:
        submitted = client.post(JOBS, files={"file": ("doc.pdf", pdf, "application/pdf")},
                                data={"model": "PP-OCRv6", "pageRanges": "1-2",
                                      "optionalPayload": json.dumps({"pdfText": "ocr", "visualize": False})})
        assert submitted.status_code == 200 and submitted.json()["code"] == 0, submitted.text
        job_id = submitted.json()["data"]["jobId"]
        deadline = time.monotonic() + 600  # a hang guard, not a measurement
        while (status := client.get(f"{JOBS}/{job_id}").json()["data"])["state"] in ("pending", "running"):
            assert time.monotonic() < deadline, status
            time.sleep(0.5)
        assert status["state"] == "done", status
        result = client.get(status["resultUrl"]["jsonUrl"])
        assert result.status_code == 200, result.text
    return [json.loads(line) for line in result.text.splitlines()]


def test_a_job_is_read_like_the_plain_server_through_the_recognition_deployment(ray_server, samples_dir,
                                                                                 plain_answers):
    before = httpx.get(f"{ray_server}/metrics", timeout=10).text
    lines = run_job(ray_server, (samples_dir / PDF).read_bytes())
    after = httpx.get(f"{ray_server}/metrics", timeout=10).text
    status, expected = plain_answers["paddlex pdf by ocr"]
    assert status == 200 and len(expected["result"]["ocrResults"]) == 2
    pages = [line["result"]["ocrResults"][0]["prunedResult"]["rec_texts"] for line in lines]
    assert pages == [page["prunedResult"]["rec_texts"] for page in expected["result"]["ocrResults"]]
    assert all(len(texts) > 5 for texts in pages)
    # the job's crops went to OCRRecognition (its warm-up's too), and no recognition ran in the ingress
    sent = sample(after, "ocrserve_rec_remote_crops_total") - sample(before, "ocrserve_rec_remote_crops_total")
    assert sent >= sum(len(texts) for texts in pages)
    assert sample(after, "ocrserve_rec_batch_crops_count") == 0


def test_a_failing_page_travels_back_as_its_own_typed_error():
    """The recognition deployment's batch: one page's bad chunk is that page's error value only."""
    good = [np.zeros((10, w, 3), np.uint8) for w in (30, 40)]
    bad = [np.zeros((1, 5, 3), np.uint8)]
    wire = [to_wire(o) for o in recognize_together(FakeRecognizer(), [good, bad, good], 6)]
    assert [r.text for r in wire[0]] == ["30", "40"] and wire[2] == wire[0]
    assert isinstance(wire[1], RemoteFailure)
    error = wire[1].to_exception()
    assert isinstance(error, InferenceError) and "bad crop" in str(error)
    assert isinstance(RemoteFailure.of(ModelCorrupt("shape")).to_exception(), ModelCorrupt)


def test_ingress_replicas_ask_for_custom_resources_only_when_set():
    assert ingress_actor_options(load_settings(ray_ingress_cpus=0.5), environ={}) == {"num_cpus": 0.5, "num_gpus": 0.0}
    spread = ingress_actor_options(load_settings(ray_ingress_resources="ocr_ingress=1"), environ={})
    assert spread["resources"] == {"ocr_ingress": 1.0}


def test_ingress_replicas_carry_the_s3_variables_set_where_serve_runs():
    environ = {"AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ENDPOINT_URL": "http://s3:8333",
               "HOME": "/root", "OCR_MODEL": "pp-ocrv6-small"}
    options = ingress_actor_options(load_settings(), environ=environ)
    assert options["runtime_env"] == {"env_vars": {"AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret",
                                                   "AWS_ENDPOINT_URL": "http://s3:8333"}}
    chosen = ingress_actor_options(load_settings(ray_forward_env="HOME"), environ=environ)
    assert chosen["runtime_env"] == {"env_vars": {"HOME": "/root"}}
    assert "runtime_env" not in ingress_actor_options(load_settings(ray_forward_env=""), environ=environ)
