"""`pageRanges` ("2-3,5", 1-based, as the official client sends it) -> 0-based page indices."""

from __future__ import annotations

import re

from ..errors import BadInput

_PART = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def select_pages(page_ranges: str | None, total: int, max_pages: int) -> list[int]:
    """The pages to read, ascending and each once; 400 when a range is malformed or out of the document,
    or when more than `max_pages` would be read."""
    if page_ranges is None or not page_ranges.strip():
        chosen = list(range(total))
    else:
        picked: set[int] = set()
        for part in page_ranges.split(","):
            match = _PART.match(part)
            if not match:
                raise BadInput(f"pageRanges {page_ranges!r}: {part.strip()!r} is not a page or a range like 2-5")
            first, last = int(match[1]), int(match[2] or match[1])
            if first < 1 or last < first:
                raise BadInput(f"pageRanges {page_ranges!r}: {part.strip()!r} is not a range of pages from 1")
            if last > total:
                raise BadInput(f"pageRanges {page_ranges!r}: page {last} is past the end of the document, "
                               f"which has {total} page{'s' if total != 1 else ''}")
            picked.update(range(first - 1, last))
        chosen = sorted(picked)
    if len(chosen) > max_pages:
        raise BadInput(f"the job would read {len(chosen)} pages, over the limit of {max_pages} "
                            "(OCR_JOB_MAX_PAGES); send pageRanges to read part of the document")
    return list(chosen)
