"""The engine's own configuration: what its stages need, read once from the settings.

Stages and the Pipeline never see `Settings`; `EngineConfig.from_settings` is the one place that
maps the operator's knobs onto the engine, so the engine can be built and tested without them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from .precision import Choice, choose
from .runtime import RuntimeConfig, usable_cores

if TYPE_CHECKING:
    from ..settings import Settings

T = TypeVar("T")
log = logging.getLogger("ocrserve.engine")


@dataclass(frozen=True)
class DetResize:
    """A detection resize rule: scale the short (`min`) or long (`max`) side to `limit_side_len`."""

    limit_type: str
    limit_side_len: int


# `OCR_DET_PROFILE`: None keeps each model set's own rule (min 64: each image at its own resolution).
# `fast` was chosen with bench/resize.py on the ground-truth samples (README "Cheaper modes"): the
# long side at most 960 px, for a fraction of the detection time at a small loss on PDF pages.
DET_PROFILES: dict[str, DetResize | None] = {
    "accurate": None,
    "fast": DetResize("max", 960),
}


def backend_choice(settings: Settings) -> Choice:
    """The backend and per-stage precisions for the settings' model set on this CPU (engine/precision.py)."""
    return choose(settings.model, settings.backend, settings.precision, settings.det_precision,
                  registry_files=not (settings.det_model_path or settings.cls_model_path or settings.rec_model_path),
                  cpu_only=settings.effective_providers() == ["cpu"])


def runtime_config(settings: Settings) -> RuntimeConfig:
    """What every model of one engine shares."""
    choice = backend_choice(settings)
    log.info("inference: %s for %s (%s)", choice.summary(), settings.model, choice.reason)
    return RuntimeConfig(
        providers=tuple(settings.effective_providers()),
        device_id=settings.gpu_id,
        rocm_device_id=settings.hip_index,
        allow_cpu_fallback=settings.allow_cpu_fallback,
        intra_op_threads=settings.intra_op_threads,
        inter_op_threads=settings.inter_op_threads,
        cpu_mem_arena=settings.cpu_mem_arena,
        arena_idle_release_s=settings.arena_idle_release_s,
        arena_region_mb=settings.arena_region_mb,
        openvino_shape_cache=settings.openvino_shape_cache,
        spinning=settings.ort_spinning,
        placements=tuple((stage, backend, precision) for stage, (backend, precision) in choice.placements.items()),
        backend_reason=choice.reason,
        compile_cache_dir=settings.model_dir / "openvino-cache",  # beside the files it was compiled from
    )


@dataclass(frozen=True)
class EngineConfig:
    """Sessions, batching and the operator's default option values; immutable, shared by every call.

    The option fields are the operator's layer of `options.resolve`: a request's value beats them,
    they beat a caller's (an HTTP contract's) defaults and the model set's constants.  None: not set.
    """

    runtime: RuntimeConfig
    cls_batch_size: int
    rec_batch_size: int
    det_concurrency: int  # pages detected at once
    rec_batch_wait_ms: float  # how long the cross-request batcher waits for batch-mates
    rec_batch_max_columns: int  # crops x padded width of the largest merged recognition call
    det_image_max_side: int  # larger images are shrunk to this before the resize rule
    det_max_side_limit: int
    use_doc_orientation_classify: bool
    use_textline_orientation: bool
    det_limit_side_len: int | None = None  # explicit, else the detection profile's
    det_limit_type: str | None = None
    box_thresh: float | None = None
    unclip_ratio: float | None = None
    text_score: float | None = None
    line_order: str = "reading"  # engine/reading_order.py LINE_ORDERS
    rec_workers: int = 1  # recognition calls at once, each on one core
    rec_padding: str = "auto"  # recognize.PADDINGS, or auto: the model set's
    rec_min_width: int = 0  # `crop` padding's narrowest width in px, 0: the model set's

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineConfig:
        profile = DET_PROFILES[settings.det_profile]
        return cls(
            runtime=runtime_config(settings),
            cls_batch_size=settings.cls_batch_size,
            rec_batch_size=settings.rec_batch_size,
            det_concurrency=settings.det_concurrency,
            rec_batch_wait_ms=settings.rec_batch_wait_ms,
            rec_batch_max_columns=settings.rec_batch_max_columns,
            det_image_max_side=settings.det_image_max_side,
            det_max_side_limit=settings.det_max_side_limit,
            use_doc_orientation_classify=settings.use_doc_orientation_classify,
            use_textline_orientation=settings.use_textline_orientation,
            det_limit_side_len=_first_set(settings.det_limit_side_len, profile.limit_side_len if profile else None),
            det_limit_type=_first_set(settings.det_limit_type, profile.limit_type if profile else None),
            box_thresh=settings.box_thresh,
            unclip_ratio=settings.unclip_ratio,
            text_score=settings.text_score,
            line_order=settings.line_order,
            rec_workers=settings.rec_workers or settings.intra_op_threads or usable_cores(),
            rec_padding=settings.rec_padding,
            rec_min_width=settings.rec_min_width,
        )


def _first_set(*values: T | None) -> T | None:
    return next((v for v in values if v is not None), None)
