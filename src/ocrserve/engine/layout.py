"""Layout detection: a page's regions (text, title, figure, table, ...) with scores and boxes, in reading order.

Two kinds of export are read (`LayoutSpec.head`):

- `gfl`: a PicoDet detector with a GFL head: for each stride it scores every cell of its feature map per
  class and gives each side of the cell's box as a distribution over `reg_max + 1` bins; the expectation
  of that distribution, times the stride, is the side's distance from the cell's centre.
- `rows`: a graph with its post-processing inside (PaddleDetection's exports of PP-DocLayout: NMS, or a
  DETR head's best queries), fed by name (`image`, `im_shape`, `scale_factor`) and giving rows of class,
  score and box, already on the page when `scale_factor` was fed, and how many rows are real.

Either way, boxes above the score threshold are kept per class by greedy NMS, clipped to the page, one
label is kept per area, and the regions are put in reading order: columns left to right, each read top to
bottom, full-width regions cutting the page into bands (XY-cut on the regions' boxes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import cv2
import numpy as np

from ..errors import ModelCorrupt
from ..models.registry import LayoutSpec
from ..result import LayoutRegion
from .backends import InferenceModel
from .pixels import PixelNormalizer

__all__ = ["LayoutDetector", "ScoreThreshold", "nms", "region_order", "score_threshold"]

#: a request's score threshold: one for every label, or some labels' own by class id (PaddleX's
#: `layoutThreshold` dict; the labels it does not name keep the model's), or None for the model's
ScoreThreshold = float | Mapping[int, float] | None


def score_threshold(value: float | Mapping[str, float] | Mapping[int, float] | None) -> ScoreThreshold:
    """A threshold as JSON carries it (a per-class dict's ids are strings there); ValueError when a
    class id is no integer."""
    if isinstance(value, Mapping):
        return {int(cls): float(threshold) for cls, threshold in value.items()}
    return None if value is None else float(value)

#: PaddleDetection's Resize `interp` values as OpenCV's flags
INTERPOLATIONS = {"linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}
#: a `rows` graph's row: class id, score, x0, y0, x1, y1 (PP-DocLayoutV2 appends reading-order columns, unread)
ROW_COLUMNS = 6

#: a gap between regions narrower than this share of the page's side does not separate them
GAP_SHARE = 0.005


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one [x0, y0, x1, y1] box with each of `others` (N, 4)."""
    x0 = np.maximum(box[0], others[:, 0])
    y0 = np.maximum(box[1], others[:, 1])
    x1 = np.minimum(box[2], others[:, 2])
    y1 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    out: np.ndarray = inter / np.maximum(area + areas - inter, 1e-9)
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thresh: float, keep: int) -> list[int]:
    """Greedy non-maximum suppression: indices of the kept boxes, best first, at most `keep`."""
    order = list(np.argsort(-scores, kind="stable"))
    kept: list[int] = []
    while order and len(kept) < keep:
        best, rest = order[0], np.asarray(order[1:], dtype=np.int64)
        kept.append(int(best))
        if not len(rest):
            break
        order = list(rest[iou(boxes[best], boxes[rest]) <= iou_thresh])
    return kept


#: two regions of different labels overlapping this much are one region: the surer label wins
CROSS_LABEL_IOU = 0.8
#: a region whose surer regions inside it cover this share of it only repeats them (a paragraph
#: detected both whole and as its parts): the parts are kept
COVERED_SHARE = 0.5
#: a region this much inside a surer one of its label is part of it
NESTED_SHARE = 0.8


def overlaps_resolved(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray | None = None) -> list[int]:
    """Indices of the regions kept once each region is one label: NMS per label left boxes of other
    labels over the same area, boxes over the same area as surer ones, and a box of a label inside a
    surer box of the same label (one paragraph boxed again inside the passage that holds it, which
    would read its lines apart from their neighbours')."""
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    kept: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if areas[i] < 1:
            continue
        if kept and iou(boxes[i], boxes[kept]).max() > CROSS_LABEL_IOU:
            continue
        if classes is not None and any(classes[k] == classes[i] and _inside(boxes[i], boxes[k]) >= NESTED_SHARE
                                       for k in kept):
            continue
        inner = [k for k in kept if _inside(boxes[k], boxes[i]) >= 0.8]
        if inner and sum(areas[k] for k in inner) >= COVERED_SHARE * areas[i]:
            continue
        kept.append(int(i))
    return sorted(kept)


def _inside(box: np.ndarray, outer: np.ndarray) -> float:
    """The share of `box`'s area inside `outer`."""
    w = min(box[2], outer[2]) - max(box[0], outer[0])
    h = min(box[3], outer[3]) - max(box[1], outer[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return float(max(w, 0) * max(h, 0) / max(area, 1e-9))


def _groups(starts: np.ndarray, ends: np.ndarray, idx: list[int], gap: float) -> list[list[int]]:
    """`idx` split where their projections on one axis leave a gap wider than `gap`, in axis order."""
    order = sorted(idx, key=lambda i: (starts[i], ends[i]))
    groups: list[list[int]] = [[order[0]]]
    reach = ends[order[0]]
    for i in order[1:]:
        if starts[i] > reach + gap:
            groups.append([i])
        else:
            groups[-1].append(i)
        reach = max(reach, ends[i])
    return groups


def region_order(boxes: np.ndarray, width: int, height: int) -> list[int]:
    """Reading order of regions (N, 4): columns first (a vertical gutter splits), then bands (a
    horizontal gap splits), recursively; what neither splits is read top to bottom, left to right.

    Bands that are each split by a gutter are cut together again, so that two columns under a
    full-width title are read column by column rather than row by row of paragraphs.
    """
    if not len(boxes):
        return []
    x_gap, y_gap = GAP_SHARE * width, GAP_SHARE * height

    def columns(idx: list[int]) -> list[list[int]]:
        return _groups(boxes[:, 0], boxes[:, 2], idx, x_gap)

    def cut(idx: list[int]) -> list[int]:
        if len(idx) == 1:
            return idx
        by_column = columns(idx)
        if len(by_column) > 1:
            return [i for group in by_column for i in cut(group)]
        bands = _groups(boxes[:, 1], boxes[:, 3], idx, y_gap)
        if len(bands) == 1:
            return sorted(idx, key=lambda i: (boxes[i, 1], boxes[i, 0]))
        groups: list[list[int]] = []
        previous_split = False
        for band in bands:
            split = len(columns(band)) > 1
            if split and previous_split:
                groups[-1].extend(band)
            else:
                groups.append(list(band))
            previous_split = split
        if len(groups) == 1:  # the bands' gutters do not line up: read them band by band
            groups = bands
        return [i for group in groups for i in cut(group)]

    return cut(list(range(len(boxes))))


#: candidate regions: class ids (N,), scores (N,) and boxes (N, 4) as [x0, y0, x1, y1]
Candidates = tuple[np.ndarray, np.ndarray, np.ndarray]


class LayoutDetector:
    """A layout model and its spec; `detect(image)` -> regions in reading order (thread-safe)."""

    def __init__(self, model: InferenceModel, spec: LayoutSpec) -> None:
        self.model = model
        self.spec = spec
        labels = model.metadata().get("character")
        if labels is not None and tuple(labels.splitlines()) != spec.labels:
            raise ModelCorrupt(f"{model.path}: its labels {labels.splitlines()} are not the registry's {list(spec.labels)}")
        self.normalize = PixelNormalizer.scaled(spec.mean, spec.std)
        own = dict(spec.label_thresholds)
        # each label's threshold by class id when a request sets none: its own, else the model's
        self.default_thresholds = np.array([own.get(label, spec.score_thresh) for label in spec.labels],
                                           dtype=np.float32)

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """(1, 3, H, W) input: the page stretched to the model's fixed size, in RGB as PaddleDetection trains."""
        spec = self.spec
        resized = cv2.resize(image, (spec.input_width, spec.input_height),
                             interpolation=INTERPOLATIONS[spec.interpolation])
        rgb = np.ascontiguousarray(resized[:, :, ::-1])
        return self.normalize(rgb)[None]

    def feeds(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """A `rows` graph's inputs by name: the prepared page, the size it was fed at (H, W), and that size
        over the page's (H, W), from which the graph maps its boxes back onto the page."""
        spec = self.spec
        height, width = image.shape[:2]
        known = {"image": self.prepare(image),
                 "im_shape": np.array([[spec.input_height, spec.input_width]], dtype=np.float32),
                 "scale_factor": np.array([[spec.input_height / height, spec.input_width / width]], dtype=np.float32)}
        return {name: known[name] for name in spec.inputs}

    def thresholds(self, score_thresh: ScoreThreshold = None) -> np.ndarray:
        """Each label's score threshold, by class id: the spec's (its `label_thresholds`, else its
        `score_thresh`), one value for all, or the spec's with some labels' own."""
        if score_thresh is not None and not isinstance(score_thresh, Mapping):
            return np.full(len(self.spec.labels), float(score_thresh), dtype=np.float32)
        out = self.default_thresholds.copy()
        for cls, value in (score_thresh or {}).items():
            if 0 <= cls < len(out):
                out[cls] = value
        return out

    def detect(self, image: np.ndarray, score_thresh: ScoreThreshold = None) -> list[LayoutRegion]:
        """The regions of a BGR page above their label's threshold (`thresholds`), in reading order."""
        height, width = image.shape[:2]
        thresh = self.thresholds(score_thresh)
        page_scale = (width / self.spec.input_width, height / self.spec.input_height)
        if self.spec.head == "rows":
            classes, scores, boxes = self.decode_rows(self.model.run_named(self.feeds(image)), thresh)
            if "scale_factor" in self.spec.inputs:  # the graph was told the scale: its boxes are on the page
                page_scale = (1.0, 1.0)
        else:
            classes, scores, boxes = self.candidates(self.model.run_outputs(self.prepare(image)), thresh)
        picked = self.per_class_nms(classes, scores, boxes)
        if not len(picked):
            return []
        page_boxes = boxes[picked] * np.array(page_scale * 2, dtype=np.float32)
        page_boxes[:, [0, 2]] = page_boxes[:, [0, 2]].clip(0, width)
        page_boxes[:, [1, 3]] = page_boxes[:, [1, 3]].clip(0, height)
        picked_scores = scores[picked].astype(np.float32)
        keep = overlaps_resolved(page_boxes, picked_scores, classes[picked])
        order = region_order(page_boxes[keep], width, height)
        out = []
        for i in (keep[k] for k in order):
            cls = int(classes[picked[i]])
            x0, y0, x1, y1 = (float(v) for v in page_boxes[i])
            out.append(LayoutRegion(self.spec.labels[cls], float(picked_scores[i]), (x0, y0, x1, y1), cls))
        return out

    def per_class_nms(self, classes: np.ndarray, scores: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Indices of the candidates kept by greedy NMS within each class: by class, best first in each."""
        picked: list[int] = []
        for cls in np.unique(classes):
            members = np.flatnonzero(classes == cls)
            kept = nms(boxes[members], scores[members], self.spec.iou_thresh, self.spec.max_per_class)
            picked.extend(int(members[i]) for i in kept)
        return np.asarray(picked, dtype=np.int64)

    def candidates(self, outputs: list[np.ndarray], thresh: np.ndarray) -> Candidates:
        """A `gfl` head's candidates over their class's threshold (`thresh`, by class id), one per cell and
        class, boxes in input pixels."""
        boxes, scores = self.decode(outputs)
        cells, classes = np.nonzero(scores > thresh[None, :])
        # class by class, cells in decode order: the order NMS breaks ties in
        order = np.lexsort((cells, classes))
        cells, classes = cells[order], classes[order]
        return classes, scores[cells, classes], boxes[cells]

    def decode(self, outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Candidate boxes (N, 4) in input pixels and their class scores (N, C), the best
        `max_candidates` cells of each stride."""
        spec = self.spec
        heads = len(spec.strides)
        if len(outputs) != 2 * heads:
            raise ModelCorrupt(f"{self.model.path}: {len(outputs)} outputs, expected {2 * heads} "
                               f"(scores and boxes for strides {spec.strides})")
        all_boxes, all_scores = [], []
        for stride, score, dist in zip(spec.strides, outputs[:heads], outputs[heads:]):
            score, dist = score[0], dist[0]
            rows, cols = math.ceil(spec.input_height / stride), math.ceil(spec.input_width / stride)
            ys, xs = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
            centres = np.stack([xs.ravel(), ys.ravel()] * 2, axis=1).astype(np.float32)
            centres = (centres + 0.5) * stride
            bins = dist.shape[-1] // 4
            sides = (_softmax(dist.reshape(-1, 4, bins)) * np.arange(bins, dtype=np.float32)).sum(-1) * stride
            top = np.argsort(-score.max(axis=1), kind="stable")[: spec.max_candidates]
            all_boxes.append(centres[top] + sides[top] * np.array([-1, -1, 1, 1], dtype=np.float32))
            all_scores.append(score[top])
        return np.concatenate(all_boxes), np.concatenate(all_scores)

    def decode_rows(self, outputs: list[np.ndarray], thresh: np.ndarray) -> Candidates:
        """A `rows` graph's rows over their class's threshold (`thresh`, by class id): the first output's
        rows (class, score, box), as many as its second output counts; the padding row an export puts out
        for a page with no region (class -1, score 0) and rows under the threshold are left out."""
        if not outputs or outputs[0].ndim != 2 or outputs[0].shape[1] < ROW_COLUMNS:
            raise ModelCorrupt(f"{self.model.path}: outputs of shapes {[o.shape for o in outputs]}, expected rows "
                               "of class, score, x0, y0, x1, y1 first (a `rows` head)")
        rows = outputs[0]
        if len(outputs) > 1 and outputs[1].size:
            rows = rows[: int(outputs[1].reshape(-1)[0])]  # one image fed: its count is the first
        classes = np.rint(rows[:, 0]).astype(np.int64)
        scores = rows[:, 1].astype(np.float32)
        if (classes >= len(self.spec.labels)).any():
            raise ModelCorrupt(f"{self.model.path}: class {int(classes.max())} is past the registry's "
                               f"{len(self.spec.labels)} labels")
        kept = (classes >= 0) & (scores > 0.0)
        kept[kept] = scores[kept] > thresh[classes[kept]]
        return classes[kept], scores[kept], rows[kept, 2:ROW_COLUMNS].astype(np.float32)
