"""Reading order on generated layouts, scored against their true line order (real models, no mocks).

The samples come from bench/layout_samples.py, built into a temporary folder: tilted receipts,
two-column pages with a running header and a footer, vertical Chinese columns.  Thresholds sit
a little under what bench/accuracy.py measured (docs/reading-order.md); PaddleX's order reads
the same pages at 31-84% (two-column 31%, vertical 8%).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from _support.bench import bench_module
from _support.engines import ocr_for
from ocrserve.tools.evaluation import Sample, char_accuracy, load_samples

build = bench_module("layout_samples").build  # the generator lives with the benchmarks that report on it

THRESHOLDS = {"receipt": 0.93, "two-column": 0.97, "vertical": 0.93}


@pytest.fixture(scope="module")
def layout(samples_dir, tmp_path_factory) -> list[Sample]:
    return list(load_samples(build(samples_dir, tmp_path_factory.mktemp("layout")), tuple(THRESHOLDS)))


def in_reading_order(sample: Sample, texts: list[str]) -> float:
    return char_accuracy("".join(text for text, _ in sample.lines), "".join(texts))


@pytest.mark.parametrize("kind", sorted(THRESHOLDS))
def test_generated_layouts_read_in_their_true_order(kind, layout):
    ocr = ocr_for("pp-ocrv6-small")
    cases = [s for s in layout if s.kind == kind]
    assert cases
    for sample in cases:
        result = ocr(sample.path)
        accuracy = in_reading_order(sample, result.texts)
        assert accuracy >= THRESHOLDS[kind], (sample.name, accuracy, result.texts)


def test_coordinates_stay_in_the_clients_pixels_on_a_tilted_receipt(layout):
    sample = next(s for s in layout if s.kind == "receipt")
    result = ocr_for("pp-ocrv6-small")(sample.path)
    centres = [tuple(float(v) for v in np.mean(truth, axis=0)) for _, truth in sample.lines]
    for line in result.lines:  # each returned polygon covers a true line's centre (cells may merge)
        polygon = np.asarray(line.polygon, dtype=np.float32)
        assert max(cv2.pointPolygonTest(polygon, c, True) for c in centres) > -3, line.text


def test_a_turned_sparse_page_header_comes_first(samples_dir):
    """The scanned PDF's first page: a header and two lines on blank A4, once taken for 270 degrees."""
    page = ocr_for("pp-ocrv6-small")(samples_dir / "pdf" / "scanned_lshort_p50-51.pdf")[0]
    assert page.doc_angle == 0
    assert page.texts[0] == "38" and page.texts[1].replace(" ", "") == "第三章文档元素"
    assert page.texts[2].startswith("subcaption")


def test_paddlex_order_is_what_the_setting_asks(samples_dir):
    """OCR_LINE_ORDER=paddlex: lines top to bottom by their top edge, as PaddleX returns them."""
    path = samples_dir / "scenes" / "s03_receipt_zh.jpg"
    paddlex = ocr_for_order("paddlex")(path)
    tops = [min(p[1] for p in line.polygon) for line in paddlex.lines]
    assert all(b > a - 10 for a, b in zip(tops, tops[1:]))
    assert sorted(paddlex.texts) == sorted(ocr_for("pp-ocrv6-small")(path).texts)


_BY_ORDER: dict[str, object] = {}


def ocr_for_order(order: str):
    from ocrserve import OCR

    if order not in _BY_ORDER:
        _BY_ORDER[order] = OCR(model="pp-ocrv6-small", line_order=order)
    return _BY_ORDER[order]
