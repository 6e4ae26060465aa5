"""The type an OCR line is set in, measured in the page's pixels: what a text layer's fonts say on a digital page.

A scanned page has no fonts, so a heading set in bold or in a larger size than the text around it is
told by its ink: `ink_type`'s stroke is the mean thickness of a line's strokes (twice the ink's area over
its outline's length, which holds for any shape drawn with strokes of one width), larger for a bold
face and for a larger size of the same face; the line's height (across its reading direction) stands
for its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .tables import ink_mask


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
    found = ink_mask(image, (*np.floor(pts.min(axis=0)), *np.ceil(pts.max(axis=0))))
    if found is None:
        return None
    ink = found[0]
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
