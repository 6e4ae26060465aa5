"""bench/_harness.py on stand-in servers: readiness, a failed start's log, the process tree's memory, a load level."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from _support.bench import bench_module

harness = bench_module("_harness")


def file_server(root: Path) -> object:
    """Python's own file server on loopback: GET /ready answers 200 once a file of that name exists."""
    port = harness.free_port()
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port), "--directory", str(root)]
    return harness.Server("file-server", command, harness.child_env({}), port, root / "logs" / "server.log")


def test_a_level_counts_successes_errors_and_labels(tmp_path: Path) -> None:
    (tmp_path / "ready").write_text("ok")
    server = file_server(tmp_path)
    try:
        assert 0 < server.wait_ready(timeout_s=60) < 60

        async def send(client: httpx.AsyncClient, i: int) -> str | None:
            r = await client.get(f"{server.url}/{'ready' if i < 5 else 'missing'}")
            return None if r.status_code == 200 else f"HTTP {r.status_code}"

        level = asyncio.run(harness.run_level(send, requests=6, concurrency=2, sampler=server.sampler,
                                              label=lambda i: "even" if i % 2 == 0 else "odd"))
    finally:
        exit_code = server.stop()
    assert (level.planned, level.requests, level.ok, level.errors) == (6, 6, 5, 1)
    assert level.error_samples == ["HTTP 404"] and not level.stopped_by_time
    assert {k: len(v) for k, v in level.per_label.items()} == {"even": 3, "odd": 2}
    assert level.peak_rss > 0 and level.images_per_s > 0 and level.pct(99) >= level.pct(50) > 0
    assert exit_code is not None and server.proc.poll() is not None


def test_a_server_that_exits_fails_with_its_log_tail(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "print('models missing: run ocrserve models pull', flush=True); raise SystemExit(3)"]
    server = harness.Server("broken", command, harness.child_env({}), harness.free_port(), tmp_path / "server.log")
    try:
        with pytest.raises(harness.ServerFailed, match=r"(?s)broken exited with 3.*models missing"):
            server.wait_ready(timeout_s=60)
    finally:
        assert server.stop() == 3


def test_tree_memory_counts_children_and_stop_ends_them(tmp_path: Path) -> None:
    child = "import time; b = b'x' * (64 << 20); time.sleep(60)"  # 64 MiB written, so resident
    parent = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(60)"
    server = harness.Server("tree", [sys.executable, "-c", parent], harness.child_env({}), harness.free_port(),
                            tmp_path / "server.log", sample_every_s=0.05)
    try:
        deadline = time.monotonic() + 30
        while server.sampler.sample().rss < 64 << 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        children = psutil.Process(server.pid).children(recursive=True)
        assert children and server.sampler.peak_rss >= 64 << 20
        assert server.sampler.series and server.sampler.series[-1][1] >= 64 << 20
    finally:
        server.stop(timeout_s=10)
    deadline = time.monotonic() + 10  # a killed process takes a moment to go
    while any(alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(c) for c in children)


def alive(proc: psutil.Process) -> bool:
    """Running and not a zombie (an orphan waits for whoever adopted it to reap it)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_percentile_interpolates_like_numpy() -> None:
    assert harness.percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert harness.percentile([1.0, 2.0], 100) == 2.0
    assert harness.percentile([], 50) is None
