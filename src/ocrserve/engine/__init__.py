"""The PP-OCR engine: stages over ONNX Runtime, and the Pipeline that orders them."""

from .options import EffectiveOptions, OCROptions
from .pipeline import Pipeline

__all__ = ["EffectiveOptions", "OCROptions", "Pipeline"]
