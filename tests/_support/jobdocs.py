"""Documents the job tests send: a PDF of any size."""

from __future__ import annotations

import os

from tests._support import pdfs


def padded_pdf(size: int) -> bytes:
    """A one-page text PDF of `size` bytes: an unreferenced stream of random bytes makes up the rest."""
    base = len(pdfs.text_pdf())
    filler = pdfs.stream(os.urandom(max(0, size - base - 100)))
    data = pdfs.one_page(pdfs.text_ops(pdfs.LINES), extra_objects=[filler])
    return data
