"""ONNX Runtime: `runtime.OnnxModel`, fp32 only (its CPU kernels have no bf16 convolutions)."""

from __future__ import annotations

from pathlib import Path

from ...errors import ConfigError
from ..runtime import OnnxModel, RuntimeConfig


def load(path: Path, cfg: RuntimeConfig, stage: str, precision: str) -> OnnxModel:
    if precision != "fp32":
        raise ConfigError(f"the onnxruntime backend runs fp32 only, not {precision} ({stage})")
    return OnnxModel(path, cfg, stage)
