"""Text formats as pages: each page renders to its own part, and a document is its parts joined.

A long job renders each page's part as the page is read and joins the parts at the end without
holding them all (`document` yields its output piece by piece); a one-shot export joins the same
parts at once, so both give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..result import OCRPage

#: one page's part: (the page's result, its 1-based number in the document) -> text
PageRenderer = Callable[[OCRPage, int], str]
#: the document around its parts: (the parts in order, how many there are, the file's name) -> text pieces
DocumentWriter = Callable[[Iterable[str], int, str], Iterator[str]]


@dataclass(frozen=True)
class PagedFormat:
    page: PageRenderer
    document: DocumentWriter

    def render(self, results: Sequence[OCRPage], name: str = "") -> str:
        parts = (self.page(result, number) for number, result in enumerate(results, start=1))
        return "".join(self.document(parts, len(results), name))


def between(parts: Iterable[str], separator: str) -> Iterator[str]:
    """The parts with `separator` between each two, as `separator.join(parts)` would have them."""
    for n, part in enumerate(parts):
        yield separator + part if n else part


def stripped(pieces: Iterable[str]) -> Iterator[str]:
    """The pieces as `"".join(pieces).strip()` would have them, without joining them first."""
    started, pending = False, ""
    for piece in pieces:
        if not started:
            piece = piece.lstrip()
            if not piece:
                continue
            started = True
        body = piece.rstrip()
        if body:
            yield pending + body
            pending = piece[len(body):]
        else:
            pending += piece  # whitespace only: kept until text follows it, dropped at the end
