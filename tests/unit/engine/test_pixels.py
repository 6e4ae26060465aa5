"""The lookup-table normaliser gives exactly the reference implementations' float32 inputs."""

from __future__ import annotations

import numpy as np
import pytest

from ocrserve.engine.pixels import PixelNormalizer

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
HALF = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    img[0, :3] = [[0, 0, 0], [255, 255, 255], [1, 128, 254]]  # both ends of the range appear
    return img


@pytest.mark.parametrize("mean,std", [IMAGENET, HALF])
def test_scaled_matches_detector_arithmetic_bit_for_bit(image: np.ndarray, mean, std) -> None:
    # PaddleOCR / RapidOCR NormalizeImage: float32 pixels times float32(1/255), minus mean, over std
    reference = (image.astype(np.float32) * np.float32(1 / 255) - np.float32(mean)) / np.float32(std)
    out = PixelNormalizer.scaled(mean, std)(image)
    assert out.dtype == np.float32 and out.shape == (3, 37, 53)
    assert np.array_equal(out, reference.transpose(2, 0, 1))


@pytest.mark.parametrize("mean,std", [IMAGENET, HALF])
def test_divided_matches_recognizer_arithmetic_bit_for_bit(image: np.ndarray, mean, std) -> None:
    # resize_norm_img: float32 pixels / 255, minus mean, over std
    reference = (image.astype(np.float32) / 255.0 - np.float32(mean)) / np.float32(std)
    assert np.array_equal(PixelNormalizer.divided(mean, std)(image), reference.transpose(2, 0, 1))


def test_the_two_formulas_differ_so_each_stage_keeps_its_own(image: np.ndarray) -> None:
    assert not np.array_equal(PixelNormalizer.scaled(*IMAGENET)(image), PixelNormalizer.divided(*IMAGENET)(image))


def test_writes_into_a_padded_view_and_leaves_the_padding_alone(image: np.ndarray) -> None:
    normalize = PixelNormalizer.divided(*HALF)
    batch = np.zeros((3, 37, 80), dtype=np.float32)
    returned = normalize(image, batch[:, :, :53])
    assert np.shares_memory(returned, batch)
    assert np.array_equal(batch[:, :, :53], normalize(image))
    assert not batch[:, :, 53:].any()
