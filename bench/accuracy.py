"""Character accuracy and speed per model set on the sample ground truth: the case for the default set.

    python bench/accuracy.py                                    # all model sets, default options
    python bench/accuracy.py --models pp-ocrv6-small --per-file
    python bench/accuracy.py --options '{"text_det_limit_type": "max", "text_det_limit_side_len": 960}'

Accuracy is `ocrserve.evaluation`'s definition, scored exactly as tests/test_accuracy.py scores
it (one definition for the README's numbers and the tests' thresholds): NFKC, whitespace removed,
lines concatenated in upright position order, 1 - edit distance / truth length, per image or
PDF page, then the mean per kind.

Speed is the wall time of `OCR.predict` on the file, as a library user calls it: decoding and
PDF rendering included, model loading excluded (a service loads once).  A PDF is predicted once
and its time shared equally among its pages.  Files are taken one at a time and every model set
reads each file before the next file, so that load from other work on the machine falls on all
sets alike; one warm-up call per set precedes the timing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _common import find_samples_dir, load_average, machine_header, machine_info, markdown_table, write_json

from ocrserve import OCR, OCROptions, OCRResult
from ocrserve.errors import BadInput
from ocrserve.evaluation import Sample, char_accuracy, load_samples, position_ordered_text
from ocrserve.models import DEFAULT_MODEL_SET, MODEL_SETS

KINDS = (("page", "pages"), ("pdf", "PDF pages"), ("scene", "scenes"))


@dataclass(frozen=True)
class Score:
    """One ground-truth image or PDF page under one model set."""

    sample: str
    kind: str
    accuracy: float
    seconds: float  # for a PDF page: the PDF's predict time / its page count
    lines: int


def score(sample: Sample, result: OCRResult) -> float:
    """Character accuracy of one result, ordered and scored as tests/test_accuracy.py does."""
    truth = position_ordered_text(sample.lines, sample.rotation, result.width, result.height)
    ours = position_ordered_text([(line.text, line.polygon) for line in result.lines], sample.rotation,
                                 result.width, result.height)
    return char_accuracy(truth, ours)


def run(samples: list[Sample], models: list[str], options: OCROptions | None) -> dict[str, list[Score]]:
    """Every model set on every file, file by file; PDFs predicted once and indexed by page."""
    engines = {name: OCR(model=name, max_pdf_pages=0) for name in models}
    warmup = next((s.path for s in samples if s.kind != "pdf"), samples[0].path)
    for ocr in engines.values():
        ocr.predict(warmup, options)
    scores: dict[str, list[Score]] = {name: [] for name in models}
    by_file: dict[Path, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_file[sample.path].append(sample)
    for n, (path, file_samples) in enumerate(by_file.items(), 1):
        for name, ocr in engines.items():
            start = time.perf_counter()
            results = ocr.predict(path, options)
            seconds = (time.perf_counter() - start) / len(results)
            for sample in file_samples:
                result = results[(sample.page or 1) - 1]
                scores[name].append(Score(sample.name, sample.kind, score(sample, result), seconds,
                                          len(result.lines)))
        print(f"[bench] {n}/{len(by_file)} {path.name}; load average {load_average()}", file=sys.stderr, flush=True)
    return scores


def summarise(scores: list[Score]) -> dict[str, Any]:
    """Mean accuracy per kind and overall (over all samples), total seconds, seconds per document page."""
    out: dict[str, Any] = {}
    for kind, _ in KINDS:
        values = [s.accuracy for s in scores if s.kind == kind]
        out[kind] = float(np.mean(values)) if values else None
        out[f"n_{kind}"] = len(values)
    out["overall"] = float(np.mean([s.accuracy for s in scores]))
    worst = min(scores, key=lambda s: s.accuracy)
    out["worst"] = {"sample": worst.sample, "accuracy": worst.accuracy}
    out["seconds"] = sum(s.seconds for s in scores)
    doc_pages = [s.seconds for s in scores if s.kind in ("page", "pdf")]
    out["seconds_per_page"] = sum(doc_pages) / len(doc_pages) if doc_pages else None
    return out


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}"


def summary_table(summaries: dict[str, dict[str, Any]]) -> str:
    first = next(iter(summaries.values()))
    headers = ["model set", *(f"{label} % (n={first[f'n_{kind}']})" for kind, label in KINDS),
               f"overall % (n={sum(first[f'n_{k}'] for k, _ in KINDS)})", "worst file %", "total s", "s / page"]
    rows = []
    for name, s in summaries.items():
        label = f"{name} (default)" if name == DEFAULT_MODEL_SET else name
        per_page = "—" if s["seconds_per_page"] is None else f"{s['seconds_per_page']:.2f}"
        rows.append([label, *(pct(s[kind]) for kind, _ in KINDS), pct(s["overall"]), pct(s["worst"]["accuracy"]),
                     f"{s['seconds']:.1f}", per_page])
    return markdown_table(headers, rows)


def per_file_table(scores: dict[str, list[Score]]) -> str:
    models = list(scores)
    names = [s.sample for s in scores[models[0]]]
    kinds = [s.kind for s in scores[models[0]]]
    rows = [[name, kind, *(pct(scores[m][i].accuracy) for m in models)] for i, (name, kind) in
            enumerate(zip(names, kinds))]
    return markdown_table(["file", "kind", *models], rows, align="ll" + "r" * len(models))


def parse_options(text: str | None) -> OCROptions | None:
    """`--options` JSON -> OCROptions, with the option's own validation message on a bad value."""
    if not text:
        return None
    try:
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError("must be a JSON object")
        return OCROptions(**values)
    except (ValueError, TypeError, BadInput) as exc:  # bad JSON, unknown name, out-of-range value
        raise SystemExit(f"--options: {exc}") from exc


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--samples", type=Path, default=None,
                        help="sample set dir (default: $OCR_SAMPLES_DIR, else <repo>/../shared/samples)")
    parser.add_argument("--models", nargs="+", default=list(MODEL_SETS), choices=list(MODEL_SETS),
                        metavar="NAME", help=f"model sets (default: all: {', '.join(MODEL_SETS)})")
    parser.add_argument("--options", default=None, metavar="JSON",
                        help="OCROptions keyword arguments as a JSON object, e.g. "
                             "'{\"text_det_limit_type\": \"max\", \"text_det_limit_side_len\": 960}'")
    parser.add_argument("--per-file", action="store_true", help="also print each file's accuracy per model set")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the raw numbers here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = parse_options(args.options)
    samples_dir = find_samples_dir(args.samples)
    samples = list(load_samples(samples_dir))
    if not samples:
        raise SystemExit(f"no ground-truth samples in {samples_dir / 'manifest.jsonl'}")
    info = machine_info()

    started = time.perf_counter()
    scores = run(samples, args.models, options)
    elapsed = time.perf_counter() - started
    info["loadavg_end"] = load_average()
    summaries = {name: summarise(s) for name, s in scores.items()}

    shown = json.dumps({k: v for k, v in asdict(options).items() if v is not None}) if options else "defaults"
    print("## ocrserve character accuracy and speed per model set\n")
    print(machine_header(info))
    print(f"- load average at end: {info['loadavg_end']}; wall time {elapsed:.0f} s")
    print(f"- samples: {samples_dir} ({len(samples)} ground-truth images and PDF pages); options: {shown}")
    print("- accuracy: 1 - edit distance / truth length on NFKC text without whitespace, lines in position "
          "order (ocrserve.evaluation), mean per kind; overall = mean over all samples")
    print("- time: wall time of OCR.predict per file (decode and PDF rendering included, model load excluded), "
          "one request at a time, default ORT threads; s / page over pages and PDF pages\n")
    print(summary_table(summaries))
    if args.per_file:
        print("\nCharacter accuracy % per file:\n")
        print(per_file_table(scores))

    if args.json:
        write_json(args.json, {
            "machine": info,
            "settings": {"models": args.models, "samples": str(samples_dir), "options": shown},
            "summary": summaries,
            "scores": {name: [asdict(s) for s in values] for name, values in scores.items()},
        })
        print(f"\nraw numbers: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
