"""Line crops -> text: perspective crop, width-sorted batches, CTC greedy decode, word boxes.

A page's crops are sorted by aspect ratio and cut into chunks of `batch_size`; each chunk is
padded (zeros on the right) to its widest crop, at least the trained 320 px -- PaddleOCR's and
RapidOCR's rule, which the parity tests hold us to.  The recognisers mix features across the
whole width, so the amount of padding changes some readings (docs/precision.md, "Padding
changes readings").  A chunk is
therefore the unit of work: the service may run chunks of several requests in one model call
only when they have the same padded width, so a line reads the same however busy we are.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from ..errors import ConfigError, ModelCorrupt, OCRServeError
from ..models.registry import HALF
from .backends import InferenceModel
from .pixels import PixelNormalizer

log = logging.getLogger("ocrserve.recognize")

TALL_CROP_RATIO = 1.5

#: told of every recognition model call that succeeded: (crops in the batch, padded width in pixels)
BatchObserver = Callable[[int, int], None]


def crop_line(img: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, bool]:
    """Rectify the quadrilateral `box` (tl, tr, br, bl) into an upright crop.

    Crops at least 1.5 times taller than wide are turned 90 degrees counter-clockwise (vertical
    text read as a line); the flag says so, because word boxes and polygons must follow.
    """
    pts = box.astype(np.float32)
    width = int(max(np.linalg.norm(pts[0] - pts[1]), np.linalg.norm(pts[2] - pts[3])))
    height = int(max(np.linalg.norm(pts[0] - pts[3]), np.linalg.norm(pts[1] - pts[2])))
    width, height = max(width, 1), max(height, 1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(pts, target)
    crop = cv2.warpPerspective(img, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE,
                               flags=cv2.INTER_CUBIC)
    if crop.shape[0] / crop.shape[1] >= TALL_CROP_RATIO:
        return np.rot90(crop), True
    return crop, False


def load_charset(model: InferenceModel, dict_path: Path | None, has_specials: bool) -> list[str]:
    """Index-aligned CTC alphabet: blank, the dictionary's characters, then a space."""
    if dict_path is not None:
        raw = dict_path.read_bytes().decode("utf-8")
        chars = [line.rstrip("\r") for line in raw.split("\n")]
        if chars and chars[-1] == "" and raw.endswith("\n"):
            chars.pop()
    else:
        meta = model.metadata().get("character")
        if not meta:
            raise ModelCorrupt(
                f"{model.path.name} has no embedded `character` dictionary; set rec_keys_path"
            )
        chars = meta.split("\n")
    return chars if has_specials else ["blank", *chars, " "]


@dataclass(frozen=True)
class Recognition:
    """Text of one crop, its mean character probability, and where each character sits."""

    text: str
    score: float
    # per decoded character: (start, end) as fractions of the crop's width
    char_spans: tuple[tuple[float, float], ...] = ()


#: what keeps its left-to-right order inside a right-to-left line: Latin letters, digits and the
#: punctuation of numbers and codes (PaddleOCR's rule for its Arabic recognisers)
_LEFT_TO_RIGHT = re.compile(r"[a-zA-Z0-9 :*./%+-]")


def logical_order(chars: Sequence[str]) -> list[int]:
    """The reading order of characters a right-to-left recogniser reads in visual order (left to right):
    each right-to-left character reversed, runs of Latin letters and digits kept as they read."""
    segments: list[list[int]] = []
    run: list[int] = []
    for i, char in enumerate(chars):
        if _LEFT_TO_RIGHT.match(char):
            run.append(i)
            continue
        if run:
            segments.append(run)
            run = []
        segments.append([i])
    if run:
        segments.append(run)
    return [i for segment in reversed(segments) for i in segment]


class CTCDecoder:
    """Greedy CTC: argmax per time step, collapse repeats, drop blanks; score = mean max-prob.

    A right-to-left recogniser (Arabic script) emits its characters in visual order; they are put
    in logical order, each keeping its own span, as PaddleOCR's decoder does for those models.
    """

    def __init__(self, charset: Sequence[str], right_to_left: bool = False) -> None:
        self.charset = list(charset)
        self.right_to_left = right_to_left

    def __call__(self, probs: np.ndarray, content_fractions: Sequence[float]) -> list[Recognition]:
        """`probs` (N, T, C); `content_fractions[i]` = share of the padded width crop i fills."""
        if probs.ndim != 3 or probs.shape[2] != len(self.charset):
            raise ModelCorrupt(
                f"recognition output shape {probs.shape} does not match a dictionary of "
                f"{len(self.charset)} classes (blank + characters + space)"
            )
        idx = probs.argmax(axis=2)
        best = np.take_along_axis(probs, idx[:, :, None], axis=2)[:, :, 0]  # the max, without a 2nd pass over ~18k classes
        keep = idx != 0
        keep[:, 1:] &= idx[:, 1:] != idx[:, :-1]
        steps = probs.shape[1]
        out = []
        for row, (ids, conf, sel) in enumerate(zip(idx, best, keep)):
            cols = np.nonzero(sel)[0]
            chars = [self.charset[i] for i in ids[cols]]
            score = float(np.mean(conf[cols])) if len(cols) else 0.0
            frac = content_fractions[row] or 1.0
            spans = [(min(c / steps / frac, 1.0), min((c + 1) / steps / frac, 1.0)) for c in cols]
            if self.right_to_left:
                order = logical_order(chars)
                chars, spans = [chars[i] for i in order], [spans[i] for i in order]
            out.append(Recognition("".join(chars), score, tuple(spans)))
        return out


#: crops x padded width of the largest recognition call (OCR_REC_BATCH_MAX_COLUMNS' default): a call's
#: working memory grows with its columns, and past a few crops per call reading gets no faster per crop
#: (docs/precision.md, "Recognition call size")
MAX_CALL_COLUMNS = 3840


class Recognize(Protocol):
    """What the pipeline calls to read crops: a TextRecognizer, the cross-request batcher, or a remote one."""

    def __call__(self, crops: Sequence[np.ndarray], batch_size: int) -> list[Recognition]: ...


class BestReading:
    """Each crop read by every recogniser, the reading with the highest score kept: a page in two
    scripts (EasyOCR's `languages: ["ru", "en"]`) read line by line by whichever recogniser is surer."""

    def __init__(self, recognizers: Sequence[Recognize]) -> None:
        self.recognizers = list(recognizers)

    def __call__(self, crops: Sequence[np.ndarray], batch_size: int) -> list[Recognition]:
        readings = [recognize(crops, batch_size) for recognize in self.recognizers]
        return [max(candidates, key=lambda r: r.score) for candidates in zip(*readings)]


class RemoteRecognition(Recognize, Protocol):
    """Recognition served by another process; it names the dictionary its readings come from."""

    @property
    def charset(self) -> list[str]: ...


#: how far a crop is padded: to the widest of its chunk (PaddleOCR's rule), or to its own width
PADDINGS = ("chunk", "crop")

#: one model call's crops and the width they are padded to
Call = tuple[Sequence[np.ndarray], int]


class TextRecognizer:
    """Recognition over one ONNX model: crops in, Recognition per crop out, in input order.

    With `workers` above 1 the model calls of a page (or of several requests' merged chunks) run
    that many at once, each on one core (the model is loaded single-threaded per call for it,
    builder.py): a recogniser call is too small to keep every core busy inside one call, and the
    calls of one page never depend on each other.  Which crops share a call and how far each is
    padded stay as planned, so the readings are the same for any number of workers.
    """

    def __init__(self, model: InferenceModel, charset: Sequence[str], image_height: int = 48,
                 image_width: int = 320, on_batch: BatchObserver | None = None,
                 max_call_columns: int = MAX_CALL_COLUMNS, right_to_left: bool = False, workers: int = 1,
                 padding: str = "chunk", min_width: int | None = None) -> None:
        self.model = model
        self.max_call_columns = max_call_columns
        self.decode = CTCDecoder(charset, right_to_left)
        self.image_height = image_height
        self.image_width = image_width
        self.pixels = PixelNormalizer.divided(HALF, HALF)
        # every model call passes run_calls, whoever plans it (this class or the batcher), so it is told here
        self.on_batch = on_batch
        self.workers = max(1, workers)
        if padding not in PADDINGS:
            raise ConfigError(f"unknown recognition padding {padding!r}; known: {', '.join(PADDINGS)}")
        self.padding = padding
        # `crop` pads a line to its own width, at least this (the trained width unless the set measured less)
        self.min_width = image_width if min_width is None else max(image_height, min_width)
        # made on first use; its idle threads end when this recogniser is dropped (an unloaded language's)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def normalize(self, crop: np.ndarray, batch_width: int) -> tuple[np.ndarray, float]:
        """Resize to the model height keeping the ratio, pad right with zeros to `batch_width`."""
        h, w = crop.shape[:2]
        resized_w = min(batch_width, int(math.ceil(self.image_height * w / h)))
        resized = cv2.resize(crop, (resized_w, self.image_height))
        out = np.zeros((3, self.image_height, batch_width), dtype=np.float32)
        self.pixels(resized, out[:, :, :resized_w])
        return out, resized_w / batch_width

    def plan(self, crops: Sequence[np.ndarray], batch_size: int) -> list[tuple[list[int], int]]:
        """(indices, padded width) chunks, sorted by aspect ratio, at most `batch_size` crops each: padded to the
        chunk's widest crop (`chunk`, at least the trained width), or made of crops of one padded width, each
        its own and at least `min_width` (`crop`)."""
        ratios = [c.shape[1] / c.shape[0] for c in crops]
        order = [int(i) for i in np.argsort(ratios, kind="stable")]
        trained = self.image_width / self.image_height
        chunks: list[tuple[list[int], int]] = []
        if self.padding == "crop":
            floor = self.min_width / self.image_height
            for i in order:
                width = int(self.image_height * max(floor, ratios[i]))
                if chunks and chunks[-1][1] == width and len(chunks[-1][0]) < batch_size:
                    chunks[-1][0].append(i)
                else:
                    chunks.append(([i], width))
            return chunks
        for start in range(0, len(order), batch_size):
            members = order[start : start + batch_size]
            widest = max([trained] + [ratios[i] for i in members])
            chunks.append((members, int(self.image_height * widest)))
        return chunks

    def run_calls(self, batches: Sequence[Call]) -> list[list[Recognition] | OCRServeError]:
        """Each batch's crops padded to its width: its recognitions, or the typed error of its failing call.

        A batch wider than `max_call_columns` runs as several calls at the same padding (a call's working
        memory grows with its columns; the rows of a batch never see each other, so this changes no
        reading).  The calls run on the workers, the costliest first so that none is left alone at the end.
        """
        calls: list[tuple[int, Call]] = []
        for index, (crops, width) in enumerate(batches):
            per_call = max(1, self.max_call_columns // width)
            calls += [(index, (crops[start : start + per_call], width)) for start in range(0, len(crops), per_call)]
        pool = self._workers() if len(calls) > 1 else None
        if pool is None:
            readings = [self._settled(call) for _, call in calls]
        else:
            costliest = sorted(range(len(calls)), key=lambda k: -len(calls[k][1][0]) * calls[k][1][1])
            futures: dict[int, Future[list[Recognition] | OCRServeError]] = {
                k: pool.submit(self._settled, calls[k][1]) for k in costliest}
            readings = [futures[k].result() for k in range(len(calls))]
        outcomes: list[list[Recognition] | OCRServeError] = [[] for _ in batches]
        for (index, _), reading in zip(calls, readings):
            done = outcomes[index]
            if isinstance(done, BaseException):
                continue
            if isinstance(reading, BaseException):
                outcomes[index] = reading
            else:
                done.extend(reading)
        return outcomes

    def _workers(self) -> ThreadPoolExecutor | None:
        if self.workers == 1:
            return None
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ocr-rec")
            return self._pool

    def _settled(self, call: Call) -> list[Recognition] | OCRServeError:
        """One call's recognitions, or its typed error as a value (another error is a bug, and raises)."""
        try:
            return self._call(*call)
        except OCRServeError as exc:
            return exc

    def _call(self, crops: Sequence[np.ndarray], width: int) -> list[Recognition]:
        """One model call, every crop padded to `width`."""
        prepared = [self.normalize(c, width) for c in crops]
        batch = np.stack([p[0] for p in prepared])
        recs = self.decode(self.model.run(batch), [p[1] for p in prepared])
        if self.on_batch is not None:
            try:
                self.on_batch(len(crops), width)
            except Exception:  # an observer (metrics) must never fail the page it observes
                log.exception("recognition batch observer failed")
        return recs

    def __call__(self, crops: Sequence[np.ndarray], batch_size: int) -> list[Recognition]:
        plan = self.plan(crops, batch_size)
        results: list[Recognition | None] = [None] * len(crops)
        outcomes = self.run_calls([([crops[i] for i in members], width) for members, width in plan])
        for (members, _), outcome in zip(plan, outcomes):
            if isinstance(outcome, BaseException):
                raise outcome
            for i, rec in zip(members, outcome):
                results[i] = rec
        return results  # type: ignore[return-value]
