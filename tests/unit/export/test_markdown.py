"""Markdown headings from geometry: never one without text (built results, no engine)."""

from __future__ import annotations

import re

from ocrserve.export.markdown import render_markdown
from ocrserve.result import OCRPage, TextLine


def _line(text: str, top: float, height: float, left: float = 40.0, width: float = 400.0) -> TextLine:
    box = [[left, top], [left + width, top], [left + width, top + height], [left, top + height]]
    return TextLine(text=text, score=0.99, polygon=box)


def _page(lines: list[TextLine]) -> OCRPage:
    return OCRPage(width=1000, height=1400, lines=lines, detected_polygons=[ln.polygon for ln in lines],
                     doc_angle=None, det_params={}, text_rec_score_thresh=0.5, use_textline_orientation=False,
                     return_word_box=False)


def _body(top: float, count: int) -> list[TextLine]:
    """Body text 20 px tall, lines 26 px apart: one paragraph."""
    return [_line(f"body text line number {i} of a paragraph", top + 26 * i, 20) for i in range(count)]


def test_large_whitespace_or_punctuation_lines_make_no_empty_heading():
    # each odd line is set twice the body size, far from its neighbours: a heading by its geometry
    page = _page([
        _line("Real Title", 40, 40),
        *_body(120, 4),
        _line("   \u200b ", 260, 40),  # what a detector finds on a rule or a smudge: no visible text
        *_body(340, 4),
        _line("....", 480, 40),  # a dotted leader set large
        *_body(560, 4),
        _line("- \u200b", 700, 20),  # a bullet with nothing after it
        *_body(760, 3),
    ])
    md = render_markdown([page])
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings == ["# Real Title"], md
    assert not any(re.fullmatch(r"#+\s*", line) for line in md.splitlines()), md
    assert "\\.\\.\\.\\." in md or "...." in md  # punctuation stays as text, just not as a title
    assert not any(re.fullmatch(r"-\s*\u200b?\s*", line) for line in md.splitlines()), md
    assert "\n\n\n" not in md  # a dropped block leaves no extra blank lines


def test_a_heading_with_a_letter_or_digit_is_kept():
    md = render_markdown([_page([_line("2.1", 40, 40), *_body(120, 4)])])
    assert md.splitlines()[0] == "# 2.1", md
