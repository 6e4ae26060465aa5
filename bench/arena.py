"""Where the engine's buffers come from: time, page faults and memory on traffic of new shapes.

    python bench/arena.py                                  # pp-ocrv6-small, 1 and 2 page threads
    python bench/arena.py --models pp-ocrv4-mobile --threads 2 --traffic repeat
    python bench/arena.py --json out/arena.json

One row per way of getting buffers (CONFIGS), each in a fresh interpreter; the rows, the load and
what they measured are in docs/benchmarks.md ("Memory and new shapes").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import find_samples_dir, machine_header, machine_info, markdown_table, write_json

CONFIGS: dict[str, dict[str, Any]] = {
    "arena off, mmap 1 MiB": {"cpu_mem_arena": False, "malloc_mmap_threshold": 1 << 20},
    "arena off, glibc adaptive": {"cpu_mem_arena": False, "malloc_mmap_threshold": 0},
    "shared arena, memory pattern on": {"mem_pattern": True},
    "shared arena, no release": {"arena_idle_release_s": 0},
    "shared arena, regions from 2 MiB": {"arena_region_mb": 0},
    "OpenVINO shape cache 5000 (its default)": {"openvino_shape_cache": 5000},
    "default": {},
}
BENCH_FILES = ("doc_page.png", "receipt_zh.jpg", "screenshot.png", "photo_sparse.jpg")
IDLE_S = 1.0
HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, os, resource, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import cv2
cfg = json.loads(sys.argv[1])
if cfg.pop("mem_pattern", False):  # a study row only: no setting turns the plan back on
    import ocrserve.engine.arena as arena
    _use = arena.use_shared_arena
    def use_with_pattern(opts, *args):
        _use(opts, *args)
        opts.enable_mem_pattern = True
    arena.use_shared_arena = use_with_pattern
    import ocrserve.engine.runtime as runtime
    runtime.use_shared_arena = use_with_pattern
from ocrserve.engine.arena import IDLE_RELEASE
from ocrserve.engine import build_pipeline
from ocrserve.memory import set_mmap_threshold
from ocrserve.settings import load_settings
opts = json.loads(sys.argv[2])
sys.path.append(opts["bench"])  # appended: the bench scripts' names must not shadow installed packages
from _harness import TreeSampler
settings = load_settings(**{"model": opts["model"], "arena_idle_release_s": opts["idle_s"], **cfg})
set_mmap_threshold(settings.malloc_mmap_threshold)
pipeline = build_pipeline(settings, batch_across_calls=True)
pipeline.warm_up()
base = [cv2.imread(str(Path(opts["samples"]) / "bench" / f)) for f in opts["files"]]
def page(i):
    img = base[i % len(base)]
    if opts["traffic"] == "repeat":
        return img
    factor = 0.8 + 0.4 * (((i + 1) * 0.6180339887498949) % 1.0)
    return cv2.resize(img, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)
sampler = TreeSampler(os.getpid(), every_s=0.05)
sampler.window()
faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
started = time.perf_counter()
with ThreadPoolExecutor(opts["threads"]) as pool:
    lines = sum(len(r.lines) for r in pool.map(lambda i: pipeline.predict(page(i)), range(opts["images"])))
wall = time.perf_counter() - started
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0
sampler.stop()
time.sleep(opts["idle_s"] + 1.0)
print(json.dumps({"wall_s": wall, "faults": faults, "peak_mib": sampler.peak_rss / 2**20,
                  "idle_mib": sampler.sample().rss / 2**20, "lines": lines,
                  "releases": IDLE_RELEASE.releases}))
"""


def run_config(name: str, cfg: dict[str, Any], args: argparse.Namespace, model: str, threads: int) -> dict[str, Any]:
    opts = {"model": model, "samples": str(args.samples), "bench": str(HERE), "files": BENCH_FILES, "images": args.images,
            "threads": threads, "traffic": args.traffic, "idle_s": IDLE_S}
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg), json.dumps(opts)], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(config=name, model=model, threads=threads)
    print(f"[arena-bench {time.strftime('%H:%M:%S')}] {model} {threads} thread(s) {name}: "
          f"{result['wall_s']:.1f} s", file=sys.stderr, flush=True)
    return result


def table(results: list[dict[str, Any]]) -> str:
    rows = []
    for r in results:
        ref = next(x for x in results if x["config"] == "default" and x["model"] == r["model"]
                   and x["threads"] == r["threads"])
        rows.append([r["model"], r["threads"], r["config"], f"{r['wall_s']:.1f}", f"{r['wall_s'] / ref['wall_s']:.2f}",
                     f"{r['faults'] / 1e6:.2f}", f"{r['peak_mib']:.0f}", f"{r['idle_mib']:.0f}", r["lines"]])
    headers = ["model set", "page threads", "buffers", "wall s", "time / default", "page faults (M)",
               "peak RSS MiB", "RSS when idle MiB", "lines read"]
    return markdown_table(headers, rows, align="lrlrrrrrr")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["pp-ocrv6-small"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--images", type=int, default=16, help="calls per row (default 16)")
    parser.add_argument("--traffic", choices=("varied", "repeat"), default="varied")
    parser.add_argument("--samples", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    args.samples = find_samples_dir(args.samples)
    info = machine_info()
    results = [run_config(name, cfg, args, model, threads)
               for model in args.models for threads in args.threads for name, cfg in CONFIGS.items()]
    print("## Engine buffers on traffic of new shapes\n")
    print(machine_header(info))
    print(f"- traffic: {args.traffic}, {args.images} calls per row over {', '.join(BENCH_FILES)}; every row in a "
          f"fresh interpreter; RSS when idle = {IDLE_S + 1:.0f} s after the last call "
          f"(release delay {IDLE_S:.0f} s)\n")
    print(table(results))
    if args.json:
        write_json(args.json, {"machine": info, "traffic": args.traffic, "images": args.images, "results": results})
        print(f"\nraw numbers: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
