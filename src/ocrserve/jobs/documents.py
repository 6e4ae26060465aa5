"""A job's stored input as pages: a PDF is read from its file, never loaded into memory whole.

pdfium opens a PDF from its path and reads what each page needs when the page is asked for, so a
job's document costs the pages being read, not its size; an image is one page, read when it is.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInput
from ..inputs import Limits, PageSource, open_pages
from ..inputs.pdf import PdfPages, is_pdf
from ..kinds import DocumentKind

#: enough of a file to tell a PDF from an image (PDF readers look this far for the header too)
HEAD_BYTES = 1024


def head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(HEAD_BYTES)


def count_pages(path: Path, limits: Limits) -> tuple[DocumentKind, int]:
    """("pdf" | "image", pages) of an input file; BadInput when it is empty or an unreadable PDF."""
    if is_pdf(head(path)):
        with PdfPages(str(path), limits) as pages:  # pdfium takes a path as well as bytes
            return "pdf", len(pages)
    if path.stat().st_size == 0:
        raise BadInput("the file is empty (0 bytes)")
    return "image", 1


def open_input(path: Path, kind: DocumentKind, limits: Limits) -> PageSource:
    """The input as a source of pages, opened in the caller's thread (pdfium's lock is taken inside)."""
    if kind == "pdf":
        return PdfPages(str(path), limits)
    return open_pages(path.read_bytes(), limits)
