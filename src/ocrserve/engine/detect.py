"""DB text detection: resize rules, normalisation, probability map -> ordered quadrilaterals.

The post-processing mirrors PaddleOCR's DBPostProcess (as RapidOCR ships it) step for step, so
that the same model file gives the same boxes; it is written as pure functions of their inputs
so that one detector serves many threads with different per-request thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import cv2
import numpy as np
import pyclipper

from ..errors import BadInput
from .backends import InferenceModel
from .pixels import PixelNormalizer

MIN_BOX_SIDE = 3
# a field set by the model set or the operator, not by the client: left out of what a result reports
_INTERNAL = {"internal": True}


@dataclass(frozen=True)
class DetParams:
    """Per-request detection parameters (PaddleX names without the `text_det_` prefix)."""

    limit_side_len: int
    limit_type: str
    max_side_limit: int
    thresh: float
    box_thresh: float
    unclip_ratio: float
    max_candidates: int = field(default=1000, metadata=_INTERNAL)
    use_dilation: bool = field(default=False, metadata=_INTERNAL)
    image_max_side: int = field(default=0, metadata=_INTERNAL)  # 0 = none; else shrink larger images to this first

    def public(self) -> dict[str, Any]:
        """The fields a client sees (PaddleX's `text_det_params`), in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.metadata.get("internal")}


def _round32(value: float) -> int:
    return max(32, int(round(int(value) / 32) * 32))


def resize_shape(h: int, w: int, limit_side_len: int, limit_type: str, max_side_limit: int,
                 image_max_side: int = 0) -> tuple[int, int]:
    """Detector input size: shrink big images, scale by the limit rule, clamp, round to 32.

    Images longer than `image_max_side` are first shrunk to it (RapidOCR's max_side_len, which
    keeps a 12 MP photo from costing gigabytes in detection).  `min` then scales the short side
    up to `limit_side_len` (never down); `max` scales the long side down to it (never up).  The
    clamp bounds memory whatever the rule says.
    """
    if h <= 0 or w <= 0:
        raise BadInput(f"image has no pixels ({w}x{h})")
    if image_max_side and max(h, w) > image_max_side:
        shrink = image_max_side / max(h, w)
        h, w = _round32(h * shrink), _round32(w * shrink)
    if limit_type == "min":
        ratio = limit_side_len / min(h, w) if min(h, w) < limit_side_len else 1.0
    elif limit_type == "max":
        ratio = limit_side_len / max(h, w) if max(h, w) > limit_side_len else 1.0
    else:
        raise BadInput(f"text_det_limit_type must be 'min' or 'max', not {limit_type!r}")
    if max(h, w) * ratio > max_side_limit:
        ratio = max_side_limit / max(h, w)
    return _round32(h * ratio), _round32(w * ratio)


# --- DB post-processing ---------------------------------------------------------------------
def mini_box(contour: np.ndarray) -> tuple[np.ndarray, float]:
    """Minimum-area rectangle as 4 points (tl, tr, br, bl by PaddleOCR's rule) and its short side."""
    rect = cv2.minAreaRect(contour)
    pts = sorted(list(cv2.boxPoints(rect)), key=lambda p: p[0])
    i1, i4 = (0, 1) if pts[1][1] > pts[0][1] else (1, 0)
    i2, i3 = (2, 3) if pts[3][1] > pts[2][1] else (3, 2)
    return np.array([pts[i1], pts[i2], pts[i3], pts[i4]]), min(rect[1])


def box_score(prob: np.ndarray, box: np.ndarray) -> float:
    """Mean probability inside the box (PaddleOCR's 'fast' score mode)."""
    h, w = prob.shape
    xmin = int(np.clip(np.floor(box[:, 0].min()), 0, w - 1))
    xmax = int(np.clip(np.ceil(box[:, 0].max()), 0, w - 1))
    ymin = int(np.clip(np.floor(box[:, 1].min()), 0, h - 1))
    ymax = int(np.clip(np.ceil(box[:, 1].max()), 0, h - 1))
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    shifted = box.copy()
    shifted[:, 0] -= xmin
    shifted[:, 1] -= ymin
    cv2.fillPoly(mask, [shifted.reshape(-1, 2).astype(np.int32)], 1)
    return cv2.mean(prob[ymin : ymax + 1, xmin : xmax + 1], mask)[0]


def unclip(box: np.ndarray, ratio: float) -> np.ndarray:
    """Grow a polygon by area * ratio / perimeter (the DB paper's offset), with pyclipper."""
    x, y = box[:, 0].astype(np.float64), box[:, 1].astype(np.float64)
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    length = float(np.sum(np.hypot(np.roll(x, -1) - x, np.roll(y, -1) - y)))
    if length == 0:
        return box.reshape(-1, 1, 2)
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(box.tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    expanded = offset.Execute(area * ratio / length)
    if not expanded:
        return np.zeros((0, 1, 2))
    return np.array(expanded[0]).reshape(-1, 1, 2)


def boxes_from_prob(prob: np.ndarray, params: DetParams, dest_w: int, dest_h: int) -> tuple[np.ndarray, list[float]]:
    """Probability map (H, W) -> int boxes (N, 4, 2) in the destination image's pixels, and scores."""
    bitmap: np.ndarray = (prob > params.thresh).astype(np.uint8)
    if params.use_dilation:
        bitmap = cv2.dilate(bitmap, np.ones((2, 2), dtype=np.uint8))
    height, width = bitmap.shape
    contours, _ = cv2.findContours(bitmap * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes, scores = [], []
    for contour in contours[: params.max_candidates]:
        points, short_side = mini_box(contour)
        if short_side < MIN_BOX_SIDE:
            continue
        score = box_score(prob, points.reshape(-1, 2))
        if params.box_thresh > score:
            continue
        expanded = unclip(points, params.unclip_ratio)
        if len(expanded) == 0:
            continue
        box, short_side = mini_box(expanded.astype(np.float32))
        if short_side < MIN_BOX_SIDE + 2:
            continue
        box[:, 0] = np.clip(np.round(box[:, 0] / width * dest_w), 0, dest_w)
        box[:, 1] = np.clip(np.round(box[:, 1] / height * dest_h), 0, dest_h)
        boxes.append(box.astype(np.int32))
        scores.append(float(score))
    return np.array(boxes, dtype=np.int32).reshape(-1, 4, 2), scores


def order_clockwise(pts: np.ndarray) -> np.ndarray:
    """tl, tr, br, bl from any 4 points: two left-most by y, two right-most by y."""
    xs = pts[np.argsort(pts[:, 0], kind="stable")]
    left = xs[:2][np.argsort(xs[:2, 1], kind="stable")]
    right = xs[2:][np.argsort(xs[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], dtype=np.float32)


def filter_boxes(boxes: np.ndarray, scores: list[float], h: int, w: int) -> tuple[np.ndarray, list[float]]:
    """Order corners, clip to the image, drop boxes 3 px or thinner."""
    kept, kept_scores = [], []
    for box, score in zip(boxes, scores):
        box = order_clockwise(box.astype(np.float32))
        box[:, 0] = np.trunc(np.clip(box[:, 0], 0, w - 1))
        box[:, 1] = np.trunc(np.clip(box[:, 1], 0, h - 1))
        if int(np.linalg.norm(box[0] - box[1])) <= MIN_BOX_SIDE or int(np.linalg.norm(box[0] - box[3])) <= MIN_BOX_SIDE:
            continue
        kept.append(box)
        kept_scores.append(score)
    return np.array(kept, dtype=np.float32).reshape(-1, 4, 2), kept_scores


def reading_order(boxes: np.ndarray, row_tolerance: float = 10.0) -> list[int]:
    """Indices in reading order: by top-left y then x, then boxes on one row (|dy| < 10 px) left to right."""
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][0][1], boxes[i][0][0]))
    for i in range(len(order) - 1):
        for j in range(i, -1, -1):
            a, b = boxes[order[j]], boxes[order[j + 1]]
            if abs(b[0][1] - a[0][1]) < row_tolerance and b[0][0] < a[0][0]:
                order[j], order[j + 1] = order[j + 1], order[j]
            else:
                break
    return order


def sort_boxes(boxes: np.ndarray, scores: list[float]) -> tuple[np.ndarray, list[float]]:
    order = reading_order(boxes)
    return boxes[order].reshape(-1, 4, 2), [scores[i] for i in order]


class TextDetector:
    """DB detector over one ONNX model; stateless per call."""

    def __init__(self, model: InferenceModel, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        self.model = model
        self.normalize = PixelNormalizer.scaled(mean, std)

    def preprocess(self, img: np.ndarray, params: DetParams) -> np.ndarray:
        h, w = img.shape[:2]
        rh, rw = resize_shape(h, w, params.limit_side_len, params.limit_type, params.max_side_limit,
                              params.image_max_side)
        resized = cv2.resize(img, (rw, rh))
        return self.normalize(resized)[None]

    def postprocess(self, prob_map: np.ndarray, params: DetParams, h: int, w: int) -> tuple[np.ndarray, list[float]]:
        boxes, scores = boxes_from_prob(prob_map, params, w, h)
        boxes, scores = filter_boxes(boxes, scores, h, w)
        return sort_boxes(boxes, scores)

    def __call__(self, img: np.ndarray, params: DetParams) -> tuple[np.ndarray, list[float]]:
        """Boxes (N, 4, 2) float32 in `img` pixels, top-to-bottom then left-to-right, with scores."""
        batch = self.preprocess(img, params)
        out = self.model.run(batch)
        return self.postprocess(out[0, 0], params, *img.shape[:2])

