"""Which model files a configuration needs, and which of them are not on disk yet.

`ocrserve serve` checks this before it starts (a missing file stops it at once, naming the fix);
a server told to wait for its models (OCR_WAIT_FOR_MODELS) polls it until the files are there.
Only presence is checked here: the sha256 check stays with the load (store.resolve).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelMissing
from ..settings import Settings
from .quantize import build_command, variant_dir, variant_status
from .registry import DOC_ORIENTATION, ModelFile, get_model_set, get_textline_classifier
from .store import ModelStore


@dataclass(frozen=True)
class NeededFile:
    """One file the configured model set loads: what it is, where it is (None: absent), and the fix."""

    what: str
    path: Path | None
    fix: str


def needed_files(settings: Settings) -> list[NeededFile]:
    """Every file `resolve_models(settings)` would load, in its order, user-supplied paths included."""
    mset = get_model_set(settings.model)
    store = ModelStore(settings.model_dir, verify=False)
    pull = f"ocrserve models pull {mset.base_name}"
    textline = get_textline_classifier(settings.textline_model or mset.textline)

    def registry(mf: ModelFile) -> NeededFile:
        return NeededFile(f"{mf.path} ({mf.requirement})", store.locate(mf), pull)

    def user(path: Path, variable: str) -> NeededFile:
        return NeededFile(f"{path} ({variable})", path if path.is_file() else None,
                          f"point {variable} at an existing file")

    def role(given: Path | None, variable: str, mf: ModelFile) -> NeededFile:
        return user(Path(given), variable) if given is not None else registry(mf)

    out = [role(settings.det_model_path, "OCR_DET_MODEL_PATH", mset.det.file),
           role(settings.rec_model_path, "OCR_REC_MODEL_PATH", mset.rec.file)]
    if settings.rec_model_path is not None:
        if settings.rec_keys_path is not None:
            out.append(user(Path(settings.rec_keys_path), "OCR_REC_KEYS_PATH"))
    elif mset.rec.dict_file is not None:
        out.append(registry(mset.rec.dict_file))
    out += [role(settings.cls_model_path, "OCR_CLS_MODEL_PATH", textline.file),
            role(settings.doc_orientation_model_path, "OCR_DOC_ORIENTATION_MODEL_PATH", DOC_ORIENTATION.file)]
    if mset.variant:  # its int8 files are built here from the fp32 ones, never pulled
        directory = variant_dir(settings.model_dir, mset)
        built = variant_status(settings.model_dir, mset) != "missing"
        out.append(NeededFile(f"the {mset.name} files in {directory}", directory if built else None,
                              build_command(mset)))
    return out


def missing_files(settings: Settings) -> list[NeededFile]:
    """The needed files that are not on disk."""
    return [f for f in needed_files(settings) if f.path is None]


def describe_missing(settings: Settings, missing: list[NeededFile]) -> str:
    """One line: which files are missing, where they were looked for, and the commands that fix it."""
    fixes = " and ".join(dict.fromkeys(f.fix for f in missing))
    files = "; ".join(f.what for f in missing)
    return (f"model set {settings.model} is missing {len(missing)} file(s): {files} (looked in site-packages "
            f"and {settings.model_dir}); fix: {fixes}")


def require_model_files(settings: Settings) -> None:
    """Raise ModelMissing naming every missing file and the fix (or OCR_WAIT_FOR_MODELS=true to wait)."""
    missing = missing_files(settings)
    if missing:
        files = "".join(f"\n  {f.what}" for f in missing)
        fixes = "\n".join(f"fix: {fix}" for fix in dict.fromkeys(f.fix for f in missing))
        raise ModelMissing(
            f"model set {settings.model} is missing {len(missing)} file(s) (looked in site-packages and "
            f"{settings.model_dir}):{files}\n{fixes}\n(or OCR_WAIT_FOR_MODELS=true: start anyway and load them "
            "once they appear, e.g. pulled by an init container)")


__all__ = ["NeededFile", "describe_missing", "missing_files", "needed_files", "require_model_files"]
