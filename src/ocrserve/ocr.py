"""`OCR`: the Python face.  Decodes whatever it is given, runs the Pipeline, returns results.

A PDF page whose own text layer passes the check is read from that layer instead of OCRed
(`pdf_text`, docs/pdf.md); any document can be written back as text, Markdown, hOCR, ALTO,
JSON or a searchable PDF (`export`, `save_pdf`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .engine import OCROptions, build_pipeline
from .errors import BadInput
from .export import export, get_format
from .inputs import ImageLike, Limits, load_input
from .pdf import PdfPages, is_pdf
from .result import OCRResult
from .settings import Settings, load_settings
from .textlayer import read_page

PDF_TEXT_MODES = ("auto", "ocr", "text")


class OCR:
    """PP-OCR on ONNX Runtime.

    >>> ocr = OCR(model="pp-ocrv6-small")
    >>> result = ocr("page.png")            # one OCRResult for an image
    >>> pages = ocr("scan.pdf")             # a list of OCRResult, one per page, for a PDF
    >>> print(result.text); result.save_image("out/")
    >>> ocr.save_pdf("scan.pdf", "out/scan.pdf")   # the same pages, searchable

    Keyword arguments of the constructor are settings (see `ocrserve config`); keyword arguments
    of a call are per-request options with PaddleX / RapidOCR names (see OCROptions), plus
    `pdf_text` (auto / ocr / text) for PDFs.
    """

    def __init__(self, model: str | None = None, settings: Settings | None = None, **overrides: Any) -> None:
        if model is not None:
            overrides["model"] = model
        if settings is not None and overrides:
            settings = settings.model_copy(update=overrides)
        self.settings = settings or load_settings(**overrides)
        self.pipeline = build_pipeline(self.settings)
        self.limits = Limits.from_settings(self.settings)

    def predict(self, source: ImageLike, options: OCROptions | None = None, *, pdf_text: str | None = None,
                **option_values: Any) -> list[OCRResult]:
        """Always a list: one result per image or PDF page (each holding its page image: see `pages`)."""
        return list(self.pages(source, options, pdf_text=pdf_text, **option_values))

    def pages(self, source: ImageLike, options: OCROptions | None = None, *, pdf_text: str | None = None,
              **option_values: Any) -> Iterator[OCRResult]:
        """One result per image or PDF page, each as soon as it is read: a long PDF's pages need not
        all be held at once (a result keeps its page image until you drop it or set `image` to None)."""
        opts = (options or OCROptions()).merged(OCROptions(**option_values)) if option_values else options
        effective = self.pipeline.resolve_options(opts)
        data = _pdf_bytes(source)
        if data is not None:
            yield from self._pdf_pages(data, effective, self._mode(pdf_text))
            return
        loaded = load_input(source, self.limits)
        for page in loaded.pages:
            yield self.pipeline.predict(page, effective)

    def _mode(self, pdf_text: str | None) -> str:
        mode = pdf_text or self.settings.pdf_text
        if mode not in PDF_TEXT_MODES:
            raise BadInput(f"pdf_text must be one of {', '.join(PDF_TEXT_MODES)}, not {mode!r}")
        return mode

    def _pdf_pages(self, data: bytes, effective: Any, mode: str) -> Iterator[OCRResult]:
        with PdfPages(data, self.limits) as pages:
            predict = functools.partial(self.pipeline.predict, options=effective)
            for index in range(len(pages)):
                result, _ = read_page(pages, index, predict, mode, effective.det.public(),
                                      effective.text_rec_score_thresh)
                result.timings.pop("text_layer", None)  # the library's results carry engine stages only
                result.page_index = index
                yield result

    def __call__(self, source: ImageLike, options: OCROptions | None = None,
                 **option_values: Any) -> OCRResult | list[OCRResult]:
        """An OCRResult for an image; a list of them (one per page) for a PDF."""
        results = self.predict(source, options, **option_values)
        return results if results and results[0].page_index is not None else results[0]

    def export(self, source: ImageLike | Sequence[ImageLike], fmt: str, options: OCROptions | None = None,
               **option_values: Any) -> bytes:
        """One document in format `fmt` (txt, md, hocr, alto, json, pdf); several images make one document."""
        sources = list(source) if isinstance(source, (list, tuple)) else [source]
        results: list[OCRResult] = []
        originals: list[bytes | None] = []
        for item in sources:
            original = _raw_bytes(item)
            keep_images = original is None or not is_pdf(original)  # a PDF's own pages are overlaid, not redrawn
            page_results = [_without_image(r, keep_images) for r in self.pages(item, options, **option_values)]
            results += page_results
            originals += [original] * len(page_results)
        if len(sources) > 1:
            if get_format(fmt).name == "pdf" and any(is_pdf(o or b"") for o in originals):
                raise BadInput("a searchable PDF of several inputs takes images only; export each PDF on its own")
            if get_format(fmt).name == "pdf":
                from .export.searchable_pdf import searchable_pdf

                images = [o if o is not None else r.image for o, r in zip(originals, results)]
                return searchable_pdf(results, page_images=images)
        name = str(sources[0]) if isinstance(sources[0], (str, Path)) else ""
        return export(results, fmt, original=originals[0], name=name, pdf_scale=self.limits.pdf_scale)

    def save_pdf(self, source: ImageLike | Sequence[ImageLike], path: str | Path, options: OCROptions | None = None,
                 **option_values: Any) -> Path:
        """Write `source` (an image, several images or a PDF) as one searchable PDF at `path`."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.export(source, "pdf", options, **option_values))
        return target


def _without_image(result: OCRResult, keep: bool) -> OCRResult:
    if not keep:
        result.image = None
    return result


def _raw_bytes(source: ImageLike) -> bytes | None:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise BadInput(f"no such file: {path}")
        return path.read_bytes()
    return None


def _pdf_bytes(source: ImageLike) -> bytes | None:
    """The bytes of a PDF source (path or bytes), None for anything else."""
    if isinstance(source, (bytes, bytearray)):
        return bytes(source) if is_pdf(bytes(source)) else None
    if isinstance(source, (str, Path)) and Path(source).is_file():
        with open(source, "rb") as fh:
            if not is_pdf(fh.read(1024)):
                return None
        return Path(source).read_bytes()
    return None
