"""Model sets: the registry of pinned files, where they live on disk, and how settings pick them."""

from .registry import DEFAULT_MODEL_SET, MODEL_SETS, ModelFile, ModelSet, get_model_set
from .resolve import ResolvedModels, resolve_models
from .store import ModelStore

__all__ = [
    "DEFAULT_MODEL_SET",
    "MODEL_SETS",
    "ModelFile",
    "ModelSet",
    "ModelStore",
    "ResolvedModels",
    "get_model_set",
    "resolve_models",
]
