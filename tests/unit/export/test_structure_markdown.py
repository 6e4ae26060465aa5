"""Markdown from layout: regions plus the page's lines -> blocks in reading order, headings, paragraphs,
tables, figure crops, and headers, footers and page numbers kept out of the body."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from _support.layout_pages import paper_page, two_column_page
from ocrserve.engine import load_layout
from ocrserve.engine.layout import LayoutDetector
from ocrserve.export.structure import parse_page, table_markdown
from ocrserve.export.visualize import render_layout_image
from ocrserve.result import LayoutRegion, LineFont, OCRPage, TextLine
from ocrserve.settings import load_settings


def line(text: str, x0: float, y0: float, x1: float, y1: float) -> TextLine:
    return TextLine(text, 0.99, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def page_of(lines: list[TextLine], width: int = 1000, height: int = 1400, image: np.ndarray | None = None) -> OCRPage:
    return OCRPage(width=width, height=height, lines=lines, detected_polygons=[ln.polygon for ln in lines],
                   doc_angle=None, det_params={}, text_rec_score_thresh=0.0, use_textline_orientation=False,
                   return_word_box=False, image=image)


def region(label: str, *box: float, score: float = 0.9) -> LayoutRegion:
    return LayoutRegion(label, score, (box[0], box[1], box[2], box[3]))


def test_titles_become_headings_text_paragraphs_and_page_furniture_stays_out():
    lines = [line("Running header", 100, 40, 400, 60), line("A Study of Pages", 200, 100, 800, 150),
             line("2.1 Method", 100, 200, 300, 230), line("The method reads each", 100, 250, 900, 275),
             line("page in order.", 100, 280, 400, 305), line("7", 495, 1340, 505, 1360)]
    regions = [region("header", 95, 35, 405, 65), region("title", 195, 95, 805, 155),
               region("title", 95, 195, 305, 235), region("text", 95, 245, 905, 310),
               region("footer", 497, 1342, 503, 1358)]
    parsed = parse_page(page_of(lines), regions)
    assert [b.label for b in parsed.blocks] == ["header", "doc_title", "paragraph_title", "text", "number"]
    assert parsed.markdown == "# A Study of Pages\n\n### 2.1 Method\n\nThe method reads each page in order."
    assert parsed.blocks[0].content == "Running header" and parsed.blocks[-1].content == "7"
    assert parsed.is_start and parsed.is_end


def test_lines_no_region_holds_are_paragraphs_of_their_own_in_reading_order():
    lines = [line("Held text.", 100, 100, 500, 120), line("An orphan line", 100, 400, 500, 420),
             line("and its second line.", 100, 425, 500, 445)]
    parsed = parse_page(page_of(lines), [region("text", 95, 95, 505, 125)])
    assert [b.content for b in parsed.blocks] == ["Held text.", "An orphan line and its second line."]
    assert parsed.blocks[1].score is None


def test_a_page_that_continues_and_runs_on_says_so():
    lines = [line("continued from before.", 100, 100, 500, 120), line("A sentence that runs on", 100, 300, 500, 320)]
    parsed = parse_page(page_of(lines), [region("text", 95, 95, 505, 125), region("text", 95, 295, 505, 325)])
    assert not parsed.is_start and not parsed.is_end


def test_a_table_in_a_grid_is_a_pipe_table_else_row_by_row():
    grid = [line("Name", 100, 100, 180, 120), line("Size", 300, 100, 360, 120),
            line("a|b", 100, 140, 140, 160), line("12", 300, 140, 330, 160)]
    assert table_markdown(grid) == "| Name | Size |\n| --- | --- |\n| a\\|b | 12 |"
    ragged = grid[:3]
    assert table_markdown(ragged) == "Name | Size  \na\\|b"


def test_a_figure_is_cropped_and_linked_and_its_text_is_not_in_the_body():
    image = np.full((1400, 1000, 3), 255, np.uint8)
    image[500:700, 200:800] = (0, 0, 255)
    lines = [line("axis label", 300, 650, 400, 670), line("Figure 1: A red box", 300, 720, 700, 740)]
    parsed = parse_page(page_of(lines, image=image),
                        [region("figure", 200, 500, 800, 700), region("figure_caption", 295, 715, 705, 745)])
    name = "imgs/img_in_image_box_200_500_800_700.jpg"
    # as PP-StructureV3 writes a figure: a centred <img>, 60% of the page's width as on the page
    assert parsed.markdown == (f'<div style="text-align: center;"><img src="{name}" alt="Image" width="60%" /></div>'
                               "\n\nFigure 1: A red box")
    crop = cv2.imdecode(np.frombuffer(parsed.images[name], np.uint8), cv2.IMREAD_COLOR)
    assert crop.shape[:2] == (200, 600) and crop[100, 300, 2] > 200 and crop[100, 300, 0] < 60


@pytest.fixture(scope="module")
def detector() -> LayoutDetector:
    return load_layout(load_settings())


def test_a_drawn_paper_reads_as_markdown_a_person_would_keep(detector, ocr_default):
    drawn = paper_page(page_number=3)
    page = ocr_default.predict(drawn.image)[0]
    page.image = drawn.image
    parsed = parse_page(page, detector.detect(drawn.image))
    md = parsed.markdown
    assert md.startswith("# Reading Documents by Their Layout\n\n## 1. Introduction\n\nLayout analysis finds")
    assert "| Model | Pages | Seconds |" in md and "| tiny | 120 | 6.8 |" in md
    assert md.index("Table 1") < md.index("| Model") < md.index('<img src="imgs/img_in_image_box_') < md.index("Figure 1")
    assert not md.rstrip().endswith("3") and "number" in [b.label for b in parsed.blocks]
    assert len(parsed.images) == 1


def test_two_columns_come_out_column_by_column(detector, ocr_default):
    drawn = two_column_page()
    page = ocr_default.predict(drawn.image)[0]
    parsed = parse_page(page, detector.detect(drawn.image))
    paragraphs = [b for b in parsed.blocks if b.label == "text"]
    assert len(paragraphs) == 6
    assert all(b.box[0] < 600 for b in paragraphs[:3]) and all(b.box[0] > 600 for b in paragraphs[3:])


def test_the_layout_image_outlines_each_region():
    image = np.full((400, 300, 3), 255, np.uint8)
    drawn = render_layout_image(image, [region("text", 50, 100, 250, 300)])
    assert drawn.shape == image.shape and (drawn[200, 50] != 255).any() and (drawn[200, 150] == 255).all()


def typeset(text: str, x0: float, y0: float, x1: float, y1: float, size: float, bold: bool = False) -> TextLine:
    """A text-layer line with its type, as inputs/textlayer.py reads it from a PDF."""
    return dataclasses.replace(line(text, x0, y0, x1, y1), source="text_layer", font=LineFont(size, bold))


def test_on_a_text_layer_page_headings_come_from_the_type_where_the_layout_model_missed_them():
    lines = [typeset("1 Documentation", 100, 100, 400, 130, 14.4, True),
             typeset("1.1 Logo macros", 100, 150, 380, 175, 12, True),
             typeset("The macros set each logo as its", 100, 200, 900, 220, 10),
             typeset("authors wrote it.", 100, 225, 400, 245, 10),
             typeset("1.1.1 Fonts", 100, 270, 300, 290, 10, True),
             typeset("Bold words in a sentence.", 100, 300, 600, 320, 10, True),
             typeset("Fonts are set by keys.", 100, 330, 600, 350, 10),
             typeset("4", 495, 1340, 505, 1360, 10)]
    # the model ran both headings into one caption and called the third a paragraph; it saw no page number
    regions = [region("figure_caption", 95, 95, 405, 180), region("text", 95, 195, 905, 250),
               region("text", 95, 265, 305, 295), region("text", 95, 295, 605, 355)]
    parsed = parse_page(page_of(lines), regions)
    assert [b.label for b in parsed.blocks] == ["paragraph_title", "paragraph_title", "text", "paragraph_title",
                                                "text", "number"]
    assert parsed.markdown.splitlines()[:4] == ["## 1 Documentation", "", "### 1.1 Logo macros", ""]
    assert "#### 1.1.1 Fonts" in parsed.markdown and "\n4" not in parsed.markdown


def test_without_fonts_the_layout_model_alone_names_headings():
    lines = [line("1 Documentation", 100, 100, 400, 130), line("Body text that follows.", 100, 200, 900, 220)]
    parsed = parse_page(page_of(lines), [region("text", 95, 95, 405, 135), region("text", 95, 195, 905, 225)])
    assert [b.label for b in parsed.blocks] == ["text", "text"]
