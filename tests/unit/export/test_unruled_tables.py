"""Tables without a ruled grid read as rows and cells from where their text lies: a PDF's text and OCR
lines, rules between rows only (booktabs), a cell's second line, an OCR line over two cells; and
what is no table stays its lines."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

from _support import tables
from _support.layout_pages import PROSE
from ocrserve.contracts.structure import table_result
from ocrserve.export.structure import ParsedPage, parse_page
from ocrserve.export.tables import Table, table_html
from ocrserve.result import LayoutRegion, OCRPage, Segment, TextLine

#: hand-set type, in pixels: a letter's width, a space's (a quarter of the line, as in type) and a line's height
LETTER, SPACE, HEIGHT = 12.0, 7.0, 26.0
COLUMNS = (100.0, 300.0, 420.0)
ROWS = [["Item", "Qty", "Price"], ["Paper A4", "12", "4.50"], ["Toner black", "2", "61.00"]]


def box_line(text: str, x0: float, top: float, x1: float, **extra) -> TextLine:
    return TextLine(text, 0.99, [[x0, top], [x1, top], [x1, top + HEIGHT], [x0, top + HEIGHT]], **extra)


def layer_line(cells: Sequence[tuple[float, str]], top: float) -> TextLine:
    """One text-layer line as pdfium reads a row: its cells, each (x, text), run into one line, every
    character with its own edges (a space has none: it sits at the right edge of the one before)."""
    text, glyphs = "", []
    for x, cell in cells:
        if text:
            text += " "
            glyphs.append((glyphs[-1][1], glyphs[-1][1]))
        pen = x
        for ch in cell:
            width = SPACE if ch == " " else LETTER
            glyphs.append((pen, pen) if ch == " " else (pen, pen + width))
            pen += width
        text += cell
    return box_line(text, glyphs[0][0], top, glyphs[-1][1], source="text_layer", glyphs=tuple(glyphs))


def ocr_line(text: str, x: float, top: float) -> TextLine:
    """An OCR line: its box, no character edges (13 px a character, as OCR boxes run a little wide)."""
    return box_line(text, x, top, x + 13 * len(text))


def page_of(lines: list[TextLine], rulings: list[Segment] | None = None, image: np.ndarray | None = None) -> OCRPage:
    source = "text_layer" if any(line.glyphs for line in lines) else "ocr"
    return OCRPage(1240, 900, lines, [], None, {}, 0.0, False, False, image=image, source=source, rulings=rulings)


def region(label: str = "table", box: tuple[float, float, float, float] = (90, 180, 700, 420)) -> LayoutRegion:
    return LayoutRegion(label, 0.9, box)


def the_table(parsed: ParsedPage) -> Table:
    (table,) = [block.table for block in parsed.blocks if block.table is not None]
    return table


def test_an_unruled_table_of_a_pdf_s_text_is_read_as_rows_and_cells():
    lines = [layer_line(list(zip(COLUMNS, row)), 200 + 40 * r) for r, row in enumerate(ROWS)]
    assert lines[1].text == "Paper A4 12 4.50"  # a row is one line, as pdfium reads it
    parsed = parse_page(page_of(lines, rulings=[]), [region()])
    table = the_table(parsed)
    assert table.grid_text() == ROWS and not table.spans
    assert parsed.markdown == ("| Item | Qty | Price |\n| --- | --- | --- |\n| Paper A4 | 12 | 4.50 |\n"
                               "| Toner black | 2 | 61.00 |")
    # the columns meet in the gaps between their texts, the rows between their lines
    widest = lines[2].glyphs[len("Toner black") - 1][1]
    cell_00 = table.cells[0].box
    assert widest < cell_00[2] < COLUMNS[1] and 200 + HEIGHT <= cell_00[3] <= 240
    result = table_result(table)  # PaddleX's table_res_list entry
    assert len(result["cell_box_list"]) == 9 and result["pred_html"] == table_html(table)
    assert result["pred_html"].startswith("<html><body><table><tr><td>Item</td><td>Qty</td><td>Price</td></tr>")


def test_an_unruled_table_of_ocr_lines_is_read_alike():
    lines = [ocr_line(text, x, 200 + 40 * r) for r, row in enumerate(ROWS) for x, text in zip(COLUMNS, row)]
    assert the_table(parse_page(page_of(lines), [region()])).grid_text() == ROWS


def booktabs_lines() -> list[TextLine]:
    """A header whose last cell runs onto a second line (set at the top of its row), a group's name alone
    in its row just under the header's rule, and two rows of figures, 44 px apart."""
    return [layer_line([(100, "Item"), (300, "Qty"), (420, "Unit")], 200), layer_line([(420, "price")], 228),
            layer_line([(100, "Office")], 262), layer_line(list(zip(COLUMNS, ROWS[1])), 300),
            layer_line(list(zip(COLUMNS, ROWS[2])), 344)]


BOOKTABS_RULES: list[Segment] = [(90, 190, 500, 190), (90, 258, 500, 258), (90, 380, 500, 380)]


def test_a_booktabs_table_is_read_with_its_rules_parting_rows_and_a_wrapped_cell_joins_its_row():
    table = the_table(parse_page(page_of(booktabs_lines(), rulings=BOOKTABS_RULES), [region()]))
    assert table.grid_text() == [["Item", "Qty", "Unit price"], ["Office", "", ""], *ROWS[1:]]
    assert [cell.box[1] for cell in table.cells if cell.col == 0] == [190, 258, 294, 335]  # the rules bound rows
    assert table.cells[-1].box[3] == 380
    # without the header's rule the group's name, as near the header as its second line, would join it
    unruled = the_table(parse_page(page_of(booktabs_lines(), rulings=[]), [region()]))
    assert unruled.grid_text()[0] == ["Item Office", "Qty", "Unit price"]


def test_an_ocr_line_over_two_cells_is_cut_where_the_other_rows_part_the_columns():
    rows = [*ROWS[:2], ["Toner black 2", "61.00"], ["Stapler", "1", "9.90"]]
    lines = [ocr_line(text, x, 200 + 40 * r) for r, row in enumerate(rows) for x, text in zip(COLUMNS, row)]
    lines[6] = box_line("Toner black 2", COLUMNS[0], 280, COLUMNS[1] + 13)  # one box over the first two columns
    lines[7] = ocr_line("61.00", COLUMNS[2], 280)
    table = the_table(parse_page(page_of(lines), [region()]))
    assert table.grid_text() == [*ROWS, ["Stapler", "1", "9.90"]]


def test_an_ocr_line_over_two_cells_is_cut_at_its_gap_in_the_pixels():
    cells = tables.grid([*ROWS, ["Stapler", "1", "9.90"]])
    layout = tables.Layout(100, 150, (330, 250, 250), 70)
    image = tables.drawn(cells, layout, ruled=False)
    lines = []
    for r in range(4):
        row = [cell for cell in cells if cell.row == r]
        boxes = [tables.ink_box(cell, layout) for cell in row]
        merged = r == 2  # "Toner black" and "2" read as one line, its box over both
        groups = [(row[:2], boxes[:2]), (row[2:], boxes[2:])] if merged else [([c], [b]) for c, b in zip(row, boxes)]
        for group, group_boxes in groups:
            x0, y0 = min(b[0] for b in group_boxes) - 4, min(b[1] for b in group_boxes) - 4
            x1, y1 = max(b[2] for b in group_boxes) + 4, max(b[3] for b in group_boxes) + 4
            lines.append(TextLine(" ".join(c.text for c in group), 0.99, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
    assert "Toner black 2" in [line.text for line in lines]
    table = the_table(parse_page(page_of(lines, image=image), [region(box=layout.outer(cells))]))
    assert table.grid_text() == tables.rows_of(cells)


PARAGRAPH = textwrap.wrap(PROSE, 60)[:4]


@pytest.mark.parametrize("kind", ["text layer", "ocr"])
def test_a_paragraph_the_layout_model_called_a_table_stays_its_lines(kind):
    if kind == "ocr":
        lines = [ocr_line(text, 100, 200 + 34 * k) for k, text in enumerate(PARAGRAPH)]
    else:
        lines = [layer_line([(100, text)], 200 + 34 * k) for k, text in enumerate(PARAGRAPH)]
    parsed = parse_page(page_of(lines, rulings=[]), [region(box=(90, 190, 1000, 340))])
    (block,) = parsed.blocks
    assert block.label == "table" and block.table is None
    assert parsed.markdown == "  \n".join(PARAGRAPH)


def test_a_table_s_lines_outside_a_table_region_are_text():
    lines = [layer_line(list(zip(COLUMNS, row)), 200 + 40 * r) for r, row in enumerate(ROWS)]
    parsed = parse_page(page_of(lines, rulings=[]), [region("text")])
    assert [(block.label, block.table) for block in parsed.blocks] == [("text", None)]


def test_lines_with_two_cells_in_too_few_rows_are_no_table():
    items = ["Install the package", "Pull the models", "Start the server", "Open the page"]
    lines = [layer_line([(100, text)] + ([(420, "(optional)")] if k == 3 else []), 200 + 40 * k)
             for k, text in enumerate(items)]
    parsed = parse_page(page_of(lines, rulings=[]), [region()])
    assert [block.table for block in parsed.blocks] == [None]


# --- end to end: a PDF's page parsed from its text layer, and its render parsed from its pixels ---------
REGION_ROWS = [["Region", "Units", "Revenue", "Margin"], ["North", "1,204", "48,160", "12.4%"],
               ["South", "986", "39,440", "10.9%"], ["East", "1,530", "61,200", "14.1%"],
               ["West", "742", "29,680", "9.8%"]]
#: a scan's cells read right at least this often (OCR may misread a character)
SCAN_CELLS_RIGHT = 0.9


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory) -> str:
    """A report's page: a heading, a paragraph, a caption, an unruled table of figures, a paragraph."""
    prose = textwrap.wrap(PROSE, 95)
    layout = tables.Layout(150, 72 + 16.5 * (len(prose) + 3), (90, 70, 80, 70), 22)
    data = tables.pdf(tables.grid(REGION_ROWS), layout, rules="none", below=prose,
                      above=["Sales by region", "", *prose, "", "Table 1: Units and revenue by region"])
    path = tmp_path_factory.mktemp("unruled") / "report.pdf"
    path.write_bytes(data)
    return str(path)


def cells_right(parsed: ParsedPage) -> float:
    got = the_table(parsed).grid_text()
    right = sum(r < len(got) and c < len(got[r]) and got[r][c] == text
                for r, row in enumerate(REGION_ROWS) for c, text in enumerate(row))
    return right / sum(len(row) for row in REGION_ROWS)


def test_an_unruled_table_in_a_pdf_is_read_as_cells_from_its_text_layer_and_from_its_render(ocr_default, report_pdf):
    (digital,) = ocr_default.parse(report_pdf).pages
    assert digital.page.source == "text_layer" and digital.page.rulings == []  # nothing drawn: no rules
    assert the_table(digital).grid_text() == REGION_ROWS
    assert "| North | 1,204 | 48,160 | 12.4% |" in digital.markdown
    document = pdfium.PdfDocument(report_pdf)
    try:
        render = document[0].render(scale=150 / 72).to_pil().convert("RGB")
    finally:
        document.close()
    (scanned,) = ocr_default.parse(cv2.cvtColor(np.asarray(render), cv2.COLOR_RGB2BGR)).pages
    assert scanned.page.source == "ocr" and cells_right(scanned) >= SCAN_CELLS_RIGHT


def test_shaded_rows_are_backgrounds_not_rules_so_the_table_keeps_its_cells(ocr_default, tmp_path):
    prose = textwrap.wrap(PROSE, 95)
    layout = tables.Layout(150, 72 + 16.5 * (len(prose) + 3), (90, 70, 80, 70), 22)
    path = tmp_path / "shaded.pdf"
    path.write_bytes(tables.pdf(tables.grid(REGION_ROWS), layout, rules="shaded", below=prose,
                                above=["Sales by region", "", *prose, "", "Table 1: Units and revenue by region"]))
    (digital,) = ocr_default.parse(str(path)).pages
    # the three thin rules are rulings (each 0.5 pt thick: its two long sides); no shaded row's edge is one
    assert len(digital.page.rulings) == 6
    assert the_table(digital).grid_text() == REGION_ROWS


OPTIONS = [["Option", "Description"], ["natural", "Keep all colors"], ["rgb", "Convert to rgb"],
           ["cmy", "Convert to cmy"], ["hsb", "Convert to hsb"], ["dvipsnames,dvipsnamesxyzab", "Load a set"],
           ["gray", "Convert to gray"], ["table", "Load colortbl"], ["fixpdftex", "Load a patch"]]


def test_a_long_name_over_most_of_the_gap_between_columns_leaves_it_a_gap():
    lines = [layer_line(list(zip((100.0, 420.0), row)), 200 + 40 * r) for r, row in enumerate(OPTIONS)]
    assert lines[5].glyphs[25][1] == 412  # the long name ends 8 px before the next column: under a gap's width
    table = the_table(parse_page(page_of(lines, rulings=[]), [region(box=(90, 180, 800, 580))]))
    assert table.grid_text() == OPTIONS


@pytest.mark.parametrize("first_line, joined", [("Keep all colors in their own model except", True),
                                                ("Keep all colors", False)])
def test_the_next_line_of_a_wrapped_cell_joins_its_row_when_the_line_above_is_full(first_line, joined):
    # rows 40 px apart, the wrapped cell's next line 34 px below its first: nearer than a row, not by much
    rows = [["rgb", "Convert to rgb"], ["natural", first_line], ["cmy", "Convert to cmy and back"],
            ["hsb", "Convert to hsb"], ["gray", "Convert to gray"]]
    lines = [layer_line(list(zip((100.0, 420.0), row)), 200 + 40 * r + (34 if r > 1 else 0))
             for r, row in enumerate(rows)]
    lines.append(layer_line([(420.0, "RGB and Gray")], 274))
    table = the_table(parse_page(page_of(lines, rulings=[]), [region(box=(90, 180, 1000, 480))]))
    if joined:
        assert table.grid_text()[1] == ["natural", f"{first_line} RGB and Gray"] and len(table.grid_text()) == 5
    else:
        assert table.grid_text()[2] == ["", "RGB and Gray"] and len(table.grid_text()) == 6


def test_a_cell_that_ends_unfinished_takes_the_next_line_though_it_is_a_row_pitch_below():
    # l3pdffield's keys: `setFf,` over `setfieldflags`, rows and a cell's lines set 40 px apart alike
    rows = [["key", "value"], ["parent", "field ID"], ["setFf,", "list of flags"], ["V", "various"], ["DV", "various"]]
    lines = [layer_line(list(zip((100.0, 420.0), row)), 200 + 40 * (r + (r > 2))) for r, row in enumerate(rows)]
    lines.append(layer_line([(100.0, "setfieldflags")], 320))
    table = the_table(parse_page(page_of(lines, rulings=[]), [region(box=(90, 180, 1000, 420))]))
    assert table.grid_text() == [rows[0], rows[1], ["setFf, setfieldflags", "list of flags"], rows[3], rows[4]]
