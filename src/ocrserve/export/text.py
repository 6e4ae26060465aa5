"""Plain text: every line in reading order, pages separated by a form feed (as pdftotext does)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from ..result import OCRPage
from .paged import PagedFormat, between


def render_page(result: OCRPage, number: int = 1) -> str:
    return result.text + "\n" if result.lines else ""


def document(parts: Iterable[str], pages: int, name: str = "") -> Iterator[str]:
    return between(parts, "\f")


TEXT = PagedFormat(render_page, document)


def render_text(results: Sequence[OCRPage]) -> str:
    return TEXT.render(results)
