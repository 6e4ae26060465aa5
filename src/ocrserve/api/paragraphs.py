"""EasyOCR's `paragraph=True`: lines that touch vertically and overlap horizontally merge."""

from __future__ import annotations

from typing import Any


def _bounds(line: dict[str, Any]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in line["bbox"]]
    ys = [p[1] for p in line["bbox"]]
    return min(xs), min(ys), max(xs), max(ys)


def merge_paragraphs(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group consecutive lines (reading order) whose gap is under one line height; no confidence,
    an axis-aligned box, texts joined by spaces, as EasyOCR returns paragraphs."""
    groups: list[list[dict[str, Any]]] = []
    for line in lines:
        if groups:
            x0, y0, x1, y1 = _bounds(groups[-1][-1])
            a0, b0, a1, b1 = _bounds(line)
            height = max(y1 - y0, b1 - b0)
            if b0 - y1 < height and min(x1, a1) > max(x0, a0):
                groups[-1].append(line)
                continue
        groups.append([line])
    merged = []
    for group in groups:
        boxes = [_bounds(line) for line in group]
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        merged.append({"text": " ".join(line["text"] for line in group),
                       "bbox": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]})
    return merged
