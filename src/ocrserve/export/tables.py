"""A table region's cells and their text: its ruling lines -> a grid (engine/tables.py), its lines -> cells.

The rules are the PDF's own drawing when the page was read from its text layer (`OCRPage.rulings`),
else they are found in the table's pixels. `ruled_tables` finds the grids on a whole page, so that a
table reads as one where the layout model called it something else. Each line goes to the cell holding its middle; a line that
runs across cells (pdfium joins a row's cells into one line, OCR may box two close cells as one) is
cut where the columns meet: at its characters' own edges for a PDF's text, else at the space nearest
the rule, the characters taken as evenly wide. A table reads as a Markdown pipe table when no cell
spans, else as an HTML `<table>` with rowspan/colspan; PaddleX's `pred_html` is that HTML either way.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..engine.tables import Box, Grid, detect_rulings, find_grids, table_grid
from ..result import OCRPage, TextLine
from .markdown import escape, join_lines

#: the rules of a table are looked for this far (a share of its size, and at least 12 px) outside its
#: layout box: the detector's box often stops just inside the frame
REGION_MARGIN = 0.03
#: a ruling found in pixels is at least this many text heights long across and this many tall
RULE_ACROSS, RULE_TALL = 2.0, 1.1
#: a table found by its rules alone, where no layout region says table, has text in at least this
#: many of its rows and of its columns: a grid of empty boxes is a form to fill, not a table
RULED_TEXT_ROWS = RULED_TEXT_COLS = 2
#: and none of its cells covers more than this share of it: a grid around one big cell is a frame about
#: the page's content (a slide's headline and sidebar, a boxed page), not a table
FRAME_CELL = 0.5


@dataclass(frozen=True)
class TableCell:
    """A cell of a recognised table: its place, its spans, its box in the page's pixels and its text."""

    row: int
    col: int
    rowspan: int
    colspan: int
    box: tuple[int, int, int, int]
    text: str


@dataclass(frozen=True)
class Table:
    """A table region read as rows and cells, and the lines it was read from."""

    rows: int
    cols: int
    cells: tuple[TableCell, ...]
    lines: tuple[TextLine, ...]

    @property
    def spans(self) -> bool:
        return any(c.rowspan > 1 or c.colspan > 1 for c in self.cells)

    def grid_text(self) -> list[list[str]]:
        """Each row's cells' text, a spanning cell's text in its first row and column only."""
        out = [["" for _ in range(self.cols)] for _ in range(self.rows)]
        for cell in self.cells:
            out[cell.row][cell.col] = cell.text
        return out


def _line_height(lines: Sequence[TextLine]) -> float:
    heights = [line.box[3] - line.box[1] for line in lines]
    return float(np.median(heights)) if heights else 20.0


def _rulings(page: OCRPage, region: Box, height: float) -> list[tuple[float, float, float, float]]:
    if page.rulings is not None:
        return list(page.rulings)
    if page.image is None:
        return []
    x0, y0, x1, y1 = (int(round(v)) for v in region)
    return detect_rulings(page.image, (x0, y0, x1, y1), int(RULE_ACROSS * height), int(RULE_TALL * height))


def _grown(box: Sequence[float], page: OCRPage) -> Box:
    margin = max(12.0, REGION_MARGIN * max(box[2] - box[0], box[3] - box[1]))
    return (max(box[0] - margin, 0.0), max(box[1] - margin, 0.0),
            min(box[2] + margin, float(page.width)), min(box[3] + margin, float(page.height)))


def _edges(line: TextLine) -> list[tuple[float, float]]:
    """Each character's left and right edge: the PDF's own, else the line's width shared evenly."""
    if line.glyphs is not None and len(line.glyphs) == len(line.text):
        return list(line.glyphs)
    x0, _, x1, _ = line.box
    step = (x1 - x0) / max(len(line.text), 1)
    return [(x0 + k * step, x0 + (k + 1) * step) for k in range(len(line.text))]


def _cuts(line: TextLine, xs: Sequence[float], tol: float) -> list[tuple[str, float]]:
    """The line cut at the column boundaries inside it: (piece, its middle x) for each non-blank piece."""
    text, edges = line.text, _edges(line)
    x0, x1 = edges[0][0], edges[-1][1]
    at = [0]
    for boundary in xs:
        if not x0 + tol < boundary < x1 - tol:
            continue
        cut = next((k for k, (_, right) in enumerate(edges) if right > boundary), len(text))
        if line.glyphs is None:  # estimated edges: cut at the nearest space, if one is near
            spaces = [k for k, ch in enumerate(text) if ch.isspace() and abs(k - cut) <= 3]
            cut = min(spaces, key=lambda k: abs(k - cut), default=cut)
        if at[-1] < cut < len(text):
            at.append(cut)
    at.append(len(text))
    pieces = []
    for a, b in zip(at, at[1:]):
        piece = text[a:b].strip()
        if piece:
            left = next(k for k in range(a, b) if not text[k].isspace())
            right = max(k for k in range(a, b) if not text[k].isspace())
            pieces.append((piece, (edges[left][0] + edges[right][1]) / 2))
    return pieces


def _tolerance(height: float) -> float:
    """How far apart two rules' pieces may be and still be one rule, from the text's height."""
    return max(3.0, height / 5)


def recognise_table(page: OCRPage, box: Sequence[float], lines: Sequence[TextLine]) -> Table | None:
    """The table in `box` as cells with their text, or None when no ruled grid is found there."""
    height = _line_height(lines)
    region = _grown(box, page)
    grid = table_grid(_rulings(page, region, height), region, tol=_tolerance(height))
    return None if grid is None else _filled(grid, lines, height)


def ruled_tables(page: OCRPage) -> list[Box]:
    """The boxes of the page's ruled tables, whatever its layout regions say: grids of at least two
    rows and two columns, from the PDF's drawing or found in the page's pixels, with text in two rows
    and two columns of them and no cell that fills most of them."""
    height = _line_height(page.lines)
    boxes = []
    for grid in find_grids(_rulings(page, (0.0, 0.0, float(page.width), float(page.height)), height),
                           (page.width, page.height), _tolerance(height)):
        box = (grid.xs[0], grid.ys[0], grid.xs[-1], grid.ys[-1])
        if max(_box_area(cell.box) for cell in grid.cells) > FRAME_CELL * _box_area(box):
            continue
        inside = [line for line in page.lines if box[0] <= (line.box[0] + line.box[2]) / 2 <= box[2]
                  and box[1] <= (line.box[1] + line.box[3]) / 2 <= box[3]]
        filled = [cell for cell in _filled(grid, inside, height).cells if cell.text]
        if len({c.row for c in filled}) >= RULED_TEXT_ROWS and len({c.col for c in filled}) >= RULED_TEXT_COLS:
            boxes.append(box)
    return boxes


def _box_area(box: Sequence[float]) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def _filled(grid: Grid, lines: Sequence[TextLine], height: float) -> Table:
    """The grid's cells with the text of the lines (or pieces of lines) whose middle each holds."""
    owner = {}
    for k, cell in enumerate(grid.cells):
        for r in range(cell.row, cell.row + cell.rowspan):
            for c in range(cell.col, cell.col + cell.colspan):
                owner[r, c] = k
    held: dict[int, list[tuple[float, float, str]]] = {}
    for line in lines:
        if not line.text:
            continue
        lx0, ly0, lx1, ly1 = line.box
        row = _index(grid.ys, (ly0 + ly1) / 2)
        for piece, middle in _cuts(line, grid.xs[1:-1], tol=height / 4):
            col = _index(grid.xs, middle)
            if row is not None and col is not None:
                held.setdefault(owner[row, col], []).append(((ly0 + ly1) / 2, middle, piece))
    cells = []
    for k, cell in enumerate(grid.cells):
        pieces = sorted(held.get(k, []), key=lambda p: (round(p[0] / max(height, 1.0)), p[1]))
        bx0, by0, bx1, by1 = (int(round(v)) for v in cell.box)
        cells.append(TableCell(cell.row, cell.col, cell.rowspan, cell.colspan, (bx0, by0, bx1, by1),
                               join_lines([p[2] for p in pieces])))
    return Table(grid.rows, grid.cols, tuple(cells), tuple(lines))


def _index(bounds: Sequence[float], at: float) -> int | None:
    """Which interval between consecutive `bounds` holds `at` (None: outside them all)."""
    if not bounds[0] <= at <= bounds[-1]:
        return None
    return min(int(np.searchsorted(bounds, at, side="right")) - 1, len(bounds) - 2)


def table_html(table: Table) -> str:
    """The table as PaddleX's `pred_html`: `<html><body><table>`, one `<tr>` per row, `<td>` with
    rowspan/colspan where a cell spans."""
    rows = []
    for r in range(table.rows):
        tds = []
        for cell in (c for c in table.cells if c.row == r):
            spans = "".join(f' {name}="{n}"' for name, n in (("rowspan", cell.rowspan), ("colspan", cell.colspan))
                            if n > 1)
            tds.append(f"<td{spans}>{html.escape(cell.text, quote=False)}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return "<html><body><table>" + "".join(rows) + "</table></body></html>"


def render_table(table: Table) -> str:
    """A pipe table, its first row the header, when no cell spans; else the HTML `<table>` itself
    (Markdown has no spanning cells, and CommonMark keeps HTML blocks as they are)."""
    if table.spans:
        return table_html(table).removeprefix("<html><body>").removesuffix("</body></html>")
    cells = [[escape(text).replace("|", "\\|") for text in row] for row in table.grid_text()]
    head, *body = cells
    return "\n".join(["| " + " | ".join(head) + " |", "|" + " --- |" * len(head),
                      *("| " + " | ".join(row) + " |" for row in body)])


__all__ = ["Table", "TableCell", "recognise_table", "render_table", "ruled_tables", "table_html"]
