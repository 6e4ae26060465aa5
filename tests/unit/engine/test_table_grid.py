"""Ruling lines -> a table's grid: rows and columns where the rules are, spans where an inner rule is missing."""

from __future__ import annotations

import numpy as np

from _support import tables
from ocrserve.engine.tables import detect_rulings, find_grids, table_grid


def frame(xs: list[float], ys: list[float]) -> list[tuple[float, float, float, float]]:
    """Every row and column rule drawn across the whole table."""
    return ([(xs[0], y, xs[-1], y) for y in ys] + [(x, ys[0], x, ys[-1]) for x in xs])


def test_full_rules_make_a_grid_without_spans():
    grid = table_grid(frame([0, 100, 200, 300], [0, 40, 80]), (0, 0, 300, 80))
    assert grid is not None and (grid.rows, grid.cols) == (2, 3)
    assert [(c.row, c.col, c.rowspan, c.colspan) for c in grid.cells] == [
        (r, c, 1, 1) for r in range(2) for c in range(3)]
    assert grid.cells[4].box == (100, 40, 200, 80)


def test_pieces_of_one_rule_join_and_a_missing_inner_rule_makes_a_span():
    segments = frame([0, 300], [0, 40, 80]) + [(0, 0, 0, 80), (300, 0, 300, 80)]
    segments += [(100, 40, 100, 80), (200, 0, 200, 38), (200, 42, 200, 80)]  # 100: drawn under the header only
    grid = table_grid(segments, (0, 0, 300, 80))
    assert grid is not None
    assert [(c.row, c.col, c.rowspan, c.colspan) for c in grid.cells] == [(0, 0, 1, 2), (0, 2, 1, 1), (1, 0, 1, 1),
                                                                          (1, 1, 1, 1), (1, 2, 1, 1)]


def test_an_underline_and_rules_outside_the_region_are_not_the_grid():
    segments = frame([0, 150, 300], [0, 40, 80]) + [(10, 30, 90, 30), (0, 200, 300, 200), (400, 0, 400, 80)]
    grid = table_grid(segments, (0, 0, 300, 80))
    assert grid is not None and (grid.xs, grid.ys) == ((0, 150, 300), (0, 40, 80))


def test_a_grid_without_its_left_and_right_sides_keeps_its_outer_columns():
    rows = [(0, y, 300, y) for y in (0, 40, 80, 120)]
    inner = [(x, 0, x, 120) for x in (100, 200)]  # only the rules between the columns are drawn
    grid = table_grid(rows + inner, (0, 0, 300, 120))
    assert grid is not None and (grid.xs, grid.ys) == ((0, 100, 200, 300), (0, 40, 80, 120))
    assert all((c.rowspan, c.colspan) == (1, 1) for c in grid.cells) and len(grid.cells) == 9
    one_side = table_grid(rows + inner + [(0, 0, 0, 120)], (0, 0, 300, 120))
    assert one_side is not None and one_side.xs == (0, 100, 200, 300)


def test_a_lone_box_or_no_rules_is_no_table():
    assert table_grid(frame([0, 300], [0, 80]), (0, 0, 300, 80)) is None
    assert table_grid([], (0, 0, 300, 80)) is None


def test_rules_are_found_in_pixels_and_text_is_not_taken_for_one():
    layout = tables.Layout(100, 100, (200, 150, 150), 60)
    image = tables.drawn(tables.SPANNING[:4], layout)  # two header rows: "Region" spans them, "Sales" two columns
    found = detect_rulings(image, (90, 90, 610, 230), min_width=60, min_height=35)
    grid = table_grid(found, (90, 90, 610, 230))
    assert grid is not None and (grid.rows, grid.cols) == (2, 3)
    assert all(abs(a - b) <= 2 for a, b in zip(grid.xs, (100, 300, 450, 600)))
    assert [(c.row, c.col, c.rowspan, c.colspan) for c in grid.cells] == [(0, 0, 2, 1), (0, 1, 1, 2), (1, 1, 1, 1),
                                                                          (1, 2, 1, 1)]
    blank = np.full((200, 200, 3), 255, np.uint8)
    assert detect_rulings(blank, (0, 0, 200, 200), 60, 35) == []


def test_grids_are_found_anywhere_on_a_page_each_drawing_on_its_own():
    upper = frame([100, 250, 400], [100, 140, 180])
    lower = frame([100, 200, 300, 400], [500, 540, 580, 620])
    strays = [(100, 300, 500, 300), (50, 700, 50, 900)]  # a rule under a heading, a bar in the margin
    grids = find_grids(lower + strays + upper, (600, 1000))
    assert [(g.rows, g.cols, g.xs[0], g.ys[0]) for g in grids] == [(2, 2, 100, 100), (3, 3, 100, 500)]


def test_a_box_a_row_of_boxes_or_no_rules_is_no_grid_on_a_page():
    assert find_grids(frame([0, 300], [0, 80]), (400, 200)) == []  # a framed paragraph
    assert find_grids(frame([0, 100, 200, 300], [0, 40]), (400, 200)) == []  # one row: boxes to fill in
    assert find_grids([], (400, 200)) == []
