"""JSON: every page's PaddleX `prunedResult`, as `ocrserve predict --json` prints it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..result import OCRPage


def render_json(results: Sequence[OCRPage]) -> str:
    pages = [{"page": None if r.page_index is None else r.page_index + 1, "prunedResult": r.to_dict()}
             for r in results]
    return json.dumps(pages, ensure_ascii=False, indent=1) + "\n"
