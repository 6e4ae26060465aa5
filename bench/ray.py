"""Ray Serve against the plain service on this machine: `ocrserve serve --ray` vs `ocrserve serve`.

    python bench/ray.py                                  # pp-ocrv6-small, concurrency 16, 20 requests
    python bench/ray.py --concurrency 1 16 --requests 40 --json out/ray.json

bench/serve.py's images, client and columns, the two servers one after the other; what the Ray
server starts and the method: docs/benchmarks.md ("Ray Serve on one machine").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from _common import find_samples_dir, load_average, machine_header, machine_info, markdown_table, write_json
from serve import (
    CACHE,
    MODEL_SETS,
    RAY_ENV,
    RAY_SERVER,
    TRAFFIC,
    Contender,
    bench_server,
    fmt,
    load_images,
    log,
    model_files,
    ratio,
)

CONTENDERS = (Contender("ocrserve", "ocrserve"), Contender(RAY_SERVER, "ray", env=RAY_ENV))


def table(runs: list[dict[str, Any]]) -> str:
    levels = [lv for run in runs for lv in run["levels"]]
    plain = {(lv["model_set"], lv["concurrency"]): lv for lv in levels if lv["server"] == "ocrserve"}
    rows = []
    for lv in levels:
        base = plain.get((lv["model_set"], lv["concurrency"])) if lv["server"] == RAY_SERVER else None
        rows.append([lv["server"], lv["model_set"], lv["concurrency"], f"{lv['ok']}/{lv['requests']}",
                     fmt(lv["images_per_s"]), fmt(lv["p50"]), fmt(lv["p95"]), fmt(lv["p99"]),
                     f"{lv['peak_rss'] / 2**20:.0f}", f"{lv['cpu_pct']:.0f}", lv["errors"],
                     ratio(lv["images_per_s"], base["images_per_s"]) if base else "—",
                     ratio(base["p99"], lv["p99"]) if base else "—"])
    headers = ["server", "model set", "conc.", "ok/sent", "img/s", "p50 s", "p95 s", "p99 s", "peak RSS MiB",
               "CPU %", "errors", "img/s ray/plain", "p99 plain/ray"]
    return markdown_table(headers, rows, align="llrrrrrrrrrrr")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["pp-ocrv6-small"], choices=MODEL_SETS)
    parser.add_argument("--concurrency", nargs="+", type=int, default=[16])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=240.0)
    parser.add_argument("--samples", type=Path, default=None)
    parser.add_argument("--traffic", choices=TRAFFIC, default="varied", help="as in bench/serve.py")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    images = load_images(find_samples_dir(args.samples))
    info = machine_info()
    runs = []
    started = time.perf_counter()
    for name in args.models:
        files = model_files(name)
        runs.extend(bench_server(contender, files, images, args, CACHE / "ray-logs") for contender in CONTENDERS)
    info["loadavg_end"] = load_average()
    print("## Ray Serve vs plain ocrserve (loopback, same images and model files)\n")
    print(machine_header(info))
    print(f"- load average at end: {info['loadavg_end']}; wall time {(time.perf_counter() - started) / 60:.1f} min")
    print(f"- per level: up to {args.requests} requests or {args.max_seconds:.0f} s; RapidOCR API multipart POST "
          "/ocr; ocrserve-ray = `ocrserve serve --ray` (1 ingress + 1 recognition replica, local Ray instance, "
          "its processes included in RSS and CPU)\n")
    print(table(runs))
    print("\nstartup (launch to first 200 OCR answer): "
          + ", ".join(f"{r['server']} {r['model_set']} {fmt(r.get('startup_s'), 1)} s" for r in runs))
    for run in runs:
        if run.get("failed") or run.get("died"):
            print(f"\n**{run['server']} failed:** {run.get('failed') or run.get('died')}")
    if args.json:
        write_json(args.json, {"machine": info, "runs": runs, "settings": vars(args)})
    log("done")
    return 0 if all(not r.get("failed") for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
