"""Soak test: thousands of mixed good and bad requests against one server, watching its memory.

    python bench/soak.py                              # fresh `ocrserve serve` on loopback, 2000 requests, 8 at once
    python bench/soak.py --requests 600 --model pp-ocrv4-mobile --json out/soak.json
    python bench/soak.py --minutes 30 --concurrency 16
    python bench/soak.py --url http://127.0.0.1:7861 --pid 12345   # a server that is already running

Does memory plateau, does every bad input get its documented 4xx, is /health still 200 after;
the request mix and the method are in docs/benchmarks.md ("Soak").
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import math
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
from _common import find_samples_dir, load_average, machine_header, machine_info, markdown_table, write_json
from _harness import (
    REQUEST_TIMEOUT_S,
    Send,
    Server,
    ServerFailed,
    TreeSampler,
    child_env,
    free_port,
    logger,
    ocrserve_command,
    percentile,
    run_level,
)

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
SAMPLE_EVERY_S = 0.25

log = logger("soak")


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
@dataclass
class Target:
    """The server under test: one this script started, or one at `--url` (its process, if known, for RSS)."""

    base: str
    pid: int | None
    note: str
    server: Server | None = None


def start_server(model: str | None, log_dir: Path) -> Target:
    port = free_port()
    extra = {"OCR_MAX_FILE_SIZE": OWN_SERVER_FILE_LIMIT, **({"OCR_MODEL": model} if model else {})}
    server = Server("ocrserve", ocrserve_command(port), child_env(extra), port, log_dir / "server.log",
                    sample_every_s=SAMPLE_EVERY_S)
    try:
        server.wait_ready()
    except ServerFailed as exc:
        server.stop()
        raise SystemExit(str(exc)) from None
    return Target(server.url, server.pid, ", ".join(f"{k}={v}" for k, v in extra.items()), server)


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


# --- load --------------------------------------------------------------------------------------
@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)  # (kind, status or exception name)
    unexpected: dict[tuple[str, int | str], str] = field(default_factory=dict)
    done: int = 0

    def record(self, kind: str, outcome: int | str, detail: str) -> None:
        self.statuses[(kind, outcome)] += 1
        self.done += 1
        if outcome not in EXPECTED[kind] and (kind, outcome) not in self.unexpected:
            self.unexpected[(kind, outcome)] = detail  # the first example of each


async def post(client: httpx.AsyncClient, base: str, req: Request) -> tuple[int | str, str]:
    """The answer's status, or the exception's name for a dropped connection or a timeout."""
    try:
        r = await client.post(f"{base}{req.path}", **req.kwargs)
        return r.status_code, r.text[:200]
    except httpx.HTTPError as exc:
        return type(exc).__name__, f"{exc!r} (from {exc.__context__!r})"[:300]


def sender(base: str, inputs: Inputs, tally: Tally) -> Send:
    """Request i of the run; the harness times the 200 answers per kind, the tally counts every outcome."""

    async def send(client: httpx.AsyncClient, i: int) -> str | None:
        req = inputs.request(i)
        outcome, detail = await post(client, base, req)
        tally.record(req.kind, outcome, detail)
        return None if outcome == 200 else f"{req.kind}: {outcome}"

    return send


def point(label: str, done: int, elapsed: float, memory: TreeSampler) -> MemPoint:
    snap = memory.sample()
    return MemPoint(label, done, elapsed, snap.rss, snap.threads, snap.fds)


async def run_load(target: Target, inputs: Inputs, memory: TreeSampler, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        warm = Tally()
        log("warm-up: every scene and PDF page once")
        for req in inputs.warm_up():
            warm.record(req.kind, *(await post(client, target.base, req)))
        if any(status != 200 for (_, status) in warm.statuses):
            log(f"warm-up answers: {dict(warm.statuses)}; unexpected: {warm.unexpected}")
        await asyncio.sleep(1.0)
    inputs.counters.clear()

    tally = Tally()
    points = [point("start (after warm-up)", 0, 0.0, memory)]
    limit_s = args.minutes * 60 if args.minutes else None
    requests = sys.maxsize if limit_s else args.requests
    started = time.monotonic()
    level_task = asyncio.create_task(run_level(sender(target.base, inputs, tally), requests, args.concurrency,
                                               limit_s or math.inf, memory, label=kind_of))

    def progress() -> float:
        return (time.monotonic() - started) / limit_s if limit_s else tally.done / args.requests

    tenth = 1
    while tenth <= 10:  # a memory point at every 10% of the run
        if progress() >= tenth / 10 or (tenth == 10 and level_task.done()):
            elapsed = time.monotonic() - started
            points.append(point(f"{tenth * 10}%", tally.done, elapsed, memory))
            log(f"[{tenth * 10:3d}%] {tally.done} answers in {elapsed:.0f} s "
                f"({tally.done / max(elapsed, 1e-9):.1f}/s), RSS {points[-1].rss / MB:.0f} MB")
            tenth += 1
            continue
        await asyncio.sleep(0.2)
    level = await level_task
    await asyncio.sleep(END_REST_S)
    points.append(point(f"end (+{END_REST_S:.0f} s idle)", tally.done, time.monotonic() - started, memory))
    health = None
    with contextlib.suppress(httpx.HTTPError):
        async with httpx.AsyncClient(timeout=30) as client:
            health = (await client.get(f"{target.base}/health")).status_code
    return {"tally": tally, "level": level, "points": points, "wall": level.wall_s, "health": health}


def kind_of(i: int) -> str:
    return KINDS_CYCLE[i % len(KINDS_CYCLE)]


# --- report ------------------------------------------------------------------------------------
def mb(value: int) -> str:
    return f"{value / MB:.0f}" if value else "n/a"


def seconds(values: list[float], q: float) -> str:
    value = percentile(values, q)
    return "—" if value is None else f"{value:.2f}"


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
    parser.add_argument("--samples", type=Path, default=None, help="sample set (default: OCR_SAMPLES_DIR or tests/data/samples)")
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
            target = Target(args.url.rstrip("/"), args.pid or pid_listening_on(args.url), "running server (--url)")
        else:
            log("starting ocrserve serve on 127.0.0.1")
            target = start_server(args.model, Path(tmp))
        memory = target.server.sampler if target.server else TreeSampler(target.pid, every_s=SAMPLE_EVERY_S)
        try:
            health = httpx.get(f"{target.base}/health", timeout=30)
            model = health.json().get("model", "?") if health.status_code == 200 else f"/health {health.status_code}"
            result = asyncio.run(run_load(target, inputs, memory, args))
        finally:
            memory.stop()
            exit_code = target.server.stop(timeout_s=60) if target.server else None
        log_tail = target.server.log_tail() if target.server and exit_code != 0 else ""
    info["loadavg_end"] = load_average()
    result.update(model=model, exit_code=exit_code, log_tail=log_tail, oversize_mb=oversize_mb,
                  peak=memory.peak_rss, peak_at=memory.peak_at)
    report(info, target, args, result)
    if args.json:
        write_json(args.json, payload(info, target, args, result))
        print(f"\nraw numbers: {args.json}")
    return 0


def report(info: dict[str, Any], target: Target, args: argparse.Namespace, result: dict[str, Any]) -> None:
    tally: Tally = result["tally"]
    points: list[MemPoint] = result["points"]
    wall, exit_code = result["wall"], result["exit_code"]
    start, end = points[0], points[-1]
    bad = {k: v for k, v in tally.statuses.items() if k[1] not in EXPECTED[k[0]]}
    five_xx = sum(v for (_, s), v in tally.statuses.items() if isinstance(s, int) and s >= 500)
    errors = sum(v for (_, s), v in tally.statuses.items() if isinstance(s, str))
    amount = f"{args.minutes:g} min" if args.minutes else f"{args.requests} requests"

    print("## ocrserve soak: mixed good and bad requests, server memory over the run\n")
    print(machine_header(info))
    print(f"- load average at end: {info['loadavg_end']}")
    print(f"- server: {target.base} ({target.note}), model {result['model']}, pid {target.pid or 'unknown'}")
    print(f"- load: {amount} at concurrency {args.concurrency}; {tally.done} answers in {wall:.0f} s = "
          f"{tally.done / wall:.1f} requests/s; oversize body {result['oversize_mb']:g} MB")
    print(f"- RSS (server process tree): start {mb(start.rss)} MB, peak {mb(result['peak'])} MB "
          f"(at {result['peak_at']:.0f} s), end {mb(end.rss)} MB")
    print(f"- unexpected answers: {sum(bad.values())} (5xx: {five_xx}, connection errors/timeouts: {errors}); "
          f"/health at the end: {result['health']}"
          + (f"; server exit code after SIGTERM: {exit_code}" if exit_code is not None else ""))
    print("\nServer memory (RSS, MB) over the run:\n")
    print(markdown_table(["point", "answers", "seconds", "RSS MB", "threads", "open fds"],
                         [[p.label, p.done, f"{p.elapsed:.0f}", mb(p.rss), p.threads or "n/a", p.fds or "n/a"]
                          for p in points]))
    print("\nAnswers per kind:\n")
    outcomes = sorted({s for (_, s) in tally.statuses}, key=str)
    latencies = result["level"].per_label
    rows = [[kind, "/".join(map(str, sorted(EXPECTED[kind]))), *[tally.statuses.get((kind, s), 0) for s in outcomes],
             seconds(latencies.get(kind, []), 50), seconds(latencies.get(kind, []), 95)] for kind in KIND_WEIGHTS]
    print(markdown_table(["kind", "expected", *map(str, outcomes), "p50 s (200)", "p95 s (200)"], rows,
                         align="ll" + "r" * (len(outcomes) + 2)))
    if tally.unexpected:
        print("\nUnexpected answers, the first of each kind and outcome:\n")
        for (kind, outcome), detail in tally.unexpected.items():
            print(f"- {kind} -> {outcome} ({bad[(kind, outcome)]}x): {detail}")
    if result["log_tail"]:
        print(f"\nServer log tail:\n\n```\n{result['log_tail']}\n```")


def payload(info: dict[str, Any], target: Target, args: argparse.Namespace, result: dict[str, Any]) -> dict[str, Any]:
    tally: Tally = result["tally"]
    points: list[MemPoint] = result["points"]
    return {
        "machine": info,
        "settings": {"url": target.base, "model": result["model"], "requests": args.requests, "minutes": args.minutes,
                     "concurrency": args.concurrency, "oversize_mb": result["oversize_mb"], "server_env": target.note},
        "wall_s": result["wall"], "answers": tally.done, "requests_per_s": tally.done / result["wall"],
        "rss": {"start": points[0].rss, "peak": result["peak"], "peak_at_s": result["peak_at"], "end": points[-1].rss,
                "points": [vars(p) for p in points]},
        "statuses": [{"kind": k, "status": s, "count": v} for (k, s), v in sorted(tally.statuses.items(), key=str)],
        "unexpected": [{"kind": k, "outcome": o, "first": d} for (k, o), d in tally.unexpected.items()],
        "health_end": result["health"], "server_exit_code": result["exit_code"],
    }


if __name__ == "__main__":
    sys.exit(main())
