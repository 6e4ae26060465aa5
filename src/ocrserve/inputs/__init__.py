"""Anything a caller hands us -> pages: bytes sniffed, limits checked from headers, images decoded,
PDF pages rendered or read from their text layer."""

from .images import (
           ImageLike,
           LoadedInput,
           PageSource,
           decode_image_bytes,
           load_bytes,
           load_input,
           open_pages,
           pil_to_bgr,
)
from .limits import Limits

__all__ = ["ImageLike", "Limits", "LoadedInput", "PageSource", "decode_image_bytes", "load_bytes", "load_input",
           "open_pages", "pil_to_bgr"]
