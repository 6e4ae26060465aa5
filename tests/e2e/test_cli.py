"""The `ocrserve` command, in-process through cli.main and once as a real subprocess."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from unittest import mock

import cv2
import httpx
import pypdfium2 as pdfium
import pytest

import ocrserve
import ocrserve.launcher
from _support.pdfs import one_page, text_ops
from _support.server import free_port
from ocrserve import load_settings
from ocrserve.cli import main
from ocrserve.launcher import env_name, worker_environment
from ocrserve.models import ModelStore, get_model_set

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


def test_lang_reads_with_the_model_set_or_names_the_set_to_pull(samples_dir, capsys):
    assert main(["predict", "--model", "pp-ocrv4-mobile", "--lang", "ch_sim", str(samples_dir / SIGN)]) == 0
    assert "copy files" in capsys.readouterr().out
    assert main(["predict", "--model", "pp-ocrv4-mobile", "--lang", "ru", str(samples_dir / SIGN)]) != 0
    err = capsys.readouterr().err
    assert "ocrserve models pull pp-ocrv5-eslav" in err and "what is read here: " in err
    assert main(["predict", "--lang", "klingon", str(samples_dir / SIGN)]) != 0
    assert "unknown language 'klingon'" in capsys.readouterr().err


def test_models_list_and_verify(tmp_path, monkeypatch, capsys):
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    for name in ("pp-ocrv4-mobile", "pp-ocrv5-mobile", "pp-ocrv6-small", "pp-ocrv6-tiny"):
        assert name in listing
    assert main(["models", "verify", "pp-ocrv4-mobile"]) == 0
    monkeypatch.setenv("OCR_MODEL_DIR", str(tmp_path))
    assert main(["models", "verify", "pp-ocrv6-tiny"]) == 1
    assert "ocrserve models pull pp-ocrv6-tiny" in capsys.readouterr().err
    assert main(["models", "list"]) == 0  # an empty cache: the OpenVINO int8 build is named with its command
    assert ("OpenVINO int8     missing  OCR_PRECISION=int8, built locally by `ocrserve models quantize "
            "pp-ocrv6-small --backend openvino") in capsys.readouterr().out


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
    monkeypatch.setattr(ocrserve.launcher.signal, "signal", lambda *args: None)
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
    import ocrserve.export.visualize as render

    monkeypatch.setattr(render, "_find_font_file", lambda patterns: None)
    monkeypatch.setattr(render, "_fc_list_chinese_font", lambda: None)
    with caplog.at_level("WARNING", logger="ocrserve.export.visualize"):
        assert render.warn_if_no_cjk_font() is False
    assert [r.levelname for r in caplog.records] == ["WARNING"] and render.CJK_FONT_PACKAGE in caplog.text


def test_serve_announces_the_model_workers_and_urls(caplog):
    with caplog.at_level("INFO", logger="ocrserve.launcher"):
        ocrserve.launcher.announce(load_settings(model="pp-ocrv4-mobile"), "0.0.0.0", 7861, 2)
    line = next(r.getMessage() for r in caplog.records if r.name == "ocrserve.launcher")
    assert "pp-ocrv4-mobile" in line and "2 worker(s)" in line
    assert "http://127.0.0.1:7861/ " in line and "http://127.0.0.1:7861/docs" in line


def long_pdf(pages: int) -> bytes:
    """A born-digital PDF of `pages` pages, each one line of text naming its number."""
    out = pdfium.PdfDocument.new()
    for number in range(1, pages + 1):
        out.import_pages(pdfium.PdfDocument(one_page(text_ops([f"Page {number} of the long report"]))))
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def test_predict_reads_every_page_of_a_pdf_whatever_the_service_caps(tmp_path, monkeypatch, capsys):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(long_pdf(12))
    monkeypatch.setenv("OCR_MAX_PDF_PAGES", "2")  # the HTTP service's caps: not the command line's
    monkeypatch.setenv("OCR_MAX_PDF_DOCUMENT_PAGES", "5")
    assert main(["predict", "--model", "pp-ocrv4-mobile", "--json", str(pdf)]) == 0
    captured = capsys.readouterr()
    pages = json.loads(captured.out)
    assert [p["page"] for p in pages] == list(range(1, 13))
    assert [p["prunedResult"]["rec_texts"] for p in pages] == [[f"Page {n} of the long report"] for n in range(1, 13)]
    assert "pages" not in captured.err

    assert main(["predict", "--model", "pp-ocrv4-mobile", "--max-pages", "4", str(pdf)]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("== ") == 4 and "Page 4 of the long report" in captured.out
    assert f"{pdf}: read the first 4 of 12 pages (--max-pages 4)" in captured.err


@pytest.mark.parametrize("output", ["text", "json", "txt to stdout", "formats to files", "page files"])
def test_max_pages_is_reported_on_every_output_path(tmp_path, capsys, output):
    """`--max-pages 4` of a 12-page PDF: four pages in whatever is written, and the note on stderr, said
    once, in the command line's words (the library's own warning is not shown beside it)."""
    import warnings

    from ocrserve import PagesNotReadWarning

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(long_pdf(12))
    out_dir = tmp_path / "out"
    args = {"text": [], "json": ["--json"], "txt to stdout": ["--format", "txt"],
            # the geometry's Markdown: the layout model takes a lone line atop a page for a header, left out
            "formats to files": ["--format", "txt,md,hocr,pdf", "--no-layout", "--save-path", str(out_dir)],
            "page files": ["--save-path", str(out_dir)]}[output]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["predict", "--model", "pp-ocrv4-mobile", "--max-pages", "4", *args, str(pdf)]) == 0
    assert not [w for w in caught if issubclass(w.category, PagesNotReadWarning)]
    captured = capsys.readouterr()
    assert captured.err.count(f"{pdf}: read the first 4 of 12 pages (--max-pages 4)") == 1
    read = [f"Page {n} of the long report" for n in range(1, 5)]
    if output == "text":
        assert [line for line in captured.out.splitlines() if not line.startswith("== ")] == read
    elif output == "json":
        assert [p["prunedResult"]["rec_texts"] for p in json.loads(captured.out)] == [[t] for t in read]
    elif output == "txt to stdout":
        assert [page.strip() for page in captured.out.split("\f")] == read
    elif output == "formats to files":
        assert [page.strip() for page in (out_dir / "report.txt").read_text(encoding="utf-8").split("\f")] == read
        assert "Page 4 of" in (out_dir / "report.md").read_text(encoding="utf-8")
        assert "Page 5 of" not in (out_dir / "report.md").read_text(encoding="utf-8")
        assert (out_dir / "report.hocr").read_text(encoding="utf-8").count('class="ocr_page"') == 4
        assert len(pdfium.PdfDocument(out_dir / "report.pdf")) == 12  # the whole document, as the service's export
    else:
        assert sorted(p.name for p in out_dir.glob("*.json")) == [f"report_page{n}.json" for n in range(1, 5)]
        assert sorted(p.name for p in out_dir.glob("*.png")) == [f"report_page{n}_ocr.png" for n in range(1, 5)]


def test_pages_of_a_pdf_are_read_one_at_a_time_and_not_kept(tmp_path, monkeypatch, capsys):
    """A long scan: each page is OCRed when asked for, and the command line keeps no page image."""
    from ocrserve import OCR
    from ocrserve.result import OCRPage

    ocr = OCR(model="pp-ocrv4-mobile")
    pdf = long_pdf(3)
    calls = []
    real = ocr.pipeline.predict
    monkeypatch.setattr(ocr.pipeline, "predict", lambda image, options=None: calls.append(1) or real(image, options))
    pages = ocr.pages(pdf, pdf_text="ocr")
    first = next(pages)
    assert len(calls) == 1 and first.page_index == 0 and first.image is not None
    assert [r.page_index for r in pages] == [1, 2] and len(calls) == 3

    kept = []
    monkeypatch.setattr(OCRPage, "to_dict", lambda self, _real=OCRPage.to_dict: kept.append(self) or _real(self))
    path = tmp_path / "scan.pdf"
    path.write_bytes(pdf)
    assert main(["predict", "--model", "pp-ocrv4-mobile", "--pdf-text", "ocr", "--json", str(path)]) == 0
    assert len(kept) == 3 and all(r.image is None for r in kept)  # dropped as each page was printed


def test_config_says_where_each_value_came_from(tmp_path, monkeypatch, capsys):
    rapid = tmp_path / "rapidocr.yaml"
    rapid.write_text("Det:\n  box_thresh: 0.45\nRec:\n  rec_batch_num: 3\n", encoding="utf-8")
    own = tmp_path / "ocr.yaml"
    own.write_text(f"text_score: 0.61\nmodel: pp-ocrv6-tiny\nport: 7000\nmodel_config_path: {rapid}\n",
                   encoding="utf-8")
    monkeypatch.setenv("OCR_CONFIG_FILE", str(own))
    monkeypatch.setenv("OCR_WORK_COUNT", "3")  # the seed service's name for OCR_WORKERS
    monkeypatch.setenv("OCR_MODEL", "pp-ocrv4-mobile")  # beats the YAML file, loses to --model
    monkeypatch.setenv("OCR_API_TOKENS", "very-secret-token")
    assert main(["config", "--model", "pp-ocrv6-small", "--port", "7123"]) == 0
    out = capsys.readouterr().out
    assert "very-secret-token" not in out
    lines = {line.split(" = ")[0]: line for line in out.splitlines() if " = " in line}
    expected = {
        "OCR_MODEL": ("pp-ocrv6-small", "command-line option --model"),
        "OCR_PORT": ("7123", "command-line option --port"),
        "OCR_WORKERS": ("3", "environment variable OCR_WORK_COUNT"),
        "OCR_API_TOKENS": ("********", "environment variable OCR_API_TOKENS"),
        "OCR_CONFIG_FILE": (str(own), "environment variable OCR_CONFIG_FILE"),
        "OCR_TEXT_SCORE": ("0.61", f"YAML config file {own} (OCR_CONFIG_FILE)"),
        "OCR_MODEL_CONFIG_PATH": (str(rapid), f"YAML config file {own} (OCR_CONFIG_FILE)"),
        "OCR_BOX_THRESH": ("0.45", f"RapidOCR config.yaml {rapid} Det.box_thresh (OCR_MODEL_CONFIG_PATH)"),
        "OCR_REC_BATCH_SIZE": ("3", f"RapidOCR config.yaml {rapid} Rec.rec_batch_num (OCR_MODEL_CONFIG_PATH)"),
        "OCR_MAX_PDF_PAGES": ("10", "default"),
        "OCR_WAIT_FOR_MODELS": ("false", "default"),
    }
    for name, (value, source) in expected.items():
        shown, _, said = lines[name].partition("  # ")
        assert (shown.split(" = ", 1)[1].strip(), said) == (value, source), name
    assert len(lines) == len(ocrserve.Settings.model_fields)

    assert main(["config", "--json", "--port", "7123"]) == 0
    values = json.loads(capsys.readouterr().out)
    assert values["model"] == "pp-ocrv4-mobile" and values["port"] == 7123 and values["api_tokens"] == "********"
    sources = values["sources"]
    assert sources["model"] == {"variable": "OCR_MODEL", "source": "environment", "from": "OCR_MODEL"}
    assert sources["port"] == {"variable": "OCR_PORT", "source": "command_line", "from": "--port"}
    assert sources["workers"] == {"variable": "OCR_WORKERS", "source": "environment", "from": "OCR_WORK_COUNT"}
    assert sources["text_score"] == {"variable": "OCR_TEXT_SCORE", "source": "config_file", "from": str(own)}
    assert sources["box_thresh"]["source"] == "rapidocr_config"
    assert sources["host"] == {"variable": "OCR_HOST", "source": "default", "from": None}


# --- serve with model files missing: a real process on a free loopback port ---------------------
def _model_env(model_dir, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("OCR_")}
    return dict(env, OCR_MODEL="pp-ocrv6-tiny", OCR_MODEL_DIR=str(model_dir), **extra)


def test_serve_with_missing_models_exits_at_once_naming_the_files_and_the_fix(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ocrserve", "serve", "--host", "127.0.0.1", "--port",
                           str(free_port())], env=_model_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    for f in get_model_set("pp-ocrv6-tiny").files():
        assert f.path in proc.stderr
    assert "fix: ocrserve models pull pp-ocrv6-tiny" in proc.stderr and "OCR_WAIT_FOR_MODELS=true" in proc.stderr
    assert "Uvicorn running" not in proc.stderr + proc.stdout


def test_serve_told_to_wait_for_models_loads_them_once_they_appear(tmp_path, samples_dir):
    pulled = ModelStore(load_settings().model_dir)  # where `ocrserve models pull` put them for the tests
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ocrserve", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=_model_env(model_dir, OCR_WAIT_FOR_MODELS="true"), stdout=out,
                                stderr=subprocess.STDOUT)

    def until(status: int, path: str) -> httpx.Response:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                answer = httpx.get(base + path, timeout=2)
                if answer.status_code == status:
                    return answer
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{path} never answered {status}: " + log.read_text()
            time.sleep(0.3)

    image = (samples_dir / SIGN).read_bytes()
    try:
        until(200, "/live")
        waiting = httpx.get(base + "/ready", timeout=5)
        assert waiting.status_code == 503
        assert waiting.json()["error"].startswith("waiting for model files (OCR_WAIT_FOR_MODELS)")
        assert "det/det.onnx" in waiting.json()["error"]
        refused = httpx.post(base + "/ocr", files={"image_file": ("sign.png", image)}, timeout=30)
        assert refused.status_code == 503 and "waiting for model files" in refused.text
        for f in get_model_set("pp-ocrv6-tiny").files():  # what an init container would pull there
            target = ModelStore(model_dir).cached_path(f)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(pulled.locate(f))
        assert until(200, "/ready").json() == {"ready": True, "model": "pp-ocrv6-tiny"}
        answer = httpx.post(base + "/ocr", files={"image_file": ("sign.png", image)}, timeout=60)
        assert answer.status_code == 200
        assert [line["rec_txt"] for line in answer.json().values()] == ["复制文件和目录",
                                                                        "cp - copy files and directories"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, log.read_text()
    text = log.read_text()
    assert text.count("ocrserve.service: waiting for model files") == 1  # logged once, not at every poll
    assert f"page http://127.0.0.1:{port}/" in text  # the startup log is shown, not only under -v


def test_output_cut_short_by_its_reader_is_no_traceback():
    """`ocrserve models list | head -1`: the command stops quietly when the pipe closes."""
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "ocrserve", "models", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.readline()
    proc.stdout.close()
    assert "Traceback" not in proc.stderr.read().decode() and proc.wait(timeout=60) in (0, 141)
