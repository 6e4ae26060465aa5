"""ocrserve: PP-OCR on ONNX Runtime, as a Python library, a CLI and an HTTP service."""

import os

# ONNX Runtime sends usage telemetry from Linux too, and writes a device id into the user's cache,
# unless this is set before it loads; a self-hosted service reaches nothing its operator did not name
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from .engine import OCROptions, Pipeline  # noqa: E402  (after the switch above)
from .ocr import OCR, OCRResult, PagesNotReadWarning, ParsedDocument  # noqa: E402
from .result import OCRPage, TextLine  # noqa: E402
from .settings import Settings, load_settings  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ["OCR", "OCROptions", "OCRPage", "OCRResult", "PagesNotReadWarning", "ParsedDocument", "Pipeline", "Settings", "TextLine", "load_settings", "__version__"]
