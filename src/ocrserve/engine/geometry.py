"""Page geometry: how the image the stages work on maps back onto the image the client sent.

The engine turns a page upright (a multiple of 90 degrees, counter-clockwise) and letterboxes
very thin images before detection; every coordinate it returns must still be in the client's
pixels.  `PageFrame` records those steps for one call and maps points back, so that rotation and
padding have one home.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

# rotating counter-clockwise by the doc-orientation label makes the page upright
_CCW = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


def rotate_ccw(img: np.ndarray, angle: int) -> np.ndarray:
    """Rotate an image counter-clockwise by 0/90/180/270 degrees."""
    return img if angle % 360 == 0 else cv2.rotate(img, _CCW[angle % 360])


def unrotate_points(points: np.ndarray, angle: int, orig_w: int, orig_h: int) -> np.ndarray:
    """Map points from an image turned `angle` degrees CCW back to the original (W, H) image."""
    pts = np.asarray(points, dtype=np.float32).copy()
    u, v = pts[..., 0].copy(), pts[..., 1].copy()
    angle %= 360
    if angle == 90:
        pts[..., 0], pts[..., 1] = orig_w - 1 - v, u
    elif angle == 180:
        pts[..., 0], pts[..., 1] = orig_w - 1 - u, orig_h - 1 - v
    elif angle == 270:
        pts[..., 0], pts[..., 1] = v, orig_h - 1 - u
    return pts


def pad_thin_image(img: np.ndarray, min_height: int = 30, max_ratio: float = 8.0) -> tuple[np.ndarray, int]:
    """Letterbox very short or very wide images top and bottom, as RapidOCR does, so DB sees context.

    Returns the padded image and the rows added above it (as many are added below).
    """
    h, w = img.shape[:2]
    if h > min_height and w / h <= max_ratio:
        return img, 0
    new_h = max(int(w / max_ratio), min_height) * 2
    pad = int(abs(new_h - h) / 2)
    padded = cv2.copyMakeBorder(img, pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return padded, pad


@dataclass(frozen=True)
class PageFrame:
    """The client's image size, the CCW turn applied to it, and the letterbox rows around it."""

    width: int
    height: int
    angle: int = 0  # degrees CCW applied to make the page upright
    pad: int = 0  # rows added above (and as many below) the upright page

    @classmethod
    def of(cls, image: np.ndarray) -> PageFrame:
        return cls(width=image.shape[1], height=image.shape[0])

    @property
    def upright_size(self) -> tuple[int, int]:
        """(width, height) of the page once turned, before the letterbox."""
        return (self.height, self.width) if self.angle % 180 else (self.width, self.height)

    def rotated(self, angle: int) -> PageFrame:
        return replace(self, angle=(self.angle + angle) % 360)

    def padded(self, pad: int) -> PageFrame:
        return replace(self, pad=pad)

    def turned_180(self, boxes: np.ndarray) -> tuple[PageFrame, np.ndarray]:
        """This frame with the page turned 180 degrees more, and `boxes` (quads in the working image)
        moved with it, their corners again starting at the top-left."""
        w, h = self.upright_size
        turned = unrotate_points(boxes, 180, w, h + 2 * self.pad)  # the letterbox is symmetric
        return self.rotated(180), np.roll(turned, 2, axis=-2)

    def to_client(self, points: np.ndarray) -> np.ndarray:
        """Points of the working image (upright, letterboxed) in the client's pixels."""
        pts = np.asarray(points, dtype=np.float32).copy()
        pts[..., 1] -= self.pad
        w, h = self.upright_size
        pts[..., 0] = np.clip(pts[..., 0], 0, w - 1)
        pts[..., 1] = np.clip(pts[..., 1], 0, h - 1)
        return unrotate_points(pts, self.angle, self.width, self.height)
