"""Turn settings into the concrete, verified files one Pipeline loads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, ModelMissing
from ..settings import Settings
from .quantize import quantized_paths
from .registry import (
    DOC_ORIENTATION,
    ClassifierSpec,
    LayoutSpec,
    ModelSet,
    get_layout_model,
    get_model_set,
    get_textline_classifier,
)
from .store import ModelStore


@dataclass(frozen=True)
class ResolvedModels:
    """Paths on disk plus the specs that say how to run them."""

    model_set: ModelSet
    det_path: Path
    rec_path: Path
    rec_dict_path: Path | None  # None: dictionary embedded in the rec model
    rec_dict_has_specials: bool
    textline: ClassifierSpec
    textline_path: Path
    doc_orientation: ClassifierSpec
    doc_orientation_path: Path


def _user_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise ModelMissing(f"{what} {path} does not exist or is not a file")
    return path


def resolve_models(settings: Settings) -> ResolvedModels:
    """Registry files for `settings.model`, overridden by any user-supplied path.

    An int8 set (`<set>-int8`) takes the files `ocrserve models quantize` built and the fp32
    registry files for the roles it leaves unquantised.
    """
    mset = get_model_set(settings.model)
    store = ModelStore(settings.model_dir, verify=settings.verify_models)
    textline = get_textline_classifier(settings.textline_model or mset.textline)
    wanted = {"det": mset.det.file, "rec": mset.rec.file, "textline": textline.file,
              "doc_orientation": DOC_ORIENTATION.file}
    built = (quantized_paths(settings.model_dir, mset, wanted, settings.verify_models)
             if mset.variant else {})

    def pick(user: Path | None, what: str, role: str) -> Path:
        if user is not None:
            return _user_file(Path(user), what)
        if role in built:
            return built[role]
        return store.resolve(wanted[role], mset.base_name)

    rec_dict: Path | None
    has_specials = mset.rec.dict_has_specials
    if settings.rec_model_path is not None:
        # a user's rec model brings its own dictionary, or has it embedded in its metadata
        rec_dict = _user_file(settings.rec_keys_path, "rec_keys_path") if settings.rec_keys_path else None
        has_specials = False
    elif settings.rec_keys_path is not None:
        raise ConfigError("rec_keys_path is only meaningful together with rec_model_path")
    else:
        rec_dict = store.resolve(mset.rec.dict_file, mset.base_name) if mset.rec.dict_file else None

    return ResolvedModels(
        model_set=mset,
        det_path=pick(settings.det_model_path, "det_model_path", "det"),
        rec_path=pick(settings.rec_model_path, "rec_model_path", "rec"),
        rec_dict_path=rec_dict,
        rec_dict_has_specials=has_specials,
        textline=textline,
        textline_path=pick(settings.cls_model_path, "cls_model_path", "textline"),
        doc_orientation=DOC_ORIENTATION,
        doc_orientation_path=pick(settings.doc_orientation_model_path, "doc_orientation_model_path",
                                  "doc_orientation"),
    )


def resolve_layout(settings: Settings) -> tuple[LayoutSpec, Path]:
    """The configured layout detector (OCR_LAYOUT_MODEL) and its verified file."""
    spec = get_layout_model(settings.layout_model)
    store = ModelStore(settings.model_dir, verify=settings.verify_models)
    return spec, store.resolve(spec.file, spec.name)


__all__ = ["ResolvedModels", "resolve_layout", "resolve_models"]
