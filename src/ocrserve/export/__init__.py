"""Read pages (OCRPage) -> the formats people file: text, Markdown, hOCR, ALTO XML v4, JSON, searchable PDF.

`export(results, fmt, original=...)` is the one entry point for a document at hand: the CLI and
the HTTP endpoint call it once per document (`results` are that document's pages, in order;
`original` its bytes, which the searchable PDF is built from).  A job writes the same formats a
page at a time: `PAGED` renders each text format's page parts and joins them, and
`searchable_pdf.PdfOverlay` lays a PDF's pages' text over it one page at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import BadInput
from ..result import OCRPage
from ..unicode_text import utf8
from .alto import ALTO, render_alto
from .hocr import HOCR, render_hocr
from .json import render_json
from .markdown import MARKDOWN, render_markdown
from .paged import PagedFormat
from .searchable_pdf import searchable_pdf
from .text import TEXT, render_text


@dataclass(frozen=True)
class Format:
    """An output format: every list of formats elsewhere (the job API's links, its file names, the
    names a signed link may reach, the media types served) is derived from `FORMATS`."""

    name: str
    extension: str
    media_type: str
    #: what it is, for the API documentation
    label: str
    #: its key in a job's `resultUrl`
    link_key: str
    #: its name on the page's download button, and what the button's tooltip says it holds
    button: str
    title: str
    #: how a job writes it page by page (the text formats); None: built whole
    paged: PagedFormat | None = None
    #: the page saves a download as <name><suffix>: beside the original, so a PDF's copy is not named as it
    suffix: str = ""

    @property
    def download_suffix(self) -> str:
        return self.suffix or self.extension


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("txt", ".txt", "text/plain; charset=utf-8", "plain text, pages apart by form feeds", "txtUrl",
           "TXT", "The text, one line per line; pages apart by a blank line", TEXT),
    Format("md", ".md", "text/markdown; charset=utf-8", "Markdown", "markdownUrl",
           "Markdown", "The text as Markdown: paragraphs, lists and headings as read", MARKDOWN),
    Format("hocr", ".hocr", "text/vnd.hocr+html; charset=utf-8", "hOCR 1.2", "hocrUrl",
           "hOCR", "hOCR (XHTML): pages, lines and words with their boxes", HOCR),
    Format("alto", ".alto.xml", "application/alto+xml; charset=utf-8", "ALTO XML v4", "altoUrl",
           "ALTO", "ALTO XML v4: pages, lines and words with their boxes", ALTO),
    Format("json", ".json", "application/json", "the pages' JSON (a job's JSONL)", "jsonUrl",
           "JSON", "The server's answer, without the page images"),
    Format("pdf", ".pdf", "application/pdf", "the searchable PDF", "pdfUrl",
           "searchable PDF", "The file as a PDF with its text selectable and searchable", suffix=".searchable.pdf"),
)}
ALIASES = {"text": "txt", "markdown": "md", "html": "hocr", "xml": "alto"}
#: the text formats, each written page by page
PAGED: dict[str, PagedFormat] = {f.name: f.paged for f in FORMATS.values() if f.paged is not None}


def get_format(name: str) -> Format:
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in FORMATS:
        raise BadInput(f"unknown output format {name!r}; choose from {', '.join(FORMATS)}")
    return FORMATS[key]


def export(results: Sequence[OCRPage], fmt: str, *, original: bytes | None = None, name: str = "",
           pdf_scale: float = 2.0) -> bytes:
    """One document's pages in format `fmt` (a name of FORMATS or an alias), as bytes."""
    f = get_format(fmt)
    if f.name == "pdf":
        return searchable_pdf(results, original, pdf_scale=pdf_scale)
    text = render_json(results) if f.name == "json" else PAGED[f.name].render(results, name)
    return utf8(text, what=f"the {f.name} export")


__all__ = ["ALIASES", "FORMATS", "PAGED", "Format", "PagedFormat", "export", "get_format", "render_alto",
           "render_hocr", "render_json", "render_markdown", "render_text", "searchable_pdf"]
