"""Reading order: the order a person reads the detected lines of an upright page.

The page's text direction comes from the line polygons themselves: the median slope of the
lines (a tilted photo) and whether most lines are tall (vertical CJK, read top to bottom in
columns from right to left).  In that frame the lines are axis-aligned rectangles, cut
recursively (XY-cut): a vertical gutter splits columns when both sides hold text-column lines
(wide lines, several of them; a table's short cells are read row by row instead), else the
widest horizontal gap splits bands; what no gap splits is grouped into rows by vertical overlap
relative to line height and read left to right.  Headers, footers and page numbers are bands of
their own above or below the columns, so they stay first and last.  See docs/reading-order.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .detect import reading_order as paddlex_order

__all__ = ["LINE_ORDERS", "Rects", "line_order", "page_frame_rects", "reading_order"]

LINE_ORDERS = ("reading", "paddlex")

#: a line is tall (a vertical text column) when its long side runs down the page this much more
TALL_RATIO = 1.5
#: a page is vertical text when this share of its multi-character lines is tall
VERTICAL_SHARE = 0.6
#: a gutter must be at least this many line heights wide to split columns
GUTTER_MIN = 0.5
#: each side of a column split needs lines at least this many line heights long (median) ...
COLUMN_LINE_MIN = 8.0
#: ... and at least this many lines
COLUMN_MIN_LINES = 2
#: two lines share a row when their vertical overlap is at least this share of the shorter one
ROW_OVERLAP = 0.5
#: the band cut looks at each line's middle only, so tilt or loose boxes do not hide a gap
CORE = 0.3
#: a full-width gap this many line heights tall (a header's, a footer's) is cut before columns are sought
CLEAR_GAP = 1.0


@dataclass(frozen=True)
class Rects:
    """Lines as axis-aligned rectangles in the reading frame (text runs along +x, lines follow along +y)."""

    cx: np.ndarray
    cy: np.ndarray
    w: np.ndarray  # extent along the text
    h: np.ndarray  # extent across the text (the line height)

    @property
    def x0(self) -> np.ndarray:
        return self.cx - self.w / 2

    @property
    def x1(self) -> np.ndarray:
        return self.cx + self.w / 2


def _edges(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lengths of each quad's top edge (tl->tr) and left edge (tl->bl)."""
    top = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1)
    side = np.linalg.norm(boxes[:, 3] - boxes[:, 0], axis=1)
    return top, side


def is_vertical_page(boxes: np.ndarray) -> bool:
    """Most lines long enough to tell are tall: a page of vertical text columns."""
    top, side = _edges(boxes)
    telling = np.maximum(top, side) >= TALL_RATIO * np.minimum(top, side)
    if telling.sum() < 2:
        return False
    return float((side[telling] > top[telling]).mean()) >= VERTICAL_SHARE


def text_angle(boxes: np.ndarray) -> float:
    """The page's text slope in radians: the length-weighted median of the wide lines' top edges."""
    top, side = _edges(boxes)
    wide = top >= TALL_RATIO * side
    if not wide.any():
        return 0.0
    d = boxes[wide, 1] - boxes[wide, 0]
    angles = np.arctan2(d[:, 1], d[:, 0])
    weights = top[wide]
    order = np.argsort(angles)
    cumulative = np.cumsum(weights[order])
    return float(angles[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def page_frame_rects(boxes: np.ndarray) -> Rects:
    """The lines in the page's reading frame: deskewed, and turned a quarter for vertical text."""
    pts = np.asarray(boxes, dtype=np.float64).reshape(-1, 4, 2)
    if is_vertical_page(pts):
        # text runs down (+y) and columns follow leftwards (-x): that frame is (y, -x)
        pts = np.stack([pts[..., 1], -pts[..., 0]], axis=-1)
    else:
        angle = text_angle(pts)
        c, s = np.cos(-angle), np.sin(-angle)
        pts = np.stack([c * pts[..., 0] - s * pts[..., 1], s * pts[..., 0] + c * pts[..., 1]], axis=-1)
    x0, x1 = pts[..., 0].min(axis=1), pts[..., 0].max(axis=1)
    y0, y1 = pts[..., 1].min(axis=1), pts[..., 1].max(axis=1)
    # the quad's own edge lengths, not its bounding box, give the extents (a slanted quad's box is taller)
    along = (np.linalg.norm(pts[:, 1] - pts[:, 0], axis=1) + np.linalg.norm(pts[:, 2] - pts[:, 3], axis=1)) / 2
    across = (np.linalg.norm(pts[:, 3] - pts[:, 0], axis=1) + np.linalg.norm(pts[:, 2] - pts[:, 1], axis=1)) / 2
    wide = along >= across
    w = np.where(wide, along, across)
    h = np.where(wide, across, along)
    w, h = np.minimum(w, x1 - x0), np.minimum(h, y1 - y0)
    return Rects(cx=(x0 + x1) / 2, cy=(y0 + y1) / 2, w=np.maximum(w, 1.0), h=np.maximum(h, 1.0))


def rows(r: Rects, idx: np.ndarray) -> list[int]:
    """Lines grouped into rows by vertical overlap relative to their height, rows top down, each left to right."""
    groups: list[list[int]] = []
    tops: list[float] = []
    bottoms: list[float] = []
    for i in sorted(idx.tolist(), key=lambda k: (r.cy[k], r.x0[k])):
        top, bottom, height = r.cy[i] - r.h[i] / 2, r.cy[i] + r.h[i] / 2, r.h[i]
        for g in range(len(groups) - 1, max(len(groups) - 4, -1), -1):  # only the last few rows are still open
            n = len(groups[g])
            g_top, g_bottom = tops[g] / n, bottoms[g] / n
            if min(bottom, g_bottom) - max(top, g_top) >= ROW_OVERLAP * min(height, g_bottom - g_top):
                groups[g].append(i)
                tops[g] += top
                bottoms[g] += bottom
                break
        else:
            groups.append([i])
            tops.append(top)
            bottoms.append(bottom)
    centre = [(t + b) / 2 / len(g) for g, t, b in zip(groups, tops, bottoms)]
    ordered = [groups[g] for g in np.argsort(centre, kind="stable")]
    return [i for g in ordered for i in sorted(g, key=lambda k: r.x0[k])]


def _gaps(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Empty intervals between the union of [start, end] intervals, (K, 2) rows of (gap start, gap end)."""
    order = np.argsort(starts, kind="stable")
    reach = np.maximum.accumulate(ends[order])
    following = starts[order][1:]
    open_ = following > reach[:-1]
    return np.stack([reach[:-1][open_], following[open_]], axis=1)


def _is_column(r: Rects, idx: np.ndarray, line_height: float) -> bool:
    """Enough lines, long ones: running text, not a column of table cells."""
    return len(idx) >= COLUMN_MIN_LINES and float(np.median(r.w[idx])) >= COLUMN_LINE_MIN * line_height


def _column_split(r: Rects, idx: np.ndarray) -> list[np.ndarray] | None:
    """The widest gutter whose two sides both read as text columns, if any: [left, right]."""
    line_height = float(np.median(r.h[idx]))
    gaps = _gaps(r.x0[idx], r.x1[idx])
    gaps = gaps[gaps[:, 1] - gaps[:, 0] >= GUTTER_MIN * line_height]
    for start, end in gaps[np.argsort(gaps[:, 0] - gaps[:, 1], kind="stable")]:
        left = r.cx[idx] < (start + end) / 2
        if _is_column(r, idx[left], line_height) and _is_column(r, idx[~left], line_height):
            return [idx[left], idx[~left]]
    return None


def _band_split(r: Rects, idx: np.ndarray, core: float = CORE, min_gap: float = 0.0) -> list[np.ndarray] | None:
    """Bands cut at the widest horizontal gaps between the lines' middle `core` shares, if any.

    Every gap nearly as wide as the widest is cut at once, so evenly spaced lines come apart in
    one step rather than one line per recursion.
    """
    half = core * r.h[idx]
    gaps = _gaps(r.cy[idx] - half, r.cy[idx] + half)
    if not len(gaps):
        return None
    widths = gaps[:, 1] - gaps[:, 0]
    cuts = np.sort((gaps[:, 0] + gaps[:, 1])[widths >= max(min_gap, 0.8 * float(widths.max()))] / 2)
    if not len(cuts):
        return None
    band = np.searchsorted(cuts, r.cy[idx])
    return [idx[band == b] for b in range(len(cuts) + 1) if (band == b).any()]


def _xy_cut(r: Rects, idx: np.ndarray) -> tuple[list[int], bool]:
    """`idx` in reading order, and whether columns were found in it.

    A region without columns anywhere is read as rows by overlap rather than by its bands: rows
    keep a tilted table's cells together where a band cut through a slanted row would not.
    """
    if len(idx) <= 1:
        return idx.tolist(), False
    line_height = float(np.median(r.h[idx]))
    parts = _band_split(r, idx, 0.5, CLEAR_GAP * line_height)
    columns = False
    if parts is None:
        parts = _column_split(r, idx)
        columns = parts is not None
    if parts is None:
        parts = _band_split(r, idx)
    if parts is None or len(parts) < 2:
        return rows(r, idx), False
    order: list[int] = []
    for part in parts:
        part_order, part_columns = _xy_cut(r, part)
        order += part_order
        columns = columns or part_columns
    return (order, True) if columns else (rows(r, idx), False)


def reading_order(boxes: np.ndarray) -> list[int]:
    """Indices of `boxes` ((N, 4, 2) quads of an upright page) in the order a person reads them."""
    if len(boxes) == 0:
        return []
    r = page_frame_rects(boxes)
    return _xy_cut(r, np.arange(len(boxes)))[0]


def mirrored(boxes: np.ndarray) -> np.ndarray:
    """The quads as a mirror shows them (x reversed), each still clockwise from its top-left corner."""
    flipped = np.asarray(boxes, dtype=np.float64).copy()
    flipped[..., 0] = -flipped[..., 0]
    return flipped[:, [1, 0, 3, 2]]


def line_order(boxes: np.ndarray, rule: str, right_to_left: bool = False) -> list[int]:
    """`reading` (this module) or `paddlex` (top y, then x within 10 px: PaddleX's rule).

    A page in a right-to-left script is read as its mirror image is read left to right: columns
    from the right, and the lines of a row from the right."""
    if right_to_left and len(boxes):
        return line_order(mirrored(boxes), rule)
    if rule == "paddlex":
        return paddlex_order(boxes)
    if rule == "reading":
        return reading_order(boxes)
    raise ValueError(f"line order must be one of {LINE_ORDERS}, not {rule!r}")
