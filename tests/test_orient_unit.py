"""Rotation geometry and the page-level 180-degree vote."""

from __future__ import annotations

import numpy as np
import pytest

from ocrserve.engine.geometry import rotate_ccw, unrotate_points
from ocrserve.engine.orient import page_is_upside_down


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_unrotate_points_inverts_rotate_ccw(angle):
    rng = np.random.default_rng(angle)
    img = rng.integers(0, 255, size=(37, 53, 3), dtype=np.uint8)
    turned = rotate_ccw(img, angle)
    h, w = turned.shape[:2]
    pts = np.stack([rng.integers(0, w, 20), rng.integers(0, h, 20)], axis=1).astype(np.float32)
    back = unrotate_points(pts, angle, img.shape[1], img.shape[0]).astype(int)
    for (u, v), (x, y) in zip(pts.astype(int), back):
        assert (turned[v, u] == img[y, x]).all()


def test_page_vote_needs_most_of_the_text_upside_down():
    weights = np.array([900.0, 920.0, 990.0])
    one_of_three = np.array([[0.99, 0.01], [0.1, 0.9], [0.9, 0.1]])
    assert not page_is_upside_down(one_of_three, weights)
    all_flipped = one_of_three[:, ::-1]
    assert page_is_upside_down(all_flipped, weights)
    assert not page_is_upside_down(np.zeros((0, 2)), np.zeros(0))
