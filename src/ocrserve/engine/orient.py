"""Which way is up: the page's quarter turn, an upside-down page, each line's 0/180.

The policy over the two classifiers (classify.py): the document model turns the page upright by
a multiple of 90 degrees; the text lines' own 0/180 votes then catch a page it left upside down,
flip single lines, and mark the lines they lean 180 on without being sure, which are read both
ways once recognised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .classify import ImageClassifier
from .detect import reading_order
from .geometry import PageFrame, rotate_ccw  # rotate_ccw: still imported from here by api/contracts/paddlex.py
from .lines import PageLines
from .options import EffectiveOptions
from .recognize import Recognition

__all__ = ["REREAD_BELOW", "Orientation", "page_is_upside_down", "rotate_ccw"]

#: a doubtful line (classifier 0.5-0.9 for 180 degrees) read at least this confidently is not re-read flipped
REREAD_BELOW = 0.9


def page_is_upside_down(probs: np.ndarray, weights: np.ndarray, share: float = 0.6) -> bool:
    """Page-level 180 decision from the lines' own votes, weighted by line length.

    The 4-class document model can miss a 180-degree page (reported on synthetic pages); the
    lines of the page are many independent witnesses.  `share` separates upright pages, pages
    with a minority of inverted lines and upside-down pages on the samples (README "Orientation",
    bench/orientation.py).
    """
    if len(probs) == 0 or float(weights.sum()) <= 0:
        return False
    return float((probs[:, 1] * weights).sum() / weights.sum()) > share


def _half_turn(crop: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(crop[::-1, ::-1])


def _turn_page(lines: PageLines, probs: np.ndarray, frame: PageFrame
               ) -> tuple[PageLines, np.ndarray, PageFrame]:
    """The lines of the page turned 180 degrees, in the turned page's reading order."""
    frame, boxes = frame.turned_180(lines.boxes)
    order = reading_order(boxes)
    turned = PageLines(boxes[order], [_half_turn(lines.crops[i]) for i in order], [lines.turned[i] for i in order])
    return turned, probs[order][:, ::-1], frame


class Orientation:
    """The orientation stage: both classifiers and what their answers mean for a page."""

    def __init__(self, document: ImageClassifier, textline: ImageClassifier, batch_size: int) -> None:
        self.document = document
        self.textline = textline
        self.batch_size = batch_size

    def document_angle(self, image: np.ndarray) -> int:
        """Degrees CCW that make the page upright, by the 4-class model."""
        probs = self.document.probabilities([image], 1)[0]
        return int(self.document.spec.labels[int(np.argmax(probs))])

    def classify_lines(self, lines: PageLines, frame: PageFrame, opts: EffectiveOptions
                       ) -> tuple[PageLines, PageFrame]:
        """Text-line 0/180 votes; with doc orientation on they also decide a 180-degree page."""
        probs = self.textline.probabilities(lines.crops, self.batch_size)
        if opts.use_doc_orientation_classify and opts.use_det:
            widths = np.array([c.shape[1] for c in lines.crops], dtype=np.float32)
            if page_is_upside_down(probs, widths):
                lines, probs, frame = _turn_page(lines, probs, frame)
        if opts.use_textline_orientation:
            self._flip_lines(lines, probs)
        return lines, frame

    def _flip_lines(self, lines: PageLines, probs: np.ndarray) -> None:
        thresh = self.textline.spec.thresh
        flips = probs[:, 1] > thresh
        lines.crops = [_half_turn(c) if f else c for c, f in zip(lines.crops, flips)]
        lines.flipped = [bool(f) for f in flips]
        lines.angles = [180 if p[1] > p[0] else 0 for p in probs]
        lines.doubtful = [i for i, p in enumerate(probs) if 0.5 < p[1] <= thresh]

    @staticmethod
    def reread_doubtful(lines: PageLines, recs: list[Recognition],
                        read: Callable[[Sequence[np.ndarray]], list[Recognition]]) -> list[Recognition]:
        """Lines the classifier thought upside down, but not surely: read them both ways, keep the likelier.

        The recogniser's own confidence is the second witness: upside-down text does not decode
        as cleanly as REREAD_BELOW, so a line read that well was read the right way up and costs
        no extra batch (commit f351813 has the measurement behind the bound).
        """
        if not lines.doubtful:
            return recs
        recs = list(recs)
        unsure = []
        for i in lines.doubtful:
            if recs[i].score >= REREAD_BELOW:
                lines.angles[i] = 0
            else:
                unsure.append(i)
        flipped = [_half_turn(lines.crops[i]) for i in unsure]
        rereads = read(flipped) if unsure else []
        for i, crop, rec in zip(unsure, flipped, rereads):
            if rec.score > recs[i].score:
                recs[i], lines.crops[i], lines.flipped[i], lines.angles[i] = rec, crop, True, 180
            else:
                lines.angles[i] = 0
        return recs
