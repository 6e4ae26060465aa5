"""A real PostgreSQL server from Debian's packages, in a temporary directory, on a free loopback port.

initdb refuses to run as root, so as root the cluster belongs to the `postgres` user the package
creates (`runuser`), in a directory of its own under the system's temp folder (pytest's are
root-only).  Clients connect over TCP to 127.0.0.1 without a password (`trust`, loopback only).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from _support.server import free_port

OWNER = "postgres"


def pg_bin(tool: str) -> str:
    """A server tool of the newest installed PostgreSQL; fails naming the package when there is none."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        pytest.fail(f"PostgreSQL's {tool} is not installed: apt-get install postgresql (tests/system-packages.sh)")
    return found[-1]


def _as_owner() -> list[str]:
    return ["runuser", "-u", OWNER, "--"] if os.geteuid() == 0 else []


@dataclass
class Postgres:
    data: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql://{OWNER}@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run([*_as_owner(), pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), *args],
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=on"
        self._ctl("-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """`immediate` ends the server as a crash would (recovery replays the WAL at the next start)."""
        self._ctl("-w", "-m", mode, "stop")


@contextlib.contextmanager
def running_postgres() -> Iterator[Postgres]:
    root = Path(tempfile.mkdtemp(prefix="ocrserve-test-pg-"))
    data = root / "data"
    try:
        if os.geteuid() == 0:
            shutil.chown(root, OWNER, OWNER)
        subprocess.run([*_as_owner(), pg_bin("initdb"), "-D", str(data), "-U", OWNER, "--auth=trust",
                        "--encoding=UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
        server = Postgres(data, free_port(), root / "server.log")
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(subprocess.SubprocessError):
                server.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def wait_until_up(server: Postgres, timeout: float = 30) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(server.url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            assert time.monotonic() < deadline, server.log.read_text()
            time.sleep(0.3)
