"""Inference backends behind one small interface, found by name in a registry (not an if-chain).

A backend turns an ONNX file into a model with `run(batch) -> first output`, `run_outputs(batch) ->
every output`, `run_named(feeds) -> every output` (a graph of several inputs, fed by name), `metadata()`
and `providers`, safe to call from many threads at once.  Which backend and precision a stage gets
is decided by `engine/precision.py`; this package only loads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from ..runtime import RuntimeConfig


class InferenceModel(Protocol):
    """What the stages call: one loaded model, thread-safe."""

    path: Path
    stage: str
    providers: list[str]

    def run(self, batch: np.ndarray) -> np.ndarray: ...

    def run_outputs(self, batch: np.ndarray) -> list[np.ndarray]: ...

    def run_named(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]: ...

    def metadata(self) -> dict[str, str]: ...


Loader = Callable[[Path, "RuntimeConfig", str, str], InferenceModel]  # path, config, stage, precision


@dataclass(frozen=True)
class BackendEntry:
    """A backend: where its loader lives (imported on first use, so an absent optional package costs
    nothing), the package it needs, the precisions it runs on CPU, and how to install it."""

    module: str  # relative to this package
    loader: str
    package: str  # the Python package that must be importable
    precisions: tuple[str, ...]
    install_hint: str = ""
    # whether the recogniser's workers may run calls of one model at once (docs/workers.md, "Recognition workers")
    parallel_calls: bool = True

    def load(self) -> Loader:
        loader: Loader = getattr(import_module(self.module, __name__), self.loader)
        return loader


BACKENDS: dict[str, BackendEntry] = {
    # ONNX Runtime's CPU kernels have no bf16 Conv
    "onnxruntime": BackendEntry(".onnxruntime", "load", "onnxruntime", ("fp32",)),
    "openvino": BackendEntry(".openvino", "load", "openvino", ("fp32", "bf16", "int8"),
                             "pip install 'ocrserve[openvino]'", parallel_calls=False),
}


def load_model(path: Path, cfg: RuntimeConfig, stage: str) -> InferenceModel:
    """The model of `stage` on that stage's backend, in its precision."""
    return BACKENDS[cfg.backend_of(stage)].load()(Path(path), cfg, stage, cfg.precision_of(stage))


__all__ = ["BACKENDS", "BackendEntry", "InferenceModel", "load_model"]
