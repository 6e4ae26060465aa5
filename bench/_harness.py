"""What the service benchmarks share: a server on loopback, its process tree's memory, a load level.

One copy of each for bench/serve.py, ray.py, soak.py, jobs.py and arena.py, so that they all
measure alike; the method is described in docs/benchmarks.md ("How the service benchmarks measure").
Imports nothing from the other bench modules, so that tests can load it from its file alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:  # imported where used: bench/arena.py's child samples itself and must not carry httpx's ~17 MiB
    import httpx

REQUEST_TIMEOUT_S = 300.0
STARTUP_TIMEOUT_S = 300.0
SAMPLE_EVERY_S = 0.2


def logger(prefix: str) -> Callable[[str], None]:
    """A stderr logger whose lines name the script and the time, so that tables on stdout stay clean."""

    def log(msg: str) -> None:
        print(f"[{prefix} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    return log


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_quiet_cpu(busy_pct: float = 20.0, max_wait_s: float = 60.0) -> float:
    """Seconds waited until the whole machine's CPU was under `busy_pct` for one second.

    The previous server's teardown (rapidocr_api frees 5-6 GB after c16) must not land in the next one's startup.
    """
    started = time.perf_counter()
    while psutil.cpu_percent(interval=1.0) >= busy_pct and time.perf_counter() - started < max_wait_s:
        pass
    return time.perf_counter() - started


def child_env(extra: Mapping[str, str], drop: Iterable[str] = ()) -> dict[str, str]:
    """This process's environment without `drop` (settings the bench decides itself), plus `extra`."""
    dropped = set(drop)
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(extra)
    return env


def ocrserve_command(port: int, *extra: str) -> list[str]:
    """`ocrserve serve` from this venv on 127.0.0.1:`port`."""
    return [sys.executable, "-m", "ocrserve", "serve", "--host", "127.0.0.1", "--port", str(port), *extra]


# --- memory and CPU of a process tree ------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """One reading of a process tree: summed over the process and all its children."""

    rss: int = 0
    pss: int = 0
    cpu_s: float = 0.0  # user + system, including children that have exited since the sampler started
    threads: int = 0
    fds: int = 0


class TreeSampler:
    """RSS (and optionally PSS), CPU seconds, threads and open files of a process tree, sampled in a thread.

    `peak_rss`, `peak_at` and `series` cover the current window, which `window()` restarts.
    """

    def __init__(self, pid: int | None, every_s: float = SAMPLE_EVERY_S, with_pss: bool = False) -> None:
        self.root = psutil.Process(pid) if pid else None
        self.every_s = every_s
        self.with_pss = with_pss  # forked workers share pages with their master, which RSS counts in each
        self.cpu: dict[tuple[int, float], float] = {}  # (pid, create_time) -> last CPU seconds seen
        self.peak_rss = self.peak_pss = 0
        self.peak_at = 0.0
        self.series: list[tuple[float, int]] = []  # (seconds into the window, RSS)
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        if self.root is not None:
            self.thread = threading.Thread(target=self._loop, daemon=True)
            self.thread.start()

    def _loop(self) -> None:
        while not self.stop_event.wait(self.every_s):
            self.sample()

    def sample(self) -> Snapshot:
        """Read the tree now; the reading also counts towards the window's peak and series."""
        if self.root is None:
            return Snapshot()
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            procs = []
        rss = pss = threads = fds = 0
        for proc in procs:
            try:
                with proc.oneshot():
                    rss += proc.memory_info().rss
                    if self.with_pss:
                        pss += proc.memory_full_info().pss
                    threads += proc.num_threads()
                    fds += proc.num_fds() if hasattr(proc, "num_fds") else 0
                    times = proc.cpu_times()
                    key = (proc.pid, proc.create_time())
                with self.lock:
                    self.cpu[key] = times.user + times.system
            except psutil.Error:
                continue
        with self.lock:
            now = time.monotonic() - self.t0
            self.series.append((now, rss))
            if rss > self.peak_rss:
                self.peak_rss, self.peak_at = rss, now
            self.peak_pss = max(self.peak_pss, pss)
            return Snapshot(rss, pss, sum(self.cpu.values()), threads, fds)

    def window(self) -> Snapshot:
        """Start a measurement window (peak and series from now on) and return the reading at its start."""
        with self.lock:
            self.peak_rss = self.peak_pss = 0
            self.series = []
            self.t0 = time.monotonic()
        return self.sample()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=2)


# --- a server process --------------------------------------------------------------------------
class ServerFailed(RuntimeError):
    """The server exited or never became ready; the message carries its log's tail."""


class Server:
    """A server process in its own session, so that it and its children are sampled and stopped together."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], port: int, log_path: Path,
                 cwd: Path | None = None, with_pss: bool = False, sample_every_s: float = SAMPLE_EVERY_S) -> None:
        self.name = name
        self.command = command
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_file = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(command, env=dict(env), stdout=self.log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     cwd=str(cwd) if cwd else None)
        self.sampler = TreeSampler(self.proc.pid, every_s=sample_every_s, with_pss=with_pss)
        self.exit_code: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_file.closed:
            self.log_file.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def check_alive(self, during: str = "") -> None:
        """Raise ServerFailed with the log's tail if the process has exited."""
        if self.proc.poll() is not None:
            where = f" during {during}" if during else ""
            raise ServerFailed(f"{self.name} exited with {self.proc.returncode}{where}:\n{self.log_tail()}")

    def wait_until(self, probe: Callable[[httpx.Client], bool], timeout_s: float = STARTUP_TIMEOUT_S,
                   every_s: float = 0.25) -> float:
        """Seconds from launch until `probe` first returns True; transport errors count as not yet."""
        import httpx

        deadline = self.started + timeout_s
        with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
            while time.perf_counter() < deadline:
                self.check_alive("startup")
                with contextlib.suppress(httpx.HTTPError):
                    if probe(client):
                        return time.perf_counter() - self.started
                time.sleep(every_s)
        raise ServerFailed(f"{self.name} was not ready within {timeout_s:.0f} s:\n{self.log_tail()}")

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> float:
        """Seconds from launch until GET /ready answers 200 (ocrserve's readiness probe)."""
        return self.wait_until(lambda c: c.get(f"{self.url}/ready", timeout=2).status_code == 200,
                               timeout_s, every_s=0.3)

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM to the session, SIGKILL after `timeout_s`; returns the server's exit code."""
        self.sampler.stop()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # children the server left behind in its session (uvicorn or gunicorn workers)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if not self.log_file.closed:
            self.log_file.close()
        self.exit_code = self.proc.returncode
        return self.exit_code


# --- a load level ------------------------------------------------------------------------------
#: sends request i with the client; returns None for a success, else what went wrong (one line)
Send = Callable[["httpx.AsyncClient", int], Awaitable["str | None"]]


@dataclass
class Level:
    """One load level: `planned` requests at `concurrency`, and what the server tree did meanwhile."""

    concurrency: int
    planned: int
    requests: int = 0  # started
    ok: int = 0
    errors: int = 0
    wall_s: float = 0.0
    latencies: list[float] = field(default_factory=list)  # successful requests only
    per_label: dict[str, list[float]] = field(default_factory=dict)  # successful latencies by label
    error_samples: list[str] = field(default_factory=list)
    peak_rss: int = 0
    peak_pss: int = 0
    cpu_s: float = 0.0
    cpu_pct: float = 0.0  # of the whole machine
    client_cpu_pct: float = 0.0

    @property
    def stopped_by_time(self) -> bool:
        return self.requests < self.planned

    @property
    def images_per_s(self) -> float:
        return self.ok / self.wall_s if self.wall_s > 0 else 0.0

    def pct(self, q: float) -> float | None:
        """Latency percentile `q` (0-100) over the successful requests."""
        return percentile(self.latencies, q)


def percentile(values: Iterable[float], q: float) -> float | None:
    """Percentile `q` (0-100), linear between ranks as numpy's default; None without values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def run_level(send: Send, requests: int, concurrency: int, max_seconds: float = math.inf,
                    sampler: TreeSampler | None = None, label: Callable[[int], str] | None = None,
                    timeout_s: float = REQUEST_TIMEOUT_S) -> Level:
    """`concurrency` clients take request numbers from one counter until `requests` were started or
    `max_seconds` passed; requests in flight at the deadline are awaited and counted."""
    import httpx

    level = Level(concurrency, requests)
    counter = iter(range(requests))
    me = psutil.Process()
    client_cpu0 = sum(me.cpu_times()[:2])
    start = sampler.window() if sampler else Snapshot()
    started = time.perf_counter()
    deadline = started + max_seconds

    async def client_loop(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            i = next(counter, None)
            if i is None:
                return
            name = label(i) if label else ""
            level.requests += 1
            t0 = time.perf_counter()
            try:
                err = await send(client, i)
            except (httpx.HTTPError, ValueError) as exc:
                err = f"{name}: {type(exc).__name__}: {exc}"[:200]
            if err is None:
                level.ok += 1
                level.latencies.append(time.perf_counter() - t0)
                level.per_label.setdefault(name, []).append(level.latencies[-1])
            else:
                level.errors += 1
                if len(level.error_samples) < 5:
                    level.error_samples.append(err)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    level.wall_s = time.perf_counter() - started
    cores = os.cpu_count() or 1
    if sampler:
        end = sampler.sample()
        level.peak_rss, level.peak_pss = sampler.peak_rss, sampler.peak_pss
        level.cpu_s = end.cpu_s - start.cpu_s
        level.cpu_pct = 100.0 * level.cpu_s / (level.wall_s * cores)
    level.client_cpu_pct = 100.0 * (sum(me.cpu_times()[:2]) - client_cpu0) / (level.wall_s * cores)
    return level
