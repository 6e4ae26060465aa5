"""The type an OCR line is set in, measured in the page's pixels: what a text layer's fonts say on a digital page.

A scanned page has no fonts, so a heading set in bold or in a larger size than the text around it is
told by its ink: `stroke_width` is the mean thickness of a line's strokes (twice the ink's area over
its outline's length, which holds for any shape drawn with strokes of one width), larger for a bold
face and for a larger size of the same face; the line's height (across its reading direction) stands
for its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .tables import MIN_INK_CONTRAST


@dataclass(frozen=True)
class InkType:
    """A line's measured type: its stroke width and its height, in pixels."""

    stroke: float
    height: float


def ink_type(image: np.ndarray, polygon: Sequence[Sequence[float]]) -> InkType | None:
    """The stroke width and height of the text in `polygon` (a line's, in a BGR or grey page); None where
    the box holds no ink to measure (blank paper, or a line tilted so far its box holds others' ink)."""
    pts = np.asarray(polygon, dtype=np.float64)
    along, across = pts[1] - pts[0], pts[3] - pts[0]
    if abs(along[1]) > 0.2 * abs(along[0]):  # an upright box only: a tilted one would measure its neighbours
        return None
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    crop = image[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)]
    if crop.size == 0:
        return None
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    if int(grey.max()) - int(grey.min()) < MIN_INK_CONTRAST:
        return None
    _, ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    area = float(ink.sum())
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    outline = sum(cv2.arcLength(contour, True) for contour in contours)
    if area == 0 or outline == 0:
        return None
    return InkType(2.0 * area / outline, float(np.hypot(*across)))


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float | None:
    """The value at half the total weight (a page's body: the stroke most of its characters have)."""
    if not values:
        return None
    order = np.argsort(values)
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64)[order])
    return float(np.asarray(values, dtype=np.float64)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


__all__ = ["InkType", "ink_type", "weighted_median"]
