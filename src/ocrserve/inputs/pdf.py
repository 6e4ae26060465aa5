"""PDF pages -> images with pypdfium2 (Apache-2.0/BSD; no AGPL renderer in the default install).

Pages render at `scale` (2.0 = 144 dpi, as PaddleX does), so coordinates of a PDF page are in
that pixel space.  Two limits bound what one document can ask for: past `max_pdf_pages` the rest
is not read (PaddleX's behaviour: numPages says how many were), and a document longer than
`max_pdf_document_pages` is refused outright, since nobody sends 5000 pages to get 10 back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pypdfium2 as pdfium

from ..errors import BadInput, InputTooLarge
from ..kinds import DocumentKind

if TYPE_CHECKING:
    from ..result import OutlineEntry
    from .limits import Limits
    from .textlayer import TextLayer

PDF_MAGIC = b"%PDF-"
# pdfium is not thread-safe: one document at a time per process
_PDFIUM_LOCK = threading.Lock()


def is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(PDF_MAGIC)


class PdfPages:
    """An open PDF whose pages are rendered one at a time, on demand.

    Only `count` pages are offered (the first `limits.max_pdf_pages`, 0 = all), so a long
    document is never held decoded at once; every pdfium call takes the process-wide lock, but
    the lock is released between pages so other requests' PDFs are not kept waiting.
    """

    kind: DocumentKind = "pdf"

    def __init__(self, data: bytes | str, limits: Limits) -> None:  # the bytes, or a file's path
        self.limits = limits
        with _PDFIUM_LOCK:
            try:
                self._doc = pdfium.PdfDocument(data)
            except pdfium.PdfiumError as exc:
                msg = str(exc)
                if "password" in msg.lower():
                    raise BadInput("the PDF is encrypted (password protected); send a decrypted copy") from exc
                raise BadInput(f"the PDF cannot be read: {msg}") from exc
            self.total = len(self._doc)
        if self.total == 0:
            self.close()
            raise BadInput("the PDF has no pages")
        if 0 < limits.max_pdf_document_pages < self.total:
            self.close()
            raise InputTooLarge(f"the PDF has {self.total} pages, over the limit of {limits.max_pdf_document_pages} "
                                "(OCR_MAX_PDF_DOCUMENT_PAGES); send the pages to read as a shorter PDF")
        self.count = self.total if limits.max_pdf_pages == 0 else min(self.total, limits.max_pdf_pages)
        self._outline: dict[int, tuple[OutlineEntry, ...]] | None = None

    def __len__(self) -> int:
        return self.count

    def page(self, index: int) -> np.ndarray:
        """Page `index` (0-based) as BGR uint8 at the configured scale."""
        scale = self.limits.pdf_scale
        with _PDFIUM_LOCK:
            page = self._doc[index]
            try:
                w, h = page.get_size()
                self.limits.check_size(int(w * scale), int(h * scale), f"PDF page {index + 1} at scale {scale}")
                bitmap = page.render(scale=scale, rev_byteorder=False)
                try:
                    return _to_bgr(bitmap.to_numpy())
                finally:
                    bitmap.close()
            finally:
                page.close()

    def page_size(self, index: int) -> tuple[int, int]:
        """(width, height) in pixels of page `index` rendered at the configured scale."""
        from .textlayer import page_pixel_size

        with _PDFIUM_LOCK:
            page = self._doc[index]
            try:
                return page_pixel_size(page, self.limits.pdf_scale)
            finally:
                page.close()

    def text_layer(self, index: int) -> TextLayer:
        """Page `index`'s own text, in the pixels `page(index)` would render, and the check's verdict."""
        from .textlayer import page_pixel_size, read_text_layer

        scale = self.limits.pdf_scale
        with _PDFIUM_LOCK:
            page = self._doc[index]
            try:
                self.limits.check_size(*page_pixel_size(page, scale), f"PDF page {index + 1} at scale {scale}")
                return read_text_layer(page, scale)
            finally:
                page.close()

    def outline(self, index: int) -> tuple[OutlineEntry, ...]:
        """The outline's entries that point at page `index`; the outline is read once, on first ask."""
        from .outline import read_outline

        if self._outline is None:
            with _PDFIUM_LOCK:
                self._outline = read_outline(self._doc)
        return self._outline.get(index, ())

    def close(self) -> None:
        doc, self._doc = getattr(self, "_doc", None), None
        if doc is not None:
            with _PDFIUM_LOCK:
                doc.close()

    def __enter__(self) -> PdfPages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_pdf(data: bytes, limits: Limits) -> Iterator[np.ndarray]:
    """Yield BGR uint8 pages: the first `limits.max_pdf_pages` (0 = all), one rendered at a time."""
    with PdfPages(data, limits) as pages:
        for index in range(len(pages)):
            yield pages.page(index)


def pdf_page_count(data: bytes | str) -> int:  # the bytes, or a file's path (read lazily)
    with _PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise BadInput(f"the PDF cannot be read: {exc}") from exc
        try:
            return len(doc)
        finally:
            doc.close()


def _to_bgr(arr: np.ndarray) -> np.ndarray:
    """pdfium renders BGR(A)/BGRx by default; drop the 4th channel or expand grey."""
    if arr.ndim == 2:
        return np.ascontiguousarray(np.repeat(arr[:, :, None], 3, axis=2))
    return np.ascontiguousarray(arr[:, :, :3])
