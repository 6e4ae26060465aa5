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
from .geometry import PageFrame
from .lines import PageLines
from .options import EffectiveOptions
from .recognize import Recognition

__all__ = ["REREAD_BELOW", "Orientation", "lines_run_down", "page_is_upside_down"]

#: a doubtful line (classifier 0.5-0.9 for 180 degrees) read at least this confidently is not re-read flipped
REREAD_BELOW = 0.9
#: on a mostly upright page a line the classifier turned keeps its turn only if that reading beats the
#: unturned one by this much: wrong turns read at 0.54-0.74, and a turned brace reads as the other
#: brace at 0.99, 0.07-0.09 above its right reading; right turns win by 0.33 (docs/reading-order.md)
TURN_MARGIN = 0.15
#: a page is mostly upright when the lines' length-weighted mean 180-degree probability is under this
UPRIGHT_PAGE = 0.5


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


#: lines checked by reading when the page's quarter turn is in doubt (the longest ones)
LEGIBILITY_LINES = 6
#: the document model is taken at its word when its top class is this likely; on a sparse page it
#: sees mostly blank paper and says ~0.25 to every class (docs/reading-order.md)
DOC_SURE = 0.5


def text_region(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The part of `image` its lines cover, with a margin, squared on the page's own background.

    The document model looks at a centre crop of the whole page; on a sparse page that is blank
    paper, on this region it is text.  Squaring keeps all of it inside the model's centre crop.
    """
    h, w = image.shape[:2]
    x0, y0 = np.floor(boxes[..., 0].min()), np.floor(boxes[..., 1].min())
    x1, y1 = np.ceil(boxes[..., 0].max()), np.ceil(boxes[..., 1].max())
    margin = int(0.05 * max(x1 - x0, y1 - y0)) + 10
    x0, y0 = int(max(0, x0 - margin)), int(max(0, y0 - margin))
    x1, y1 = int(min(w, x1 + margin)), int(min(h, y1 + margin))
    region = image[y0:y1, x0:x1]
    side = max(region.shape[:2])
    background = np.median(region.reshape(-1, 3), axis=0).astype(np.uint8)
    square = np.empty((side, side, 3), dtype=np.uint8)
    square[:] = background
    top, left = (side - region.shape[0]) // 2, (side - region.shape[1]) // 2
    square[top:top + region.shape[0], left:left + region.shape[1]] = region
    return square


def lines_run_down(boxes: np.ndarray) -> bool:
    """Most of the text (by line length) runs down the page: tall lines.

    An upright page of horizontal text that the document model turned a quarter too far shows
    exactly this; a correctly turned one shows wide lines.
    """
    if len(boxes) == 0:
        return False
    top = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1)
    side = np.linalg.norm(boxes[:, 3] - boxes[:, 0], axis=1)
    length = np.maximum(top, side)
    return float(length[side > top].sum()) > 0.5 * float(length.sum())


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

    def document_probabilities(self, image: np.ndarray) -> np.ndarray:
        """The 4-class model's probabilities for `image`, in the order of its labels."""
        probabilities: np.ndarray = self.document.probabilities([image], 1)[0]
        return probabilities

    def is_sure(self, probs: np.ndarray) -> bool:
        return float(probs.max()) >= DOC_SURE

    def label(self, probs: np.ndarray) -> int:
        """Degrees CCW of the likeliest class."""
        return int(self.document.spec.labels[int(np.argmax(probs))])

    def angle_from_lines(self, image: np.ndarray, boxes: np.ndarray) -> int:
        """The quarter turn of a page the model was unsure of, from lines detected on it as it is.

        The model again, on the text the lines cover; if it is still unsure, the lines' aspect
        picks the pair (tall lines: 90 or 270, wide lines: 0 or 180) and the model's likelier of
        the two is taken (the line votes still settle a half turn afterwards).  No lines: no turn.
        """
        if len(boxes) == 0:
            return 0
        probs = self.document_probabilities(text_region(image, boxes))
        if self.is_sure(probs):
            return self.label(probs)
        labels = [int(label) for label in self.document.spec.labels]
        allowed = (90, 270) if lines_run_down(boxes) else (0, 180)
        return max(allowed, key=lambda angle: probs[labels.index(angle)])

    def legibility(self, crops: Sequence[np.ndarray], read: Callable[[Sequence[np.ndarray]], list[Recognition]]
                   ) -> float:
        """Mean recognition confidence of the longest lines, each read both ways (its better way counts)."""
        longest = sorted(crops, key=lambda c: -c.shape[1])[:LEGIBILITY_LINES]
        if not longest:
            return 0.0
        recs = read(list(longest) + [_half_turn(c) for c in longest])
        n = len(longest)
        return float(np.mean([max(a.score, b.score) for a, b in zip(recs[:n], recs[n:])]))

    def classify_lines(self, lines: PageLines, frame: PageFrame, opts: EffectiveOptions
                       ) -> tuple[PageLines, PageFrame]:
        """Text-line 0/180 votes; with doc orientation on they also decide a 180-degree page."""
        probs = self.textline.probabilities(lines.crops, self.batch_size)
        widths = np.array([c.shape[1] for c in lines.crops], dtype=np.float32)
        if opts.use_doc_orientation_classify and opts.use_det and page_is_upside_down(probs, widths):
            lines, probs, frame = _turn_page(lines, probs, frame)
        if opts.use_textline_orientation:
            self._flip_lines(lines, probs, not page_is_upside_down(probs, widths, UPRIGHT_PAGE))
        return lines, frame

    def _flip_lines(self, lines: PageLines, probs: np.ndarray, upright_page: bool) -> None:
        """Turn the lines the classifier is sure of; on a mostly upright page mark them to read unturned too.

        An upside-down line is rare on an upright page and a wrong turn reads as garbage, so the
        recogniser gets to compare both readings (reread_doubtful).
        """
        thresh = self.textline.spec.thresh
        flips = probs[:, 1] > thresh
        lines.crops = [_half_turn(c) if f else c for c, f in zip(lines.crops, flips)]
        lines.flipped = [bool(f) for f in flips]
        lines.angles = [180 if p[1] > p[0] else 0 for p in probs]
        lines.doubtful = [i for i, p in enumerate(probs) if 0.5 < p[1] <= thresh]
        lines.confirm = [i for i, f in enumerate(flips) if f] if upright_page else []

    @staticmethod
    def reread_doubtful(lines: PageLines, recs: list[Recognition],
                        read: Callable[[Sequence[np.ndarray]], list[Recognition]]) -> list[Recognition]:
        """Lines whose turn is in question, read poorly: read them the other way too, keep the likelier.

        Two kinds: lines the classifier leaned 180 on without turning them (0.5-0.9), read
        unturned first and read turned too when that reading is under REREAD_BELOW (text the
        wrong way up does not decode that cleanly; commit f351813), and lines it turned on a mostly
        upright page, which are rare there and always read unturned too: no score bound separates
        wrong turns (a brace turned reads as the other brace at 0.99), so the unturned reading
        wins unless the turned one beats it by TURN_MARGIN (docs/reading-order.md).
        """
        if not lines.doubtful and not lines.confirm:
            return recs
        recs = list(recs)
        for i in lines.doubtful:
            lines.angles[i] = 0
        unsure = [i for i in lines.doubtful if recs[i].score < REREAD_BELOW] + list(lines.confirm)
        other_way = [_half_turn(lines.crops[i]) for i in unsure]
        rereads = read(other_way) if unsure else []
        for i, crop, rec in zip(unsure, other_way, rereads):
            turned_now = lines.flipped[i]
            # a turned line must win by the margin to stay turned; a doubtful one only has to win
            better = rec.score + TURN_MARGIN > recs[i].score if turned_now else rec.score > recs[i].score
            if better:
                recs[i], lines.crops[i], lines.flipped[i] = rec, crop, not turned_now
                lines.angles[i] = 0 if turned_now else 180
        return recs
