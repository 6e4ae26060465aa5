"""Per-request options: one frozen object, PaddleX's names plus RapidOCR's switches.

`None` means "the configured default".  `resolve` turns an OCROptions into EffectiveOptions with
every value concrete and validated, once per request, before any work is done; nothing shared
is ever mutated to carry a request's options.  Values come from four layers, first set wins:
the request, the operator's settings (EngineConfig), the caller's own defaults (an HTTP
contract's: the original service's), the model set's constants.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TypeVar

from ..errors import BadInput
from ..models.registry import ModelSet
from .config import EngineConfig
from .detect import DetParams

MAX_LIMIT_SIDE_LEN = 8192
T = TypeVar("T")


@dataclass(frozen=True)
class OCROptions:
    """What a caller may change per request; every field optional."""

    text_det_limit_side_len: int | None = None
    text_det_limit_type: str | None = None
    text_det_max_side_limit: int | None = None
    text_det_thresh: float | None = None
    text_det_box_thresh: float | None = None
    text_det_unclip_ratio: float | None = None
    text_rec_score_thresh: float | None = None
    use_doc_orientation_classify: bool | None = None
    use_textline_orientation: bool | None = None
    return_word_box: bool | None = None
    # RapidOCR names: use_cls is use_textline_orientation, text_score is text_rec_score_thresh
    use_det: bool | None = None
    use_cls: bool | None = None
    use_rec: bool | None = None
    text_score: float | None = None

    def __post_init__(self) -> None:
        for name in ("text_det_thresh", "text_det_box_thresh", "text_rec_score_thresh", "text_score"):
            _check_range(name, getattr(self, name), 0.0, 1.0)
        _check_range("text_det_unclip_ratio", self.text_det_unclip_ratio, 0.0, 10.0, open_low=True)
        _check_range("text_det_limit_side_len", self.text_det_limit_side_len, 1, MAX_LIMIT_SIDE_LEN)
        _check_range("text_det_max_side_limit", self.text_det_max_side_limit, 32, MAX_LIMIT_SIDE_LEN)
        if self.text_det_limit_type not in (None, "min", "max"):
            raise BadInput(f"text_det_limit_type must be 'min' or 'max', not {self.text_det_limit_type!r}")
        for a, b in (("use_textline_orientation", "use_cls"), ("text_rec_score_thresh", "text_score")):
            va, vb = getattr(self, a), getattr(self, b)
            if va is not None and vb is not None and va != vb:
                raise BadInput(f"{a}={va} contradicts its alias {b}={vb}")

    def merged(self, other: OCROptions) -> OCROptions:
        """`other`'s non-None values over ours (used to layer contract defaults and requests)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({f.name: getattr(other, f.name) for f in fields(other) if getattr(other, f.name) is not None})
        return OCROptions(**values)


def _check_range(name: str, value: float | None, low: float, high: float, open_low: bool = False) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{name} must be a number, not {value!r}")
    if value > high or value < low or (open_low and value == low):
        bound = f"({low}, {high}]" if open_low else f"[{low}, {high}]"
        raise BadInput(f"{name}={value} is outside {bound}")


@dataclass(frozen=True)
class EffectiveOptions:
    """Every option concrete: what one prediction actually uses (and reports back)."""

    det: DetParams
    text_rec_score_thresh: float
    use_doc_orientation_classify: bool
    use_textline_orientation: bool
    return_word_box: bool
    use_det: bool
    use_rec: bool


def _first(*values: T | None) -> T:
    return next(v for v in values if v is not None)


def resolve(options: OCROptions | None, config: EngineConfig, model_set: ModelSet,
            defaults: OCROptions | None = None) -> EffectiveOptions:
    """Request value, else setting, else the caller's default, else the model set's constant.

    A pure function of its arguments.  `defaults` are an HTTP contract's own default values;
    the settings that always hold a value (max side limit, both orientation switches) leave
    them nothing to decide.
    """
    o, d = options or OCROptions(), defaults or OCROptions()
    spec = model_set.det
    det = DetParams(
        limit_side_len=_first(o.text_det_limit_side_len, config.det_limit_side_len, d.text_det_limit_side_len,
                              spec.limit_side_len),
        limit_type=_first(o.text_det_limit_type, config.det_limit_type, d.text_det_limit_type, spec.limit_type),
        max_side_limit=_first(o.text_det_max_side_limit, config.det_max_side_limit),
        thresh=_first(o.text_det_thresh, d.text_det_thresh, spec.thresh),
        box_thresh=_first(o.text_det_box_thresh, config.box_thresh, d.text_det_box_thresh, spec.box_thresh),
        unclip_ratio=_first(o.text_det_unclip_ratio, config.unclip_ratio, d.text_det_unclip_ratio,
                            spec.unclip_ratio),
        max_candidates=spec.max_candidates,
        use_dilation=spec.use_dilation,
        image_max_side=config.det_image_max_side,
    )
    return EffectiveOptions(
        det=det,
        text_rec_score_thresh=_first(o.text_rec_score_thresh, o.text_score, config.text_score,
                                     d.text_rec_score_thresh, d.text_score, model_set.text_score),
        use_doc_orientation_classify=_first(o.use_doc_orientation_classify, config.use_doc_orientation_classify),
        use_textline_orientation=_first(o.use_textline_orientation, o.use_cls, config.use_textline_orientation),
        return_word_box=_first(o.return_word_box, d.return_word_box, False),
        use_det=_first(o.use_det, d.use_det, True),
        use_rec=_first(o.use_rec, d.use_rec, True),
    )
