"""Soak test: thousands of mixed good and bad requests against one server, watching its memory.

    python bench/soak.py                              # fresh `ocrserve serve` on loopback, 2000 requests, 8 at once
    python bench/soak.py --requests 600 --model pp-ocrv4-mobile --json out/soak.json
    python bench/soak.py --minutes 30 --concurrency 16
    python bench/soak.py --url http://127.0.0.1:7861 --pid 12345   # a server that is already running

What it answers: does the server's memory plateau under a long mixed load (or keep growing), does
it keep answering every bad input with its documented 4xx (never a 5xx, never a dropped
connection), and is /health still 200 afterwards.  Measured, never asserted: the script prints
markdown tables for the machine and moment it ran on (both in the header) and exits 0 unless the
server could not be started or reached; the tables say what went wrong.

Server.  Without `--url`, it starts `python -m ocrserve serve --host 127.0.0.1 --port <free>` from
this venv (`--model` sets OCR_MODEL; otherwise the environment's or the default set), with
OCR_MAX_FILE_SIZE=2MB so that the oversize request is a 3 MB body, waits for /ready, and stops it
with SIGTERM at the end (its exit code is reported).  With `--url`, the server's process is
`--pid`, or else the process listening on the URL's port (psutil); without either, no RSS.  The
oversize body is then `--oversize-mb` (default 21, over the default 20MB OCR_MAX_FILE_SIZE).

Load.  Request i is kind KINDS_CYCLE[i mod 20], a fixed shuffled cycle of 20 (weights in
KIND_WEIGHTS); each kind takes its inputs in turn (the 12 scenes of the sample set, the first
page of each sample PDF):

| kind | request | expected |
|---|---|---|
| scene_json | a scene as PaddleX JSON (`POST /ocr {file: base64}`) | 200 |
| scene_upload | a scene as a RapidOCR API upload (`POST /ocr`, multipart `image_file`) | 200 |
| pdf_page | a one-page PDF (first page of a sample PDF) as PaddleX JSON, `fileType: 0` | 200 |
| garbage_b64 | `{file: <random bytes, base64>}` | 415 (undecodable) or 400 |
| truncated_png | a scene PNG cut at a third, base64 | 400 |
| oversize | a JSON body over the server's body limit | 413 |
| one_by_one | a 1x1 PNG | 400 (under the minimum image size) |
| bad_json | `{"file": "aGVsbG8=", ` (cut off) | 400 or 422 |

C client coroutines (httpx.AsyncClient, `--concurrency`, default 8) take request numbers from a
shared counter until `--requests` (default 2000) were started or `--minutes` have passed.  Before
that, an untimed warm-up sends every scene and PDF page once.  An answer outside a kind's expected
set, or an exception (connection reset, timeout), is counted as unexpected, and the first one of
each kind and outcome is printed.

Memory.  RSS of the server process and its children (psutil), summed: at the start (after the
warm-up), at every 10% of progress (requests finished, or time with `--minutes`), at the end (after
the last answer and END_REST_S = 4 s of rest: past the engine's 2 s idle arena release), and the
peak over the run sampled every 0.25 s, with the tree's thread and open-file counts next to it.  A plateau looks like the 10% rows levelling off;
a leak like a steady climb.  requests/s = answers (any status) / wall time of the run.

psutil is needed (`pip install psutil`); it belongs with the benchmarks' own dependencies, not
ocrserve's.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _common import find_samples_dir, load_average, machine_header, machine_info, markdown_table, write_json

try:
    import psutil
except ImportError:  # pragma: no cover - the message says what to do
    raise SystemExit("bench/soak.py needs psutil: pip install psutil") from None

import httpx

MB = 1024 * 1024
END_REST_S = 4.0  # rest before the end sample: past OCR_ARENA_IDLE_RELEASE_S (2 s)
KIND_WEIGHTS = {
    "scene_json": 6, "scene_upload": 3, "pdf_page": 1,
    "garbage_b64": 2, "truncated_png": 2, "oversize": 1, "one_by_one": 2, "bad_json": 2,
}
EXPECTED = {
    "scene_json": {200}, "scene_upload": {200}, "pdf_page": {200},
    "garbage_b64": {400, 415}, "truncated_png": {400}, "oversize": {413}, "one_by_one": {400},
    "bad_json": {400, 422},
}
KINDS_CYCLE = [kind for kind, weight in KIND_WEIGHTS.items() for _ in range(weight)]
random.Random(20261122).shuffle(KINDS_CYCLE)
OWN_SERVER_FILE_LIMIT = "2MB"
REQUEST_TIMEOUT_S = 300.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- inputs ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    kind: str
    path: str
    kwargs: dict[str, Any]


class Inputs:
    """Every request body, built once; `request(i)` is the i-th request of the run."""

    def __init__(self, samples: Path, oversize_bytes: int) -> None:
        import pypdfium2 as pdfium
        from PIL import Image

        self.scenes = [(p.name, p.read_bytes()) for p in sorted((samples / "scenes").iterdir())
                       if p.suffix.lower() in (".png", ".jpg", ".jpeg")]
        if not self.scenes:
            raise SystemExit(f"no scenes in {samples / 'scenes'}")
        self.pdf_pages = []
        for path in sorted((samples / "pdf").glob("*.pdf")):
            src = pdfium.PdfDocument(path)
            one = pdfium.PdfDocument.new()
            one.import_pages(src, [0])
            buf = io.BytesIO()
            one.save(buf)
            one.close()
            src.close()
            self.pdf_pages.append((f"{path.name}#1", buf.getvalue()))
        pngs = [data for name, data in self.scenes if name.endswith(".png")]
        self.truncated = [data[: len(data) // 3] for data in pngs]
        tiny = io.BytesIO()
        Image.new("RGB", (1, 1), (255, 255, 255)).save(tiny, format="PNG")
        self.one_by_one = base64.b64encode(tiny.getvalue()).decode()
        rng = random.Random(7)
        self.garbage = [base64.b64encode(rng.randbytes(rng.randint(16, 4096))).decode() for _ in range(16)]
        self.oversize = b'{"file": "' + b"A" * oversize_bytes + b'"}'
        self.counters: Counter = Counter()

    def _next(self, kind: str, items: list) -> Any:
        item = items[self.counters[kind] % len(items)]
        self.counters[kind] += 1
        return item

    def request(self, i: int) -> Request:
        kind = KINDS_CYCLE[i % len(KINDS_CYCLE)]
        return self.make(kind)

    def make(self, kind: str, item: Any = None) -> Request:
        json_headers = {"content-type": "application/json"}
        if kind == "scene_json":
            _, data = item or self._next(kind, self.scenes)
            return Request(kind, "/ocr", {"json": {"file": base64.b64encode(data).decode()}})
        if kind == "scene_upload":
            name, data = item or self._next(kind, self.scenes)
            return Request(kind, "/ocr", {"files": {"image_file": (name, data)}})
        if kind == "pdf_page":
            _, data = item or self._next(kind, self.pdf_pages)
            return Request(kind, "/ocr", {"json": {"file": base64.b64encode(data).decode(), "fileType": 0}})
        if kind == "garbage_b64":
            return Request(kind, "/ocr", {"json": {"file": self._next(kind, self.garbage)}})
        if kind == "truncated_png":
            return Request(kind, "/ocr", {"json": {"file": base64.b64encode(self._next(kind, self.truncated)).decode()}})
        if kind == "oversize":
            return Request(kind, "/ocr", {"content": self.oversize, "headers": json_headers})
        if kind == "one_by_one":
            return Request(kind, "/ocr", {"json": {"file": self.one_by_one}})
        if kind == "bad_json":
            return Request(kind, "/ocr", {"content": b'{"file": "aGVsbG8=", ', "headers": json_headers})
        raise ValueError(kind)

    def warm_up(self) -> Iterator[Request]:
        for scene in self.scenes:
            yield self.make("scene_json", scene)
        for page in self.pdf_pages:
            yield self.make("pdf_page", page)
        yield self.make("scene_upload", self.scenes[0])


# --- server and memory ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base: str
    pid: int | None
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    env_note: str = ""

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.is_file():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def start_server(model: str | None, log_dir: Path) -> Server:
    port = free_port()
    env = dict(os.environ, OCR_MAX_FILE_SIZE=OWN_SERVER_FILE_LIMIT)
    if model:
        env["OCR_MODEL"] = model
    log_path = log_dir / "server.log"
    with log_path.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ocrserve", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", proc.pid, proc, log_path,
                    f"OCR_MAX_FILE_SIZE={OWN_SERVER_FILE_LIMIT}" + (f", OCR_MODEL={model}" if model else ""))
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{server.base}/ready", timeout=2).status_code == 200:
                return server
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"the server was not ready after 300 s:\n{server.log_tail()}")
        time.sleep(0.3)


def stop_server(server: Server) -> int | None:
    if server.proc is None:
        return None
    server.proc.send_signal(signal.SIGTERM)
    try:
        return server.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        return server.proc.wait()


def pid_listening_on(url: str) -> int | None:
    port = urlsplit(url).port or (443 if url.startswith("https") else 80)
    with contextlib.suppress(psutil.Error, PermissionError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                return conn.pid
    return None


@dataclass
class MemPoint:
    label: str
    done: int
    elapsed: float
    rss: int
    threads: int
    fds: int


class TreeMemory:
    """RSS (summed), threads and open files of a process and its children; peak sampled in a thread."""

    def __init__(self, pid: int | None) -> None:
        self.root = psutil.Process(pid) if pid else None
        self.peak = 0
        self.peak_at = 0.0
        self.t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def read(self) -> tuple[int, int, int]:
        if self.root is None:
            return 0, 0, 0
        rss = threads = fds = 0
        with contextlib.suppress(psutil.Error):
            for proc in [self.root, *self.root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    with proc.oneshot():
                        rss += proc.memory_info().rss
                        threads += proc.num_threads()
                        fds += proc.num_fds() if hasattr(proc, "num_fds") else 0
        if rss > self.peak:
            self.peak, self.peak_at = rss, time.monotonic() - self.t0
        return rss, threads, fds

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.peak = 0

        def loop() -> None:
            while not self._stop.wait(0.25):
                self.read()

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()


# --- load --------------------------------------------------------------------------------------
@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)  # (kind, status or exception name)
    unexpected: dict[tuple[str, int | str], str] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    done: int = 0


async def send(client: httpx.AsyncClient, base: str, req: Request, tally: Tally) -> None:
    started = time.perf_counter()
    try:
        r = await client.post(f"{base}{req.path}", **req.kwargs)
        outcome: int | str = r.status_code
        detail = r.text[:200]
    except httpx.HTTPError as exc:
        outcome, detail = type(exc).__name__, f"{exc!r} (from {exc.__context__!r})"[:300]
    tally.statuses[(req.kind, outcome)] += 1
    tally.done += 1
    if outcome == 200:
        tally.latencies.setdefault(req.kind, []).append(time.perf_counter() - started)
    if outcome not in EXPECTED[req.kind] and (req.kind, outcome) not in tally.unexpected:
        tally.unexpected[(req.kind, outcome)] = detail  # the first example of each


async def run_load(server: Server, inputs: Inputs, memory: TreeMemory, args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        warm = Tally()
        log("warm-up: every scene and PDF page once")
        for req in inputs.warm_up():
            await send(client, server.base, req, warm)
        if any(status != 200 for (_, status) in warm.statuses):
            log(f"warm-up answers: {dict(warm.statuses)}; unexpected: {warm.unexpected}")
        await asyncio.sleep(1.0)
        inputs.counters.clear()

        tally = Tally()
        memory.start()
        rss, threads, fds = memory.read()
        points = [MemPoint("start (after warm-up)", 0, 0.0, rss, threads, fds)]
        started = time.monotonic()
        limit_s = args.minutes * 60 if args.minutes else None
        next_index = 0

        def progress() -> float:
            if limit_s:
                return (time.monotonic() - started) / limit_s
            return tally.done / args.requests

        async def worker() -> None:
            nonlocal next_index
            while True:
                if limit_s is None and next_index >= args.requests:
                    return
                if limit_s is not None and time.monotonic() - started >= limit_s:
                    return
                i = next_index
                next_index += 1
                await send(client, server.base, inputs.request(i), tally)

        async def watch() -> None:
            tenth = 1
            while tenth <= 10:
                if progress() >= tenth / 10 or (tenth == 10 and all(w.done() for w in workers)):
                    rss, threads, fds = memory.read()
                    elapsed = time.monotonic() - started
                    points.append(MemPoint(f"{tenth * 10}%", tally.done, elapsed, rss, threads, fds))
                    log(f"[{tenth * 10:3d}%] {tally.done} answers in {elapsed:.0f} s "
                        f"({tally.done / max(elapsed, 1e-9):.1f}/s), RSS {rss / MB:.0f} MB")
                    tenth += 1
                    continue
                await asyncio.sleep(0.2)

        workers = [asyncio.create_task(worker()) for _ in range(args.concurrency)]
        watcher = asyncio.create_task(watch())
        await asyncio.gather(*workers)
        wall = time.monotonic() - started
        await watcher
        await asyncio.sleep(END_REST_S)
        rss, threads, fds = memory.read()
        points.append(MemPoint(f"end (+{END_REST_S:.0f} s idle)", tally.done, time.monotonic() - started, rss, threads, fds))
        memory.stop()
        health = None
        with contextlib.suppress(httpx.HTTPError):
            health = (await client.get(f"{server.base}/health", timeout=30)).status_code
    return {"tally": tally, "points": points, "wall": wall, "health": health}


# --- report ------------------------------------------------------------------------------------
def mb(value: int) -> str:
    return f"{value / MB:.0f}" if value else "n/a"


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=None, help="a running server (default: start a fresh one on loopback)")
    parser.add_argument("--pid", type=int, default=None, help="with --url: the server's process id, for RSS")
    parser.add_argument("--model", default=None, help="model set of the server this script starts (OCR_MODEL)")
    parser.add_argument("--requests", type=int, default=2000, help="requests to send (default 2000)")
    parser.add_argument("--minutes", type=float, default=None, help="send for this long instead of --requests")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument("--oversize-mb", type=float, default=None,
                        help="size of the oversize body (default: 3 for our own server, 21 with --url)")
    parser.add_argument("--samples", type=Path, default=None, help="sample set (default: OCR_SAMPLES_DIR or ../shared/samples)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the raw numbers here")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1 or (args.minutes is not None and args.minutes <= 0):
        parser.error("--requests, --concurrency and --minutes must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    samples = find_samples_dir(args.samples)
    oversize_mb = args.oversize_mb or (21.0 if args.url else 3.0)
    inputs = Inputs(samples, int(oversize_mb * MB))
    info = machine_info()
    with tempfile.TemporaryDirectory(prefix="ocrserve-soak-") as tmp:
        if args.url:
            pid = args.pid or pid_listening_on(args.url)
            server = Server(args.url.rstrip("/"), pid, env_note="running server (--url)")
        else:
            log("starting ocrserve serve on 127.0.0.1")
            server = start_server(args.model, Path(tmp))
        try:
            health = httpx.get(f"{server.base}/health", timeout=30)
            model = health.json().get("model", "?") if health.status_code == 200 else f"/health {health.status_code}"
            memory = TreeMemory(server.pid)
            result = asyncio.run(run_load(server, inputs, memory, args))
        finally:
            exit_code = stop_server(server)
        log_tail = server.log_tail() if exit_code not in (None, 0) else ""

    tally: Tally = result["tally"]
    points: list[MemPoint] = result["points"]
    wall = result["wall"]
    info["loadavg_end"] = load_average()
    start, end = points[0], points[-1]
    bad = {k: v for k, v in tally.statuses.items() if k[1] not in EXPECTED[k[0]]}
    five_xx = sum(v for (_, s), v in tally.statuses.items() if isinstance(s, int) and s >= 500)
    errors = sum(v for (_, s), v in tally.statuses.items() if isinstance(s, str))
    amount = f"{args.minutes:g} min" if args.minutes else f"{args.requests} requests"

    print("## ocrserve soak: mixed good and bad requests, server memory over the run\n")
    print(machine_header(info))
    print(f"- load average at end: {info['loadavg_end']}")
    print(f"- server: {server.base} ({server.env_note}), model {model}, pid {server.pid or 'unknown'}")
    print(f"- load: {amount} at concurrency {args.concurrency}; {tally.done} answers in {wall:.0f} s = "
          f"{tally.done / wall:.1f} requests/s; oversize body {oversize_mb:g} MB")
    print(f"- RSS (server process tree): start {mb(start.rss)} MB, peak {mb(memory.peak)} MB "
          f"(at {memory.peak_at:.0f} s), end {mb(end.rss)} MB")
    print(f"- unexpected answers: {sum(bad.values())} (5xx: {five_xx}, connection errors/timeouts: {errors}); "
          f"/health at the end: {result['health']}"
          + (f"; server exit code after SIGTERM: {exit_code}" if exit_code is not None else ""))
    print("\nServer memory (RSS, MB) over the run:\n")
    print(markdown_table(["point", "answers", "seconds", "RSS MB", "threads", "open fds"],
                         [[p.label, p.done, f"{p.elapsed:.0f}", mb(p.rss), p.threads or "n/a", p.fds or "n/a"]
                          for p in points]))
    print("\nAnswers per kind:\n")
    kinds = list(KIND_WEIGHTS)
    outcomes = sorted({s for (_, s) in tally.statuses}, key=str)
    rows = []
    for kind in kinds:
        lat = tally.latencies.get(kind, [])
        rows.append([kind, "/".join(map(str, sorted(EXPECTED[kind]))),
                     *[tally.statuses.get((kind, s), 0) for s in outcomes],
                     f"{percentile(lat, 0.5):.2f}" if lat else "—", f"{percentile(lat, 0.95):.2f}" if lat else "—"])
    print(markdown_table(["kind", "expected", *map(str, outcomes), "p50 s (200)", "p95 s (200)"], rows,
                         align="ll" + "r" * (len(outcomes) + 2)))
    if tally.unexpected:
        print("\nUnexpected answers, the first of each kind and outcome:\n")
        for (kind, outcome), detail in tally.unexpected.items():
            print(f"- {kind} -> {outcome} ({bad[(kind, outcome)]}x): {detail}")
    if log_tail:
        print(f"\nServer log tail:\n\n```\n{log_tail}\n```")

    if args.json:
        write_json(args.json, {
            "machine": info,
            "settings": {"url": server.base, "model": model, "requests": args.requests, "minutes": args.minutes,
                         "concurrency": args.concurrency, "oversize_mb": oversize_mb, "server_env": server.env_note},
            "wall_s": wall, "answers": tally.done, "requests_per_s": tally.done / wall,
            "rss": {"start": start.rss, "peak": memory.peak, "peak_at_s": memory.peak_at, "end": end.rss,
                    "points": [vars(p) for p in points]},
            "statuses": [{"kind": k, "status": s, "count": v} for (k, s), v in sorted(tally.statuses.items(), key=str)],
            "unexpected": [{"kind": k, "outcome": o, "first": d} for (k, o), d in tally.unexpected.items()],
            "health_end": result["health"], "server_exit_code": exit_code,
        })
        print(f"\nraw numbers: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
