"""Tables read as rows and cells: from a digital PDF's rulings and glyphs, and from a drawn page's pixels and OCR."""

from __future__ import annotations

import pytest

from _support import tables
from ocrserve import load_settings
from ocrserve.export.structure import parse_page
from ocrserve.inputs import Limits
from ocrserve.inputs.pdf import PdfPages
from ocrserve.inputs.textlayer import layer_result
from ocrserve.result import LayoutRegion, OCRPage, TextLine

PDF_LAYOUT = tables.Layout(72, 200, (160, 80, 100), 24)  # points
DRAWN_LAYOUT = tables.Layout(120, 150, (330, 250, 250), 70)  # pixels


def layer_page(cells: list[tables.Cell]) -> tuple[OCRPage, float]:
    """The PDF's page as read from its text layer (no OCR, no pixels), and its pixels per point."""
    limits = Limits.from_settings(load_settings())
    with PdfPages(tables.pdf(cells, PDF_LAYOUT, above=["Quarterly figures"]), limits) as pages:
        layer = pages.text_layer(0)
        width, height = pages.page_size(0)
    return layer_result(layer, width, height), limits.pdf_scale


def table_region(box: tuple[float, float, float, float], scale: float = 1.0, inset: float = 6) -> LayoutRegion:
    """A layout box a little inside the table's frame, as the detector draws one."""
    x0, y0, x1, y1 = (v * scale for v in box)
    return LayoutRegion("table", 0.9, (x0 + inset, y0 + inset, x1 - inset, y1 - inset))


def cell_texts(parsed) -> list[tuple[int, int, int, int, str]]:
    (table,) = [b.table for b in parsed.blocks if b.table is not None]
    return [(c.row, c.col, c.rowspan, c.colspan, c.text) for c in table.cells]


def known(cells: list[tables.Cell]) -> list[tuple[int, int, int, int, str]]:
    return sorted((c.row, c.col, c.rowspan, c.colspan, c.text) for c in cells)


def test_a_digital_pdf_table_is_read_from_its_rulings_and_glyphs():
    page, scale = layer_page(tables.PLAIN)
    assert page.rulings and "Paper A4 12 4.50" in page.texts  # pdfium ran the row's cells into one line
    parsed = parse_page(page, [table_region(PDF_LAYOUT.outer(tables.PLAIN), scale)])
    assert cell_texts(parsed) == known(tables.PLAIN)
    (table,) = [b.table for b in parsed.blocks if b.table is not None]
    for cell, drawn in zip(table.cells, sorted(tables.PLAIN, key=lambda c: (c.row, c.col))):
        assert all(abs(a - b * scale) <= 2 for a, b in zip(cell.box, PDF_LAYOUT.box(drawn)))
    assert parsed.markdown == ("Quarterly figures\n\n| Item | Qty | Price |\n| --- | --- | --- |\n"
                               "| Paper A4 | 12 | 4.50 |\n| Toner black | 2 | 61.00 |\n| Stapler | 1 | 9.90 |")
    block = parsed.blocks[-1]
    assert block.label == "table" and block.content.startswith("<html><body><table><tr><td>Item</td>")


def test_a_spanning_header_cell_is_html_with_rowspan_and_colspan():
    page, scale = layer_page(tables.SPANNING)
    parsed = parse_page(page, [table_region(PDF_LAYOUT.outer(tables.SPANNING), scale)])
    assert cell_texts(parsed) == known(tables.SPANNING)
    assert parsed.markdown.endswith(
        '<table><tr><td rowspan="2">Region</td><td colspan="2">Sales</td></tr><tr><td>Spring</td><td>Autumn</td>'
        "</tr><tr><td>North</td><td>120</td><td>135</td></tr><tr><td>South</td><td>98</td><td>110</td></tr></table>")


@pytest.mark.parametrize("cells", [tables.PLAIN, tables.SPANNING], ids=["plain", "spanning"])
def test_a_drawn_table_is_read_from_its_pixels_and_ocr(ocr_default, cells):
    image = tables.drawn(cells, DRAWN_LAYOUT)
    page = ocr_default.predict(image)[0]
    page.image = image
    assert page.rulings is None  # no PDF drawing: the rules are found in the pixels
    parsed = parse_page(page, [table_region(DRAWN_LAYOUT.outer(cells))])
    assert cell_texts(parsed) == known(cells)


def line(text: str, x0: float, y0: float, x1: float, y1: float) -> TextLine:
    return TextLine(text, 0.99, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def test_an_ocr_line_across_two_cells_is_cut_at_the_space_nearest_the_rule():
    image = tables.drawn(tables.grid([["a", "b"], ["c", "d"]]), tables.Layout(100, 100, (300, 300), 80))
    lines = [line("Paper A4 12", 116, 120, 460, 160), line("Toner", 116, 200, 220, 240), line("2", 416, 200, 440, 240)]
    page = OCRPage(1240, 900, lines, [], None, {}, 0.0, False, False, image=image)
    parsed = parse_page(page, [table_region((100, 100, 700, 260))])
    assert cell_texts(parsed) == [(0, 0, 1, 1, "Paper A4"), (0, 1, 1, 1, "12"), (1, 0, 1, 1, "Toner"),
                                  (1, 1, 1, 1, "2")]


def test_without_table_recognition_a_table_is_its_lines_and_without_rulings_its_text_places_the_cells():
    page, scale = layer_page(tables.PLAIN)
    region = table_region(PDF_LAYOUT.outer(tables.PLAIN), scale)
    off = parse_page(page, [region], tables=False)
    assert all(b.table is None for b in off.blocks) and not off.tables
    assert "Paper A4 12 4.50" in off.markdown
    page.rulings = []
    (table,) = [b.table for b in parse_page(page, [region]).blocks if b.table is not None]
    assert table.grid_text() == tables.rows_of(tables.PLAIN)


def test_text_in_a_grid_position_no_cell_covers_goes_to_its_row_s_nearest_cell():
    """A grid whose merges leave a notch (no cell at row 1, column 1): the text there is kept, in the
    cell beside it, rather than lost or failing the page."""
    from ocrserve.engine.tables import Grid, GridCell
    from ocrserve.export.tables import _filled

    cells = (GridCell(0, 0, 1, 1, (0, 0, 100, 40)), GridCell(0, 1, 1, 1, (100, 0, 200, 40)),
             GridCell(1, 0, 1, 1, (0, 40, 100, 80)))
    grid = Grid((0.0, 100.0, 200.0), (0.0, 40.0, 80.0), cells)
    lines = [TextLine("a", 0.9, [[10, 10], [40, 10], [40, 30], [10, 30]]),
             TextLine("b", 0.9, [[110, 10], [140, 10], [140, 30], [110, 30]]),
             TextLine("c", 0.9, [[10, 50], [40, 50], [40, 70], [10, 70]]),
             TextLine("notch", 0.9, [[120, 50], [180, 50], [180, 70], [120, 70]])]
    table = _filled(grid, lines, 20.0)
    assert [cell.text for cell in table.cells] == ["a", "b", "c notch"]
