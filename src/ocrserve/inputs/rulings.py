"""A PDF page's ruling lines: the horizontal and vertical strokes of its path objects, in pixels.

A table in a digital PDF is drawn as lines (`m l S`) or rectangles (`re S`, or thin filled `re f`
for a rule); each straight, axis-aligned piece of a path is one segment here, mapped to the pixel
space the page renders to, so a table's structure is read from what the PDF drew rather than from
its pixels. Curves and slanted lines are no rulings and are left out.
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


def read_rulings(page: pdfium.PdfPage, m: np.ndarray) -> list[Segment]:
    """The page's straight axis-aligned path pieces as segments in pixels (`m`: user space -> pixels).

    Only the page's own path objects are read, not those inside form XObjects."""
    out: list[Segment] = []
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_PATH,), max_depth=1):
        points = _points(obj)
        if len(points) < 2:
            continue
        a, b, c, d, e, f = obj.get_matrix().get()
        user = np.asarray([[a * px + c * py + e, b * px + d * py + f] for px, py, _ in points])
        pixels = user @ m[:, :2].T + m[:, 2]
        for k in range(1, len(points)):
            if points[k][2]:  # a moveto starts a new subpath: no piece drawn to it
                continue
            (x0, y0), (x1, y1) = pixels[k - 1], pixels[k]
            if abs(y1 - y0) <= AXIS_TOLERANCE and abs(x1 - x0) >= MIN_LENGTH:
                y = round(float(y0 + y1) / 2, 1)
                out.append((round(float(min(x0, x1)), 1), y, round(float(max(x0, x1)), 1), y))
            elif abs(x1 - x0) <= AXIS_TOLERANCE and abs(y1 - y0) >= MIN_LENGTH:
                x = round(float(x0 + x1) / 2, 1)
                out.append((x, round(float(min(y0, y1)), 1), x, round(float(max(y0, y1)), 1)))
    return out
