"""Searchable PDF: the text read back with pdfium matches the OCR text and sits on the OCR boxes."""

from __future__ import annotations

import io

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest

from _support import pdfs
from ocrserve.errors import BadInput
from ocrserve.export import export
from ocrserve.export.layout import words_of
from ocrserve.export.searchable_pdf import searchable_pdf
from ocrserve.inputs.textlayer import pixel_transform
from ocrserve.result import OCRPage, TextLine, Word
from ocrserve.tools.evaluation import char_accuracy, position_ordered_text


def extracted_words(data: bytes, index: int, width: int) -> tuple[str, list[tuple[str, np.ndarray]]]:
    """(page text, [(word, [x0, y0, x1, y1])]) of page `index`, boxes in the pixels of a `width`-wide render."""
    doc = pdfium.PdfDocument(data)
    try:
        page = doc[index]
        m = pixel_transform(page, width / page.get_width())
        tp = page.get_textpage()
        text = tp.get_text_range()
        words, chars, boxes = [], [], []
        for i in range(tp.count_chars() + 1):
            ch = tp.get_text_range(i, 1) if i < tp.count_chars() else " "
            if ch.isspace():
                if chars:
                    pts = np.array([[x, y] for b in boxes for x, y in ((b[0], b[1]), (b[2], b[3]))]) @ m[:, :2].T + m[:, 2]
                    words.append(("".join(chars), np.array([*pts.min(axis=0), *pts.max(axis=0)])))
                chars, boxes = [], []
                continue
            chars.append(ch)
            boxes.append(tp.get_charbox(i, loose=True))
        tp.close()
        page.close()
        return text, words
    finally:
        doc.close()


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def assert_matches(data: bytes, index: int, result, truth=None) -> None:
    """Every OCR word is read back from the box it was found in (IoU >= 0.5), and the text read
    back, taken in the OCR's order of those boxes, is within a point of the OCR's text.

    Word by box, not the reader's own order: pdfium emits lines of rotated pages and upside-down
    lines in an order of its own, which moves no word on the page.
    """
    _, words = extracted_words(data, index, result.width)
    expected = [(w.strip(), np.asarray(poly)) for line in result.lines for w, poly in words_of(line) if w.strip()]
    assert sorted(w for w, _ in words) == sorted(w for w, _ in expected)
    unused = list(range(len(words)))
    picked = []
    for word, poly in expected:
        box = np.array([*poly.min(axis=0), *poly.max(axis=0)])
        best = max(unused, key=lambda k: (iou(box, words[k][1]), words[k][0] == word))
        unused.remove(best)
        assert words[best][0] == word and iou(box, words[best][1]) >= 0.5, (word, words[best])
        picked.append(words[best][0])
    ocr_text = "".join(w for w, _ in expected)
    assert char_accuracy(ocr_text, "".join(picked)) >= 0.99
    if truth is not None:
        assert abs(char_accuracy(truth, "".join(picked)) - char_accuracy(truth, "".join(result.texts))) <= 0.01


def assert_opens(data: bytes, pages: int) -> None:
    doc = pdfium.PdfDocument(data)
    assert len(doc) == pages
    for page in doc:
        page.render(scale=0.2).close()
    doc.close()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == pages
        assert pdf.check_pdf_syntax() == []


@pytest.fixture(scope="module")
def page(ocr_default, samples_dir):
    return ocr_default(str(samples_dir / "pages/p04_en_prose_smi_p3.png"), return_word_box=True)


def test_image_page_text_and_word_boxes(page, samples_dir):
    source = samples_dir / "pages/p04_en_prose_smi_p3.png"
    data = export([page], "pdf", original=source.read_bytes())
    assert_opens(data, 1)
    from ocrserve.tools.evaluation import load_samples

    truth = next(s for s in load_samples(samples_dir, ("page",)) if s.path == source)
    assert_matches(data, 0, page, position_ordered_text(truth.lines))


@pytest.mark.parametrize("name", ["scenes/s07_image_rot270_en.png", "scenes/s05_line_rot180.png",
                                  "scenes/s06_image_rot90_zh.png"])
def test_rotated_text_stays_on_its_lines(ocr_default, samples_dir, name):
    result = ocr_default(str(samples_dir / name), return_word_box=True)
    data = export([result], "pdf", original=(samples_dir / name).read_bytes())
    assert_opens(data, 1)
    if "zh" in name:  # CJK words are boxed per character by the engine, per run by pdfium
        text, _ = extracted_words(data, 0, result.width)
        assert sorted("".join(text.split())) == sorted("".join(result.texts))
    else:  # position order: pdfium emits an upside-down line's words in its own order
        assert_matches(data, 0, result)


def test_jpeg_is_embedded_as_it_is(ocr_default, samples_dir):
    jpeg = (samples_dir / "scenes/s03_receipt_zh.jpg").read_bytes()
    result = ocr_default(jpeg)
    data = export([result], "pdf", original=jpeg)
    assert jpeg in data  # no re-encoding: the page image is the file's own bytes
    assert_opens(data, 1)


def test_several_images_make_one_pdf(ocr_default, samples_dir, tmp_path):
    names = ["scenes/s09_large_text_60px.png", "scenes/s07_image_rot270_en.png"]
    target = ocr_default.save_pdf([samples_dir / n for n in names], tmp_path / "out" / "both.pdf")
    data = target.read_bytes()
    assert_opens(data, 2)
    assert "rm - remove files or directories" in extracted_words(data, 0, 1100)[0]


def test_scanned_pdf_keeps_its_pages_and_gains_text(ocr_default):
    original = pdfs.scanned_pdf()
    results = ocr_default.predict(original)
    assert results[0].source == "ocr" and len(results[0].lines) == 3
    data = export(results, "pdf", original=original)
    assert_opens(data, 1)
    assert_matches(data, 0, results[0])
    doc = pdfium.PdfDocument(data)
    images = list(doc[0].get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3))
    assert len(images) == 1  # the scan itself, untouched
    doc.close()


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotated_pdf_page(ocr_default, rotate):
    original = pdfs.rotated_scan_pdf(rotate)
    results = ocr_default.predict(original)
    assert "The quick brown fox" in results[0].text
    data = export(results, "pdf", original=original)
    assert_opens(data, 1)
    assert_matches(data, 0, results[0])  # in the rendered page's pixels, whatever the page's /Rotate


def test_text_layer_pages_pass_through_untouched(ocr_default, samples_dir):
    original = (samples_dir / "pdf/tasn1_p6-8.pdf").read_bytes()
    results = ocr_default.predict(original)
    assert {r.source for r in results} == {"text_layer"}
    assert export(results, "pdf", original=original) == original


def test_partial_layer_keeps_the_stamp_and_adds_the_scan(ocr_default):
    original = pdfs.partial_pdf()
    [result] = ocr_default.predict(original)
    assert result.source == "text_layer+ocr" and result.text_layer == "partial"
    assert result.lines[-1].text == "Received 2026-11-30" and "The quick brown fox" in result.text  # by position
    text, _ = extracted_words(export([result], "pdf", original=original), 0, result.width)
    assert text.count("Received 2026-11-30") == 1  # the layer's own line is not written twice


def test_no_image_no_pdf(ocr_default, samples_dir):
    result = ocr_default(str(samples_dir / "scenes/s09_large_text_60px.png"))
    result.image = None
    with pytest.raises(BadInput, match="image"):
        export([result], "pdf")


def test_searchable_pdf_reads_back_as_a_usable_layer(ocr_default):
    """What we write is what the text-layer reader takes: same lines, same places, no OCR the second time."""
    original = pdfs.scanned_pdf()
    [first] = ocr_default.predict(original)
    [again] = ocr_default.predict(export([first], "pdf", original=original))
    assert again.source == "text_layer" and again.text_layer == "usable"
    assert again.texts == first.texts
    for a, b in zip(again.lines, first.lines):
        assert iou(np.array(a.box, dtype=float), np.array(b.box, dtype=float)) >= 0.8


def test_figure_page_gains_the_figure_text_only(ocr_default):
    original = pdfs.figure_pdf()
    [result] = ocr_default.predict(original)
    assert result.source == "text_layer+ocr"
    text, _ = extracted_words(export([result], "pdf", original=original), 0, result.width)
    assert text.count("The quick brown fox") == 1  # the layer's own lines are not written twice
    added = "".join(text.split("vow.")[-1].split())  # what follows the layer's last line, without spacing
    assert char_accuracy("".join("".join(pdfs.FIGURE_LINES).split()), added) > 0.95


RIGHT_TO_LEFT_LINES = ["مرحبا بالعالم 2026", "السنة الدراسية: 2017/2018", "المجموع 128.50 دينار (نقدا)",
                       "إِيَّاكَ نَعْبُدُ", "שלום עולם 42", "فصل ١٢٣ من الكتاب"]


def test_right_to_left_lines_read_back_in_logical_order_from_where_they_are_printed():
    """Readers order a line's glyphs by where they stand: each right-to-left run is laid from the
    right (digits, left-to-right words and a word-boxed line included), so copy and search give the
    engine's logical text back and each character's box lies where it is printed."""
    def box(x0: float, x1: float, y: float) -> list[list[float]]:
        return [[x0, y], [x1, y], [x1, y + 30], [x0, y + 30]]

    lines = [TextLine(text, 0.9, box(20, 20 + 14 * len(text), 20 + 50 * i)) for i, text in enumerate(RIGHT_TO_LEFT_LINES)]
    y = 20 + 50 * len(lines)  # the engine's word boxes: the first word read is the rightmost
    words = (Word("مرحبا", box(470, 610, y)), Word("بالعالم", box(260, 440, y)), Word("2026", box(130, 230, y)))
    lines.append(TextLine(" ".join(w.text for w in words), 0.9, box(130, 610, y), words=words))
    page = OCRPage(width=640, height=y + 60, lines=lines, detected_polygons=[line.polygon for line in lines],
                   doc_angle=0, det_params={}, text_rec_score_thresh=0.0, use_textline_orientation=False,
                   return_word_box=False)
    data = searchable_pdf([page], page_images=[np.full((page.height, page.width, 3), 255, np.uint8)], dpi=72)
    doc = pdfium.PdfDocument(data)
    try:
        textpage = doc[0].get_textpage()
        assert textpage.get_text_range().split("\r\n") == [line.text for line in lines]
        chars = [(textpage.get_text_range(i, 1), textpage.get_charbox(i)[0]) for i in range(textpage.count_chars())]
    finally:
        doc.close()
    first_line = chars[:len(lines[0].text)]
    assert first_line[0][0] == "م" and first_line[0][1] > first_line[4][1] > first_line[-1][1]  # from the right
    digits = [x for ch, x in first_line if ch.isdigit()]
    assert digits == sorted(digits)  # a number inside it still reads left to right
