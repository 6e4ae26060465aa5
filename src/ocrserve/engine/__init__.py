"""The PP-OCR engine: stages over ONNX Runtime, the Pipeline that orders them, and its builder."""

from .builder import build_pipeline, load_layout
from .config import EngineConfig
from .options import EffectiveOptions, OCROptions
from .pipeline import Pipeline

__all__ = ["EffectiveOptions", "EngineConfig", "OCROptions", "Pipeline", "build_pipeline", "load_layout"]
