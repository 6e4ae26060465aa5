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

from .errors import BadInput, InputTooLarge

if TYPE_CHECKING:
    from .inputs import Limits

PDF_MAGIC = b"%PDF-"
# pdfium is not thread-safe: one document at a time per process
_PDFIUM_LOCK = threading.Lock()


def is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(PDF_MAGIC)


def render_pdf(data: bytes, limits: Limits) -> Iterator[np.ndarray]:
    """Yield BGR uint8 pages: the first `limits.max_pdf_pages` (0 = all)."""
    scale, max_pages = limits.pdf_scale, limits.max_pdf_pages
    with _PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            msg = str(exc)
            if "password" in msg.lower():
                raise BadInput("the PDF is encrypted (password protected); send a decrypted copy") from exc
            raise BadInput(f"the PDF cannot be read: {msg}") from exc
        try:
            total = len(doc)
            if total == 0:
                raise BadInput("the PDF has no pages")
            if 0 < limits.max_pdf_document_pages < total:
                raise InputTooLarge(f"the PDF has {total} pages, over the limit of {limits.max_pdf_document_pages} "
                                    "(OCR_MAX_PDF_DOCUMENT_PAGES); send the pages to read as a shorter PDF")
            count = total if max_pages == 0 else min(total, max_pages)
            pages: list[np.ndarray] = []
            for index in range(count):
                page = doc[index]
                try:
                    w, h = page.get_size()
                    limits.check_size(int(w * scale), int(h * scale), f"PDF page {index + 1} at scale {scale}")
                    bitmap = page.render(scale=scale, rev_byteorder=False)
                    try:
                        arr = bitmap.to_numpy()
                        pages.append(_to_bgr(arr))
                    finally:
                        bitmap.close()
                finally:
                    page.close()
        finally:
            doc.close()
    yield from pages


def pdf_page_count(data: bytes) -> int:
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
