"""`OCR`: the Python face.  Decodes whatever it is given, runs the Pipeline, returns results.

A PDF page whose own text layer passes the check is read from that layer instead of OCRed
(`pdf_text`, docs/pdf.md); any document can be written back as text, Markdown, hOCR, ALTO,
JSON or a searchable PDF (`export`, `save_pdf`), or parsed by its layout into blocks, tables and
the Markdown a person keeps (`parse`, docs/layout.md).

Every page of a PDF is read: the page caps of the settings (`max_pdf_pages`,
`max_pdf_document_pages`) protect the HTTP service, and apply here only when they are set
explicitly (a keyword, `OCR_MAX_PDF_PAGES`, the YAML file); a cap that leaves pages unread says
so with a `PagesNotReadWarning`.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, cast

import numpy as np

from .contracts.base import language_codes
from .engine import EffectiveOptions, OCROptions, build_pipeline, load_layout
from .engine.layout import LayoutDetector, ScoreThreshold
from .errors import BadInput
from .export import export, get_format, render_alto, render_hocr, render_markdown, render_text
from .export.structure import MARKDOWN_IGNORE_LABELS, ParsedPage, document_markdown, parse_page
from .export.visualize import render_ocr_image, write_image
from .inputs import ImageLike, Limits, load_input
from .inputs.pdf import PdfPages, is_pdf
from .kinds import TextLayerPolicy
from .reader import PageRequest, read_page, text_layer_policy
from .result import OCRPage, output_path
from .service.languages import LanguageReaders
from .settings import Settings, load_settings

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class OCRResult(OCRPage):
    """One page or image as the library gives it: the page's data (`OCRPage`), and what it can be
    turned into (text, Markdown, hOCR, ALTO, a drawn visualisation)."""

    @classmethod
    def of(cls, page: OCRPage) -> OCRResult:
        """The same page, fields shared, not copied."""
        return cls(**{f.name: getattr(page, f.name) for f in dataclasses.fields(page)})

    def to_text(self) -> str:
        """Plain text, one line per line, in reading order."""
        return render_text([self])

    def to_markdown(self) -> str:
        """Markdown: lines grouped into paragraphs and headings by their size and spacing."""
        return render_markdown([self])

    def to_hocr(self) -> str:
        """hOCR 1.2 (XHTML): page, paragraphs, lines and words with their boxes and confidences."""
        return render_hocr([self])

    def to_alto(self) -> str:
        """ALTO XML v4 (pixel units): page, text blocks, lines and strings."""
        return render_alto([self])

    def save_image(self, path: str | Path) -> Path:
        """Write the visualisation (boxes left, recognised text right) as PNG/JPEG."""
        target = output_path(path, self, ".png")
        write_image(target, render_ocr_image(self))
        return target


@dataclass
class ParsedDocument:
    """A document parsed by its layout: each page's blocks, Markdown and figures (`pages`), the
    document's Markdown (pages joined, a paragraph a page break cut joined again) and its figures'
    JPEG crops by the path the Markdown names them by."""

    pages: list[ParsedPage]
    markdown: str
    images: dict[str, bytes]

    def save_markdown(self, path: str | Path) -> Path:
        """Write the Markdown to `path` and its figures beside it (`imgs/...`), where its links point."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.markdown + "\n", encoding="utf-8")
        for name, jpeg in self.images.items():
            image = target.parent / name
            image.parent.mkdir(parents=True, exist_ok=True)
            image.write_bytes(jpeg)
        return target


class PagesNotReadWarning(UserWarning):
    """A PDF had more pages than an explicitly set `max_pdf_pages` let `OCR` read."""


def library_limits(settings: Settings) -> Limits:
    """The input limits of `settings` for the library: a PDF page cap applies only when it was set
    explicitly, since its defaults (10 pages, 1000-page documents) are the HTTP service's protection."""
    explicit = settings.model_fields_set
    return dataclasses.replace(
        Limits.from_settings(settings),
        max_pdf_pages=settings.max_pdf_pages if "max_pdf_pages" in explicit else 0,
        max_pdf_document_pages=settings.max_pdf_document_pages if "max_pdf_document_pages" in explicit else 0,
    )


class OCR:
    """PP-OCR on ONNX Runtime.

    >>> ocr = OCR(model="pp-ocrv6-small")
    >>> result = ocr("page.png")            # one OCRResult for an image
    >>> pages = ocr("scan.pdf")             # a list of OCRResult, one per page, for a PDF
    >>> print(result.text); result.save_image("out/")
    >>> ocr.save_pdf("scan.pdf", "out/scan.pdf")   # the same pages, searchable

    `lang`: the documents' language(s), PaddleOCR's codes (`korean`, `ru`, `ar`, ...) or EasyOCR's;
    one the model set cannot read is read by its script's language set (`ocrserve models pull
    pp-ocrv5-korean`, ...), sharing the model set's detector; with several, each line is read by
    every one's recogniser and the surest reading kept.  Keyword arguments of the constructor are
    settings (see `ocrserve config`); keyword arguments of a call are per-request options with PaddleX / RapidOCR names (see OCROptions), plus
    `pdf_text` (auto / ocr / text) for PDFs.  Every page of a PDF is read unless `max_pdf_pages`
    is set (then a PagesNotReadWarning names the pages left unread).
    """

    def __init__(self, model: str | None = None, settings: Settings | None = None, *,
                 lang: str | Sequence[str] | None = None, **overrides: Any) -> None:
        if model is not None:
            overrides["model"] = model
        if settings is not None and overrides:
            settings = settings.model_copy(update=overrides)
        self.settings = settings or load_settings(**overrides)
        self.pipeline = build_pipeline(self.settings)
        if lang:
            readers = LanguageReaders(self.settings)
            routes = readers.routes(language_codes(lang), self.pipeline.characters)
            self.pipeline = readers.pipeline(self.pipeline, routes)
        self.limits = library_limits(self.settings)
        self._layout: LayoutDetector | None = None

    def layout_detector(self) -> LayoutDetector:
        """The layout detector (OCR_LAYOUT_MODEL), loaded on first use; a ModelMissing names the
        command that installs it when its file is not there."""
        if self._layout is None:
            self._layout = load_layout(self.settings)
        return self._layout

    def parse_page(self, result: OCRPage, first_page: bool = True, *, tables: bool = True,
                   layout_threshold: ScoreThreshold = None,
                   ignore_labels: Collection[str] = MARKDOWN_IGNORE_LABELS) -> ParsedPage:
        """One read page (with its image: `pages(..., render_layer_pages=True)`) parsed by its layout:
        blocks in reading order, tables as cells unless `tables=False`, and its Markdown.
        `first_page`: the document's first, whose opening title is the document's title."""
        if result.image is None:
            raise BadInput("the page's image is needed to find its layout: read it with render_layer_pages=True")
        regions = self.layout_detector().detect(result.image, layout_threshold)
        return parse_page(result, regions, first_page, ignore_labels, tables)

    def parse(self, source: ImageLike, options: OCROptions | None = None, *, pdf_text: str | None = None,
              pages: Iterable[int] | None = None, tables: bool = True, layout_threshold: ScoreThreshold = None,
              ignore_labels: Collection[str] = MARKDOWN_IGNORE_LABELS, **option_values: Any) -> ParsedDocument:
        """An image or PDF parsed by its layout, as /layout-parsing parses it: per page its blocks,
        tables and Markdown, and the document's Markdown. `pages`: the 0-based indices of the pages
        to parse (all by default); the others are not read, but the document's outline still names
        the headings of those parsed. Each page's image is dropped once it is parsed (its figures are kept as JPEG crops)."""
        parsed = []
        for k, result in enumerate(self.pages(source, options, pdf_text=pdf_text, pages=pages,
                                              render_layer_pages=True, **option_values)):
            # only the document's own first page opens with its title, as a server's parse decides
            parsed.append(self.parse_page(result, k == 0 and not result.page_index, tables=tables,
                                          layout_threshold=layout_threshold, ignore_labels=ignore_labels))
            result.image = None
        markdown, images = document_markdown(parsed)
        return ParsedDocument(parsed, markdown, images)

    def predict(self, source: ImageLike, options: OCROptions | None = None, *, pdf_text: str | None = None,
                **option_values: Any) -> list[OCRResult]:
        """Always a list: one result per image or PDF page (each holding its page image: see `pages`;
        hold a long PDF's pages one at a time with `pages` instead)."""
        return list(self.pages(source, options, pdf_text=pdf_text, **option_values))

    def pages(self, source: ImageLike, options: OCROptions | None = None, *, pdf_text: str | None = None,
              pages: Iterable[int] | None = None, render_layer_pages: bool = False,
              **option_values: Any) -> Iterator[OCRResult]:
        """One result per image or PDF page, each as soon as it is read: a long PDF's pages need not
        all be held at once (a result keeps its page image until you drop it or set `image` to None).
        `pages`: the 0-based indices of the pages to read, in ascending order (all by default).
        A PDF page read from its text layer is not rendered, so its result has no image to draw
        (`save_image`) unless `render_layer_pages=True`."""
        opts = (options or OCROptions()).merged(OCROptions(**option_values)) if option_values else options
        effective = self.pipeline.resolve_options(opts)
        data = _pdf_bytes(source)
        if data is not None:
            name = str(source) if isinstance(source, (str, Path)) else "the PDF"
            for page in self._pdf_pages(data, effective, self._mode(pdf_text), name, pages, render_layer_pages):
                yield OCRResult.of(page)
            return
        loaded = load_input(source, self.limits)
        for index in _chosen(pages, len(loaded.pages)):
            yield OCRResult.of(self.pipeline.predict(loaded.pages[index], effective))

    def _mode(self, pdf_text: str | None) -> TextLayerPolicy:
        return text_layer_policy(pdf_text) if pdf_text is not None else self.settings.pdf_text

    def _pdf_pages(self, data: bytes, effective: EffectiveOptions, policy: TextLayerPolicy, name: str,
                   chosen: Iterable[int] | None, render_layer_pages: bool) -> Iterator[OCRPage]:
        with PdfPages(data, self.limits) as pages:
            if pages.count < pages.total:  # said before the first page, so a long read is not a surprise at its end
                warnings.warn(f"{name}: reading the first {pages.count} of its {pages.total} pages "
                              f"(max_pdf_pages={self.limits.max_pdf_pages}; 0 reads every page)",
                              PagesNotReadWarning, stacklevel=_caller_level())
            for index in _chosen(chosen, len(pages)):
                result = read_page(self.pipeline, PageRequest(pages, index, effective, policy,
                                                              keep_image=render_layer_pages)).page
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
        sources: list[ImageLike] = list(source) if isinstance(source, (list, tuple)) else [cast(ImageLike, source)]
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

                images: list[bytes | np.ndarray] = []
                for original_bytes, result in zip(originals, results):
                    image = original_bytes if original_bytes is not None else result.image
                    if image is None:  # an input given as an array keeps its image: not reached
                        raise BadInput("a searchable PDF needs each page's image")
                    images.append(image)
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


def _chosen(pages: Iterable[int] | None, count: int) -> list[int]:
    """The 0-based indices of the pages to read, ascending and each once: all `count` when None."""
    if pages is None:
        return list(range(count))
    chosen = sorted(set(pages))
    outside = [index for index in chosen if not 0 <= index < count]
    if outside:
        raise BadInput(f"page index {outside[0]} is outside the {count} page(s) read (0 to {count - 1})")
    return chosen


def _caller_level() -> int:
    """The `stacklevel` of the first frame outside this package, so that a warning names the
    caller's line however deep in the library (generators included) it was raised."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR + os.sep):
        frame, level = frame.f_back, level + 1
    return level


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
