"""A PDF page's own text layer, read without OCR when the check finds it usable."""

from __future__ import annotations

import numpy as np
import pypdfium2 as pdfium
import pytest

from _support import pdfs
from ocrserve.errors import BadInput, InputTooLarge
from ocrserve.evaluation import char_accuracy, load_samples, position_ordered_text
from ocrserve.inputs import Limits
from ocrserve.pdf import PdfPages
from ocrserve.textlayer import read_text_layer


def layer_of(data: bytes, scale: float = 2.0):
    doc = pdfium.PdfDocument(data)
    try:
        return read_text_layer(doc[0], scale)
    finally:
        doc.close()


@pytest.fixture(scope="module")
def sample_pages(samples_dir):
    return [s for s in load_samples(samples_dir, ("pdf",)) if "scanned" not in s.path.name]


def test_sample_pdfs_read_from_their_layer(ocr_default, sample_pages):
    by_file: dict = {}
    for sample in sample_pages:
        by_file.setdefault(sample.path, []).append(sample)
    for path, samples in by_file.items():
        results = ocr_default.predict(path)
        for sample in samples:
            result = results[sample.page - 1]
            assert result.source == "text_layer" and result.text_layer == "usable"
            assert {line.score for line in result.lines} == {1.0}
            truth = position_ordered_text(sample.lines)
            got = position_ordered_text([(line.text, line.polygon) for line in result.lines])
            assert char_accuracy(truth, got) >= 0.99, sample.name


def test_layer_polygons_are_in_rendered_pixels(ocr_default, sample_pages):
    """Every ground-truth line (pdftotext boxes at 144 dpi) has a layer line's box around its centre."""
    sample = sample_pages[0]
    results = ocr_default.predict(sample.path)
    lines = results[sample.page - 1].lines
    boxes = np.array([line.box for line in lines], dtype=float)
    for text, poly in sample.lines:
        cx, cy = np.asarray(poly).mean(axis=0)
        inside = (boxes[:, 0] - 2 <= cx) & (cx <= boxes[:, 2] + 2) & (boxes[:, 1] - 2 <= cy) & (cy <= boxes[:, 3] + 2)
        assert inside.any(), text
        top = min(np.asarray(poly)[:, 1])
        assert abs(boxes[inside][:, 1].min() - top) < 3, text


def test_layer_result_has_the_ocr_shape(ocr_default, samples_dir):
    [page, *_] = ocr_default.predict(samples_dir / "pdf/smi_p8-10.pdf")
    d = page.to_dict()
    assert d["text_source"] == "text_layer" and d["text_layer"] == "usable"
    assert len(d["rec_texts"]) == len(d["rec_polys"]) == len(d["rec_boxes"]) == len(d["dt_polys"])
    assert (page.width, page.height) == (1220, 1579)  # pypdfium2's render of the page at scale 2.0


def test_born_digital_page_is_usable():
    layer = layer_of(pdfs.text_pdf())
    assert layer.check.usable
    assert [line.text for line in layer.lines] == pdfs.LINES
    x0, y0, x1, y1 = layer.lines[0].box
    assert x0 == 144 and abs(y1 - (792 - 700 + 12 * 0.25) * 2) < 8  # 72 pt * 2, baseline at 700 pt


@pytest.mark.parametrize("build", [pdfs.unmapped_pdf, pdfs.private_use_pdf], ids=["no-tounicode", "private-use"])
def test_unmapped_layers_are_refused(build):
    check = layer_of(build()).check
    assert check.status == "unmapped" and not check.usable and check.unmapped > 0.9
    assert "ToUnicode" in check.reason


def test_invisible_ocr_layer_over_a_scan_is_usable():
    layer = layer_of(pdfs.invisible_ocr_pdf())
    assert layer.check.usable and layer.check.image_cover > 0.9 and layer.check.ink_covered > 0.5
    assert [line.text for line in layer.lines] == pdfs.LINES


def test_stamp_over_a_scan_is_partial():
    check = layer_of(pdfs.partial_pdf()).check
    assert check.status == "partial" and check.image_cover > 0.9 and check.ink_covered < 0.5


def test_scan_without_text_has_none():
    assert layer_of(pdfs.scanned_pdf()).check.status == "none"


@pytest.mark.parametrize("build", [pdfs.unmapped_pdf, pdfs.private_use_pdf])
def test_broken_layer_falls_back_to_ocr_and_says_so(ocr_default, build):
    [result] = ocr_default.predict(build())
    assert result.source == "ocr" and result.text_layer == "unmapped"
    assert result.to_dict()["text_layer"] == "unmapped"


def test_modes(ocr_default):
    data = pdfs.invisible_ocr_pdf()
    [auto] = ocr_default.predict(data)
    assert auto.source == "text_layer"
    [ocr] = ocr_default.predict(data, pdf_text="ocr")
    assert ocr.source == "ocr" and ocr.text_layer is None and "text_source" not in ocr.to_dict()
    assert char_accuracy("".join(pdfs.LINES), "".join(ocr.texts)) > 0.95
    [text] = ocr_default.predict(pdfs.scanned_pdf(), pdf_text="text")
    assert text.source == "text_layer" and text.lines == []  # text never OCRs
    with pytest.raises(BadInput, match="pdf_text"):
        ocr_default.predict(data, pdf_text="fast")


def test_rotated_page_layer(ocr_default):
    """/Rotate 90: the layer's lines are in the turned page's pixels, reading down the image."""
    data = pdfs.text_pdf().replace(b"/Type /Page /Parent 2 0 R", b"/Type /Page /Parent 2 0 R /Rotate 90", 1)
    [result] = ocr_default.predict(data)
    assert (result.width, result.height) == (1584, 1224) and result.source == "text_layer"
    first = np.asarray(result.lines[0].polygon)
    assert first[1][1] > first[0][1]  # the text runs down the rendered image (clockwise turn)


def test_text_pages_keep_the_limits():
    with pytest.raises(InputTooLarge):
        PdfPages(pdfs.text_pdf(), Limits(max_width=1000)).text_layer(0)
    assert len(PdfPages(pdfs.text_pdf(), Limits(max_pdf_pages=1))) == 1
