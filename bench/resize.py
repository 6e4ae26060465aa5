"""Detection resize policies, int8 variants and the fast profile: accuracy against cost.

    python bench/resize.py                                     # pp-ocrv6-small and pp-ocrv4-mobile
    python bench/resize.py --models pp-ocrv6-small --policies "min 64" "max 960" --repeat 3
    python bench/resize.py --policies --repeat 3              # defaults, fast profile and int8 only
    python bench/resize.py --no-int8 --json out/resize.json

Per model set, each policy's character accuracy and its detection and total engine time as
ratios to the set's default row; rows and method: docs/benchmarks.md ("Cheaper modes").
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _common import find_samples_dir, load_average, machine_header, machine_info, markdown_table, median, write_json
from accuracy import KINDS, Score, pct, score, summarise

from ocrserve import OCR, OCROptions
from ocrserve.engine.config import DET_PROFILES, EngineConfig
from ocrserve.engine.options import EffectiveOptions, resolve
from ocrserve.errors import ModelMissing
from ocrserve.inputs import Limits, load_input
from ocrserve.models import MODEL_SETS
from ocrserve.tools.evaluation import Sample, load_samples

DEFAULT_MODELS = ("pp-ocrv6-small", "pp-ocrv4-mobile")
# "min 64" is PaddleX 3.x's rule: each image at its own resolution (no upscaling but of tiny images;
# images over 2000 px are still shrunk first); "max N" shrinks the long side to N, never upscales
DEFAULT_POLICIES = ("min 64", "max 736", "max 960", "max 1280", "max 1600")


@dataclass
class Row:
    """One table row: a loaded engine and the options every call of the row uses."""

    label: str
    model: str  # the fp32 set whose default row the ratios refer to
    engine: OCR
    options: EffectiveOptions
    scores: list[Score] = field(default_factory=list)  # per sample, in manifest order
    det_seconds: list[float] = field(default_factory=list)  # per sample, median over rounds


def parse_policy(text: str) -> tuple[str, int]:
    """`"max 960"` -> ("max", 960)."""
    try:
        kind, side = text.split()
        if kind not in ("min", "max"):
            raise ValueError
        return kind, int(side)
    except ValueError:
        raise SystemExit(f"--policies: {text!r} is not 'min N' or 'max N'") from None


def fast_profile(ocr: OCR) -> EffectiveOptions:
    """What `OCR_DET_PROFILE=fast` would resolve to on this engine, without loading it again."""
    fast = EngineConfig.from_settings(ocr.settings.model_copy(update={"det_profile": "fast"}))
    return resolve(None, fast, ocr.pipeline.models.model_set)


def build_rows(models: list[str], policies: list[str], with_int8: bool) -> list[Row]:
    """Engines loaded once per model set (policies are per-call options, as a request would send)."""
    rows: list[Row] = []
    for name in models:
        ocr = OCR(model=name, max_pdf_pages=0)
        spec = ocr.pipeline.models.model_set.det
        rows.append(Row(f"{name} · {spec.limit_type} {spec.limit_side_len} (default)", name, ocr,
                        ocr.pipeline.resolve_options(None)))
        for policy in policies:
            kind, side = parse_policy(policy)
            if (kind, side) == (spec.limit_type, spec.limit_side_len):
                continue
            options = OCROptions(text_det_limit_type=kind, text_det_limit_side_len=side)
            rows.append(Row(f"{name} · {kind} {side}", name, ocr, ocr.pipeline.resolve_options(options)))
        fast = DET_PROFILES["fast"]
        fast_label = f"fast profile ({fast.limit_type} {fast.limit_side_len})" if fast else "fast profile"
        rows.append(Row(f"{name} · {fast_label}", name, ocr, fast_profile(ocr)))
        if with_int8:
            try:
                int8 = OCR(model=f"{name}-int8", max_pdf_pages=0)
            except ModelMissing as exc:
                print(f"[bench] skipping {name}-int8: {exc}", file=sys.stderr)
                continue
            rows.append(Row(f"{name}-int8 · default", name, int8, int8.pipeline.resolve_options(None)))
            rows.append(Row(f"{name}-int8 · {fast_label}", name, int8, fast_profile(int8)))
    return rows


def decode(samples: list[Sample]) -> dict[Path, list[np.ndarray]]:
    """Every file's pages once (PDFs rendered at 144 dpi, all pages): not part of any timing."""
    limits = Limits(max_pdf_pages=0)
    return {path: load_input(path, limits).pages for path in dict.fromkeys(s.path for s in samples)}


def measure(rows: list[Row], samples: list[Sample], pages: dict[Path, list[np.ndarray]], repeat: int) -> None:
    """File by file, repeat by repeat, row by row; accuracy from the first round (it is deterministic)."""
    warm = [next(s for s in samples if s.kind == kind) for kind in ("page", "scene") if
            any(s.kind == kind for s in samples)]
    for row in rows:
        for sample in warm:
            row.engine.pipeline.predict(pages[sample.path][(sample.page or 1) - 1], row.options)
    by_file: dict[Path, list[tuple[int, Sample]]] = defaultdict(list)
    for index, sample in enumerate(samples):
        by_file[sample.path].append((index, sample))
    # (row, sample index) -> accuracy and line count of the first round, seconds of every round
    first: dict[tuple[int, int], tuple[float, int]] = {}
    totals: dict[tuple[int, int], list[float]] = defaultdict(list)
    dets: dict[tuple[int, int], list[float]] = defaultdict(list)
    for n, (path, file_samples) in enumerate(by_file.items(), 1):
        for _ in range(repeat):
            for r, row in enumerate(rows):
                for index, sample in file_samples:
                    image = pages[path][(sample.page or 1) - 1]
                    start = time.perf_counter()
                    result = row.engine.pipeline.predict(image, row.options)
                    totals[r, index].append(time.perf_counter() - start)
                    dets[r, index].append(result.timings.get("det", 0.0))
                    first.setdefault((r, index), (score(sample, result), len(result.lines)))
        print(f"[bench] {n}/{len(by_file)} {path.name}; load average {load_average()}", file=sys.stderr, flush=True)
    for r, row in enumerate(rows):
        row.scores = [Score(s.name, s.kind, first[r, i][0], median(totals[r, i]), first[r, i][1])
                      for i, s in enumerate(samples)]
        row.det_seconds = [median(dets[r, i]) for i in range(len(samples))]


def table(rows: list[Row]) -> tuple[str, dict[str, dict[str, Any]]]:
    """The markdown table and the summaries behind it; ratios are to the set's default row."""
    summaries = {row.label: summarise(row.scores) | {"det_seconds": sum(row.det_seconds)} for row in rows}
    first = summaries[rows[0].label]
    headers = ["model · det resize", *(f"{label} % (n={first[f'n_{kind}']})" for kind, label in KINDS),
               "overall %", "Δ overall", "det ms/img", "total ms/img", "det ×", "total ×"]
    out = []
    for row in rows:
        s = summaries[row.label]
        base = summaries[next(r.label for r in rows if r.model == row.model)]
        n = len(row.scores)
        out.append([row.label, *(pct(s[kind]) for kind, _ in KINDS), pct(s["overall"]),
                    f"{(s['overall'] - base['overall']) * 100:+.2f}",
                    f"{s['det_seconds'] / n * 1000:.0f}", f"{s['seconds'] / n * 1000:.0f}",
                    f"{s['det_seconds'] / base['det_seconds']:.2f}", f"{s['seconds'] / base['seconds']:.2f}"])
    return markdown_table(headers, out), summaries


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--samples", type=Path, default=None,
                        help="sample set dir (default: $OCR_SAMPLES_DIR, else <repo>/tests/data/samples)")
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=list(MODEL_SETS),
                        metavar="NAME", help=f"model sets (default: {' '.join(DEFAULT_MODELS)})")
    parser.add_argument("--policies", nargs="*", default=list(DEFAULT_POLICIES), metavar="RULE",
                        help=f"detection rules besides each set's default (default: {', '.join(DEFAULT_POLICIES)})")
    parser.add_argument("--no-int8", action="store_true", help="leave out the <set>-int8 rows")
    parser.add_argument("--repeat", type=int, default=1, help="timed rounds per file and row (median kept)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the raw numbers here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    samples_dir = find_samples_dir(args.samples)
    samples = list(load_samples(samples_dir))
    if not samples:
        raise SystemExit(f"no ground-truth samples in {samples_dir / 'manifest.jsonl'}")
    info = machine_info()
    rows = build_rows(args.models, args.policies, not args.no_int8)
    pages = decode(samples)

    started = time.perf_counter()
    measure(rows, samples, pages, max(1, args.repeat))
    elapsed = time.perf_counter() - started
    info["loadavg_end"] = load_average()
    text, summaries = table(rows)

    print("## Detection resize policies, int8 variants and the fast profile\n")
    print(machine_header(info))
    print(f"- load average at end: {info['loadavg_end']}; wall time {elapsed:.0f} s; {args.repeat} timed round(s)")
    print(f"- samples: {samples_dir} ({len(samples)} ground-truth images and PDF pages)")
    print("- accuracy: bench/accuracy.py's scoring (ocrserve.tools.evaluation), mean per kind; Δ overall in points "
          "against the set's default row")
    print("- time: Pipeline.predict on pre-decoded pages, mean over all samples of the per-sample median; "
          "det = detection stage; × = ratio to the set's default row (same run, interleaved)\n")
    print(text)
    if args.json:
        write_json(args.json, {
            "machine": info,
            "settings": {"models": args.models, "policies": args.policies, "repeat": args.repeat,
                         "samples": str(samples_dir)},
            "summary": summaries,
            "rows": {row.label: {"det": asdict(row.options.det),
                                 "scores": [asdict(s) for s in row.scores],
                                 "det_seconds": row.det_seconds} for row in rows},
        })
        print(f"\nraw numbers: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
