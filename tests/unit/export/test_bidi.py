"""Visual order of a line (the Unicode bidirectional algorithm's part one OCR line needs), no engine."""

from __future__ import annotations

from ocrserve.export.bidi import has_right_to_left, levels, visual_order


def test_a_right_to_left_line_is_reversed_and_its_numbers_are_not():
    assert visual_order("שלום עולם", True) == "םלוע םולש"
    assert visual_order("עמוד 12", True) == "12 דומע"
    assert visual_order("שנה 2017-2018", True) == "2017-2018 הנש"  # a separator between digits joins them
    assert visual_order("מחיר 12.5%", True) == "12.5% ריחמ"  # and so does a terminator beside them


def test_brackets_are_mirrored_inside_right_to_left_runs():
    assert visual_order("(שלום)", True) == "(םולש)"


def test_a_left_to_right_line_keeps_its_order_and_reverses_only_its_right_to_left_words():
    assert visual_order("Invoice 2026", False) == "Invoice 2026"
    assert not has_right_to_left("Invoice 2026")
    assert visual_order("see שלום now", False) == "see םולש now"
    assert visual_order("ABC דהו", True) == "והד ABC"  # a left-to-right word inside a right-to-left line


def test_combining_marks_follow_their_base_and_keep_their_order():
    alef, kasra, hamza_below, beh = "\u0627", "\u0650", "\u0655", "\u0628"
    # two marks on one base: the run reversed, the marks still in logical order before it (readers put the
    # base back in front)
    assert visual_order(alef + kasra + hamza_below + beh, True) == beh + kasra + hamza_below + alef
    assert levels("إِي", True) == [1, 1, 1]  # a mark takes its base's direction


def test_trailing_spaces_are_at_the_base_level():
    assert levels("abc  ", True) == [2, 2, 2, 1, 1]
