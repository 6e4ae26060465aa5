"""The stage order: doc orientation -> detection -> text-line orientation -> recognition.

One Pipeline holds the loaded models and nothing per request: every call works on its own
locals and a frozen EffectiveOptions, so many threads may call `predict` at once.  Each stage
is timed; a failing stage raises, it never yields an empty result.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Protocol

import cv2
import numpy as np

from ..errors import BadInput
from ..models.resolve import ResolvedModels, resolve_models
from ..result import OCRResult, TextLine
from ..settings import Settings, load_settings
from .batcher import RecognitionBatcher
from .detect import TextDetector, pad_thin_image, reading_order
from .options import EffectiveOptions, OCROptions, resolve
from .orient import ImageClassifier, page_is_upside_down, rotate_ccw, unrotate_points
from .recognize import Recognition, TextRecognizer, crop_line, load_charset
from .runtime import OnnxModel, RuntimeConfig
from .words import word_polygons

log = logging.getLogger("ocrserve.pipeline")

#: a doubtful line (classifier 0.5-0.9 for 180 degrees) read at least this confidently is not re-read flipped
REREAD_BELOW = 0.9


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def runtime_config(settings: Settings) -> RuntimeConfig:
    return RuntimeConfig(
        providers=tuple(settings.effective_providers()),
        device_id=settings.gpu_id,
        rocm_device_id=settings.hip_index,
        allow_cpu_fallback=settings.allow_cpu_fallback,
        intra_op_threads=settings.intra_op_threads,
        inter_op_threads=settings.inter_op_threads,
        cpu_mem_arena=settings.cpu_mem_arena,
        arena_idle_release_s=settings.arena_idle_release_s,
        spinning=settings.ort_spinning,
    )


def load_recognizer(models: ResolvedModels, cfg: RuntimeConfig) -> TextRecognizer:
    """The recognition model of a resolved set, with its dictionary."""
    rec_model = OnnxModel(models.rec_path, cfg, "rec")
    charset = load_charset(rec_model, models.rec_dict_path, models.rec_dict_has_specials)
    return TextRecognizer(rec_model, charset, models.model_set.rec.image_height, models.model_set.rec.image_width)


class Recognize(Protocol):
    def __call__(self, crops: Sequence[np.ndarray], batch_size: int) -> list[Recognition]: ...


class RemoteRecognition(Recognize, Protocol):
    """Recognition served by another process; it names the dictionary its readings come from."""

    charset: list[str]


@dataclass
class _Lines:
    """Working state of one page between stages (local to one call)."""

    boxes: np.ndarray  # (N, 4, 2) geometric tl, tr, br, bl in the upright, padded image
    crops: list[np.ndarray]
    turned: list[bool]  # crop was turned 90 degrees (tall box)
    flipped: list[bool]  # crop was turned 180 degrees (upside-down line)
    angles: list[int]
    doubtful: list[int] = field(default_factory=list)  # lines the classifier leaned 180 on, unsure


class Pipeline:
    """Loaded PP-OCR models and the stage logic; safe to share between threads."""

    def __init__(self, settings: Settings | None = None, models: ResolvedModels | None = None,
                 batch_across_calls: bool = False, remote_recognition: RemoteRecognition | None = None) -> None:
        """`remote_recognition`: recognition runs elsewhere (a Ray Serve deployment), so this
        process loads no recognition model; every other stage runs here."""
        self.settings = settings or load_settings()
        self.models = models or resolve_models(self.settings)
        cfg = runtime_config(self.settings)
        m = self.models
        det_spec = m.model_set.det
        self.detector = TextDetector(OnnxModel(m.det_path, cfg, "det"), det_spec.mean, det_spec.std)
        self.recognizer: TextRecognizer | None = None
        if remote_recognition is None:
            self.recognizer = load_recognizer(m, cfg)
        self.charset: list[str] = (remote_recognition.charset if remote_recognition is not None
                                   else self.recognizer.decode.charset)
        self.textline = ImageClassifier(OnnxModel(m.textline_path, cfg, "textline_cls"), m.textline)
        self.doc_orientation = ImageClassifier(OnnxModel(m.doc_orientation_path, cfg, "doc_orientation"),
                                               m.doc_orientation)
        self.providers = self.detector.model.providers
        # one detection already uses every core; a second one at once would only add its working
        # set (400-580 MiB for a 2000 px page) to the peak while both run at half speed
        self._detect_slots = threading.BoundedSemaphore(self.settings.det_concurrency)
        # a service shares recognition batches between concurrent pages; a library call needs not
        self.batcher = (RecognitionBatcher(self.recognizer, self.settings.rec_batch_size,
                                           self.settings.rec_batch_wait_ms)
                        if batch_across_calls and self.recognizer is not None else None)
        self.recognize: Recognize = remote_recognition or self.batcher or self.recognizer

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()

    @property
    def model_name(self) -> str:
        return self.models.model_set.name

    def resolve_options(self, options: OCROptions | None) -> EffectiveOptions:
        return resolve(options, self.settings, self.models.model_set)

    # --- stages ------------------------------------------------------------------------------
    def classify_document(self, image: np.ndarray) -> int:
        """Degrees CCW that make the page upright, by the 4-class model."""
        probs = self.doc_orientation.probabilities([image], 1)[0]
        return int(self.models.doc_orientation.labels[int(np.argmax(probs))])

    def _detect(self, image: np.ndarray, opts: EffectiveOptions) -> tuple[np.ndarray, np.ndarray, int]:
        padded, pad_top = pad_thin_image(image)
        if not opts.use_det:
            h, w = padded.shape[:2]
            whole = np.array([[[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]]], dtype=np.float32)
            return padded, whole, pad_top
        boxes, _ = self.detector(padded, opts.det)
        return padded, boxes, pad_top

    def _classify_lines(self, lines: _Lines, opts: EffectiveOptions, page: np.ndarray
                        ) -> tuple[_Lines, np.ndarray, bool]:
        """Text-line 0/180 votes; with doc orientation on they also decide a 180-degree page."""
        spec = self.models.textline
        probs = self.textline.probabilities(lines.crops, self.settings.cls_batch_size)
        page_flip = False
        if opts.use_doc_orientation_classify and opts.use_det and len(probs):
            weights = np.array([c.shape[1] for c in lines.crops], dtype=np.float32)
            page_flip = page_is_upside_down(probs, weights)
        if page_flip:
            h, w = page.shape[:2]
            boxes = np.roll(unrotate_points(lines.boxes, 180, w, h), 2, axis=1)
            page = rotate_ccw(page, 180)
            order = reading_order(boxes)
            lines = _Lines(boxes[order], [np.ascontiguousarray(lines.crops[i][::-1, ::-1]) for i in order],
                           [lines.turned[i] for i in order], [False] * len(order), [-1] * len(order))
            probs = probs[order][:, ::-1]
        if opts.use_textline_orientation:
            flips = probs[:, 1] > spec.thresh
            lines.crops = [np.ascontiguousarray(c[::-1, ::-1]) if f else c for c, f in zip(lines.crops, flips)]
            lines.flipped = [bool(f) for f in flips]
            lines.angles = [180 if p[1] > p[0] else 0 for p in probs]
            lines.doubtful = [i for i, p in enumerate(probs) if 0.5 < p[1] <= spec.thresh]
        return lines, page, page_flip

    def _reread_doubtful(self, lines: _Lines, recs: list[Recognition]) -> list[Recognition]:
        """Lines the classifier thought upside down, but not surely: read them both ways, keep the likelier.

        The recogniser's own confidence is the second witness.  A line already read with
        confidence REREAD_BELOW or more was read the right way up (upside-down text does not
        decode that cleanly), so only the others cost an extra batch: on an upright document page
        PP-OCRv4's classifier was unsure of 10 of 40 lines, all first read at 0.96-0.99, and
        re-reading them had made recognition 35% slower for no change.
        """
        recs = list(recs)
        unsure = []
        for i in lines.doubtful:
            if recs[i].score >= REREAD_BELOW:
                lines.angles[i] = 0
            else:
                unsure.append(i)
        flipped = [np.ascontiguousarray(lines.crops[i][::-1, ::-1]) for i in unsure]
        rereads = self.recognize(flipped, self.settings.rec_batch_size) if unsure else []
        for i, crop, rec in zip(unsure, flipped, rereads):
            if rec.score > recs[i].score:
                recs[i], lines.crops[i], lines.flipped[i], lines.angles[i] = rec, crop, True, 180
            else:
                lines.angles[i] = 0
        return recs

    def warm_up(self) -> int:
        """Run every stage once on a small synthetic page of printed lines (returns lines read).

        ONNX Runtime builds kernels and plans memory on a session's first run; doing it here, on
        lines of a few widths (so recognition sees a real batch), keeps that cost out of the first
        request.
        """
        page = np.full((480, 480, 3), 255, dtype=np.uint8)  # square: the least area at the usual min-side rule
        for row, (text, scale) in enumerate((("ocrserve warm-up 0123", 0.9), ("PP-OCR on ONNX", 1.2),
                                             ("a short line", 0.7), ("the last line, longer", 0.8))):
            cv2.putText(page, text, (20, 80 + 100 * row), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 2, cv2.LINE_AA)
        return len(self.predict(page).lines)

    # --- the whole page ----------------------------------------------------------------------
    def predict(self, image: np.ndarray, options: OCROptions | EffectiveOptions | None = None) -> OCRResult:
        """OCR one BGR uint8 image (H, W, 3)."""
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise BadInput("the engine takes a BGR uint8 image of shape (H, W, 3); use ocrserve.inputs to decode")
        opts = options if isinstance(options, EffectiveOptions) else self.resolve_options(options)
        timings: dict[str, float] = {}
        orig_h, orig_w = image.shape[:2]

        angle = 0
        if opts.use_doc_orientation_classify:
            with _timed(timings, "doc_orientation"):
                angle = self.classify_document(image)
        upright = rotate_ccw(image, angle)

        with self._detect_slots, _timed(timings, "det"):
            page, boxes, pad_top = self._detect(upright, opts)
        with _timed(timings, "crop"):
            crops, turned = zip(*[crop_line(page, b) for b in boxes]) if len(boxes) else ((), ())
        n = len(crops)
        lines = _Lines(boxes, list(crops), list(turned), [False] * n, [-1] * n)

        if n and (opts.use_textline_orientation or opts.use_doc_orientation_classify):
            with _timed(timings, "cls"):
                lines, page, page_flip = self._classify_lines(lines, opts, page)
            if page_flip:
                angle = (angle + 180) % 360

        recs: list[Recognition] = [Recognition("", 0.0)] * n
        if opts.use_rec and n:
            with _timed(timings, "rec"):
                recs = self.recognize(lines.crops, self.settings.rec_batch_size)
                if lines.doubtful:
                    recs = self._reread_doubtful(lines, recs)

        def to_client(points: np.ndarray) -> np.ndarray:
            pts = np.asarray(points, dtype=np.float32).copy()
            pts[..., 1] -= pad_top
            up_h, up_w = upright.shape[:2]
            pts[..., 0] = np.clip(pts[..., 0], 0, up_w - 1)
            pts[..., 1] = np.clip(pts[..., 1], 0, up_h - 1)
            return unrotate_points(pts, angle, orig_w, orig_h)

        detected = [to_client(b) for b in lines.boxes]
        out_lines: list[TextLine] = []
        for i, rec in enumerate(recs):
            if opts.use_rec and rec.score < opts.text_rec_score_thresh:
                continue
            words = None
            if opts.return_word_box and opts.use_rec:
                words = tuple(word_polygons(rec, lines.boxes[i], lines.turned[i], lines.flipped[i], to_client))
            out_lines.append(TextLine(
                text=rec.text, score=rec.score, polygon=detected[i].tolist(),
                textline_angle=lines.angles[i], words=words,
            ))
        det_params = asdict(opts.det)
        for internal in ("max_candidates", "use_dilation", "image_max_side"):
            det_params.pop(internal)
        return OCRResult(
            width=orig_w, height=orig_h, lines=out_lines,
            detected_polygons=[d.tolist() for d in detected],
            doc_angle=angle if opts.use_doc_orientation_classify else None,
            det_params=det_params, text_rec_score_thresh=opts.text_rec_score_thresh,
            use_textline_orientation=opts.use_textline_orientation,
            return_word_box=opts.return_word_box, timings=timings, image=image,
        )
