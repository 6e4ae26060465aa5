"""A PDF page's own text layer, read without OCR when the check finds it usable."""

from __future__ import annotations

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from _support import pdfs
from ocrserve.errors import BadInput, InputTooLarge
from ocrserve.inputs import Limits
from ocrserve.inputs.pdf import PdfPages
from ocrserve.inputs.textlayer import insert_position, read_text_layer
from ocrserve.reader import PageRequest, read_page
from ocrserve.result import TextLine
from ocrserve.tools.evaluation import char_accuracy, load_samples, position_ordered_text


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


def test_a_figure_on_a_text_page_is_the_only_part_ocred(ocr_default):
    """The figure's words exist only as pixels: its region alone is OCRed, and its lines join the layer's."""
    data = pdfs.figure_pdf()
    check = layer_of(data).check
    assert check.status == "partial" and check.image_cover < 0.5 and len(check.regions) == 1
    x0, y0, x1, y1 = check.regions[0]
    fx0, fy0, fx1, fy1 = pdfs.FIGURE_BOX  # points, y up; the render is 2 px per point, y down
    assert abs(x0 - fx0 * 2) <= 2 and abs(x1 - fx1 * 2) <= 2
    assert abs(y0 - (pdfs.HEIGHT - fy1) * 2) <= 2 and abs(y1 - (pdfs.HEIGHT - fy0) * 2) <= 2

    seen = []

    class Spy:  # the engine, recording what it is asked to read
        def predict(self, image, options):
            seen.append(image.shape[:2])
            return ocr_default.pipeline.predict(image, options)

    with PdfPages(data, Limits()) as pages:
        options = ocr_default.pipeline.resolve_options(None)
        result = read_page(Spy(), PageRequest(pages, 0, options, "auto")).page
        page_h, page_w = pages.page_size(0)[::-1]
    assert len(seen) == 1 and seen[0][0] < page_h / 2 and seen[0][1] < page_w  # the region, not the page
    assert result.source == "text_layer+ocr" and result.text_layer == "partial"
    assert (result.width, result.height) == (page_w, page_h)
    layer = [line.text for line in result.lines if line.source == "text_layer"]
    figure = [line for line in result.lines if line.source == "ocr"]
    assert layer == pdfs.LINES and result.texts[:3] == pdfs.LINES  # the figure sits below the text
    assert char_accuracy("".join(pdfs.FIGURE_LINES), "".join(line.text for line in figure)) > 0.95
    for line in figure:  # in the page's pixels, inside the figure
        bx0, by0, bx1, by1 = line.box
        assert x0 - 10 <= bx0 and bx1 <= x1 + 10 and y0 - 10 <= by0 and by1 <= y1 + 10


def test_a_figure_goes_into_its_column():
    left = [TextLine(f"left {i}", 1.0, _box(100, 100 + 40 * i, 500, 130 + 40 * i)) for i in range(4)]
    right = [TextLine(f"right {i}", 1.0, _box(700, 100 + 40 * i, 1100, 130 + 40 * i)) for i in range(4)]
    lines = left + right  # the layer's reading order: one column, then the other
    assert insert_position(lines, (100, 180, 500, 200)) == 2  # inside the left column, before "left 2"
    assert insert_position(lines, (700, 500, 1100, 600)) == 8  # below the right column: at its end
    assert insert_position(lines, (100, 500, 500, 600)) == 4  # below the left column: before the right one


def _box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def test_a_blank_or_tiny_image_is_not_ocred():
    tint = pdfs.one_page(pdfs.text_ops(pdfs.LINES), image=Image.new("L", (400, 200), 250), image_box=pdfs.FIGURE_BOX)
    assert layer_of(tint).check.status == "usable"
    logo = pdfs.one_page(pdfs.text_ops(pdfs.LINES), image=pdfs.figure_image(["Logo"], (0, 0, 20, 20), size=4),
                         image_box=(500, 740, 520, 760))
    assert layer_of(logo).check.status == "usable"
