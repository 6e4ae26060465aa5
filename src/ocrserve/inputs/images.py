"""Anything a caller hands us -> BGR uint8 pages, with limits checked before the expensive part.

Bytes are sniffed by magic number (PDF or an image format PIL knows); the pixel count is read
from the header and checked before the full decode, so a small file that declares a huge
image (a decompression bomb) is refused without allocating it.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Union

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import BadInput, InputTooLarge, UnsupportedInput
from ..kinds import DocumentKind
from .limits import Limits
from .pdf import PdfPages, is_pdf, render_pdf

ImageLike = Union[str, Path, bytes, bytearray, np.ndarray, Image.Image]


@dataclass(frozen=True)
class LoadedInput:
    """Decoded pages and what they came from (`image` or `pdf`)."""

    pages: list[np.ndarray]
    kind: DocumentKind


def decode_image_bytes(data: bytes, limits: Limits) -> np.ndarray:
    """Image bytes -> BGR uint8; the header's size is checked against the limits before decoding."""
    if not data:
        raise BadInput("the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            limits.check_size(*img.size)
            img.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise UnsupportedInput("the data is neither a PDF nor an image format we can decode") from exc
        raise InputTooLarge(f"image refused as a decompression bomb: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"the image is truncated or corrupt: {exc}") from exc
    return pil_to_bgr(img, release=True)


#: modes whose pixels turn into BGR in one step; any other is converted to RGB first
_TO_BGR = {"RGB": cv2.COLOR_RGB2BGR, "L": cv2.COLOR_GRAY2BGR}


def pil_to_bgr(img: Image.Image, *, release: bool = False) -> np.ndarray:
    """Any PIL mode -> BGR uint8; transparency is composited over white.

    `release`: close `img` once its pixels are copied out (an image decoded here, not a caller's),
    so that a photo is held twice at most on its way to BGR instead of three times.
    """
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        img = canvas
    if img.mode == "I;16" or img.mode == "I":
        arr = np.asarray(img, dtype=np.float32)
        arr = (arr / max(float(arr.max()), 1.0) * 255.0).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(arr[:, :, None], 3, axis=2))
    if img.mode not in _TO_BGR:
        img = img.convert("RGB")  # a copy of ours, closed below like a decoded image
        release = True
    code = _TO_BGR[img.mode]
    pixels = np.asarray(img)
    if release:
        img.close()
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise BadInput("the image has no pixels")
    return cv2.cvtColor(pixels, code)


def ndarray_to_bgr(arr: np.ndarray) -> np.ndarray:
    """numpy input follows OpenCV's convention: (H, W) grey, (H, W, 3) BGR, (H, W, 4) BGRA."""
    if arr.dtype != np.uint8:
        raise BadInput(f"numpy images must be uint8, not {arr.dtype}")
    if arr.ndim == 2:
        return np.ascontiguousarray(np.repeat(arr[:, :, None], 3, axis=2))
    if arr.ndim == 3 and arr.shape[2] == 3:
        return np.ascontiguousarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 4:
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        flat: np.ndarray = (arr[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
        return flat
    if arr.ndim == 3 and arr.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(arr, 3, axis=2))
    raise BadInput(f"numpy image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), not {arr.shape}")


class ImagePage:
    """A one-page source over image bytes, decoded when the page is asked for."""

    kind: DocumentKind = "image"

    def __init__(self, data: bytes, limits: Limits) -> None:
        self.data = data
        self.limits = limits

    def __len__(self) -> int:
        return 1

    def page(self, index: int) -> np.ndarray:
        if index != 0:
            raise IndexError(index)
        return decode_image_bytes(self.data, self.limits)

    def close(self) -> None:
        self.data = b""


PageSource = Union[ImagePage, PdfPages]


def open_pages(data: bytes, limits: Limits) -> PageSource:
    """Bytes -> a source that decodes its pages one at a time (a PDF is opened and checked now)."""
    if is_pdf(data):
        return PdfPages(data, limits)
    if not data:
        raise BadInput("the file is empty (0 bytes)")
    return ImagePage(data, limits)


def load_bytes(data: bytes, limits: Limits) -> LoadedInput:
    """Sniff and decode: a PDF gives one page per rendered page, an image gives one page."""
    if is_pdf(data):
        pages = list(render_pdf(data, limits))
        return LoadedInput(pages, "pdf")
    return LoadedInput([decode_image_bytes(data, limits)], "image")


def load_input(source: ImageLike, limits: Limits | None = None) -> LoadedInput:
    """Path, bytes, numpy array or PIL image -> pages."""
    limits = limits or Limits()
    if isinstance(source, np.ndarray):
        if source.ndim >= 2:
            limits.check_size(source.shape[1], source.shape[0])
        return LoadedInput([ndarray_to_bgr(source)], "image")
    if isinstance(source, Image.Image):
        limits.check_size(*source.size)
        return LoadedInput([pil_to_bgr(source)], "image")
    if isinstance(source, (bytes, bytearray, memoryview)):
        return load_bytes(bytes(source), limits)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise BadInput(f"no such file: {path}")
        return load_bytes(path.read_bytes(), limits)
    raise BadInput(f"cannot read an image from a {type(source).__name__}")
