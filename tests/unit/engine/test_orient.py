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


def _lines_with_turns(flipped: list[bool], confirm: list[int], doubtful: list[int]):
    from ocrserve.engine.lines import PageLines

    crops = [np.full((8, 32, 3), k, dtype=np.uint8) for k in range(len(flipped))]
    for k in range(len(crops)):
        crops[k][0, 0] = 255  # marks the crop's own top-left, to see which way it was read
    boxes = np.zeros((len(crops), 4, 2), dtype=np.float32)
    return PageLines(boxes, crops, [False] * len(crops), list(flipped), [180 if f else 0 for f in flipped],
                     doubtful, confirm)


def test_a_turned_line_read_poorly_is_read_unturned_and_kept_so_when_better():
    from ocrserve.engine.orient import Orientation
    from ocrserve.engine.recognize import Recognition

    # line 0: turned by the classifier, garbage at 0.7; line 1: turned and read at 0.99 (a real turn)
    lines = _lines_with_turns([True, True, False], confirm=[0, 1], doubtful=[])
    first = [Recognition("-a r t e", 0.70), Recognition("upside", 0.99), Recognition("plain", 0.98)]
    asked = []

    def read(crops):
        asked.extend(crops)
        return [Recognition("Caution", 0.98), Recognition("apisdn", 0.60)][: len(crops)]

    recs = Orientation.reread_doubtful(lines, first, read)
    assert len(asked) == 2  # every turned line of an upright page is read the other way too
    assert [r.text for r in recs] == ["Caution", "upside", "plain"]
    assert lines.flipped == [False, True, False] and lines.angles == [0, 180, 0]
    assert asked[0][-1, -1, 0] == 255  # it was read the other way round from the turned crop


def test_a_confident_turn_must_beat_the_unturned_reading_by_the_margin():
    from ocrserve.engine.orient import Orientation
    from ocrserve.engine.recognize import Recognition

    # a closing brace turned 180 reads as an opening one at 0.99, the right way at 0.92
    lines = _lines_with_turns([True], confirm=[0], doubtful=[])
    recs = Orientation.reread_doubtful(lines, [Recognition("{", 0.993)], lambda crops: [Recognition("}", 0.921)])
    assert recs[0].text == "}" and lines.flipped == [False] and lines.angles == [0]


def test_a_turned_line_stays_turned_when_the_unturned_reading_is_worse():
    from ocrserve.engine.orient import Orientation
    from ocrserve.engine.recognize import Recognition

    lines = _lines_with_turns([True], confirm=[0], doubtful=[])
    recs = Orientation.reread_doubtful(lines, [Recognition("upside", 0.99)], lambda crops: [Recognition("ǝpᴉsdn", 0.6)])
    assert recs[0].text == "upside" and lines.flipped == [True] and lines.angles == [180]
