"""A real `ocrserve serve` subprocess on a free loopback port, for the end-to-end test modules."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(proc: subprocess.Popen, base: str, log: Path, timeout: float = 120) -> None:
    """Until `base`/ready answers 200; fails with the server's log when it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, log.read_text()
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        assert time.monotonic() < deadline, "server did not become ready: " + log.read_text()
        time.sleep(0.3)


@contextlib.contextmanager
def start_server(tmp_path_factory, extra_env: dict[str, str], extra_args: tuple[str, ...] = (),
                 ready_timeout: float = 120):
    """`ocrserve serve` on a free loopback port; yields its base URL once /ready says so."""
    with server_process(tmp_path_factory, extra_env, extra_args, ready_timeout) as (base, proc, log):
        yield base
        proc.terminate()
        assert proc.wait(timeout=30) == 0, log.read_text()


@contextlib.contextmanager
def server_process(tmp_path_factory, extra_env: dict[str, str], extra_args: tuple[str, ...] = (),
                   ready_timeout: float = 120):
    """As start_server, yielding (base URL, process, log) for a test that signals the process itself;
    a process still running at the end is terminated."""
    port = free_port()
    env = {**os.environ, "OCR_MODEL": "pp-ocrv4-mobile", **extra_env}
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ocrserve", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 *extra_args], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, base, log, ready_timeout)
        yield base, proc, log
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
