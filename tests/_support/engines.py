"""One loaded OCR per model set for the whole test session."""

from __future__ import annotations

from ocrserve import OCR

_OCR_CACHE: dict[str, OCR] = {}


def ocr_for(model: str) -> OCR:
    """One OCR per model set per test session (loading costs ~0.3 s and ~100 MB each)."""
    if model not in _OCR_CACHE:
        _OCR_CACHE[model] = OCR(model=model, max_pdf_pages=0)
    return _OCR_CACHE[model]
