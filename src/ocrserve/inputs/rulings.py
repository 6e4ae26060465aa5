"""A PDF page's ruling lines: the horizontal and vertical strokes of its path objects, in pixels.

A table in a digital PDF is drawn as lines (`m l S`) or rectangles (`re S`, or thin filled `re f`
for a rule); each straight, axis-aligned piece of a path is one segment here, mapped to the pixel
space the page renders to, so a table's structure is read from what the PDF drew rather than from
its pixels. Curves and slanted lines are no rulings and are left out, and so is a filled shape
that is not thin: a shaded row or cell is a background, and its edges drawn as rules would cut a table
into bands of one cell each.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..result import Segment

#: a piece of a path is a ruling when it strays less than this from the horizontal or vertical (pixels)
AXIS_TOLERANCE = 0.75
#: and is at least this long (pixels): a rectangle's short sides drawn as a thin rule are not rulings
MIN_LENGTH = 4.0
#: a filled, unstroked subpath is a rule only when its bounding box is at most this thick (points; TeX
#: draws rules of 0.4-1 pt as filled rectangles, a shaded row is a line of text high)
FILLED_RULE_MAX_PT = 2.0


def _points(obj: pdfium.PdfObject) -> list[tuple[float, float, bool]]:
    """The path's points in the object's space, each with whether it starts a new subpath (a moveto);
    a closed subpath repeats its first point so its closing side is a piece like the others."""
    out: list[tuple[float, float, bool]] = []
    start: tuple[float, float] | None = None
    x, y = ctypes.c_float(), ctypes.c_float()
    for i in range(pdfium_c.FPDFPath_CountSegments(obj)):
        seg = pdfium_c.FPDFPath_GetPathSegment(obj, i)
        if not seg or not pdfium_c.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y)):
            continue
        moveto = pdfium_c.FPDFPathSegment_GetType(seg) == pdfium_c.FPDF_SEGMENT_MOVETO
        if moveto:
            start = (x.value, y.value)
        out.append((x.value, y.value, moveto))
        if pdfium_c.FPDFPathSegment_GetClose(seg) and start is not None:
            out.append((start[0], start[1], False))
    return out


def _filled_only(obj: pdfium.PdfObject) -> bool:
    """Whether the path is filled and not stroked (a rule drawn as a thin rectangle, or a background)."""
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    if not pdfium_c.FPDFPath_GetDrawMode(obj, ctypes.byref(fill), ctypes.byref(stroke)):
        return False
    return fill.value != pdfium_c.FPDF_FILLMODE_NONE and not stroke.value


def _thick_subpaths(pixels: np.ndarray, points: list[tuple[float, float, bool]], thick: float) -> set[int]:
    """Indices of the points of each subpath whose bounding box is thicker than `thick` pixels both ways."""
    starts = [k for k, point in enumerate(points) if point[2] or k == 0] + [len(points)]
    out: set[int] = set()
    for start, end in zip(starts, starts[1:]):
        span = pixels[start:end].max(axis=0) - pixels[start:end].min(axis=0)
        if min(span) > thick:
            out.update(range(start, end))
    return out


def read_rulings(page: pdfium.PdfPage, m: np.ndarray) -> list[Segment]:
    """The page's straight axis-aligned path pieces as segments in pixels (`m`: user space -> pixels).

    Only the page's own path objects are read, not those inside form XObjects."""
    out: list[Segment] = []
    rule_max = FILLED_RULE_MAX_PT * float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH,), max_depth=1):
        points = _points(obj)
        if len(points) < 2:
            continue
        a, b, c, d, e, f = obj.get_matrix().get()
        user = np.asarray([[a * px + c * py + e, b * px + d * py + f] for px, py, _ in points])
        pixels = user @ m[:, :2].T + m[:, 2]
        backgrounds = _thick_subpaths(pixels, points, rule_max) if _filled_only(obj) else set()
        for k in range(1, len(points)):
            if points[k][2] or k in backgrounds:  # a moveto starts a new subpath: no piece drawn to it
                continue
            (x0, y0), (x1, y1) = pixels[k - 1], pixels[k]
            if abs(y1 - y0) <= AXIS_TOLERANCE and abs(x1 - x0) >= MIN_LENGTH:
                y = round(float(y0 + y1) / 2, 1)
                out.append((round(float(min(x0, x1)), 1), y, round(float(max(x0, x1)), 1), y))
            elif abs(x1 - x0) <= AXIS_TOLERANCE and abs(y1 - y0) >= MIN_LENGTH:
                x = round(float(x0 + x1) / 2, 1)
                out.append((x, round(float(min(y0, y1)), 1), x, round(float(max(y0, y1)), 1)))
    return out
