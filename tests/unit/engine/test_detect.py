"""Detection pieces in isolation: resize rules, DB post-processing, box order."""

from __future__ import annotations

import numpy as np
import pytest

from ocrserve.engine.detect import (
    DetParams,
    boxes_from_prob,
    order_clockwise,
    reading_order,
    resize_shape,
    unclip,
)
from ocrserve.errors import BadInput

PARAMS = DetParams(limit_side_len=736, limit_type="min", max_side_limit=4000, thresh=0.3,
                   box_thresh=0.5, unclip_ratio=1.6, max_candidates=1000, use_dilation=False)


@pytest.mark.parametrize(
    ("hw", "limit", "kind", "clamp", "expected"),
    [
        ((200, 800), 736, "min", 4000, (736, 2944)),  # short side scaled up to 736
        ((1650, 1275), 736, "min", 4000, (1664, 1280)),  # already over: only rounded to 32
        ((1650, 1275), 960, "max", 4000, (960, 736)),  # long side scaled down to 960
        ((300, 400), 960, "max", 4000, (288, 384)),  # max never upscales (400/32 rounds half to even)
        ((200, 8000), 736, "min", 4000, (96, 4000)),  # clamp wins over the min rule
        ((10, 10), 736, "max", 4000, (32, 32)),  # never below one 32-px cell
    ],
)
def test_resize_shape(hw, limit, kind, clamp, expected):
    h, w = resize_shape(*hw, limit, kind, clamp)
    assert (h, w) == expected
    assert h % 32 == 0 and w % 32 == 0


def test_big_images_shrink_before_the_rules_like_rapidocr():
    # 3000x4000 -> 1504x1984 (RapidOCR's reduce_max_side; 62.5 rounds to even), short side already > 736
    assert resize_shape(4000, 3000, 736, "min", 4000, image_max_side=2000) == (1984, 1504)
    # small images are untouched by it: 200x800 still goes up to 736 on the short side
    assert resize_shape(200, 800, 736, "min", 4000, image_max_side=2000) == (736, 2944)


def test_resize_shape_rejects_bad_rule_and_empty_image():
    with pytest.raises(BadInput):
        resize_shape(100, 100, 736, "middle", 4000)
    with pytest.raises(BadInput):
        resize_shape(0, 100, 736, "min", 4000)


def test_db_postprocess_finds_rectangles_scaled_to_destination():
    prob = np.zeros((64, 128), dtype=np.float32)
    prob[10:20, 10:60] = 0.9  # a wide text band
    prob[40:50, 70:120] = 0.9
    prob[30:31, 5:6] = 0.9  # a speck: too small to be a box
    boxes, scores = boxes_from_prob(prob, PARAMS, dest_w=256, dest_h=128)
    assert len(boxes) == 2
    assert all(s == pytest.approx(0.9, abs=1e-5) for s in scores)
    first = boxes[np.argmin(boxes[:, 0, 1])]
    # the band spans x 10..59, y 10..19 in the map; unclip grows it, x2 scale to destination
    assert first[:, 0].min() < 20 and first[:, 0].max() > 118
    assert first[:, 1].min() < 20 and first[:, 1].max() > 38


def test_db_postprocess_drops_low_scoring_regions():
    prob = np.zeros((64, 128), dtype=np.float32)
    prob[10:20, 10:60] = 0.4  # above thresh 0.3, below box_thresh 0.5
    boxes, _ = boxes_from_prob(prob, PARAMS, 128, 64)
    assert len(boxes) == 0


def test_unclip_grows_by_area_over_perimeter():
    box = np.array([[0, 0], [100, 0], [100, 20], [0, 20]], dtype=np.float32)
    grown = unclip(box, 1.5).reshape(-1, 2)
    distance = 100 * 20 * 1.5 / 240  # 12.5 px
    assert grown[:, 0].min() == pytest.approx(-distance, abs=1)
    assert grown[:, 1].max() == pytest.approx(20 + distance, abs=1)


def test_order_clockwise_and_reading_order():
    scrambled = np.array([[10, 20], [0, 0], [10, 0], [0, 20]], dtype=np.float32)
    assert order_clockwise(scrambled).tolist() == [[0, 0], [10, 0], [10, 20], [0, 20]]

    def box(x, y):
        return [[x, y], [x + 50, y], [x + 50, y + 10], [x, y + 10]]

    boxes = np.array([box(100, 52), box(0, 50), box(0, 0), box(200, 48)], dtype=np.float32)
    # the three boxes within 10 px of y=50 form one row, read left to right
    assert reading_order(boxes) == [2, 1, 0, 3]


def test_public_params_are_what_a_client_sees():
    public = PARAMS.public()
    assert list(public) == ["limit_side_len", "limit_type", "max_side_limit", "thresh", "box_thresh", "unclip_ratio"]
    assert public["box_thresh"] == PARAMS.box_thresh
