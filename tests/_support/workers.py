"""Real multi-worker servers on a free loopback port: gunicorn (either command form) or
`ocrserve serve --workers N`, each stopped with SIGTERM as an orchestrator would."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from _support.server import free_port

REPO = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


@dataclass
class Workers:
    """A running server: its base URL, supervisor process, log and scratch directory; `ids` is for
    the tests to note the worker ids they know of."""

    base: str
    proc: subprocess.Popen
    log: Path
    tmp: Path
    ids: set[int] = field(default_factory=set)

    def health(self) -> dict:
        """/health on a fresh connection, so that any worker may take it."""
        return httpx.get(f"{self.base}/health", timeout=30, headers={"Connection": "close"}).json()

    def healthy_workers(self, count: int, deadline_s: float = 240) -> set[int]:
        """The ids of `count` workers that answered healthy, waiting until each has loaded its models."""
        seen: set[int] = set()
        deadline = time.monotonic() + deadline_s
        while len(seen) < count:
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, f"healthy workers seen: {seen}\n" + self.log.read_text()
            try:
                body = self.health()
            except httpx.TransportError:
                time.sleep(0.3)
                continue
            if body["status"] == "healthy":
                seen.add(body["worker_id"])
            else:
                time.sleep(0.3)
        return seen

    def metrics(self) -> str:
        return httpx.get(f"{self.base}/metrics", timeout=30).text

    def metrics_once(self, check: Callable[[str], bool], deadline_s: float = 60) -> str:
        """/metrics once `check` holds: a worker counts a request just after sending its answer, so a
        scrape right after the last answer may come before that count."""
        deadline = time.monotonic() + deadline_s
        text = self.metrics()
        while not check(text) and time.monotonic() < deadline:
            time.sleep(0.2)
            text = self.metrics()
        return text


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"^{re.escape(name)}(\{{.*\}})? (\S+)$", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


@contextlib.contextmanager
def start_workers(tmp_path: Path, command: list[str], env: dict[str, str], port: int,
                  cwd: Path) -> Iterator[Workers]:
    """Run `command` (which listens on `port`) until the block ends; its exit status must be 0."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("OCR_", "PROMETHEUS_", "GUNICORN_"))}
    # the session's model dir (the pulled files, linked) survives the clean slate; XDG_RUNTIME_DIR: gunicorn's socket
    full_env.update({"OCR_MODEL": "pp-ocrv4-mobile", "OCR_MODEL_DIR": os.environ["OCR_MODEL_DIR"],
                     "XDG_RUNTIME_DIR": str(tmp_path), **env})
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, env=full_env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield Workers(f"http://127.0.0.1:{port}", proc, log, tmp_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert code == 0, log.read_text()


def gunicorn_conf(tmp_path: Path, workers: int, env: dict[str, str] | None = None) -> contextlib.AbstractContextManager:
    """`gunicorn -c gunicorn.conf.py`, settings from OCR_* variables, from a directory without one."""
    port = free_port()
    env = {"OCR_HOST": "127.0.0.1", "OCR_PORT": str(port), "OCR_WORK_COUNT": str(workers), **(env or {})}
    return start_workers(tmp_path, [GUNICORN, "-c", str(REPO / "gunicorn.conf.py")], env, port, tmp_path)


def gunicorn_seed_form(tmp_path: Path, workers: int, worker_class: str, cwd: Path,
                       env: dict[str, str]) -> contextlib.AbstractContextManager:
    """The seed service's command, `gunicorn -w N -k CLASS --bind HOST:PORT MODULE:APP`, run in `cwd`."""
    port = free_port()
    command = [GUNICORN, "-w", str(workers), "-k", worker_class, "--bind", f"127.0.0.1:{port}",
               "ocrserve.api.app:app"]
    return start_workers(tmp_path, command, env, port, cwd)


def docker_env(name: str) -> str:
    """A variable the Dockerfile's runtime stage sets, its image paths mapped onto this checkout."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    match = re.search(rf'\b{name}="([^"]*)"', text)
    assert match, f"the Dockerfile sets no {name}"
    return match.group(1).replace("/opt/ocrserve/gunicorn.conf.py", str(REPO / "gunicorn.conf.py"))


def serve_workers(tmp_path: Path, workers: int) -> contextlib.AbstractContextManager:
    port = free_port()
    command = [sys.executable, "-m", "ocrserve", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)]
    return start_workers(tmp_path, command, {}, port, tmp_path)
