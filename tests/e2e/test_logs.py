"""Every log line starts with a timestamp: ocrserve's own and gunicorn's and uvicorn's under gunicorn.conf.py
(`ocrserve serve` is covered with the image's steps in test_container.py)."""

from __future__ import annotations

import logging
import pydoc
import re

import httpx

from _support.server import free_port
from _support.workers import GUNICORN, REPO, start_workers
from ocrserve import logs

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


def test_the_formatters_put_a_utc_iso_time_first():
    record = logging.LogRecord("ocrserve.x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    record.created = 0.25
    assert logs.TimestampFormatter(logs.FORMAT).format(record) == "1970-01-01T00:00:00.250Z INFO ocrserve.x: hello there"
    config = logs.uvicorn_log_config("info")
    # the formatters uvicorn builds from it, in each of its processes (built here, not installed)
    made = {name: pydoc.locate(f["()"])(**{k: v for k, v in f.items() if k != "()"})
            for name, f in config["formatters"].items()}
    line = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                             ("127.0.0.1:5000", "GET", "/ready", "1.1", 200), None)
    assert TIMESTAMP.match(made["access"].format(line)) and '"GET /ready HTTP/1.1" 200' in made["access"].format(line)
    assert TIMESTAMP.match(made["default"].format(record)) and TIMESTAMP.match(made["ocrserve"].format(record))
    assert {"uvicorn", "uvicorn.access"} <= set(config["loggers"]) and config["root"]["handlers"] == ["ocrserve"]
    assert config["loggers"]["ocrserve"]["level"] == "INFO"

def test_gunicorn_lines_carry_timestamps(tmp_path):
    port = free_port()
    env = {"OCR_HOST": "127.0.0.1", "OCR_PORT": str(port), "OCR_WORK_COUNT": "1"}
    command = [GUNICORN, "-c", str(REPO / "gunicorn.conf.py"), "--access-logfile", "-"]
    with start_workers(tmp_path, command, env, port, tmp_path) as server:
        server.healthy_workers(1)
        assert httpx.get(f"{server.base}/live", timeout=30).status_code == 200
    lines = [line for line in server.log.read_text().splitlines() if line.strip()]
    assert all(TIMESTAMP.match(line) for line in lines), "\n".join(lines)
    text = "\n".join(lines)
    assert "gunicorn.error: Starting gunicorn" in text  # gunicorn's own
    assert 'uvicorn.access: 127.0.0.1' in text and '"GET /live HTTP/1.1" 200' in text  # the worker's access lines
    assert "ocrserve.service: model set pp-ocrv4-mobile ready: det onnxruntime fp32" in text  # ocrserve's
