"""Image bytes to BGR: every PIL mode, and the caller's own images left open."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from ocrserve.inputs import Limits, decode_image_bytes, pil_to_bgr
from ocrserve.settings import load_settings

LIMITS = Limits.from_settings(load_settings())
RNG = np.random.default_rng(3)


def encoded(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("mode", ["RGB", "L", "P"])
def test_decoded_pixels_are_the_rgb_conversion_reversed(mode):
    img = Image.fromarray(RNG.integers(0, 256, (37, 53, 3), dtype=np.uint8), "RGB").convert(mode)
    expected = np.asarray(img.convert("RGB"))[:, :, ::-1]
    bgr = decode_image_bytes(encoded(img), LIMITS)
    assert bgr.shape == (37, 53, 3) and bgr.dtype == np.uint8 and bgr.flags["C_CONTIGUOUS"]
    assert np.array_equal(bgr, expected)


def test_transparency_is_composited_over_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[:2, :, :] = (10, 20, 30, 255)  # opaque top half, transparent bottom half
    bgr = decode_image_bytes(encoded(Image.fromarray(rgba, "RGBA")), LIMITS)
    assert bgr[0, 0].tolist() == [30, 20, 10] and bgr[3, 3].tolist() == [255, 255, 255]


def test_a_callers_image_stays_usable():
    img = Image.fromarray(RNG.integers(0, 256, (8, 9, 3), dtype=np.uint8), "RGB")
    first = pil_to_bgr(img)
    assert np.array_equal(pil_to_bgr(img), first)  # not closed: a library user's image is theirs
