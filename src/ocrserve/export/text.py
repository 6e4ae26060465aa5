"""Plain text: every line in reading order, pages separated by a form feed (as pdftotext does)."""

from __future__ import annotations

from collections.abc import Sequence

from ..result import OCRResult


def render_text(results: Sequence[OCRResult]) -> str:
    return "\f".join(result.text + "\n" if result.lines else "" for result in results)
