"""OCRResults -> the formats people file: text, Markdown, hOCR, ALTO XML v4, JSON, searchable PDF.

`export(results, fmt, original=...)` is the one entry point: the CLI, the HTTP endpoint and a
job's result files all call it once per document (`results` are that document's pages, in
order; `original` its bytes, which the searchable PDF is built from).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import BadInput
from ..result import OCRResult
from .alto import render_alto
from .hocr import render_hocr
from .json import render_json
from .markdown import render_markdown
from .searchable_pdf import searchable_pdf
from .text import render_text


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    media_type: str


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("txt", ".txt", "text/plain; charset=utf-8"),
    Format("md", ".md", "text/markdown; charset=utf-8"),
    Format("hocr", ".hocr", "text/vnd.hocr+html; charset=utf-8"),
    Format("alto", ".alto.xml", "application/alto+xml; charset=utf-8"),
    Format("json", ".json", "application/json"),
    Format("pdf", ".pdf", "application/pdf"),
)}
ALIASES = {"text": "txt", "markdown": "md", "html": "hocr", "xml": "alto"}


def get_format(name: str) -> Format:
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in FORMATS:
        raise BadInput(f"unknown output format {name!r}; choose from {', '.join(FORMATS)}")
    return FORMATS[key]


def export(results: Sequence[OCRResult], fmt: str, *, original: bytes | None = None, name: str = "",
           pdf_scale: float = 2.0) -> bytes:
    """One document's pages in format `fmt` (a name of FORMATS or an alias), as bytes."""
    f = get_format(fmt)
    if f.name == "pdf":
        return searchable_pdf(results, original, pdf_scale=pdf_scale)
    renderers = {"txt": render_text, "md": render_markdown, "hocr": render_hocr, "json": render_json}
    text = render_alto(results, file_name=name) if f.name == "alto" else renderers[f.name](results)
    return text.encode("utf-8")


__all__ = ["ALIASES", "FORMATS", "Format", "export", "get_format", "render_alto", "render_hocr", "render_json",
           "render_markdown", "render_text", "searchable_pdf"]
