"""A table's structure from its ruling lines: the grid they draw, and cells that span where an inner rule is missing.

Rulings come as axis-aligned segments in the page's pixels, from a PDF's drawing (inputs/rulings.py)
or found in a table's pixels (`detect_rulings`: long thin runs of ink, by morphology). Segments on one
line are merged; a rule counts only when it meets two rules across it (an underlined word does not),
so the rules left are the grid's row and column boundaries. Two neighbouring grid cells are one cell
when the rule between them is drawn along less than half their common side. `find_grids` finds the
grids on a whole page, for tables no layout region holds. `ink_runs` says where an OCR line's words
lie in the pixels, for a table read from its text's geometry (export/tables.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ..result import Segment

Box = tuple[float, float, float, float]
#: a rule is drawn along a side when it covers at least this share of it
SIDE_DRAWN = 0.5
#: row rules running on this many tolerances past the outermost column rule: the grid has no side there
OPEN_SIDE = 3
#: rules thicker than this many pixels are filled areas (a shaded band's edges are found in the PDF, not here)
MAX_RULE_THICKNESS = 8
#: a line's box holds text only where its grey levels span at least this much (0-255): else it is blank paper
MIN_INK_CONTRAST = 48
#: a pixel row of a line's box inked over at least this share of its width is a rule, not text
RULE_ROW = 0.6


@dataclass(frozen=True)
class GridCell:
    """One cell: its first row and column, how many each it spans, and its box in the page's pixels."""

    row: int
    col: int
    rowspan: int
    colspan: int
    box: Box


@dataclass(frozen=True)
class Grid:
    """A ruled table: its column (`xs`) and row (`ys`) boundaries, and its cells row by row."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    cells: tuple[GridCell, ...]

    @property
    def rows(self) -> int:
        return len(self.ys) - 1

    @property
    def cols(self) -> int:
        return len(self.xs) - 1


@dataclass
class _Rule:
    """Collinear segments merged: where the line is, and the stretches of it that are drawn."""

    at: float
    spans: list[tuple[float, float]]

    def drawn(self, start: float, end: float, tol: float) -> float:
        """The share of [start, end] the rule is drawn along (each stretch taken `tol` longer at each end)."""
        covered = sum(max(min(end, b + tol) - max(start, a - tol), 0.0) for a, b in self.spans)
        return covered / max(end - start, 1e-6)

    def reaches(self, at: float, tol: float) -> bool:
        return any(a - tol <= at <= b + tol for a, b in self.spans)


def _merge(segments: Sequence[tuple[float, float, float]], tol: float) -> list[_Rule]:
    """(position, start, end) pieces -> rules: pieces within `tol` of a rule's position join it."""
    rules: list[_Rule] = []
    for at, a, b in sorted(segments):
        if rules and at - rules[-1].at <= tol:
            rules[-1].spans.append((a, b))
        else:
            rules.append(_Rule(at, [(a, b)]))
    for rule in rules:
        rule.spans.sort()
        joined = [rule.spans[0]]
        for a, b in rule.spans[1:]:
            if a <= joined[-1][1] + tol:
                joined[-1] = (joined[-1][0], max(joined[-1][1], b))
            else:
                joined.append((a, b))
        rule.spans = joined
    return rules


def _crossed(rules: list[_Rule], across: list[_Rule], tol: float) -> list[_Rule]:
    """The rules that meet at least two rules across them: a grid's lines, not a stray stroke."""
    return [r for r in rules
            if sum(1 for o in across if o.reaches(r.at, tol) and r.reaches(o.at, tol)) >= 2]


def _open_sides(flat: list[_Rule], upright: list[_Rule], tol: float) -> list[_Rule]:
    """The column rules with a side added where most row rules run on past the outermost one by more than
    `OPEN_SIDE` tolerances: a grid drawn without its left or right side still has its first and last
    columns, which end where the row rules do."""
    top, bottom = flat[0].at, flat[-1].at
    left = float(np.median([rule.spans[0][0] for rule in flat]))
    right = float(np.median([rule.spans[-1][1] for rule in flat]))
    sides = upright
    if left < upright[0].at - OPEN_SIDE * tol:
        sides = [_Rule(left, [(top, bottom)]), *sides]
    if right > upright[-1].at + OPEN_SIDE * tol:
        sides = [*sides, _Rule(right, [(top, bottom)])]
    return sides


def table_grid(segments: Sequence[Segment], region: Box, tol: float = 4.0) -> Grid | None:
    """The grid the segments inside `region` draw, or None when they draw fewer than two cells."""
    x0, y0, x1, y1 = region
    inside = [s for s in segments
              if x0 - tol <= min(s[0], s[2]) and max(s[0], s[2]) <= x1 + tol
              and y0 - tol <= min(s[1], s[3]) and max(s[1], s[3]) <= y1 + tol]
    flat = _merge([((s[1] + s[3]) / 2, min(s[0], s[2]), max(s[0], s[2])) for s in inside
                   if abs(s[3] - s[1]) <= abs(s[2] - s[0])], tol)
    upright = _merge([((s[0] + s[2]) / 2, min(s[1], s[3]), max(s[1], s[3])) for s in inside
                      if abs(s[3] - s[1]) > abs(s[2] - s[0])], tol)
    for _ in range(2):  # dropping a stray rule may leave another with one crossing: once more settles it
        flat, upright = _crossed(flat, upright, tol), _crossed(upright, flat, tol)
    if len(flat) < 2 or len(upright) < 2:
        return None
    upright = _open_sides(flat, upright, tol)
    if (len(flat) - 1) * (len(upright) - 1) < 2:
        return None
    xs, ys = [r.at for r in upright], [r.at for r in flat]
    rows, cols = len(ys) - 1, len(xs) - 1
    parent = list(range(rows * cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols and upright[c + 1].drawn(ys[r], ys[r + 1], tol) < SIDE_DRAWN:
                parent[find(r * cols + c + 1)] = find(r * cols + c)
            if r + 1 < rows and flat[r + 1].drawn(xs[c], xs[c + 1], tol) < SIDE_DRAWN:
                parent[find((r + 1) * cols + c)] = find(r * cols + c)
    members: dict[int, list[tuple[int, int]]] = {}
    for i in range(rows * cols):
        members.setdefault(find(i), []).append(divmod(i, cols))
    taken = np.zeros((rows, cols), dtype=bool)
    cells = []
    for group in sorted(members.values(), key=min):
        r0, c0 = min(g[0] for g in group), min(g[1] for g in group)
        r1, c1 = max(g[0] for g in group), max(g[1] for g in group)
        if taken[r0:r1 + 1, c0:c1 + 1].any():  # an L-shaped merge: its corner cell is read on its own
            r1, c1 = r0, c0
            if taken[r0, c0]:
                continue
        taken[r0:r1 + 1, c0:c1 + 1] = True
        cells.append(GridCell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, (xs[c0], ys[r0], xs[c1 + 1], ys[r1 + 1])))
    return Grid(tuple(xs), tuple(ys), tuple(sorted(cells, key=lambda cell: (cell.row, cell.col))))


def find_grids(segments: Sequence[Segment], size: tuple[int, int], tol: float = 4.0) -> list[Grid]:
    """The ruled grids of at least two rows and two columns among a whole page's segments, wherever they
    lie: segments that touch (within `tol`) are one drawing, and each drawing is read as `table_grid`
    reads a table region. `size`: the page's (width, height) in pixels."""
    width, height = size
    if not segments or width <= 0 or height <= 0:
        return []
    # touching is found on a mask, each segment drawn `tol` thick and `tol` longer at each end, so that
    # a page of many rules costs one pass over its pixels rather than a test of every pair
    mask = np.zeros((height, width), dtype=np.uint8)
    pad = max(int(np.ceil(tol / 2)), 1)
    for x0, y0, x1, y1 in segments:
        left, right = int(min(x0, x1)) - pad, int(np.ceil(max(x0, x1))) + pad
        top, bottom = int(min(y0, y1)) - pad, int(np.ceil(max(y0, y1))) + pad
        cv2.rectangle(mask, (left, top), (right, bottom), 255, thickness=-1)
    _, labels = cv2.connectedComponents(mask, connectivity=8)
    drawings: dict[int, list[Segment]] = {}
    for segment in segments:
        x = min(max(int(round((segment[0] + segment[2]) / 2)), 0), width - 1)
        y = min(max(int(round((segment[1] + segment[3]) / 2)), 0), height - 1)
        drawings.setdefault(int(labels[y, x]), []).append(segment)
    grids = []
    for drawing in drawings.values():
        flat = sum(1 for s in drawing if abs(s[3] - s[1]) <= abs(s[2] - s[0]))
        if flat < 3 or len(drawing) - flat < 3:  # two rows and two columns need three rules each way
            continue
        box = (min(min(s[0], s[2]) for s in drawing), min(min(s[1], s[3]) for s in drawing),
               max(max(s[0], s[2]) for s in drawing), max(max(s[1], s[3]) for s in drawing))
        grid = table_grid(drawing, box, tol)
        if grid is not None and grid.rows >= 2 and grid.cols >= 2:
            grids.append(grid)
    return sorted(grids, key=lambda grid: (grid.ys[0], grid.xs[0]))


def detect_rulings(image: np.ndarray, region: tuple[int, int, int, int], min_width: int,
                   min_height: int) -> list[Segment]:
    """Horizontal runs of ink at least `min_width` long and vertical ones at least `min_height`
    tall inside `region` of a BGR or grey page, as segments in the page's pixels.

    Text makes short runs only, so the lengths are set from the text's height by the caller."""
    x0, y0, x1, y1 = region
    crop = image[max(y0, 0):y1, max(x0, 0):x1]
    if crop.size == 0:
        return []
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    out: list[Segment] = []
    for kernel, flat in (((max(min_width, 2), 1), True), ((1, max(min_height, 2)), False)):
        runs = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        count, _, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
        for left, top, w, h in stats[1:count, :4].tolist():
            ox, oy = float(left + max(x0, 0)), float(top + max(y0, 0))
            if flat and h <= MAX_RULE_THICKNESS:
                out.append((ox, oy + h / 2, ox + w, oy + h / 2))
            elif not flat and w <= MAX_RULE_THICKNESS:
                out.append((ox + w / 2, oy, ox + w / 2, oy + h))
    return out


def ink_mask(image: np.ndarray, box: Sequence[float]) -> tuple[np.ndarray, int] | None:
    """The ink (1) and paper (0) of `box` (x0, y0, x1, y1 in a BGR or grey page) by Otsu's threshold,
    and the left edge of what the page holds of it; None where it holds only blank paper or nothing."""
    x0, y0, x1, y1 = (int(v) for v in box)
    left, top = max(x0, 0), max(y0, 0)
    crop = image[top:max(y1, 0), left:max(x1, 0)]
    if crop.size == 0:
        return None
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    if int(grey.max()) - int(grey.min()) < MIN_INK_CONTRAST:
        return None
    _, ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return ink, left


def ink_runs(image: np.ndarray, box: Sequence[int], min_gap: float) -> list[tuple[float, float]]:
    """The stretches of ink across `box` (a text line's, in a BGR or grey page) from left to right,
    parted where no ink lies over at least `min_gap` pixels; empty when the box holds no text.

    A rule the box reaches into (a pixel row inked over most of its width) is left out: it is no text."""
    found = ink_mask(image, box)
    if found is None:
        return []
    ink, left = found
    ink = ink[ink.mean(axis=1) < RULE_ROW]
    inked = np.flatnonzero(ink.sum(axis=0) > 0) if ink.size else np.zeros(0, dtype=np.int64)
    if not inked.size:
        return []
    breaks = np.flatnonzero(np.diff(inked) - 1 >= min_gap)
    starts = np.concatenate(([inked[0]], inked[breaks + 1]))
    stops = np.concatenate((inked[breaks], [inked[-1]]))
    return [(float(left + a), float(left + b + 1)) for a, b in zip(starts.tolist(), stops.tolist())]


__all__ = ["Grid", "GridCell", "detect_rulings", "find_grids", "ink_mask", "ink_runs", "table_grid"]
