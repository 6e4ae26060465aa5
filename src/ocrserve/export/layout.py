"""Page geometry the text formats share: lines in the page's upright frame, blocks, word boxes.

Polygons start at the text's own top-left and run clockwise, so a line's first edge is its
reading direction whatever the page's rotation; every measure here is taken along that
direction and its normal, which makes rotated pages group like upright ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..result import OCRPage, TextLine

#: a gap between two lines wider than this many body-line heights starts a new paragraph
PARAGRAPH_GAP = 0.8
#: line height / body height from which a short block is a heading, for levels 1, 2 and 3
HEADING_RATIOS = (1.8, 1.4, 1.15)
HEADING_MAX_LINES = 2
HEADING_MAX_CHARS = 90


@dataclass(frozen=True)
class Placed:
    """A line measured in the page's reading frame (x along the text, y down the page)."""

    line: TextLine
    left: float
    right: float
    top: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class Block:
    """Consecutive lines that read as one paragraph; `level` 1-3 for a heading, 0 for body text."""

    lines: tuple[Placed, ...]
    level: int = 0

    @property
    def box(self) -> list[int]:
        """Axis-aligned [x_min, y_min, x_max, y_max] in the page's pixels."""
        pts = np.concatenate([np.asarray(p.line.polygon, dtype=float) for p in self.lines])
        return [int(pts[:, 0].min()), int(pts[:, 1].min()), int(np.ceil(pts[:, 0].max())), int(np.ceil(pts[:, 1].max()))]


def reading_axes(result: OCRPage) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors of the page's text direction and of "down the page", from its lines' median direction."""
    directions = []
    for line in result.lines:
        p = np.asarray(line.polygon, dtype=float)
        d = (p[1] + p[2]) / 2 - (p[0] + p[3]) / 2
        if np.hypot(*d) > 0:
            directions.append(np.arctan2(d[1], d[0]))
    angle = float(np.median(directions)) if directions else 0.0
    angle = round(angle / (np.pi / 2)) * (np.pi / 2)  # pages turn by quarter turns; slight skew stays upright
    u = np.array([np.cos(angle), np.sin(angle)])
    return u, np.array([-u[1], u[0]])


def placed_lines(result: OCRPage) -> list[Placed]:
    u, n = reading_axes(result)
    out = []
    for line in result.lines:
        p = np.asarray(line.polygon, dtype=float)
        xs, ys = p @ u, p @ n
        out.append(Placed(line, float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())))
    return out


def body_height(placed: Sequence[Placed]) -> float:
    """The median line height: the size of the page's body text."""
    heights = [p.height for p in placed if p.line.text.strip()]
    return max(float(np.median(heights)), 1.0) if heights else 1.0  # a degenerate box is one pixel tall


def blocks(result: OCRPage) -> list[Block]:
    """Lines in reading order cut into paragraphs at wide gaps, size changes and column jumps."""
    placed = [p for p in placed_lines(result) if p.line.text.strip()]
    if not placed:
        return []
    body = body_height(placed)
    groups: list[list[Placed]] = [[placed[0]]]
    for prev, cur in zip(placed, placed[1:]):
        gap = cur.top - prev.bottom
        resized = max(cur.height, prev.height) / max(min(cur.height, prev.height), 1e-6) > 1.15
        jumped = cur.top < prev.top - 0.5 * body or cur.left > prev.right  # a new column or a cell to the right
        indented = cur.left - prev.left > body  # a paragraph's first line, or a block set in
        if gap > PARAGRAPH_GAP * body or resized or jumped or indented or is_bullet(cur.line.text):
            groups.append([cur])
        else:
            groups[-1].append(cur)
    return [Block(tuple(g), _heading_level(g, body)) for g in groups]


BULLETS = "•·▪‣◦●○■□–-*"


def is_bullet(text: str) -> bool:
    """A line that starts a list item: a bullet character and a space."""
    stripped = text.lstrip()
    return len(stripped) > 2 and stripped[0] in BULLETS and stripped[1] == " "


def _heading_level(group: Sequence[Placed], body: float) -> int:
    if is_bullet(group[0].line.text) or len(group) > HEADING_MAX_LINES or sum(len(p.line.text) for p in group) > HEADING_MAX_CHARS:
        return 0
    ratio = float(np.median([p.height for p in group])) / body
    for level, threshold in enumerate(HEADING_RATIOS, start=1):
        if ratio >= threshold:
            return level
    return 0


def words_of(line: TextLine) -> list[tuple[str, list[list[float]]]]:
    """The line's words with polygons: the engine's word boxes when it made them, else spaces split
    the line and each word gets the share of the polygon its characters take."""
    if line.words:
        return [(w.text, w.polygon) for w in line.words if w.text.strip()]
    text = line.text
    if not text.strip():
        return []
    p = np.asarray(line.polygon, dtype=float)
    total = len(text)
    out, i = [], 0
    for token in text.split(" "):
        start, end = i, i + len(token)
        i = end + 1
        if not token.strip():
            continue
        t0, t1 = start / total, end / total
        top0, top1 = p[0] + t0 * (p[1] - p[0]), p[0] + t1 * (p[1] - p[0])
        bot0, bot1 = p[3] + t0 * (p[2] - p[3]), p[3] + t1 * (p[2] - p[3])
        out.append((token, np.stack([top0, top1, bot1, bot0]).tolist()))
    return out


_XML_INVALID = dict.fromkeys(c for c in range(0x20) if c not in (9, 10, 13))


def xml_safe(text: str) -> str:
    """Drop the control characters XML 1.0 cannot hold (a text layer can carry them)."""
    return text.translate(_XML_INVALID)


def xyxy(polygon: Sequence[Sequence[float]]) -> tuple[int, int, int, int]:
    pts = np.asarray(polygon, dtype=float)
    return (int(np.floor(pts[:, 0].min())), int(np.floor(pts[:, 1].min())),
            int(np.ceil(pts[:, 0].max())), int(np.ceil(pts[:, 1].max())))


def text_angle(result: OCRPage) -> int:
    """Degrees counter-clockwise the page's text runs at (0, 90, 180, 270), for formats that record it."""
    u, _ = reading_axes(result)
    return int(round(np.degrees(np.arctan2(-u[1], u[0])))) % 360
