"""Reading order on line boxes alone: rows under tilt, columns, headers and footers, vertical text."""

from __future__ import annotations

import numpy as np
import pytest

from ocrserve.engine.reading_order import is_vertical_page, line_order, reading_order, text_angle


def quad(x0: float, y0: float, x1: float, y1: float, angle_deg: float = 0.0,
         centre: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """An axis-aligned rectangle turned `angle_deg` about `centre` (a tilted photo's line)."""
    pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64) - centre
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (pts @ rot.T + centre).astype(np.float32)


def shuffled(boxes: list[np.ndarray], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The boxes in a random order, and the permutation that undoes it."""
    perm = np.random.default_rng(seed).permutation(len(boxes))
    return np.stack([boxes[i] for i in perm]), perm


def read(boxes: list[np.ndarray]) -> list[int]:
    """The true indices of `boxes`, in the order reading_order returns them from a shuffled input."""
    mixed, perm = shuffled(boxes)
    return [int(perm[i]) for i in reading_order(mixed)]


@pytest.mark.parametrize("angle", [-6.0, -3.0, 0.0, 3.0, 6.0])
def test_a_tilted_table_is_read_row_by_row(angle):
    # 8 rows of 4 cells 28 px high, 40 px apart: at 6 degrees a row drops 55 px across the table
    boxes = []
    for row in range(8):
        y = 100 + 40 * row
        for x0, x1 in ((40, 240), (300, 340), (380, 460), (500, 580)):
            boxes.append(quad(x0, y, x1, y + 28, angle, centre=(300, 250)))
    assert read(boxes) == list(range(len(boxes)))


def test_the_page_slope_comes_from_the_lines():
    boxes = np.stack([quad(40, 100 + 40 * k, 500, 128 + 40 * k, 4.0, centre=(300, 250)) for k in range(5)])
    assert text_angle(boxes) == pytest.approx(np.deg2rad(4.0), abs=1e-3)


def two_column_page(with_header: bool = True) -> list[np.ndarray]:
    """Header (title left, number right), 10 lines in each of two columns, a centred footer."""
    boxes = []
    if with_header:
        boxes += [quad(70, 40, 500, 66), quad(960, 40, 1030, 66)]
    for left in (70, 570):
        for k in range(10):
            right = left + (460 if k != 9 else 200)  # a paragraph's last line is short
            boxes.append(quad(left, 120 + 34 * k, right, 146 + 34 * k))
    boxes.append(quad(520, 520, 580, 544))
    return boxes


def test_two_columns_are_read_one_after_the_other_between_header_and_footer():
    assert read(two_column_page()) == list(range(23))


def test_two_columns_without_a_header():
    assert read(two_column_page(with_header=False)) == list(range(21))


def test_a_wide_table_of_short_cells_is_not_taken_for_columns():
    # label / value pairs: the gutter is clear top to bottom, but the cells are short
    boxes = []
    for k in range(6):
        boxes += [quad(70, 100 + 40 * k, 200, 126 + 40 * k), quad(600, 100 + 40 * k, 700, 126 + 40 * k)]
    assert read(boxes) == list(range(12))


def test_vertical_columns_read_right_to_left_top_to_bottom():
    # three columns 34 px wide, 300 px tall; the first is the rightmost; a short one on the left
    boxes = [quad(400, 60, 434, 360), quad(335, 60, 369, 360), quad(270, 60, 304, 200)]
    assert is_vertical_page(np.stack(boxes))
    assert read(boxes) == [0, 1, 2]


def test_a_single_line_and_no_line():
    assert reading_order(np.zeros((0, 4, 2), dtype=np.float32)) == []
    assert reading_order(np.stack([quad(0, 0, 100, 20)])) == [0]


def test_paddlex_order_is_kept_as_an_option():
    boxes = np.stack([quad(300, 100, 400, 120), quad(10, 104, 200, 124), quad(10, 40, 200, 60)])
    assert line_order(boxes, "paddlex") == [2, 1, 0]
    assert line_order(boxes, "reading") == [2, 1, 0]
    with pytest.raises(ValueError):
        line_order(boxes, "columns")


def test_a_right_to_left_page_is_read_from_the_right_column_and_the_right_of_each_row():
    """Arabic-script pages: columns from the right, a row's lines from the right; a title first, as ever."""
    title = quad(300, 20, 700, 60)
    right = [quad(520, 100 + 30 * i, 960, 124 + 30 * i) for i in range(6)]
    left = [quad(40, 100 + 30 * i, 480, 124 + 30 * i) for i in range(6)]
    boxes = np.stack([title, *left, *right])
    order = line_order(boxes, "reading", right_to_left=True)
    assert order == [0, *range(7, 13), *range(1, 7)]
    row = np.stack([quad(40, 500, 200, 524), quad(600, 500, 900, 524)])  # one row, two pieces
    assert line_order(row, "reading", right_to_left=True) == [1, 0]
    assert line_order(row, "paddlex", right_to_left=True) == [1, 0]
    assert line_order(row, "reading") == [0, 1]
