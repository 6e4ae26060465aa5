"""CTC decoding, crops and word grouping."""

from __future__ import annotations

import numpy as np
import pytest

from ocrserve.engine.recognize import CTCDecoder, crop_line
from ocrserve.engine.words import group_words, reading_quad
from ocrserve.errors import ModelCorrupt

CHARSET = ["blank", "a", "b", "c", " "]


def one_hot(ids, probs=None):
    t = len(ids)
    out = np.full((1, t, len(CHARSET)), 0.0, dtype=np.float32)
    for step, i in enumerate(ids):
        out[0, step, i] = 1.0 if probs is None else probs[step]
    return out


def test_ctc_collapses_repeats_and_drops_blanks():
    rec = CTCDecoder(CHARSET)(one_hot([1, 1, 0, 1, 2, 2, 4, 3]), [1.0])[0]
    assert rec.text == "aab c"
    assert rec.score == pytest.approx(1.0)


def test_ctc_score_is_mean_of_kept_steps():
    rec = CTCDecoder(CHARSET)(one_hot([1, 0, 2], probs=[0.9, 1.0, 0.5]), [1.0])[0]
    assert rec.text == "ab"
    assert rec.score == pytest.approx(0.7)


def test_ctc_empty_line_scores_zero():
    rec = CTCDecoder(CHARSET)(one_hot([0, 0, 0]), [1.0])[0]
    assert rec.text == "" and rec.score == 0.0


def test_ctc_character_spans_scale_by_content_fraction():
    rec = CTCDecoder(CHARSET)(one_hot([1, 0, 2, 0]), [0.5])[0]
    # 4 steps over a crop filling half the padded width: step k spans [k/2, (k+1)/2] of the crop
    assert rec.char_spans[0] == pytest.approx((0.0, 0.5))
    assert rec.char_spans[1] == pytest.approx((1.0, 1.0))


def test_ctc_rejects_mismatched_dictionary():
    with pytest.raises(ModelCorrupt):
        CTCDecoder(CHARSET)(np.zeros((1, 4, 7), dtype=np.float32), [1.0])


def test_crop_line_rectifies_and_turns_tall_boxes():
    img = np.zeros((100, 200, 3), dtype=np.uint8)
    img[10:30, 20:120] = 255
    crop, turned = crop_line(img, np.array([[20, 10], [120, 10], [120, 30], [20, 30]], dtype=np.float32))
    assert crop.shape[:2] == (20, 100) and not turned
    assert crop.mean() > 200
    tall, turned = crop_line(img, np.array([[0, 0], [20, 0], [20, 90], [0, 90]], dtype=np.float32))
    assert turned and tall.shape[:2] == (20, 90)


def test_group_words_boxes_cjk_characters_alone():
    text = "ls 列出 dir-1"
    assert [text[a : b + 1] for a, b in group_words(text)] == ["ls", "列", "出", "dir-1"]


def test_reading_quad_follows_rotations():
    box = np.array([[0, 0], [10, 0], [10, 50], [0, 50]], dtype=np.float32)
    assert reading_quad(box, turned=True, flipped=False)[0].tolist() == [10, 0]
    assert reading_quad(box, turned=False, flipped=True)[0].tolist() == [10, 50]


def test_best_reading_keeps_each_crops_surest_reading():
    """BestReading alone, over two stand-in recognisers whose readings are given."""
    from ocrserve.engine.recognize import BestReading, Recognition

    first = [Recognition("a", 0.9), Recognition("b", 0.2), Recognition("c", 0.5)]
    second = [Recognition("x", 0.1), Recognition("y", 0.8), Recognition("z", 0.5)]
    calls = []

    def reader(readings):
        def read(crops, batch_size):
            calls.append((len(crops), batch_size))
            return readings
        return read

    crops = [np.zeros((48, 100, 3), np.uint8)] * 3
    best = BestReading([reader(first), reader(second)])(crops, 6)
    assert [r.text for r in best] == ["a", "y", "c"]  # a tie keeps the first recogniser's
    assert calls == [(3, 6), (3, 6)]


def test_a_right_to_left_recogniser_reads_in_logical_order_keeping_latin_runs():
    """The decoder alone, on made-up probabilities: the model emits visual order (left to right)."""
    from ocrserve.engine.recognize import CTCDecoder, logical_order

    visual = ["ب", "ا", " ", "1", "2", "ك"]  # what a right-to-left line shows, left to right
    assert [visual[i] for i in logical_order(visual)] == ["ك", " ", "1", "2", "ا", "ب"]
    charset = ["blank", *dict.fromkeys(visual)]
    steps = len(visual) * 2
    probs = np.zeros((1, steps, len(charset)), np.float32)
    for t in range(steps):  # each character, then a blank
        probs[0, t, charset.index(visual[t // 2]) if t % 2 == 0 else 0] = 1.0
    ltr, rtl = CTCDecoder(charset)(probs, [1.0])[0], CTCDecoder(charset, right_to_left=True)(probs, [1.0])[0]
    assert ltr.text == "با 12ك" and rtl.text == "ك 12اب"
    assert sorted(rtl.char_spans) == sorted(ltr.char_spans)  # each character keeps its own place on the crop
    assert rtl.char_spans[0] == ltr.char_spans[-1]
