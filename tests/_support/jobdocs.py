"""Documents the job tests send: a PDF that mixes text-layer pages with a scan, and a PDF of any size."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pikepdf

from _support import pdfs


def mixed_pdf(samples_dir: Path) -> bytes:
    """Three pages: a born-digital page, a scanned page (the only one OCRed), another born-digital page."""
    out = pikepdf.new()
    with pikepdf.open(samples_dir / "pdf/tasn1_p6-8.pdf") as text, \
            pikepdf.open(samples_dir / "pdf/scanned_lshort_p50-51.pdf") as scan:
        for page in (text.pages[0], scan.pages[0], text.pages[1]):
            out.pages.append(page)
        buffer = io.BytesIO()
        out.save(buffer)
    return buffer.getvalue()


def padded_pdf(size: int) -> bytes:
    """A one-page text PDF of `size` bytes: an unreferenced stream of random bytes makes up the rest."""
    base = len(pdfs.text_pdf())
    filler = pdfs.stream(os.urandom(max(0, size - base - 100)))
    data = pdfs.one_page(pdfs.text_ops(pdfs.LINES), extra_objects=[filler])
    return data
