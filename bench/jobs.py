"""One long document as an async job: throughput against the engine, memory over the run, sync latency.

    python bench/jobs.py [--pages 300] [--model pp-ocrv4-mobile] [--json jobs.json]

The engine's pages/s, then the same PDF as a job alone and as a job under sync requests, then the
engine again: the job is compared with the mean of the two engine runs that bracket it, because a
shared host's speed drifts over the quarter hour a 300-page run takes (docs/jobs.md).  The method is
in docs/benchmarks.md ("Async jobs").
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from _common import find_samples_dir, machine_header, machine_info, markdown_table, median, write_json
from _harness import Server, ServerFailed, TreeSampler, child_env, free_port, ocrserve_command
from PIL import Image

JOBS = "/api/v2/ocr/jobs"
SYNC_IMAGE = "bench/screenshot.png"
SYNC_EVERY_S = 3.0
IDLE_SYNC_REPEATS = 5
RSS_EVERY_S = 0.5


def build_pdf(samples: Path, pages: int) -> bytes:
    """`pages` pages cycling through the sample set's document pages (150 dpi, A4-like)."""
    images = [Image.open(p).convert("RGB") for p in sorted((samples / "pages").glob("*.png"))]
    out = io.BytesIO()
    sequence = [images[i % len(images)] for i in range(pages)]
    sequence[0].save(out, format="PDF", save_all=True, append_images=sequence[1:], resolution=150.0)
    return out.getvalue()


def engine_rate(pdf: bytes, model: str, pages: int) -> float:
    """Pages/s of the in-process engine on the job's own pages (rendered as the job renders them)."""
    from ocrserve.engine import build_pipeline
    from ocrserve.inputs import Limits
    from ocrserve.inputs.pdf import PdfPages
    from ocrserve.settings import load_settings

    settings = load_settings(model=model)
    pipeline = build_pipeline(settings)
    pipeline.warm_up()
    limits = Limits.from_settings(settings)
    limits = Limits(**{**limits.__dict__, "max_pdf_pages": 0, "max_pdf_document_pages": 0})
    with PdfPages(pdf, limits) as source:
        started = time.perf_counter()
        for index in range(min(pages, len(source))):
            pipeline.predict(source.page(index))
        elapsed = time.perf_counter() - started
    pipeline.close()
    return min(pages, len(source)) / elapsed


@contextlib.contextmanager
def server(model: str, workdir: Path, max_pages: int) -> Iterator[Server]:
    """`ocrserve serve` on loopback with a job directory and page cap big enough for the document."""
    port = free_port()
    job_dir = workdir / "jobs"
    job_dir.mkdir(parents=True, exist_ok=True)
    env = child_env({"OCR_MODEL": model, "OCR_JOB_DIR": str(job_dir), "OCR_JOB_MAX_PAGES": str(max_pages),
                     "OCR_JOB_MODELS": f"PP-OCRv6={model}", "OCR_MAX_FILE_SIZE": str(512 * 2**20)})
    ocrserve = Server("ocrserve", ocrserve_command(port), env, port, workdir / "server.log", sample_every_s=RSS_EVERY_S)
    try:
        ocrserve.wait_ready()
        yield ocrserve
    except ServerFailed as exc:
        raise SystemExit(str(exc)) from None
    finally:
        ocrserve.stop(timeout_s=60)


def sync_latency(base: str, image_b64: str) -> float:
    started = time.perf_counter()
    r = httpx.post(f"{base}/ocr", json={"file": image_b64, "fileType": 1, "visualize": False}, timeout=600)
    r.raise_for_status()
    return time.perf_counter() - started


def run_job(base: str, memory: TreeSampler, pdf: bytes, image_b64: str | None) -> dict[str, Any]:
    """One job to its end; with `image_b64`, a sync request every SYNC_EVERY_S while it runs."""
    headers = {"Authorization": "Bearer bench"}
    memory.window()
    r = httpx.post(f"{base}{JOBS}", headers=headers, timeout=600, files={"file": ("doc.pdf", pdf)},
                   data={"model": "PP-OCRv6", "optionalPayload": json.dumps({"visualize": False})})
    r.raise_for_status()
    job_id = r.json()["data"]["jobId"]
    sync, first_page_at = [], None
    next_sync = time.monotonic() + SYNC_EVERY_S
    while True:
        data = httpx.get(f"{base}{JOBS}/{job_id}", headers=headers, timeout=60).json()["data"]
        done = data["extractProgress"]["extractedPages"]
        if first_page_at is None and done >= 1:
            first_page_at = (time.monotonic(), done)
        if data["state"] in ("done", "failed"):
            break
        if image_b64 is not None and time.monotonic() >= next_sync and data["state"] == "running":
            sync.append(sync_latency(base, image_b64))
            next_sync = time.monotonic() + SYNC_EVERY_S
        time.sleep(RSS_EVERY_S)
    ended = time.monotonic()
    memory.sample()
    rss = [value / 2**20 for _, value in memory.series]  # the server's process tree, MiB
    if data["state"] != "done":
        raise SystemExit(f"the job failed: {data.get('errorMsg')}")
    pages = data["extractProgress"]["totalPages"]
    # from the first finished page on: the model set's load and the first page's warm-up are not throughput
    rate = (pages - first_page_at[1]) / (ended - first_page_at[0]) if first_page_at and pages > first_page_at[1] else 0.0
    return {"pages": pages, "pages_per_s": rate, "rss_mib": rss, "sync_s": sync}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--engine-pages", type=int, default=0, help="pages the engine reads (0: all)")
    parser.add_argument("--model", default="pp-ocrv4-mobile")
    parser.add_argument("--samples", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    samples = find_samples_dir(args.samples)
    info = machine_info()
    pdf = build_pdf(samples, args.pages)
    image_b64 = base64.b64encode((samples / SYNC_IMAGE).read_bytes()).decode()
    engine_pages = args.engine_pages or args.pages
    engine_before = engine_rate(pdf, args.model, engine_pages)
    with tempfile.TemporaryDirectory(prefix="ocrserve-bench-jobs-") as tmp, \
            server(args.model, Path(tmp), args.pages) as ocrserve:
        base = ocrserve.url
        sync_latency(base, image_b64)  # warm
        idle = [sync_latency(base, image_b64) for _ in range(IDLE_SYNC_REPEATS)]
        job = run_job(base, ocrserve.sampler, pdf, None)
        busy = run_job(base, ocrserve.sampler, pdf, image_b64)
    engine_after = engine_rate(pdf, args.model, engine_pages)
    engine = (engine_before + engine_after) / 2
    rss = job["rss_mib"]
    job["sync_s"] = busy["sync_s"]
    rows = [
        ["pages", job["pages"]],
        [f"engine pages/s (in process, first {min(engine_pages, job['pages'])} pages): before, after",
         f"{engine_before:.3f}, {engine_after:.3f}"],
        ["job pages/s", f"{job['pages_per_s']:.3f}"],
        ["job / engine (mean of before and after)", f"{job['pages_per_s'] / engine:.2f}"],
        ["job pages/s while sync requests run", f"{busy['pages_per_s']:.3f}"],
        ["server RSS MiB: first 10% of the run, max, last", f"{max(rss[:max(1, len(rss) // 10)]):.0f}, "
                                                            f"{max(rss):.0f}, {rss[-1]:.0f}"],
        ["sync /ocr s idle (median of 5)", f"{median(idle):.2f}"],
        ["sync /ocr s during the job (median, max, n)",
         f"{median(job['sync_s']):.2f}, {max(job['sync_s']):.2f}, {len(job['sync_s'])}" if job["sync_s"] else "—"],
        ["sync during / idle (median)", f"{median(job['sync_s']) / median(idle):.2f}" if job["sync_s"] else "—"],
    ]
    print(machine_header(info))
    print(f"- model set {args.model}; a {args.pages}-page PDF of the sample pages\n")
    print(markdown_table(["measure", "value"], rows, "lr"))
    if args.json:
        write_json(args.json, {"machine": info, "model": args.model, "engine_pages_per_s": engine,
                               "engine_pages_per_s_before_after": [engine_before, engine_after], **job,
                               "idle_sync_s": idle})


if __name__ == "__main__":
    main()
