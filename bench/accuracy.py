"""Character accuracy and speed per model set on the sample ground truth: the case for the default set.

    python bench/accuracy.py                                    # all model sets, default options
    python bench/accuracy.py --models pp-ocrv6-small --per-file
    python bench/accuracy.py --options '{"text_det_limit_type": "max", "text_det_limit_side_len": 960}'
    python bench/accuracy.py --models pp-ocrv6-small --line-order paddlex reading   # before / after
    python bench/accuracy.py --models pp-ocrv6-small --backends onnxruntime openvino:bf16:fp32  # docs/precision.md
    python bench/accuracy.py --models pp-ocrv6-small --backends onnxruntime openvino:int8:fp32 openvino:int8:int8
    python bench/accuracy.py --models pp-ocrv6-small --backends onnxruntime auto:bf16:bf16 \
        --layer-pdfs /usr/share/doc/libtasn1-doc/libtasn1.pdf    # more PDF pages: the text layer as truth
    python bench/accuracy.py --models pp-ocrv6-small --lang ru --no-samples --noto --layer-pages 6 \
        --layer-pdfs developers-reference.pdf      # a language: its documents' pages and their text in Noto faces

Two figures per kind: order-insensitive (today's: both sides sorted by position first) and in
reading order (the lines as returned, against the ground truth's own line order; the sample
set's pages follow pdftotext's order, the generated layout samples (bench/layout_samples.py:
tilted receipts, two-column pages, vertical text, sparse pages) the order a person reads).

Accuracy is `ocrserve.tools.evaluation`'s definition, scored exactly as tests/parity/test_accuracy.py scores
it (one definition for the README's numbers and the tests' thresholds): NFKC, whitespace removed,
lines concatenated in upright position order, 1 - edit distance / truth length, per image or
PDF page, then the mean per kind.

`--layer-pdfs` widens the PDF-pages check beyond the eight sample pages: every page of the given
PDFs whose text layer the service would trust (`usable`) becomes a sample of its own group
("layer pages", not in `overall`), its truth the layer's lines in the rendered page's pixels, and
every PDF page is then OCRed (`pdf_text=ocr`) instead of read from its layer.

`--noto` adds a clean image of each of those pages: its lines drawn one per row with Debian's Noto
faces (bench/language_pages.py, the faces fetched with `apt-get download` into the ignored `.cache/`),
scored as "Noto pages": with a language's own documents as `--layer-pdfs`, its character accuracy on
real text without a PDF's layout or fonts in the way.

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
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _common import find_samples_dir, load_average, machine_header, machine_info, markdown_table, write_json
from language_pages import noto_samples
from layout_samples import LAYOUT_KINDS
from layout_samples import build as build_layout_samples

from ocrserve import OCR, OCROptions, OCRResult
from ocrserve.errors import BadInput
from ocrserve.inputs import Limits
from ocrserve.inputs.pdf import PdfPages
from ocrserve.models import DEFAULT_MODEL_SET, MODEL_SETS
from ocrserve.settings import load_settings
from ocrserve.tools.bench_rows import spec_overrides
from ocrserve.tools.evaluation import Sample, char_accuracy, load_samples, position_ordered_text

KINDS = (("page", "pages"), ("pdf", "PDF pages"), ("scene", "scenes"))
LAYER_KIND = "layer"  # a PDF page scored against its own text layer (--layer-pdfs)
NOTO_KIND = "noto"  # the same page's text drawn with Noto faces (--noto)
# groups reported beside the kinds; a sample may be in several (the sample receipt is a scene too)
GROUPS = (*KINDS, ("rotated", "rotated"), ("receipt", "receipts"), ("two-column", "two-column"),
          ("vertical", "vertical"), ("sparse", "sparse"), (LAYER_KIND, "layer pages"), (NOTO_KIND, "Noto pages"))


@dataclass(frozen=True)
class Score:
    """One ground-truth image or PDF page under one model set."""

    sample: str
    kind: str
    groups: tuple[str, ...]
    accuracy: float  # order-insensitive
    ordered: float  # in the order the lines are returned, against the ground truth's order
    seconds: float  # for a PDF page: the PDF's predict time / its page count
    lines: int
    stages: dict[str, float]  # the engine's own stage timings for this page (result.timings)


def score(sample: Sample, result: OCRResult) -> float:
    """Character accuracy of one result, ordered and scored as tests/parity/test_accuracy.py does."""
    truth = position_ordered_text(sample.lines, sample.rotation, result.width, result.height)
    ours = position_ordered_text([(line.text, line.polygon) for line in result.lines], sample.rotation,
                                 result.width, result.height)
    return char_accuracy(truth, ours)


def in_reading_order(sample: Sample, result: OCRResult) -> float:
    """Character accuracy of the lines as returned against the ground truth's own line order."""
    return char_accuracy("".join(text for text, _ in sample.lines), "".join(result.texts))


def groups_of(sample: Sample) -> set[str]:
    groups = {sample.kind}
    if sample.rotation or "rotated" in sample.path.name or "rot180" in sample.path.name:
        groups.add("rotated")
    if "receipt" in sample.path.name:
        groups.add("receipt")
    return groups


def layer_samples(paths: list[Path], max_pages: int = 0) -> tuple[list[Sample], int]:
    """Each page of `paths` (the first `max_pages` of each; 0: all) with a usable text layer as a Sample (its
    lines the truth), and how many were not."""
    limits = Limits.from_settings(load_settings(max_pdf_pages=max_pages))
    samples, skipped = [], 0
    for path in paths:
        with PdfPages(str(path), limits) as pages:
            for index in range(len(pages)):
                layer = pages.text_layer(index)
                if not layer.check.usable or not layer.lines:
                    skipped += 1
                    continue
                lines = [(line.text, line.polygon) for line in layer.lines]
                samples.append(Sample(path, LAYER_KIND, "", 0, index + 1, lines))
    return samples, skipped


def run(samples: list[Sample], engines: dict[str, OCR], options: OCROptions | None) -> dict[str, list[Score]]:
    """Every engine on every file, file by file; PDFs predicted once and indexed by page."""
    models = list(engines)
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
                scores[name].append(Score(sample.name, sample.kind, tuple(sorted(groups_of(sample))), score(sample, result),
                                          in_reading_order(sample, result), seconds, len(result.lines),
                                          dict(result.timings)))
        print(f"[bench] {n}/{len(by_file)} {path.name}; load average {load_average()}", file=sys.stderr, flush=True)
    return scores


def summarise(scores: list[Score]) -> dict[str, Any]:
    """Mean accuracy per kind and overall (over all samples), total seconds, seconds per document page."""
    out: dict[str, Any] = {}
    for kind, _ in GROUPS:
        members = [s for s in scores if kind in s.groups]
        out[kind] = float(np.mean([s.accuracy for s in members])) if members else None
        out[f"{kind}_ordered"] = float(np.mean([s.ordered for s in members])) if members else None
        out[f"n_{kind}"] = len(members)
    # the sample kinds; with --no-samples, the layer pages (a language's documents) are all there is
    known = [s for s in scores if s.kind in dict(KINDS)] or list(scores)
    out["overall"] = float(np.mean([s.accuracy for s in known])) if known else None
    out["overall_ordered"] = float(np.mean([s.ordered for s in known])) if known else None
    worst = min(known, key=lambda s: s.accuracy) if known else None
    out["worst"] = {"sample": worst.sample if worst else None, "accuracy": worst.accuracy if worst else None}
    out["seconds"] = sum(s.seconds for s in scores)
    out["stage_seconds"] = {stage: sum(s.stages.get(stage, 0.0) for s in scores)
                            for stage in sorted({k for s in scores for k in s.stages})}
    doc_pages = [s.seconds for s in known if s.kind in ("page", "pdf")]
    out["seconds_per_page"] = sum(doc_pages) / len(doc_pages) if doc_pages else None
    return out


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}"


def order_table(summaries: dict[str, dict[str, Any]]) -> str:
    """Per group: order-insensitive % / in reading order %."""
    first = next(iter(summaries.values()))
    present = [(kind, label) for kind, label in GROUPS if first[f"n_{kind}"]]
    headers = ["engine", *(f"{label} (n={first[f'n_{kind}']})" for kind, label in present), "overall (sample set)"]
    rows = [[name, *(f"{pct(s[kind])} / {pct(s[f'{kind}_ordered'])}" for kind, _ in present),
             f"{pct(s['overall'])} / {pct(s['overall_ordered'])}"] for name, s in summaries.items()]
    return markdown_table(headers, rows)


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
    rows = [[name, kind, *(f"{pct(scores[m][i].accuracy)} / {pct(scores[m][i].ordered)}" for m in models)]
            for i, (name, kind) in enumerate(zip(names, kinds))]
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
                        help="sample set dir (default: $OCR_SAMPLES_DIR, else <repo>/tests/data/samples)")
    parser.add_argument("--models", nargs="+", default=list(MODEL_SETS), choices=list(MODEL_SETS),
                        metavar="NAME", help=f"model sets (default: all: {', '.join(MODEL_SETS)})")
    parser.add_argument("--options", default=None, metavar="JSON",
                        help="OCROptions keyword arguments as a JSON object, e.g. "
                             "'{\"text_det_limit_type\": \"max\", \"text_det_limit_side_len\": 960}'")
    parser.add_argument("--line-order", nargs="+", default=["reading"], choices=["reading", "paddlex"],
                        help="line orders to compare (OCR_LINE_ORDER; default: reading)")
    parser.add_argument("--backends", nargs="+", default=None, metavar="SPEC",
                        help="backend rows, BACKEND[:PRECISION[:DET_PRECISION]] (e.g. onnxruntime openvino:bf16:fp32; "
                             "openvino:int8 the recogniser `ocrserve models quantize SET --backend openvino` "
                             "built, openvino:int8:int8 its detector too; default: the settings' choice)")
    parser.add_argument("--layer-pdfs", nargs="+", type=Path, default=[], metavar="PDF",
                        help="also score every page of these PDFs against its own text layer (OCRs all PDF pages)")
    parser.add_argument("--lang", nargs="+", default=[], metavar="CODE",
                        help="also read with each language (OCR(lang=...): the model set, or the language set of "
                             "its script, which must be installed); pair with --layer-pdfs in that language")
    parser.add_argument("--layer-pages", type=int, default=0, metavar="N",
                        help="read only the first N pages of each PDF (default 0: every page)")
    parser.add_argument("--noto", action="store_true",
                        help="also draw each --layer-pdfs page's text with Debian's Noto faces and score those "
                             "images (bench/language_pages.py: a language's clean pages)")
    parser.add_argument("--no-samples", action="store_true",
                        help="score only the --layer-pdfs pages (a language's documents), not the sample set")
    parser.add_argument("--no-layout", action="store_true",
                        help="leave out the generated layout samples (bench/layout_samples.py)")
    parser.add_argument("--per-file", action="store_true", help="also print each file's accuracy per model set")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the raw numbers here")
    return parser.parse_args(argv)


def engines_for(args: argparse.Namespace, specs: list[str], model_dir: Path,
                pdf_text: dict[str, str]) -> dict[str, OCR]:
    """One engine per model set, line order, backend spec and language (none: the model set's own)."""
    languages: list[str | None] = [None, *args.lang]
    return {" · ".join([name] + ([order] if len(args.line_order) > 1 else []) + ([spec] if spec else [])
                       + ([f"lang={lang}"] if lang else [])):
            OCR(model=name, max_pdf_pages=args.layer_pages, line_order=order, lang=lang, **pdf_text,
                **(spec_overrides(name, spec, model_dir) if spec else {}))
            for name in args.models for order in args.line_order for spec in specs for lang in languages}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = parse_options(args.options)
    samples_dir = find_samples_dir(args.samples)
    samples = [] if args.no_samples else list(load_samples(samples_dir))
    if not samples and not args.no_samples:
        raise SystemExit(f"no ground-truth samples in {samples_dir / 'manifest.jsonl'}")
    layout_dir = tempfile.TemporaryDirectory(prefix="ocr-layout-")
    if not args.no_layout and not args.no_samples:
        samples += list(load_samples(build_layout_samples(samples_dir, Path(layout_dir.name)), LAYOUT_KINDS))
    extra, skipped = layer_samples(args.layer_pdfs, args.layer_pages)
    samples += extra
    rendered = noto_samples(extra, Path(layout_dir.name), NOTO_KIND) if args.noto else None
    samples += rendered.samples if rendered else []
    if not samples:
        raise SystemExit(f"no pages to score: the --layer-pdfs pages read hold no usable text layer ({skipped} pages)")
    # a layer page must be OCRed to be scored against its layer; the sample PDFs are then OCRed too
    pdf_text = {"pdf_text": "ocr"} if extra else {}
    info = machine_info()

    specs = args.backends or [""]
    model_dir = load_settings().model_dir
    try:
        engines = engines_for(args, specs, model_dir, pdf_text)
    except BadInput as exc:  # a language whose set is not installed here: say which, and how to get it
        raise SystemExit(f"cannot read every language asked for: {exc}") from None
    started = time.perf_counter()
    scores = run(samples, engines, options)
    elapsed = time.perf_counter() - started
    info["loadavg_end"] = load_average()
    summaries = {name: summarise(s) for name, s in scores.items()}

    shown = json.dumps({k: v for k, v in asdict(options).items() if v is not None}) if options else "defaults"
    print("## ocrserve character accuracy and speed per model set\n")
    print(machine_header(info))
    print(f"- load average at end: {info['loadavg_end']}; wall time {elapsed:.0f} s")
    print(f"- samples: {samples_dir} ({len(samples)} ground-truth images and PDF pages); options: {shown}")
    if args.layer_pdfs:
        print(f"- layer pages: {len(extra)} pages of {', '.join(p.name for p in args.layer_pdfs)} scored against "
              f"their own text layer ({skipped} pages without a usable layer left out); every PDF page OCRed")
    if rendered:
        print(f"- Noto pages: {len(rendered.samples)} images of the layer pages' lines drawn with Debian's Noto faces "
              f"(bench/language_pages.py; {rendered.lines_left_out} lines no face holds whole left out)")
    print("- accuracy: 1 - edit distance / truth length on NFKC text without whitespace, lines in position "
          "order (ocrserve.tools.evaluation), mean per kind; overall = mean over all samples")
    print("- time: wall time of OCR.predict per file (decode and PDF rendering included, model load excluded), "
          "one request at a time, default ORT threads; s / page over pages and PDF pages\n")
    print(summary_table(summaries))
    print("\nCharacter accuracy % per group, order-insensitive / in reading order (layout samples generated "
          "by bench/layout_samples.py):\n")
    print(order_table(summaries))
    for name, summary in summaries.items():
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in summary["stage_seconds"].items())
        print(f"\n{name}: engine stage time over all files: {stages}")
    if args.per_file:
        print("\nCharacter accuracy % per file:\n")
        print(per_file_table(scores))

    if args.json:
        write_json(args.json, {
            "machine": info,
            "settings": {"models": args.models, "line_order": args.line_order, "samples": str(samples_dir), "options": shown},
            "summary": summaries,
            "scores": {name: [asdict(s) for s in values] for name, values in scores.items()},
        })
        print(f"\nraw numbers: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
