"""Markdown from layout: regions plus the page's lines -> blocks in reading order, headings, paragraphs,
tables, figure crops, and headers, footers and page numbers kept out of the body; headings named by the
PDF's outline, and tables found by their rules where the layout model saw something else."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from _support import tables
from _support.layout_pages import paper_page, two_column_page
from ocrserve.engine import load_layout
from ocrserve.engine.layout import LayoutDetector
from ocrserve.export.structure import OutlineTitles, parse_page, table_markdown, title_key
from ocrserve.export.visualize import render_layout_image
from ocrserve.result import LayoutRegion, LineFont, OCRPage, OutlineEntry, TextLine
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


def test_pp_doclayout_labels_reach_the_markdown_as_pp_structurev3_writes_them():
    """A PP-DocLayout model's labels are PaddleX's already: a chart and a seal are cropped as figures (named by
    their label), a contents block keeps its lines, an abstract or an algorithm is a paragraph, and a formula
    number, a footnote and a side note stay in the blocks, out of the Markdown."""
    image = np.full((1400, 1000, 3), 255, np.uint8)
    lines = [line("Abstract: we read pages.", 100, 100, 700, 120),
             line("1 Introduction ..... 1", 100, 200, 500, 220), line("2 Method ..... 4", 100, 230, 500, 250),
             line("E = mc^2", 300, 300, 500, 330), line("(1)", 800, 300, 840, 330),
             line("for each page: read it", 100, 400, 600, 420),
             line("a note in the margin", 900, 500, 990, 520), line("1 A footnote.", 100, 1300, 400, 1320)]
    regions = [region("abstract", 95, 95, 705, 125), region("content", 95, 195, 505, 255),
               region("formula", 295, 295, 505, 335), region("formula_number", 795, 295, 845, 335),
               region("algorithm", 95, 395, 605, 425), region("aside_text", 895, 495, 995, 525),
               region("chart", 100, 600, 500, 900), region("seal", 600, 600, 800, 800),
               region("footnote", 95, 1295, 405, 1325)]
    parsed = parse_page(page_of(lines, image=image), regions)
    labels = [b.label for b in parsed.blocks]
    assert set(labels) == {r.label for r in regions}
    chart, seal = "imgs/img_in_chart_box_100_600_500_900.jpg", "imgs/img_in_seal_box_600_600_800_800.jpg"
    formula = "imgs/img_in_formula_box_295_295_505_335.jpg"  # an OCRed page's formula is kept as its image
    assert set(parsed.images) == {chart, seal, formula}
    body = parsed.markdown.split("\n\n")
    assert body[:2] == ["Abstract: we read pages.", "1 Introduction ..... 1  \n2 Method ..... 4"]
    assert formula in body[2] and body[3] == "for each page: read it"
    assert next(b for b in parsed.blocks if b.label == "formula").content == "E = mc^2"
    assert chart in parsed.markdown and seal in parsed.markdown
    for left_out in ("(1)", "margin", "footnote"):
        assert left_out not in parsed.markdown


def test_a_figure_region_full_of_text_is_text_and_a_page_number_in_it_stays_out():
    """The layout model boxes code listings and contents pages as figures: one holding a paragraph's
    worth of text over a good share of its area is read into the body instead (not its page number)."""
    listing = [line(f"{100 + i} \\def\\macro{i}{{\\relax expands to item {i} of the list}}", 120, 200 + 30 * i,
                    820, 222 + 30 * i) for i in range(12)]
    number = line("17", 490, 1330, 510, 1350)
    regions = [region("figure", 100, 190, 840, 1360)]
    parsed = parse_page(page_of([*listing, number]), regions)
    assert [b.label for b in parsed.blocks] == ["text", "number"]
    assert parsed.markdown.startswith("100 \\\\def") and "expands to item 11" in parsed.markdown
    assert not parsed.markdown.rstrip().endswith("17") and not parsed.images
    # a chart's few labels over a large area stay a figure
    labels = [line("0", 110, 600, 120, 615), line("10", 300, 600, 320, 615), line("Time (s)", 400, 640, 500, 660)]
    assert [b.label for b in parse_page(page_of(labels), [region("figure", 100, 190, 840, 700)]).blocks] == ["image"]


def test_a_text_region_inside_a_figure_of_text_is_read_with_it_in_line_order():
    listing = [line(f"{100 + i} \\def\\macro{i}{{\\relax expands to item {i} of the list}}", 120, 200 + 30 * i,
                    820, 222 + 30 * i) for i in range(12)]
    # the model boxed the listing as a figure, and its lines 2 to 5 again as text
    regions = [region("figure", 100, 190, 840, 560, score=0.8), region("text", 110, 255, 830, 350, score=0.7)]
    parsed = parse_page(page_of(listing), regions)
    assert [b.label for b in parsed.blocks] == ["text"]
    assert [ln.text for ln in parsed.blocks[0].lines] == [ln.text for ln in listing]


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


def drawn_line(image: np.ndarray, text: str, x: int, baseline: int, scale: float, thickness: int) -> TextLine:
    """`text` drawn on `image` in a Hershey face, and its OCR line: the box a detector would give it."""
    (width, height), descent = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    cv2.putText(image, text, (x, baseline), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    pad = height // 4
    return line(text, x - pad, baseline - height - pad, x + width + pad, baseline + descent + pad)


def test_on_a_scan_headings_come_from_the_ink_where_the_layout_model_missed_them():
    """No fonts on a scanned page: a numbered block inked bolder than the body, or set taller, is a heading;
    a numbered list item in the body's weight and a bold phrase without a number are not."""
    image = np.full((1400, 1000, 3), 255, np.uint8)
    body = [drawn_line(image, text, 100, 300 + 40 * i, 0.7, 1)
            for i, text in enumerate(["The method reads each page in order and", "keeps every line it finds there.",
                                      "It reads the ink of each line as well,", "so that the type is known."])]
    lines = [drawn_line(image, "2.1 Method", 100, 220, 0.7, 3),  # bold, numbered, at the body's size
             *body,
             drawn_line(image, "Results", 100, 560, 1.1, 2),  # larger, not numbered
             drawn_line(image, "3 apples were read", 100, 640, 0.7, 1),  # numbered, the body's weight
             drawn_line(image, "Bold words alone", 100, 700, 0.7, 3)]  # bold, not numbered
    regions = [region("text", *[float(v) for v in (*ln.polygon[0], *ln.polygon[2])]) for ln in lines[:1]]
    regions += [region("text", 80, 260, 700, 440)]
    regions += [region("text", *[float(v) for v in (*ln.polygon[0], *ln.polygon[2])]) for ln in lines[5:]]
    parsed = parse_page(page_of(lines, image=image), regions)
    assert [b.label for b in parsed.blocks] == ["paragraph_title", "text", "paragraph_title", "text", "text"]
    assert parsed.markdown.startswith("### 2.1 Method\n\nThe method reads")
    # without the page's pixels nothing says so, and the layout model's labels stand
    assert [b.label for b in parse_page(page_of(lines), regions).blocks] == ["text"] * 5


def outlined_page(lines: list[TextLine], *entries: tuple[str, int]) -> OCRPage:
    return dataclasses.replace(page_of(lines), outline=tuple(OutlineEntry(title, level) for title, level in entries))


def test_the_outline_makes_a_block_a_heading_at_its_depth_whatever_the_layout_called_it():
    lines = [line("Getting started", 100, 100, 400, 125), line("Install it first.", 100, 150, 500, 170),
             line("2.1 Options", 100, 200, 300, 225), line("Keys set the options.", 100, 250, 500, 270),
             line("Key   Meaning", 100, 300, 500, 320)]
    regions = [region("text", 95, 95, 405, 130), region("text", 95, 145, 505, 175), region("title", 95, 195, 305, 230),
               region("text", 95, 245, 505, 275), region("equation", 95, 295, 505, 325)]
    # the outline has the section without its number, and a subsection deeper than its number says
    parsed = parse_page(outlined_page(lines, ("Getting Started", 1), ("Options", 2), ("Key Meaning", 3)), regions,
                        first_page=False)
    assert [b.label for b in parsed.blocks] == ["paragraph_title", "text", "paragraph_title", "text",
                                                "paragraph_title"]
    assert [b.level for b in parsed.blocks] == [3, None, 4, None, 5]
    assert parsed.markdown.splitlines()[::2] == ["### Getting started", "Install it first.", "#### 2.1 Options",
                                                 "Keys set the options.", "##### Key   Meaning"]


def test_a_heading_the_layout_ran_into_its_paragraph_is_split_off_and_each_entry_names_one_block():
    lines = [line("Intro text.", 100, 50, 300, 70), line("Usage", 100, 100, 250, 125),
             line("Usage is simple: load the", 100, 130, 600, 150), line("package.", 100, 155, 250, 175),
             line("Usage", 100, 300, 250, 325), line("12", 480, 1300, 510, 1320)]
    parsed = parse_page(outlined_page(lines, ("Usage", 0)),
                        [region("text", 95, 45, 305, 75), region("text", 95, 95, 605, 180),
                         region("text", 95, 295, 255, 330)], first_page=False)
    assert [(b.label, b.content) for b in parsed.blocks] == [
        ("text", "Intro text."), ("paragraph_title", "Usage"), ("text", "Usage is simple: load the package."),
        ("text", "Usage"), ("number", "12")]
    assert parsed.blocks[1].box == (100, 100, 250, 125)
    assert "\n\n## Usage\n\nUsage is simple" in parsed.markdown


def test_running_headers_different_section_numbers_and_a_title_page_are_kept_as_they_were():
    lines = [line("3 Options", 100, 30, 300, 50), line("A Manual", 200, 100, 800, 150),
             line("4 Options", 100, 200, 300, 225), line("Text.", 100, 250, 300, 270)]
    regions = [region("header", 95, 25, 305, 55), region("title", 195, 95, 805, 155),
               region("text", 95, 195, 305, 230), region("text", 95, 245, 305, 275)]
    parsed = parse_page(outlined_page(lines, ("3 Options", 0), ("A Manual", 0)), regions)
    assert [(b.label, b.level) for b in parsed.blocks] == [("header", None), ("doc_title", None), ("text", None),
                                                           ("text", None)]
    assert parsed.markdown.startswith("# A Manual\n\n4 Options")


def test_titles_compare_without_case_spacing_width_or_a_section_number():
    assert title_key("２.1  The ﬁrst  Steps") == title_key("2.1 the first steps") == ("2.1", "thefirststeps")
    assert title_key("A.2 Appendix notes") == ("A.2", "appendixnotes")
    assert title_key("A Manual") == (None, "amanual") and title_key("1999") == (None, "1999")
    titles = OutlineTitles([OutlineEntry("Setup", 1), OutlineEntry("2 Fonts", 0)])
    assert titles.take([line("3 Fonts", 0, 0, 9, 9)]) is None
    assert titles.take([line("fonts", 0, 0, 9, 9)]) == OutlineEntry("2 Fonts", 0)
    assert titles.take([line("1.2 SETUP", 0, 0, 9, 9)]) == OutlineEntry("Setup", 1) and not titles


def test_a_running_header_the_layout_called_text_names_nothing_and_its_page_number_stays_out():
    lines = [line("2 The box command", 100, 30, 400, 50), line("4", 880, 30, 900, 50),
             line("Text that goes on.", 100, 100, 500, 120), line("2 The box command", 100, 200, 400, 225),
             line("Boxes are set so.", 100, 250, 500, 270)]
    regions = [region("text", 95, 25, 905, 55), region("text", 95, 95, 505, 125), region("title", 95, 195, 405, 230),
               region("text", 95, 245, 505, 275)]
    parsed = parse_page(outlined_page(lines, ("The box command", 0)), regions, first_page=False)
    assert [(b.label, b.level) for b in parsed.blocks] == [("text", None), ("text", None), ("paragraph_title", 2),
                                                           ("text", None)]
    assert parsed.blocks[0].content == "2 The box command 4"
    # the same page where the model put the header's title on a line of its own: it is split off, not a heading
    lone = parse_page(outlined_page(lines[:1] + lines[2:], ("The box command", 0)), regions, first_page=False)
    assert [b.label for b in lone.blocks][:1] == ["text"] and "## 2 The box command" in lone.markdown
    # and where the section's heading is the top row, the page number the region ran into it stays out
    opening = parse_page(outlined_page(lines[:3], ("The box command", 0)), regions[:2], first_page=False)
    assert [(b.label, b.content) for b in opening.blocks] == [("paragraph_title", "2 The box command"),
                                                              ("number", "4"), ("text", "Text that goes on.")]


LAYOUT = tables.Layout(100, 300, (300, 150, 150), 60)


def cell_lines(cells: list[tables.Cell], layout: tables.Layout = LAYOUT) -> list[TextLine]:
    """Each cell's text as a line where `tables.drawn` writes it (26 px type, at its left, mid-height)."""
    out = []
    for cell in cells:
        x0, y0, _, y1 = layout.box(cell)
        out.append(line(cell.text, x0 + 16, (y0 + y1) / 2 - 13, x0 + 16 + 14 * len(cell.text), (y0 + y1) / 2 + 13))
    return out


def ruled_page(cells: list[tables.Cell], rulings: bool) -> OCRPage:
    """A heading, and the table: its rules as a PDF draws them (`rulings`), else only in the page's pixels."""
    page = page_of([line("Supplies", 100, 200, 300, 230), *cell_lines(cells)], width=1240, height=900,
                   image=tables.drawn(cells, LAYOUT))
    if rulings:
        page.rulings = [side for cell in cells for side in _sides(LAYOUT.box(cell))]
    return page


def _sides(box: tuple[float, float, float, float]) -> list[tuple[float, float, float, float]]:
    x0, y0, x1, y1 = box
    return [(x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)]


@pytest.mark.parametrize("rulings", [True, False], ids=["pdf-rulings", "pixels"])
def test_a_ruled_grid_is_a_table_where_the_layout_model_saw_a_formula(rulings):
    page = ruled_page(tables.PLAIN, rulings)
    table_box = LAYOUT.outer(tables.PLAIN)
    regions = [region("title", 95, 195, 305, 235), region("equation", table_box[0] + 20, table_box[1] - 5,
                                                            table_box[2] - 30, table_box[3] + 5)]
    parsed = parse_page(page, regions)
    assert [b.label for b in parsed.blocks] == ["doc_title", "table"]
    table = parsed.blocks[1]
    assert table.table is not None and table.table.grid_text() == tables.rows_of(tables.PLAIN)
    assert table.score is None and all(abs(a - b) <= 3 for a, b in zip(table.box, table_box))
    assert "| Paper A4 | 12 | 4.50 |" in parsed.markdown
    assert [r.label for r in parsed.regions] == ["title", "equation"]  # what the model saw stays in layout_det_res
    unread = parse_page(page, regions, tables=False)
    assert [b.label for b in unread.blocks] == ["doc_title", "formula"]


def test_a_grid_the_layout_boxed_as_a_table_is_read_once_and_empty_boxes_are_no_table():
    page = ruled_page(tables.PLAIN, rulings=True)
    parsed = parse_page(page, [region("table", *LAYOUT.outer(tables.PLAIN), score=0.93)])
    (table,) = [b for b in parsed.blocks if b.label == "table"]
    assert table.score == 0.93 and table.table is not None
    form = [tables.Cell(0, 0, "Name"), tables.Cell(0, 1, "Date"), tables.Cell(1, 0, ""), tables.Cell(1, 1, "")]
    empty = ruled_page(form, rulings=True)
    empty.lines = [ln for ln in empty.lines if ln.text]
    assert "table" not in [b.label for b in parse_page(empty, [region("text", 95, 295, 555, 425)]).blocks]


def test_a_frame_around_the_content_is_no_table():
    # a slide's rules: a headline bar, a sidebar of three sections, and the content in one big cell
    frame = [tables.Cell(0, 0, "Syntax and semantics", colspan=2), tables.Cell(1, 0, "Rules make texts.", rowspan=3),
             tables.Cell(1, 1, "Goals"), tables.Cell(2, 1, "Syntax"), tables.Cell(3, 1, "Semantics")]
    layout = tables.Layout(20, 20, (900, 200), 150)
    page = page_of(cell_lines(frame, layout), width=1240, height=900)
    page.rulings = [side for cell in frame for side in _sides(layout.box(cell))]
    parsed = parse_page(page, [region("figure", 20, 20, 1120, 620)])
    assert [b.label for b in parsed.blocks] == ["image"]


def test_dot_leaders_of_a_contents_page_stay_out_of_the_markdown_and_in_the_block():
    lines = [line("1 Introduction . . . . . . . . . . . . 3", 100, 100, 900, 120),
             line("2 Method ........................ iv", 100, 130, 900, 150),
             line("It waits... and counts 1.2.3.4.5.6 8", 100, 160, 900, 180)]
    parsed = parse_page(page_of(lines), [region("text", 95, 95, 905, 155), region("text", 95, 157, 905, 185)])
    assert parsed.markdown == "1 Introduction 3 2 Method iv\n\nIt waits... and counts 1.2.3.4.5.6 8"
    assert parsed.blocks[0].content.startswith("1 Introduction . . . .")  # the JSON keeps the page's own text


def test_a_line_two_regions_hold_about_alike_goes_to_the_smaller():
    lines = [line("2.3 Catcode stuff", 100, 500, 300, 520), line("Body text of the passage.", 100, 540, 900, 560)]
    # the title's region sits a pixel below its line; the passage's holds all of both
    regions = [region("text", 90, 90, 910, 900, score=0.52), region("title", 100, 501, 300, 521, score=0.9)]
    parsed = parse_page(page_of(lines), regions, first_page=False)
    assert sorted((b.label, b.content) for b in parsed.blocks) == [("paragraph_title", "2.3 Catcode stuff"),
                                                                  ("text", "Body text of the passage.")]


def test_a_formula_is_its_image_on_a_scan_and_its_text_on_a_text_layer_page():
    image = np.full((1400, 1000, 3), 255, np.uint8)
    lines = [line("We have", 100, 200, 300, 220), line("E = mc^2", 300, 300, 500, 330)]
    regions = [region("text", 95, 195, 305, 225), region("equation", 295, 295, 505, 335)]
    scanned = parse_page(page_of(lines, image=image), regions)
    assert list(scanned.images) == ["imgs/img_in_formula_box_295_295_505_335.jpg"]
    assert scanned.markdown.startswith("We have\n\n<div") and "E = mc" not in scanned.markdown
    digital = parse_page(dataclasses.replace(page_of(lines, image=image), source="text_layer"), regions)
    assert digital.markdown == "We have\n\nE = mc^2" and not digital.images


def test_lines_no_region_holds_join_only_the_line_just_above_them():
    """Two lines no region holds, a heading's region between them: each is read in its own place, not the
    lower one joined to the upper because it overlaps it across."""
    lines = [line("The listing ends here.", 100, 100, 600, 120), line("2.3 Files", 100, 200, 300, 220),
             line("The next passage starts.", 100, 300, 600, 320)]
    parsed = parse_page(page_of(lines), [region("title", 95, 195, 305, 225)], first_page=False)
    assert [b.content for b in parsed.blocks] == ["The listing ends here.", "2.3 Files", "The next passage starts."]


def test_a_text_region_drawn_over_others_is_cut_where_they_pass_between_its_lines():
    """The model drew one text region from a listing's last line down past the heading below it: the
    region's lines above and below the heading are read in their places."""
    lines = [line("\\set:Nx \\l_tmp_tl {x}", 100, 100, 500, 120), line("• Each entry is optional.", 120, 150, 800, 170),
             line("2.3 Files", 100, 200, 300, 220), line("The next passage starts.", 100, 250, 800, 270),
             line("and runs on.", 100, 275, 400, 295)]
    regions = [region("text", 95, 95, 805, 300), region("text", 115, 145, 805, 175), region("title", 95, 195, 305, 225)]
    parsed = parse_page(page_of(lines), regions, first_page=False)
    assert [b.content for b in parsed.blocks] == ["\\set:Nx \\l_tmp_tl {x}", "• Each entry is optional.", "2.3 Files",
                                                  "The next passage starts. and runs on."]
    assert [b.label for b in parsed.blocks] == ["text", "text", "paragraph_title", "text"]
