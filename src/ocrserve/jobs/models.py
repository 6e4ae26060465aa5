"""Which of the job API's `model` names this server can run: those of OCR_JOB_MODELS whose files are here.

A name is advertised (in /health and in the 400 for an unknown name) only while every file of its
model set is on disk, so a client never submits a job that is bound to fail; a name whose files are
absent is refused at submission with the command that fetches them.  Presence is looked up on each
call (a few stats), so files pulled while the server runs count at once.
"""

from __future__ import annotations

from ..contracts.jobs import DOCUMENT_PARSING_MODEL
from ..errors import ConfigError, ModelNotPulled, ModelNotServed, OCRServeError
from ..models import ModelStore
from ..models.presence import NeededFile, missing_files
from ..models.registry import get_layout_model
from ..settings import Settings


def missing_of(settings: Settings, model_set: str) -> list[NeededFile]:
    """The files of `model_set` that are not on disk, under the settings' other choices (file overrides,
    text-line classifier) as a job's engine would load it; an unknown set counts as missing everything."""
    try:
        return missing_files(settings.model_copy(update={"model": model_set}))
    except ConfigError as exc:
        return [NeededFile(str(exc), None, "correct OCR_JOB_MODELS")]
    except OCRServeError as exc:  # a file or folder this process cannot read counts as absent, with why
        return [NeededFile(str(exc), None, f"chmod -R a+rX {settings.model_dir}")]


def fixes_of(missing: list[NeededFile]) -> str:
    """The commands that fix `missing`, each once: `ocrserve models pull <set>` for pulled files."""
    return " and ".join(dict.fromkeys(f"`{f.fix}`" for f in missing))


def unavailable_models(settings: Settings) -> dict[str, str]:
    """API name -> the fix, for each name of OCR_JOB_MODELS that cannot run now (logged at startup)."""
    out = {}
    for name, model_set in settings.job_models.items():
        missing = missing_of(settings, model_set)
        if missing:
            out[name] = f"{model_set}: {fixes_of(missing)}"
    return out


def runnable_job_models(settings: Settings) -> dict[str, str]:
    """API name -> model set, for each name of OCR_JOB_MODELS whose set has every file on disk now."""
    return {name: model_set for name, model_set in settings.job_models.items() if not missing_of(settings, model_set)}


def runnable_models(settings: Settings) -> list[str]:
    """The API names that can run now, sorted: the OCR models whose sets are here, and PP-StructureV3
    while the layout detector and the serving set are."""
    parsing = [] if layout_missing(settings) or missing_of(settings, settings.model) else [DOCUMENT_PARSING_MODEL]
    return sorted([*runnable_job_models(settings), *parsing])


def layout_missing(settings: Settings) -> list[NeededFile]:
    """The layout detector's file when it is not on disk (OCR_LAYOUT_MODEL), as `missing_of` says a set's."""
    spec = get_layout_model(settings.layout_model)
    if ModelStore(settings.model_dir).locate(spec.file) is not None:
        return []
    return [NeededFile(spec.file.path, None, f"ocrserve models pull {spec.name}")]


def model_set_for(model: str, settings: Settings) -> str:
    """The model set behind API name `model`; a 400 when it is not mapped, or its files are absent.

    PP-StructureV3 (document parsing) reads its pages with the serving set, OCR_MODEL, and needs
    the layout detector as well."""
    if model == DOCUMENT_PARSING_MODEL:
        missing = layout_missing(settings) + missing_of(settings, settings.model)
        if missing:
            raise ModelNotPulled(f"model {model!r} is not available on this server: its layout detector or the "
                                 f"model set {settings.model} is not installed; fix: {fixes_of(missing)}")
        return settings.model
    model_set = settings.job_models.get(model)
    if model_set is None:
        served = ", ".join(runnable_models(settings)) or "none (no model set of OCR_JOB_MODELS is pulled)"
        raise ModelNotServed(f"model {model!r} is not served here; this server serves: {served}")
    missing = missing_of(settings, model_set)
    if missing:
        raise ModelNotPulled(f"model {model!r} is not available on this server: the files of its model set "
                             f"{model_set} are not installed ({len(missing)} missing); fix: {fixes_of(missing)}")
    return model_set
