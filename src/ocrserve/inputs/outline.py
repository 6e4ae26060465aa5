"""A PDF's outline (its bookmarks) as the entries that point at each page.

The outline names a document's headings and their depth as its author or its typesetter made
them; export/structure.py matches each page's entries against the page's blocks. A bookmark that
points at no page of the document (a link to a URL, a broken destination) is left out, and so is
one without a title.
"""

from __future__ import annotations

import pypdfium2 as pdfium

from ..result import OutlineEntry

#: bookmarks deeper than this are not read (pdfium's own default, and deeper than any heading level)
MAX_DEPTH = 15


def read_outline(doc: pdfium.PdfDocument) -> dict[int, tuple[OutlineEntry, ...]]:
    """Page index (0-based) -> the outline's entries that point at it, in the outline's order."""
    pages: dict[int, list[OutlineEntry]] = {}
    for bookmark in doc.get_toc(max_depth=MAX_DEPTH):
        dest = bookmark.get_dest()
        index = dest.get_index() if dest is not None else None
        title = " ".join(bookmark.get_title().split())
        if index is not None and title:
            pages.setdefault(int(index), []).append(OutlineEntry(title, int(bookmark.level)))
    return {index: tuple(entries) for index, entries in pages.items()}


__all__ = ["read_outline"]
