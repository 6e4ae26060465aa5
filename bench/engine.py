"""Per-stage latency of the ocrserve engine per model set, against RapidOCR in the same run.

    python bench/engine.py                              # all model sets, bench + page images, 3 repeats
    python bench/engine.py --models pp-ocrv4-mobile --repeat 1 --json out/engine.json
    python bench/engine.py --models pp-ocrv6-small --backends onnxruntime openvino:fp32 openvino:bf16:fp32
    python bench/engine.py --models pp-ocrv6-small --backends onnxruntime auto:bf16:fp32 auto:int8:fp32
    python bench/engine.py --models pp-ocrv6-small pp-ocrv6-tiny --backends onnxruntime auto   # vs faster-paddle

For the PP-OCRv6 sets the run adds faster-paddle (Rust + ONNX Runtime; `pip install faster-paddle==1.0.4`,
the bench extra; its wheel's own v6 tiny/small files) and ocrserve's rows again with both orientation
stages off, the same work it does, plus the first row once more (A/A) to show how far one engine's
two measurements in one run differ; rounds alternate their order.

A latency claim only holds against a peer measured on the same machine, at the same moment, on
the same inputs and model files: so RapidOCR 1.4.4 runs on its bundled PP-OCRv4 files (the
files of our `pp-ocrv4-mobile` set, checked by sha256) inside this process, and the table's last
column is a ratio to it rather than an absolute claim.

Method: every image is decoded once up front (ocrserve.inputs) and handed to the engines as the
same BGR array, so decoding is not timed.  Each engine runs every image once as a warm-up (ORT
allocates per input shape on first sight), then `--repeat` rounds follow; inside a round every
engine reads every image, so that load from other work on the machine hits all engines alike
rather than whichever happened to run last.  Per image and stage we take the median over the
rounds, then sum over the images.  Each request runs alone (single-request latency) on ORT
sessions with default thread settings, in both libraries.

Images over 4 megapixels (photo_sparse, 3000x4000) are timed afterwards in a phase of their own,
one engine at a time on a fresh instance that is dropped after its warm-up and `--large-repeat`
rounds (default: as many as --repeat), so that no engine carries a large image's buffers into
the others' timings.  With ORT's CPU memory arena on (OCR_CPU_MEM_ARENA=true; the default before
ocrserve shrank big images for detection), six engines that had each seen that image held ~17 GB.
"""

from __future__ import annotations

import argparse
import functools
import gc
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from _common import (
    find_samples_dir,
    fmt_ms,
    load_average,
    machine_header,
    machine_info,
    markdown_table,
    median,
    write_json,
)

from ocrserve import OCR, OCROptions
from ocrserve.inputs import load_input
from ocrserve.models import MODEL_SETS
from ocrserve.models.registry import V2_CLS_R144, V4_DET, V4_REC
from ocrserve.models.store import sha256_of
from ocrserve.settings import load_settings
from ocrserve.tools.bench_rows import spec_overrides

STAGES = ("doc_orientation", "det", "crop", "cls", "rec")
STAGE_HEADERS = ("doc_ori ms", "det ms", "crop ms", "cls ms", "rec ms")
BENCH_IMAGES = ("bench/doc_page.png", "bench/receipt_zh.jpg", "bench/screenshot.png", "bench/photo_sparse.jpg")
RAPIDOCR_LABEL = "rapidocr 1.4.4 (pp-ocrv4 files)"
LARGE_PIXELS = 4_000_000  # above this an image is timed in its own phase, on fresh instances


@dataclass(frozen=True)
class Measurement:
    """One call: seconds per stage (None: this engine does not time that stage), wall time, lines."""

    stages: dict[str, float | None]
    total: float
    lines: int
    note: str = ""


Caller = Callable[[np.ndarray], Measurement]
Loader = Callable[[str, str], OCR]  # (model set, backend spec) -> OCR; shared within a phase, fresh per large image


@dataclass
class Row:
    """One engine configuration (a table row), how to build it, and what it measured per image."""

    label: str
    make: Callable[[Loader], Caller]
    runs: dict[str, list[Measurement]] = field(default_factory=dict)
    placement: str = ""  # where each model ran, read from the loaded engine


# --- the engines ------------------------------------------------------------------------------
def ocrserve_caller(ocr: OCR, options: OCROptions) -> Caller:
    """Time `Pipeline.predict` as the service calls it: options resolved once, per-stage timings read back."""
    effective = ocr.pipeline.resolve_options(options)

    def call(image: np.ndarray) -> Measurement:
        start = time.perf_counter()
        result = ocr.pipeline.predict(image, effective)
        total = time.perf_counter() - start
        # a stage missing from timings did not run (e.g. cls and rec when nothing was detected)
        return Measurement({s: result.timings.get(s, 0.0) for s in STAGES}, total, len(result.lines))

    call.placement = placement(ocr)  # type: ignore[attr-defined]
    return call


def placement(ocr: OCR) -> str:
    """`det onnxruntime fp32, rec OpenVINO CPU int8 (rec.xml), ...`: what each stage of this engine loaded."""
    pipeline = ocr.pipeline
    models = {"det": pipeline.detector.model, "rec": pipeline.recognizer.model if pipeline.recognizer else None,
              "textline": pipeline.orientation.textline.model, "doc_ori": pipeline.orientation.document.model}
    parts = []
    for stage, model in models.items():
        if model is None:
            continue
        where = "onnxruntime fp32" if model.providers == ["CPUExecutionProvider"] else ", ".join(model.providers)
        built = f" ({model.path.name})" if model.path.suffix == ".xml" else ""  # an IR from models quantize
        parts.append(f"{stage} {where}{built}")
    return ", ".join(parts)


def rapidocr_caller() -> Caller:
    """RapidOCR's own [det, cls, rec] elapse list, plus the wall time of the whole call.

    RapidOCR times neither document orientation (it has none) nor cropping: those cells stay
    empty, and its cropping and pre-resizing show up only in the total.  When nothing is
    detected it returns (None, None) right after detection, so the whole call counts as det.
    """
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:
        raise SystemExit("RapidOCR is the peer of this benchmark: pip install --no-deps "
                         f"rapidocr_onnxruntime==1.4.4 ({exc})") from exc
    engine = RapidOCR()

    def call(image: np.ndarray) -> Measurement:
        start = time.perf_counter()
        result, elapse = engine(image)
        total = time.perf_counter() - start
        if elapse is None:
            return Measurement({"doc_orientation": None, "det": total, "crop": None, "cls": 0.0, "rec": 0.0},
                               total, 0, note="nothing detected: whole call counted as det")
        det, cls, rec = (float(v) for v in elapse)
        return Measurement({"doc_orientation": None, "det": det, "crop": None, "cls": cls, "rec": rec},
                           total, len(result or []))

    return call


FASTER_PADDLE_VERSION = "1.0.4"
#: its model sizes, by the ocrserve set with the same PP-OCRv6 weights
FASTER_PADDLE_SIZES = {"pp-ocrv6-small": "small", "pp-ocrv6-tiny": "tiny"}


def faster_paddle_caller(size: str, det_max_side: int, threads: int | None) -> Caller:
    """faster-paddle (Rust + ONNX Runtime, its wheel's own PP-OCRv6 files; MIT) on the same image.

    It takes encoded bytes, so each image is handed over as BMP, encoded once outside the timing:
    decoding a BMP is a copy, so its timed work is the OCR.  It times no stages of its own; its
    detector is capped at ocrserve's OCR_DET_IMAGE_MAX_SIDE, and it runs no orientation classifier.
    """
    try:
        import faster_paddle
    except ImportError as exc:
        raise SystemExit(f"the faster-paddle rows need it: pip install faster-paddle=={FASTER_PADDLE_VERSION} "
                         f"(the bench extra) ({exc})") from exc
    if faster_paddle.__version__ != FASTER_PADDLE_VERSION:
        raise SystemExit(f"faster-paddle {faster_paddle.__version__} installed; this bench pins {FASTER_PADDLE_VERSION}")
    engine = faster_paddle.OcrEngine(model_size=size, threads=threads, det_max_side=det_max_side)
    encoded: dict[int, bytes] = {}

    def call(image: np.ndarray) -> Measurement:
        data = encoded.get(id(image))
        if data is None:
            data = encoded.setdefault(id(image), cv2.imencode(".bmp", image)[1].tobytes())
        start = time.perf_counter()
        result = engine.ocr(data)
        total = time.perf_counter() - start
        return Measurement({stage: None for stage in STAGES}, total, len(result["bounds"]))

    return call


def check_same_files() -> None:
    """Refuse to compare unless RapidOCR's bundled models are byte-identical to pp-ocrv4-mobile's."""
    import rapidocr_onnxruntime

    models = Path(rapidocr_onnxruntime.__file__).parent / "models"
    for mf in (V4_DET, V4_REC, V2_CLS_R144):
        path = models / Path(mf.path).name
        if not path.is_file() or sha256_of(path) != mf.sha256:
            raise SystemExit(f"RapidOCR's {path} is not {mf.requirement}:{mf.path}; the comparison would be "
                             "between different model files")


def load_ocr(model: str, spec: str = "") -> OCR:
    """An OCR for a model set on a backend spec (BACKEND[:PRECISION[:DET_PRECISION]]; "": the settings' choice)."""
    return OCR(model=model, **(spec_overrides(model, spec, load_settings().model_dir) if spec else {}))


def row_label(model: str, spec: str) -> str:
    return f"ocrserve {model}" + (f" · {spec}" if spec else "")


def build_rows(models: list[str], backends: list[str] | None = None, peers: bool = True) -> list[Row]:
    """ocrserve per model set (and backend spec) with the default options; for the PP-OCRv6 sets, the same with
    both orientation stages off (faster-paddle's work) and faster-paddle itself; then the like-for-like pair
    with RapidOCR."""
    check_same_files()
    defaults = OCROptions(use_doc_orientation_classify=True, use_textline_orientation=True)
    # exactly RapidOCR's work: its defaults have text-line orientation on and no page orientation
    rapid_like = OCROptions(use_doc_orientation_classify=False, use_textline_orientation=True)
    rows = [Row(row_label(name, spec), lambda load, name=name, spec=spec: ocrserve_caller(load(name, spec), defaults))
            for name in models for spec in (backends or [""])]
    if peers and rows:  # the first row again: how far two runs of one engine differ in this run (A/A noise)
        first, first_spec = models[0], (backends or [""])[0]
        rows.append(Row(row_label(first, first_spec) + " (A/A)",
                        lambda load: ocrserve_caller(load(first, first_spec), defaults)))
    no_orientation = OCROptions(use_doc_orientation_classify=False, use_textline_orientation=False)
    settings = load_settings()
    for name in (m for m in models if peers and m in FASTER_PADDLE_SIZES):
        rows += [Row(row_label(name, spec) + " (orientation off)",
                     lambda load, name=name, spec=spec: ocrserve_caller(load(name, spec), no_orientation))
                 for spec in (backends or [""])]
        size = FASTER_PADDLE_SIZES[name]
        rows.append(Row(f"faster-paddle {FASTER_PADDLE_VERSION} ({size}, its own files)",
                        lambda load, size=size: faster_paddle_caller(size, settings.det_image_max_side,
                                                                     settings.inference_threads or None)))
    rows.append(Row("ocrserve pp-ocrv4-mobile (rapidocr settings)",
                    lambda load: ocrserve_caller(load("pp-ocrv4-mobile", "onnxruntime"), rapid_like)))
    rows.append(Row(RAPIDOCR_LABEL, lambda load: rapidocr_caller()))
    return rows


# --- measuring ----------------------------------------------------------------------------------
def default_images(samples: Path) -> list[Path]:
    """The four throughput images plus the eight document pages: sparse to dense, 200 px to 4000 px."""
    return [samples / p for p in BENCH_IMAGES] + sorted((samples / "pages").glob("*.png"))


def resolve_images(given: list[str] | None, samples: Path) -> list[Path]:
    """`--images` paths as given, or relative to the samples dir; the defaults otherwise."""
    if not given:
        return default_images(samples)
    paths = []
    for item in given:
        path = Path(item)
        if not path.is_file() and (samples / item).is_file():
            path = samples / item
        if not path.is_file():
            raise SystemExit(f"no such image: {item}")
        paths.append(path)
    return paths


def is_large(image: np.ndarray) -> bool:
    return image.shape[0] * image.shape[1] > LARGE_PIXELS


def measure(rows: list[Row], images: dict[str, np.ndarray], repeat: int, large_repeat: int,
            log: Callable[[str], None]) -> None:
    """Interleaved rounds over the ordinary images, then the large ones engine by engine (see the docstring)."""
    small = {n: a for n, a in images.items() if not is_large(a)}
    large = {n: a for n, a in images.items() if is_large(a)}
    if small:
        shared = functools.cache(load_ocr)  # one OCR per model set and backend for the phase
        calls = [row.make(shared) for row in rows]
        for row, call in zip(rows, calls):
            row.placement = getattr(call, "placement", "")
        for call in calls:
            for image in small.values():
                call(image)
        log(f"warm-up done ({len(rows)} engines x {len(small)} images); load average {load_average()}")
        for rnd in range(repeat):
            # every other round in the opposite order, so that no engine always runs after the same one
            order = list(zip(rows, calls))
            for row, call in (order if rnd % 2 == 0 else order[::-1]):
                for name, image in small.items():
                    row.runs.setdefault(name, []).append(call(image))
            log(f"round {rnd + 1}/{repeat} done; load average {load_average()}")
        del calls, shared
        gc.collect()
    for name, image in large.items():
        for row in rows:
            call = row.make(load_ocr)
            call(image)
            row.runs[name] = [call(image) for _ in range(large_repeat)]
            del call
            gc.collect()  # drop the sessions, and their arenas, before the next engine
        log(f"{name} done on every engine; load average {load_average()}")


def measure_until_interrupted(rows: list[Row], images: dict[str, np.ndarray], repeat: int, large_repeat: int,
                              log: Callable[[str], None]) -> bool:
    """`measure`, but Ctrl-C or SIGTERM ends it early and keeps what was measured (True when cut short).

    A full run takes many minutes on a small machine that others share; losing all of it to a
    stray kill is worse than printing a clearly marked partial table.
    """
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        measure(rows, images, repeat, large_repeat, log)
        return False
    except KeyboardInterrupt:
        log("interrupted: reporting what was measured so far")
        return True
    finally:
        signal.signal(signal.SIGTERM, previous)


def summarise(row: Row) -> dict[str, Any]:
    """Per image the median over rounds of each stage and of the wall time; then sums over images."""
    per_image: dict[str, dict[str, Any]] = {}
    for name, runs in row.runs.items():
        stages: dict[str, float | None] = {}
        for stage in STAGES:
            values = [m.stages[stage] for m in runs]
            stages[stage] = None if any(v is None for v in values) else median(values)  # type: ignore[arg-type]
        per_image[name] = {"stages": stages, "total": median([m.total for m in runs]), "lines": runs[-1].lines,
                           "notes": sorted({m.note for m in runs if m.note})}
    sums: dict[str, float | None] = {}
    for stage in STAGES:
        values = [img["stages"][stage] for img in per_image.values()]
        sums[stage] = None if all(v is None for v in values) else sum(v or 0.0 for v in values)
    spreads = [(max(t) - min(t)) / median(t) for t in ([m.total for m in runs] for runs in row.runs.values())
               if len(t) > 1]
    return {"per_image": per_image, "stages": sums, "total": sum(i["total"] for i in per_image.values()),
            "lines": sum(i["lines"] for i in per_image.values()),
            "spread": median(spreads) if spreads else None}


# --- output -------------------------------------------------------------------------------------
def faster_paddle_labels(summaries: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(ocrserve model set, its faster-paddle row's label) for each faster-paddle row measured."""
    return [(model, label) for model, size in FASTER_PADDLE_SIZES.items() for label in summaries
            if label.startswith(f"faster-paddle {FASTER_PADDLE_VERSION} ({size},")]


def main_table(summaries: dict[str, dict[str, Any]]) -> str:
    peer = summaries.get(RAPIDOCR_LABEL)
    rows = []
    for label, s in summaries.items():
        ratio = f"{peer['total'] / s['total']:.2f}" if peer else "—"
        spread = "—" if s["spread"] is None else f"{s['spread'] * 100:.0f}"
        # a backend row against ONNX Runtime fp32 on the same model set, in the same run
        base = summaries.get(label.split(" · ")[0] + " · onnxruntime") if " · " in label else None
        vs_ort = f"{s['total'] / base['total']:.2f}" if base else "—"
        rival = next((summaries[f] for m, f in faster_paddle_labels(summaries) if label.startswith(f"ocrserve {m}")),
                     None)
        vs_rival = f"{rival['total'] / s['total']:.2f}" if rival else "—"
        rows.append([label, *(fmt_ms(s["stages"][st]) for st in STAGES), fmt_ms(s["total"]), spread, s["lines"],
                     ratio, vs_rival, vs_ort])
    headers = ["engine / model set", *STAGE_HEADERS, "total ms", "spread %", "lines found", "x vs rapidocr",
               "x vs faster-paddle", "time / ORT fp32"]
    return markdown_table(headers, rows)


def per_image_table(summaries: dict[str, dict[str, Any]], names: list[str]) -> str:
    headers = ["image", *summaries]
    rows = [[name, *(fmt_ms(s["per_image"][name]["total"]) for s in summaries.values())] for name in names]
    return markdown_table(headers, rows)


def image_label(path: Path, samples: Path) -> str:
    try:
        return str(path.relative_to(samples))
    except ValueError:
        return str(path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, default=None,
                        help="sample set dir (default: $OCR_SAMPLES_DIR, else <repo>/tests/data/samples)")
    parser.add_argument("--images", nargs="+", default=None,
                        help="images to time instead of the 4 bench images + pages/*.png "
                             "(paths, or relative to --samples)")
    parser.add_argument("--models", nargs="+", default=list(MODEL_SETS), choices=list(MODEL_SETS),
                        metavar="NAME", help=f"model sets (default: all: {', '.join(MODEL_SETS)})")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds per image after one warm-up (default 3)")
    parser.add_argument("--large-repeat", type=int, default=None,
                        help="timed rounds for images over 4 megapixels, each engine on a fresh instance; "
                             "at most --repeat (default: --repeat)")
    parser.add_argument("--backends", nargs="+", default=None, metavar="SPEC",
                        help="backend rows per model set, BACKEND[:PRECISION[:DET_PRECISION]] "
                             "(e.g. onnxruntime openvino:bf16:fp32; default: the settings' choice)")
    parser.add_argument("--no-peers", action="store_true",
                        help="leave out the faster-paddle rows and ocrserve's orientation-off rows beside them")
    parser.add_argument("--per-image", action="store_true", help="also print total ms per image and engine")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the raw numbers here")
    args = parser.parse_args(argv)
    args.large_repeat = args.repeat if args.large_repeat is None else min(args.large_repeat, args.repeat)
    if args.repeat < 1 or args.large_repeat < 1:
        parser.error("--repeat and --large-repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    samples = find_samples_dir(args.samples)
    paths = resolve_images(args.images, samples)
    info = machine_info()
    log = lambda msg: print(f"[bench] {msg}", file=sys.stderr, flush=True)  # noqa: E731

    images = {image_label(p, samples): load_input(p).pages[0] for p in paths}
    rows = build_rows(args.models, args.backends, peers=not args.no_peers)
    started = time.perf_counter()
    interrupted = measure_until_interrupted(rows, images, args.repeat, args.large_repeat, log)
    elapsed = time.perf_counter() - started
    if interrupted:
        images = {n: a for n, a in images.items() if all(row.runs.get(n) for row in rows)}
        if not images:
            log("interrupted before any image was measured by every engine: nothing to report")
            return 130
        for row in rows:
            row.runs = {n: row.runs[n] for n in images}
    summaries = {row.label: summarise(row) for row in rows}
    info["loadavg_end"] = load_average()

    sizes = ", ".join(f"{n} {a.shape[1]}x{a.shape[0]}" for n, a in images.items())
    print("## ocrserve engine latency vs RapidOCR\n")
    print(machine_header(info))
    print(f"- load average at end: {info['loadavg_end']}; wall time of the measurement {elapsed:.0f} s")
    print(f"- {len(images)} images ({sizes})")
    if interrupted:
        print("- **INTERRUPTED**: partial rounds; only the images above, measured by every engine, are in the table")
    large = [n for n, a in images.items() if is_large(a)]
    shrunk = [f"{n} {a.shape[1]}x{a.shape[0]}" for n, a in images.items() if max(a.shape[:2]) > 2000]
    print(f"- single-request latency: one image at a time, ORT sessions with default threads (both libraries); "
          f"per image and stage the median of {args.repeat} interleaved round(s) after one warm-up, summed over "
          f"the images; over 4 MP ({', '.join(large) or 'none'}): {args.large_repeat} round(s) on a fresh instance "
          "per engine, after the others")
    print("- spread % = median over images of (slowest - fastest round) / median round: ratios nearer 1 than "
          "this are noise")
    print("- ocrserve rows: default options (document orientation on, text-line orientation on); "
          "\"rapidocr settings\": document orientation off, i.e. the work RapidOCR does")
    cfg = load_settings()
    print(f"- ocrserve settings: det_image_max_side {cfg.det_image_max_side}, cpu_mem_arena {cfg.cpu_mem_arena}, "
          f"intra_op_threads {cfg.intra_op_threads} (0 = ORT default)")
    print("- RapidOCR: its defaults on the same PP-OCRv4 det/rec/cls files (sha256-checked; max_side_len 2000, "
          "CPU arena off); it times no doc orientation or crop (—). Longer than 2000 px here: "
          f"{', '.join(shrunk) or 'none'}")
    print("- `x vs rapidocr` = RapidOCR total / row total: above 1 is faster than RapidOCR")
    print("- `x vs faster-paddle` = faster-paddle total / row total, same PP-OCRv6 size (its wheel's files, BMP bytes "
          "in, detector capped at OCR_DET_IMAGE_MAX_SIDE, no orientation stages): above 1 is faster; compare it "
          "with the `(orientation off)` row for the same work")
    print("- `time / ORT fp32` (rows named `· SPEC`, BACKEND:PRECISION:DET_PRECISION): row total / the same model "
          "set's `· onnxruntime` row: below 1 is faster\n")
    print(main_table(summaries))
    placed = [f"- {row.label}: {row.placement}" for row in rows if row.placement]
    if placed:
        print("\nWhere each ocrserve row ran its models:\n")
        print("\n".join(placed))
    notes = sorted({f"{label} on {name}: {note}" for label, s in summaries.items()
                    for name, img in s["per_image"].items() for note in img["notes"]})
    for note in notes:
        print(f"\nnote: {note}")
    if args.per_image:
        print("\nTotal ms per image (median):\n")
        print(per_image_table(summaries, list(images)))

    if args.json:
        write_json(args.json, {
            "machine": info,
            "interrupted": interrupted,
            "settings": {"repeat": args.repeat, "large_repeat": args.large_repeat, "large_pixels": LARGE_PIXELS,
                         "models": args.models, "backends": args.backends, "samples": str(samples),
                         "images": {n: list(a.shape) for n, a in images.items()}},
            "summary": summaries,
            "raw": {row.label: {name: [asdict(m) for m in runs] for name, runs in row.runs.items()} for row in rows},
        })
        print(f"\nraw numbers: {args.json}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
