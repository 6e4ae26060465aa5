"""The stage order: doc orientation -> detection -> text-line orientation -> recognition -> reading order.

One Pipeline holds ready stages (builder.py loads them) and nothing per request: every call
works on its own locals and a frozen EffectiveOptions, so many threads may call `predict` at
once.  Each stage is timed; a failing stage raises, it never yields an empty result.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from ..errors import BadInput
from ..models.resolve import ResolvedModels
from ..result import OCRPage
from .arena import IDLE_RELEASE
from .assemble import page_result
from .batcher import RecognitionBatcher
from .config import EngineConfig
from .detect import TextDetector
from .geometry import PageFrame, pad_thin_image, rotate_ccw
from .lines import PageLines
from .options import EffectiveOptions, OCROptions, resolve
from .orient import Orientation, lines_run_down
from .reading_order import line_order
from .recognize import Recognition, Recognize, TextRecognizer


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def _check_image(image: object) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise BadInput("the engine takes a BGR uint8 image of shape (H, W, 3); use ocrserve.inputs to decode")


def _whole_image(image: np.ndarray) -> np.ndarray:
    """The image itself as the one box (detection off: the caller sends one line)."""
    h, w = image.shape[:2]
    return np.array([[[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]], dtype=np.float32)


class Pipeline:
    """Loaded PP-OCR stages in their order; safe to share between threads."""

    def __init__(self, config: EngineConfig, models: ResolvedModels, *, detector: TextDetector,
                 orientation: Orientation, recognize: Recognize, charset: Sequence[str],
                 recognizer: TextRecognizer | None = None) -> None:
        """Store ready stages (see `build_pipeline`).  `recognize` reads crops: `recognizer` (the local
        model, None when recognition runs in another process), a batcher around it, or a remote one."""
        self.config = config
        self.models = models
        self.detector = detector
        self.orientation = orientation
        self.recognize = recognize
        self.recognizer = recognizer
        self.charset = list(charset)
        # the dictionary as a set, made once: language routing asks it for a language's letters
        self.characters = frozenset(self.charset)
        self.right_to_left = False  # a right-to-left language's reading (reading_with): lines ordered from the right
        self.providers = detector.model.providers
        # one detection already uses every core; a second one at once would only add its working
        # set to the peak while both run at half speed
        self._detect_slots = threading.BoundedSemaphore(config.det_concurrency)

    def close(self) -> None:
        if isinstance(self.recognize, RecognitionBatcher):
            self.recognize.close()

    def reading_with(self, recognize: Recognize, charset: Sequence[str], right_to_left: bool = False) -> Pipeline:
        """The same stages with another recogniser (a language's): detection, orientation and their
        shared detection slots are this pipeline's, so a second language costs only its recogniser;
        `right_to_left`: its pages' lines are ordered from the right (Arabic script)."""
        other = copy.copy(self)
        other.recognize, other.recognizer, other.charset = recognize, None, list(charset)
        other.characters = frozenset(other.charset)
        other.right_to_left = right_to_left
        return other

    @property
    def model_name(self) -> str:
        return self.models.model_set.name

    def stage_placements(self) -> str:
        """Where each stage runs as loaded, e.g. `det onnxruntime fp32, cls onnxruntime fp32, rec openvino bf16`
        (the classifiers once when both run alike); what the startup line and the logs name."""
        textline = self._placement(self.orientation.textline.model)
        document = self._placement(self.orientation.document.model)
        cls = textline if textline == document else f"{textline} (text lines) / {document} (page)"
        rec = self._placement(self.recognizer.model) if self.recognizer is not None else "remote"
        return f"det {self._placement(self.detector.model)}, cls {cls}, rec {rec}"

    def _placement(self, model: object) -> str:
        precision = getattr(model, "precision", None)
        if precision is not None:  # OpenVINO models carry the precision they were compiled in
            return f"openvino {precision}"
        providers = list(getattr(model, "providers", None) or ["CPUExecutionProvider"])
        device = providers[0].removesuffix("ExecutionProvider")
        backend = "onnxruntime" if device == "CPU" else f"onnxruntime {device}"
        # `models quantize` writes <model_dir>/int8/<set>/<role>.onnx: ONNX Runtime runs those weights in int8
        path = Path(getattr(model, "path", ""))
        variant = self.models.model_set.variant
        quantised = variant is not None and path.parent.parent.name == variant
        return f"{backend} {'int8' if quantised else 'fp32'}"

    def resolve_options(self, options: OCROptions | None, defaults: OCROptions | None = None) -> EffectiveOptions:
        """`options` over the settings over `defaults` (a contract's own) over the model set's constants."""
        return resolve(options, self.config, self.models.model_set, defaults)

    def warm_up(self) -> int:
        """Run every stage once on a small synthetic page of printed lines (returns lines read).

        ONNX Runtime builds kernels and plans memory on a session's first run; doing it here, on
        lines of a few widths (so recognition sees a real batch), keeps that cost out of the first
        request.  The shared arena is then released at once, so that the first pages grow it by
        regions of `OCR_ARENA_REGION_MB` instead of ONNX Runtime's doubling 2 MiB ones (arena.py).
        """
        page = np.full((480, 480, 3), 255, dtype=np.uint8)  # square: the least area at the usual min-side rule
        for row, (text, scale) in enumerate((("ocrserve warm-up 0123", 0.9), ("PP-OCR on ONNX", 1.2),
                                             ("a short line", 0.7), ("the last line, longer", 0.8))):
            cv2.putText(page, text, (20, 80 + 100 * row), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 2, cv2.LINE_AA)
        lines = len(self.predict(page).lines)
        IDLE_RELEASE.release()
        return lines

    def predict(self, image: np.ndarray, options: OCROptions | EffectiveOptions | None = None) -> OCRPage:
        """OCR one BGR uint8 image (H, W, 3)."""
        _check_image(image)
        opts = options if isinstance(options, EffectiveOptions) else self.resolve_options(options)
        timings: dict[str, float] = {}
        frame = PageFrame.of(image)
        detected = None
        if opts.use_doc_orientation_classify:
            frame, detected = self._document_turn(image, frame, opts, timings)
        frame, page, lines = detected or self._detect(image, frame, opts, timings)
        if opts.use_doc_orientation_classify and opts.use_det and frame.angle % 180 and lines_run_down(lines.boxes):
            frame, page, lines = self._second_opinion(image, frame, page, lines, opts, timings)
        if len(lines) and (opts.use_textline_orientation or opts.use_doc_orientation_classify):
            with _timed(timings, "cls"):
                lines, frame = self.orientation.classify_lines(lines, frame, opts)
        recs = [Recognition("", 0.0)] * len(lines)
        if opts.use_rec and len(lines):
            with _timed(timings, "rec"):
                recs = self.orientation.reread_doubtful(lines, self._read(lines.crops), self._read)
        if self.config.line_order != "paddlex" and len(lines) > 1:  # the detector already gives PaddleX's order
            with _timed(timings, "order"):
                order = line_order(lines.boxes, self.config.line_order, self.right_to_left)
                lines, recs = lines.take(order), [recs[i] for i in order]
        return page_result(image, frame, lines, recs, opts, timings)

    def _document_turn(self, image: np.ndarray, frame: PageFrame, opts: EffectiveOptions,
                       timings: dict[str, float]
                       ) -> tuple[PageFrame, tuple[PageFrame, np.ndarray, PageLines] | None]:
        """The page's quarter turn, and its detection when that was needed to decide and still holds.

        A model that is unsure (a sparse page) is asked again on the text the lines of the page
        cover, so the page is detected as it is first; that detection is kept when no turn follows.
        """
        with _timed(timings, "doc_orientation"):
            probs = self.orientation.document_probabilities(image)
        if self.orientation.is_sure(probs) or not opts.use_det:
            return frame.rotated(self.orientation.label(probs)), None
        as_is = self._detect(image, frame, opts, timings)
        with _timed(timings, "doc_orientation"):
            angle = self.orientation.angle_from_lines(image, as_is[0].to_client(as_is[2].boxes))
        return frame.rotated(angle), (as_is if angle == 0 else None)

    def _detect(self, image: np.ndarray, frame: PageFrame, opts: EffectiveOptions, timings: dict[str, float]
                ) -> tuple[PageFrame, np.ndarray, PageLines]:
        """Detect and cut the lines of `image` turned by `frame.angle`."""
        upright = rotate_ccw(image, frame.angle)
        with self._detect_slots, _timed(timings, "det"):
            # detection off: the caller sent one line, read as it is (letterbox rows would be read too)
            page, pad = pad_thin_image(upright) if opts.use_det else (upright, 0)
            boxes = self.detector(page, opts.det)[0] if opts.use_det else _whole_image(page)
        with _timed(timings, "crop"):
            lines = PageLines.cut(page, boxes)
        return frame.padded(pad), page, lines

    def _second_opinion(self, image: np.ndarray, frame: PageFrame, page: np.ndarray, lines: PageLines,
                        opts: EffectiveOptions, timings: dict[str, float]
                        ) -> tuple[PageFrame, np.ndarray, PageLines]:
        """The document model's quarter turn left the text running down the page: try the page unturned.

        The unturned page wins when its lines are wide and they read at least as well as the turned
        page's (an upright vertical-text page turned by the model would lose here, rightly); the
        line votes then settle 0 against 180.
        """
        alternative, alt_page, alt_lines = self._detect(image, replace(frame, angle=0, pad=0), opts, timings)
        if not len(alt_lines) or lines_run_down(alt_lines.boxes):
            return frame, page, lines
        with _timed(timings, "doc_orientation"):
            unturned_wins = (self.orientation.legibility(alt_lines.crops, self._read)
                             >= self.orientation.legibility(lines.crops, self._read))
        return (alternative, alt_page, alt_lines) if unturned_wins else (frame, page, lines)

    def _read(self, crops: Sequence[np.ndarray]) -> list[Recognition]:
        return self.recognize(crops, self.config.rec_batch_size)
