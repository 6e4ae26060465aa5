"""A real nginx (Debian's package) on loopback, serving one site file, its files in a temp directory."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def nginx() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        pytest.fail("nginx is not installed: tests/system-packages.sh (Debian package nginx)")
    return found


@contextlib.contextmanager
def running_nginx(root: Path, site: str, port: int) -> Iterator[str]:
    """nginx with `site` (one `server` block and its upstreams) listening on 127.0.0.1:`port`; yields
    its base URL once it answers.  Its pid, logs and temporary files stay under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.conf").write_text(site)
    temp = {name: root / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    # as root the workers run as that user: the temp directories above are then theirs to write
    user = "user root root;\n" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {root / 'nginx.pid'};\nerror_log {root / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  access_log {root / 'access.log'};\n"
        + "".join(f"  {name}_temp_path {path};\n" for name, path in temp.items())
        + f"  include {root / 'site.conf'};\n}}\n")
    log = root / "stderr.log"
    with log.open("w") as out:
        proc = subprocess.Popen([nginx(), "-p", str(root), "-e", str(root / "error.log"), "-c", str(root / "nginx.conf")],
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text() + (root / "error.log").read_text()
            try:
                httpx.get(base, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (root / "error.log").read_text()
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
