"""Page geometry: the working image's points back in the client's pixels."""

from __future__ import annotations

import numpy as np
import pytest

from ocrserve.engine.geometry import PageFrame, pad_thin_image, rotate_ccw, unrotate_points


def test_pad_thin_image_only_pads_thin_images():
    wide = np.zeros((20, 400, 3), dtype=np.uint8)
    padded, top = pad_thin_image(wide)
    assert top > 0 and padded.shape[0] == 20 + 2 * top
    normal = np.zeros((300, 400, 3), dtype=np.uint8)
    assert pad_thin_image(normal)[1] == 0


def test_upright_size_follows_quarter_turns():
    frame = PageFrame(width=300, height=100)
    assert frame.upright_size == (300, 100)
    assert frame.rotated(90).upright_size == (100, 300)
    assert frame.rotated(90).rotated(270).angle == 0


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_to_client_undoes_the_turn_and_the_letterbox(angle):
    rng = np.random.default_rng(angle)
    image = rng.integers(0, 255, size=(20, 200, 3), dtype=np.uint8)
    frame = PageFrame.of(image).rotated(angle)
    upright = rotate_ccw(image, angle)
    working, pad = pad_thin_image(upright)
    frame = frame.padded(pad)
    h, w = upright.shape[:2]
    pts = np.stack([rng.integers(0, w, 30), rng.integers(0, h, 30) + pad], axis=1).astype(np.float32)
    back = frame.to_client(pts).astype(int)
    for (u, v), (x, y) in zip(pts.astype(int), back):
        assert (working[v, u] == image[y, x]).all()


def test_points_in_the_letterbox_are_clipped_onto_the_page():
    frame = PageFrame(width=200, height=20, pad=40)
    assert frame.to_client(np.array([[-5.0, 0.0], [250.0, 200.0]])).tolist() == [[0.0, 0.0], [199.0, 19.0]]


def test_turned_180_moves_boxes_and_keeps_corners_from_the_top_left():
    frame = PageFrame(width=100, height=20, pad=5)
    box = np.array([[[10, 8], [40, 8], [40, 14], [10, 14]]], dtype=np.float32)
    turned_frame, turned = frame.turned_180(box)
    assert turned_frame.angle == 180
    assert turned[0].tolist() == [[59, 15], [89, 15], [89, 21], [59, 21]]  # tl, tr, br, bl again
    # both frames put the box on the same client pixels
    assert sorted(map(tuple, turned_frame.to_client(turned[0]).tolist())) == \
           sorted(map(tuple, frame.to_client(box[0]).tolist()))
    assert np.array_equal(frame.turned_180(turned)[1], box)


def test_unrotate_matches_the_frame_without_padding():
    pts = np.array([[3.0, 4.0], [10.0, 1.0]], dtype=np.float32)
    assert np.array_equal(PageFrame(50, 30, angle=90).to_client(pts), unrotate_points(pts, 90, 50, 30))
