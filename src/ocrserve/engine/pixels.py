"""Model input normalisation: uint8 HWC pixels -> float32 CHW, through a table of 256 values per channel.

Every stage feeds its model `(pixel / 255 - mean) / std` per channel.  A uint8 channel has only
256 values, so the formula is evaluated once per value when the stage is built and each pixel is
then one gather, straight into channel-first order: exact (the table holds the formula's own
float32 results) and several times cheaper than float passes over every pixel (docs/benchmarks.md),
which matters for detection of large pages.

Two formulas, because the reference implementations differ in the last bit and parity with
them is tested: detection multiplies by 1/255 (PaddleOCR's and RapidOCR's NormalizeImage),
recognition and the classifiers divide by 255 (their resize_norm_img).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Formula = Callable[[np.ndarray], np.ndarray]  # float32 (..., 3) in 0..255 -> float32 (..., 3)


class PixelNormalizer:
    """A per-channel lookup table built from a formula; called on uint8 HWC images."""

    def __init__(self, formula: Formula) -> None:
        values = np.repeat(np.arange(256, dtype=np.float32)[:, None], 3, axis=1)  # (256, 3)
        self.table = np.ascontiguousarray(np.asarray(formula(values), dtype=np.float32).T)  # (3, 256)

    @classmethod
    def scaled(cls, mean: Sequence[float], std: Sequence[float]) -> PixelNormalizer:
        """`(x * (1/255) - mean) / std`: the detectors' arithmetic."""
        scale, m, s = np.float32(1.0 / 255.0), np.asarray(mean, np.float32), np.asarray(std, np.float32)
        return cls(lambda x: (x * scale - m) / s)

    @classmethod
    def divided(cls, mean: Sequence[float], std: Sequence[float]) -> PixelNormalizer:
        """`(x / 255 - mean) / std`: the recognisers' and classifiers' arithmetic."""
        m, s = np.asarray(mean, np.float32), np.asarray(std, np.float32)
        return cls(lambda x: (x / np.float32(255.0) - m) / s)

    def __call__(self, img: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(3, H, W) float32 of a uint8 (H, W, 3) image, into `out` (any (3, H, W) view) when given."""
        if out is None:
            out = np.empty((3, *img.shape[:2]), dtype=np.float32)
        for channel in range(3):
            np.take(self.table[channel], img[:, :, channel], out=out[channel], mode="clip")
        return out
