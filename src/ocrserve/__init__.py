"""ocrserve: PP-OCR on ONNX Runtime, as a Python library, a CLI and an HTTP service."""

from .engine import OCROptions, Pipeline
from .ocr import OCR, PagesNotReadWarning
from .result import OCRResult, TextLine
from .settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = ["OCR", "OCROptions", "OCRResult", "PagesNotReadWarning", "Pipeline", "Settings", "TextLine", "load_settings", "__version__"]
