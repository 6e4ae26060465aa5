"""Image classifiers: the text-line 0/180 model and the document 0/90/180/270 model.

Both are plain image classifiers; they differ in input size and resize rule, which the
registry's ClassifierSpec states.  What their answers mean for a page is the orientation
policy's business (orient.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from ..models.registry import ClassifierSpec
from .backends import InferenceModel
from .pixels import PixelNormalizer


def _softmax_if_needed(out: np.ndarray) -> np.ndarray:
    out = out.astype(np.float32)
    if np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
        return out
    e = np.exp(out - out.max(axis=1, keepdims=True))
    probabilities: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return probabilities


class ImageClassifier:
    """Batched classifier; returns the class probabilities per image, in input order."""

    def __init__(self, model: InferenceModel, spec: ClassifierSpec) -> None:
        self.model = model
        self.spec = spec
        self.normalize = PixelNormalizer.divided(spec.mean, spec.std)

    def prepare(self, img: np.ndarray) -> np.ndarray:
        spec = self.spec
        h, w = img.shape[:2]
        if spec.resize == "keep_ratio_pad":
            resized_w = min(spec.input_width, int(math.ceil(spec.input_height * w / h)))
            resized = cv2.resize(img, (resized_w, spec.input_height))
        elif spec.resize == "stretch":
            resized = cv2.resize(img, (spec.input_width, spec.input_height))
        else:  # short side to 256/224 of the input, then a centre crop (PP-LCNet doc_ori)
            short = int(round(spec.input_height * 256 / 224))
            scale = short / min(h, w)
            resized = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))),
                                 interpolation=cv2.INTER_LANCZOS4)
            top = (resized.shape[0] - spec.input_height) // 2
            left = (resized.shape[1] - spec.input_width) // 2
            resized = resized[top : top + spec.input_height, left : left + spec.input_width]
        out = np.zeros((3, spec.input_height, spec.input_width), dtype=np.float32)
        self.normalize(resized, out[:, :, : resized.shape[1]])
        return out

    def probabilities(self, images: Sequence[np.ndarray], batch_size: int) -> np.ndarray:
        """(N, len(labels)) probabilities."""
        if not images:
            return np.zeros((0, len(self.spec.labels)), dtype=np.float32)
        order = np.argsort([im.shape[1] / im.shape[0] for im in images], kind="stable")
        probs = np.zeros((len(images), len(self.spec.labels)), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = np.stack([self.prepare(images[i]) for i in chunk])
            probs[chunk] = _softmax_if_needed(self.model.run(batch))
        return probs
