"""The `ocrserve` command, in-process through cli.main and once as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from unittest import mock

import cv2
import pytest

import ocrserve
import ocrserve.serve
from ocrserve import load_settings
from ocrserve.cli import main
from ocrserve.serve import env_name, worker_environment

SIGN = "scenes/s01_sign_zh_en.png"


def test_predict_prints_text(samples_dir, capsys):
    assert main(["predict", "--model", "pp-ocrv4-mobile", str(samples_dir / SIGN)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("== ") and "复制文件和目录" in out


def test_predict_json_directory_and_pdf(samples_dir, tmp_path, capsys):
    nested = tmp_path / "in" / "nested"
    nested.mkdir(parents=True)
    shutil.copy(samples_dir / SIGN, tmp_path / "in" / "a.png")
    shutil.copy(samples_dir / "scenes/s09_large_text_60px.png", nested / "b.png")
    (tmp_path / "in" / "notes.txt").write_text("not an image")
    pdf = samples_dir / "pdf/smi_p8-10.pdf"
    assert main(["predict", "--model", "pp-ocrv4-mobile", "--json", str(tmp_path / "in"), str(pdf)]) == 0
    pages = json.loads(capsys.readouterr().out)
    assert [p["page"] for p in pages] == [None, None, 1, 2, 3]
    assert pages[1]["input"].endswith("nested/b.png")
    assert {"rec_texts", "rec_polys", "dt_polys"} <= set(pages[0]["prunedResult"])


def test_predict_save_path_writes_json_and_images(samples_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["predict", "--model", "pp-ocrv4-mobile", "--save-path", str(out), str(samples_dir / SIGN)]) == 0
    saved = json.loads((out / "s01_sign_zh_en.json").read_text(encoding="utf-8"))
    assert saved["res"]["rec_texts"][0] == "复制文件和目录"
    image = cv2.imread(str(out / "s01_sign_zh_en_ocr.png"))
    assert image.shape[:2] == (360, 2 * 960)


def test_bad_file_is_reported_and_others_still_run(samples_dir, tmp_path, capsys):
    fake = tmp_path / "fake.png"
    fake.write_text("this is text")
    code = main(["predict", "--model", "pp-ocrv4-mobile", str(fake), str(tmp_path / "missing.png"),
                 str(samples_dir / SIGN)])
    captured = capsys.readouterr()
    assert code == 1
    assert "fake.png" in captured.err and "missing.png" in captured.err
    assert "复制文件和目录" in captured.out


def test_unknown_model_is_a_usage_error(samples_dir, capsys):
    assert main(["predict", "--model", "pp-ocrv9", str(samples_dir / SIGN)]) == 2
    assert "pp-ocrv6-small" in capsys.readouterr().err


def test_models_list_and_verify(tmp_path, monkeypatch, capsys):
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    for name in ("pp-ocrv4-mobile", "pp-ocrv5-mobile", "pp-ocrv6-small", "pp-ocrv6-tiny"):
        assert name in listing
    assert main(["models", "verify", "pp-ocrv4-mobile"]) == 0
    monkeypatch.setenv("OCR_MODEL_DIR", str(tmp_path))
    assert main(["models", "verify", "pp-ocrv6-tiny"]) == 1
    assert "ocrserve models pull pp-ocrv6-tiny" in capsys.readouterr().err


def test_config_masks_secrets(monkeypatch, capsys):
    monkeypatch.setenv("OCR_API_TOKENS", "very-secret-token")
    monkeypatch.setenv("OCR_MODEL", "pp-ocrv6-tiny")
    assert main(["config", "--json"]) == 0
    out = capsys.readouterr().out
    values = json.loads(out)
    assert values["model"] == "pp-ocrv6-tiny" and values["api_tokens"] == "********"
    assert "very-secret-token" not in out


def test_console_script_runs_as_a_process(samples_dir):
    proc = subprocess.run([sys.executable, "-m", "ocrserve", "predict", "--model", "pp-ocrv4-mobile", "--json",
                           str(samples_dir / SIGN)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["prunedResult"]["rec_texts"][0] == "复制文件和目录"
    helped = subprocess.run([sys.executable, "-m", "ocrserve", "predict", "--help"], capture_output=True, text=True)
    assert "--save-path" in helped.stdout


# --- serve: what reaches the worker processes (no server is started: uvicorn.run is faked) ---
@pytest.fixture
def fake_uvicorn(monkeypatch):
    """uvicorn.run replaced by a recorder that also builds the settings as a worker process would
    (from the environment at that moment); signal handlers left alone."""
    import uvicorn

    calls: list[dict] = []

    def run(app, **kwargs):
        calls.append({"app": app, "kwargs": kwargs, "worker_settings": load_settings()})

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(ocrserve.serve.signal, "signal", lambda *args: None)
    with mock.patch.dict(os.environ):  # whatever serve exports is undone after the test
        yield calls


def test_serve_workers_get_the_command_lines_model(fake_uvicorn, monkeypatch):
    monkeypatch.setenv("OCR_MODEL", "pp-ocrv6-tiny")
    monkeypatch.setenv("OCR_WORK_COUNT", "5")
    assert main(["serve", "--workers", "3", "--model", "pp-ocrv4-mobile", "--port", "7999"]) == 0
    (call,) = fake_uvicorn
    assert call["app"] == "ocrserve.api.app:create_app" and call["kwargs"]["factory"] is True
    assert call["kwargs"]["workers"] == 3 and call["kwargs"]["port"] == 7999
    worker = call["worker_settings"]
    assert worker.model == "pp-ocrv4-mobile" and worker.workers == 3 and worker.port == 7999


def test_serve_workers_without_options_keep_the_environment(fake_uvicorn, monkeypatch):
    monkeypatch.setenv("OCR_MODEL", "pp-ocrv6-tiny")
    monkeypatch.setenv("OCR_WORKERS", "2")
    assert main(["serve"]) == 0
    (call,) = fake_uvicorn
    assert call["kwargs"]["workers"] == 2 and call["worker_settings"].model == "pp-ocrv6-tiny"


def test_serve_one_worker_builds_the_app_from_the_command_line(fake_uvicorn, monkeypatch):
    monkeypatch.setenv("OCR_MODEL", "pp-ocrv6-tiny")
    assert main(["serve", "--model", "pp-ocrv4-mobile"]) == 0
    (call,) = fake_uvicorn
    assert call["app"].state.settings.model == "pp-ocrv4-mobile"  # the app object, engine not loaded


def test_worker_environment_round_trips_through_the_settings(monkeypatch):
    settings = load_settings(model="pp-ocrv4-mobile", workers=4, providers=["cuda", "cpu"], use_gpu=True,
                             det_model_path="/m/det.onnx", max_file_size="1MB")
    env = worker_environment(settings, ["model", "workers", "providers", "use_gpu", "det_model_path",
                                        "max_file_size", "text_score"])
    assert env == {"OCR_MODEL": "pp-ocrv4-mobile", "OCR_WORKERS": "4", "OCR_PROVIDERS": "cuda,cpu",
                   "OCR_USE_GPU": "true", "OCR_DET_MODEL_PATH": "/m/det.onnx", "OCR_MAX_FILE_SIZE": "1048576"}
    assert env_name("workers") == "OCR_WORKERS" and env_name("model") == "OCR_MODEL"
    with mock.patch.dict(os.environ, {"OCR_MODEL": "pp-ocrv6-tiny", **env}):
        again = load_settings()
    for field in ("model", "workers", "providers", "use_gpu", "det_model_path", "max_file_size"):
        assert getattr(again, field) == getattr(settings, field), field


# --- the first minute ------------------------------------------------------------------------
def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"ocrserve {ocrserve.__version__}"


def test_predict_on_a_folder_without_images_says_so_and_fails(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("no image here")
    assert main(["predict", str(tmp_path)]) == 1
    assert "no images or PDFs found" in capsys.readouterr().err


def test_a_missing_cjk_font_is_one_warning_naming_the_package(monkeypatch, caplog):
    import ocrserve.render as render

    monkeypatch.setattr(render, "_find_font_file", lambda patterns: None)
    monkeypatch.setattr(render, "_fc_list_chinese_font", lambda: None)
    with caplog.at_level("WARNING", logger="ocrserve.render"):
        assert render.warn_if_no_cjk_font() is False
    assert [r.levelname for r in caplog.records] == ["WARNING"] and render.CJK_FONT_PACKAGE in caplog.text


def test_serve_announces_the_model_workers_and_urls(caplog):
    with caplog.at_level("INFO", logger="ocrserve.serve"):
        ocrserve.serve.announce(load_settings(model="pp-ocrv4-mobile"), "0.0.0.0", 7861, 2)
    line = next(r.getMessage() for r in caplog.records if r.name == "ocrserve.serve")
    assert "pp-ocrv4-mobile" in line and "2 worker(s)" in line
    assert "http://127.0.0.1:7861/ " in line and "http://127.0.0.1:7861/docs" in line
