"""Word and character boxes from CTC column positions (`return_word_box`).

A CTC column maps linearly onto the crop's width, and the crop maps onto the line's
quadrilateral; so a word's span [t0, t1] along the line becomes a polygon by interpolating
the quadrilateral's top and bottom edges.  CJK characters are boxed one by one (they carry no
spaces), other scripts by space-separated words, as PaddleOCR does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from ..result import Word
from .recognize import Recognition


def is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x3040 <= code <= 0x30FF or 0xF900 <= code <= 0xFAFF


def group_words(text: str) -> Iterator[tuple[int, int]]:
    """(first, last) character indices of each word: CJK characters alone, others split at spaces."""
    start = None
    for i, ch in enumerate(text):
        if ch.isspace() or is_cjk(ch):
            if start is not None:
                yield start, i - 1
                start = None
            if is_cjk(ch):
                yield i, i
        elif start is None:
            start = i
    if start is not None:
        yield start, len(text) - 1


def reading_quad(box: np.ndarray, turned: bool, flipped: bool) -> np.ndarray:
    """The line's corners starting at the text's own top-left, following the crop's rotations."""
    return np.roll(np.asarray(box, dtype=np.float32), -((1 if turned else 0) + (2 if flipped else 0)), axis=0)


def word_polygons(rec: Recognition, box: np.ndarray, turned: bool, flipped: bool,
                  to_client: Callable[[np.ndarray], np.ndarray]) -> Iterator[Word]:
    q = reading_quad(box, turned, flipped)
    for first, last in group_words(rec.text):
        if last >= len(rec.char_spans):
            break
        t0, t1 = rec.char_spans[first][0], rec.char_spans[last][1]
        top0, top1 = q[0] + t0 * (q[1] - q[0]), q[0] + t1 * (q[1] - q[0])
        bot0, bot1 = q[3] + t0 * (q[2] - q[3]), q[3] + t1 * (q[2] - q[3])
        poly = to_client(np.stack([top0, top1, bot1, bot0]))
        yield Word(rec.text[first : last + 1], poly.tolist())
