"""Building an engine: resolve the model files, load each ONNX model once, hand the stages over.

The one place that turns settings into loaded stages, so that `Pipeline` only orders them and
a test or a deployment can assemble one from parts of its own.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import ConfigError
from ..models import ModelSet, ModelStore
from ..models.registry import RecSpec
from ..models.resolve import ResolvedModels, resolve_layout, resolve_models
from ..settings import Settings, load_settings
from .backends import BACKENDS, load_model
from .batcher import RecognitionBatcher
from .classify import ImageClassifier
from .config import EngineConfig
from .detect import TextDetector
from .layout import LayoutDetector
from .orient import Orientation
from .pipeline import Pipeline
from .recognize import MAX_CALL_COLUMNS, BatchObserver, Recognize, RemoteRecognition, TextRecognizer, load_charset
from .runtime import RuntimeConfig


def _recognizer(spec: RecSpec, rec_path: Path, dict_path: Path | None, has_specials: bool, runtime: RuntimeConfig,
                on_batch: BatchObserver | None, max_call_columns: int, workers: int, padding: str,
                min_width: int = 0) -> TextRecognizer:
    if not BACKENDS[runtime.backend_of("rec")].parallel_calls:
        workers = 1  # one call at a time, on every core
    # each worker's call on a core of its own (runtime.parallel_calls), not every call on every core
    rec_model = load_model(rec_path, replace(runtime, parallel_calls=workers), "rec")
    charset = load_charset(rec_model, dict_path, has_specials)
    return TextRecognizer(rec_model, charset, spec.image_height, spec.image_width, on_batch=on_batch,
                          max_call_columns=max_call_columns, right_to_left=spec.right_to_left, workers=workers,
                          padding=spec.padding if padding == "auto" else padding,
                          min_width=min_width or spec.min_width)


def load_recognizer(models: ResolvedModels, runtime: RuntimeConfig, on_batch: BatchObserver | None = None,
                    max_call_columns: int = MAX_CALL_COLUMNS, workers: int = 1,
                    padding: str = "auto", min_width: int = 0) -> TextRecognizer:
    """The recognition model of a resolved set, with its dictionary; `workers`: calls run at once; `padding`:
    recognize.PADDINGS, or `auto` for the set's own; `min_width`: `crop`'s narrowest padding (0: the set's)."""
    return _recognizer(models.model_set.rec, models.rec_path, models.rec_dict_path, models.rec_dict_has_specials,
                       runtime, on_batch, max_call_columns, workers, padding, min_width)


def load_language_recognizer(model_set: ModelSet, store: ModelStore, config: EngineConfig) -> TextRecognizer:
    """A language set's recogniser alone (its detector and classifiers are the serving set's).

    It runs in ONNX Runtime fp32 whatever the serving set's recogniser runs in: a lower precision is
    chosen per model set by the accuracy gate (engine/precision.py), which no language set has passed.
    """
    spec = model_set.rec
    dict_path = store.resolve(spec.dict_file, model_set.name) if spec.dict_file is not None else None
    runtime = replace(config.runtime, placements=tuple(p for p in config.runtime.placements if p[0] != "rec"))
    return _recognizer(spec, store.resolve(spec.file, model_set.name), dict_path, spec.dict_has_specials, runtime,
                       None, config.rec_batch_max_columns, config.rec_workers, config.rec_padding,
                       config.rec_min_width)


def load_orientation(models: ResolvedModels, config: EngineConfig) -> Orientation:
    """Both orientation classifiers of a resolved set."""
    runtime = config.runtime
    textline = ImageClassifier(load_model(models.textline_path, runtime, "textline_cls"), models.textline)
    document = ImageClassifier(load_model(models.doc_orientation_path, runtime, "doc_orientation"),
                               models.doc_orientation)
    return Orientation(document, textline, config.cls_batch_size)


def build_pipeline(source: Settings | EngineConfig | None = None, *, models: ResolvedModels | None = None,
                   batch_across_calls: bool = False, remote_recognition: RemoteRecognition | None = None,
                   on_batch: BatchObserver | None = None) -> Pipeline:
    """A Pipeline with every model loaded.

    `source`: the settings (None: load them), or an EngineConfig, which names no files and so
    needs `models`.  `batch_across_calls`: concurrent pages share recognition batches (a service;
    a library call needs not).  `remote_recognition`: recognition runs elsewhere (a Ray Serve
    deployment), so no recognition model is loaded here.  `on_batch(crops, padded_width)` is
    told of every recognition model call this process makes.
    """
    if isinstance(source, EngineConfig):
        if models is None:
            raise ConfigError("an EngineConfig names no model files: pass models= (resolve_models(settings))")
        config = source
    else:
        settings = source if source is not None else load_settings()
        config = EngineConfig.from_settings(settings)
        models = models or resolve_models(settings)
    det_spec = models.model_set.det
    detector = TextDetector(load_model(models.det_path, config.runtime, "det"), det_spec.mean, det_spec.std)
    recognizer: TextRecognizer | None = None
    recognize: Recognize
    if remote_recognition is not None:
        recognize, charset = remote_recognition, remote_recognition.charset
    else:
        recognizer = load_recognizer(models, config.runtime, on_batch, config.rec_batch_max_columns,
                                     config.rec_workers, config.rec_padding, config.rec_min_width)
        recognize, charset = recognizer, recognizer.decode.charset
    orientation = load_orientation(models, config)
    if batch_across_calls and recognizer is not None:  # last: its thread starts once nothing else can fail
        recognize = RecognitionBatcher(recognizer, config.rec_batch_size, config.rec_batch_wait_ms)
    return Pipeline(config, models, detector=detector, orientation=orientation, recognize=recognize,
                    charset=charset, recognizer=recognizer)


def load_layout(settings: Settings) -> LayoutDetector:
    """The layout detector OCR_LAYOUT_MODEL names, on ONNX Runtime fp32 (no other precision was measured)."""
    spec, path = resolve_layout(settings)
    # no placement names the "layout" stage, so load_model puts it on ONNX Runtime fp32
    return LayoutDetector(load_model(path, EngineConfig.from_settings(settings).runtime, "layout"), spec)
