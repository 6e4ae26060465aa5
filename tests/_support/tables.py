"""Tables with known cells: drawn as pixels (for OCR) and written as a PDF byte by byte (for the text
layer and the PDF's own rulings). Each cell's outline is drawn on its own, so a cell that spans rows or
columns has no rule inside it; a PDF's table may also have rules between rows only, or none."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from _support import pdfs


@dataclass(frozen=True)
class Cell:
    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1


def grid(rows: list[list[str]]) -> list[Cell]:
    """A table without spans, its first row the header."""
    return [Cell(r, c, text) for r, row in enumerate(rows) for c, text in enumerate(row)]


PLAIN = grid([["Item", "Qty", "Price"], ["Paper A4", "12", "4.50"], ["Toner black", "2", "61.00"],
              ["Stapler", "1", "9.90"]])
#: a header cell over two rows and one over two columns
SPANNING = [Cell(0, 0, "Region", rowspan=2), Cell(0, 1, "Sales", colspan=2), Cell(1, 1, "Spring"),
            Cell(1, 2, "Autumn"), Cell(2, 0, "North"), Cell(2, 1, "120"), Cell(2, 2, "135"),
            Cell(3, 0, "South"), Cell(3, 1, "98"), Cell(3, 2, "110")]


def rows_of(cells: list[Cell]) -> list[list[str]]:
    """The cells' text per row and column, a spanning cell's text in its first row and column only."""
    rows, cols = max(c.row + c.rowspan for c in cells), max(c.col + c.colspan for c in cells)
    out = [["" for _ in range(cols)] for _ in range(rows)]
    for cell in cells:
        out[cell.row][cell.col] = cell.text
    return out


@dataclass(frozen=True)
class Layout:
    """Where a table goes: its top-left corner, its columns' widths and its rows' height (any unit)."""

    x: float
    y: float
    widths: tuple[float, ...]
    row_height: float

    def box(self, cell: Cell) -> tuple[float, float, float, float]:
        x0 = self.x + sum(self.widths[:cell.col])
        return (x0, self.y + cell.row * self.row_height, x0 + sum(self.widths[cell.col:cell.col + cell.colspan]),
                self.y + (cell.row + cell.rowspan) * self.row_height)

    def outer(self, cells: list[Cell]) -> tuple[float, float, float, float]:
        rows = max(c.row + c.rowspan for c in cells)
        return self.x, self.y, self.x + sum(self.widths), self.y + rows * self.row_height


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def drawn(cells: list[Cell], layout: Layout, size: int = 26, page: tuple[int, int] = (1240, 900),
          ruled: bool = True) -> np.ndarray:
    """The table drawn black on white (BGR), each cell's text at its left, in the middle of its height,
    and each cell's outline unless not `ruled`."""
    img = Image.new("RGB", page, "white")
    draw = ImageDraw.Draw(img)
    font = _font(size)
    for cell in cells:
        x0, y0, x1, y1 = layout.box(cell)
        if ruled:
            draw.rectangle([x0, y0, x1, y1], outline="black", width=2)
        draw.text((x0 + 16, (y0 + y1) / 2), cell.text, fill="black", font=font, anchor="lm")
    return np.ascontiguousarray(np.asarray(img)[:, :, ::-1])


def ink_box(cell: Cell, layout: Layout, size: int = 26) -> tuple[float, float, float, float]:
    """Where `drawn` inks a cell's text."""
    x0, y0, _, y1 = layout.box(cell)
    left, top, right, bottom = _font(size).getbbox(cell.text, anchor="lm")
    return x0 + 16 + left, (y0 + y1) / 2 + top, x0 + 16 + right, (y0 + y1) / 2 + bottom


def pdf(cells: list[Cell], layout: Layout, above: list[str] = (), size: float = 11, rules: str = "grid",
        below: list[str] = ()) -> bytes:
    """One US Letter page: `above` as lines of text, then the table, its text in Helvetica, then `below`;
    `layout` in points from the page's top-left. `rules`: "grid" strokes one rectangle per cell,
    "booktabs" a rule above the table, one under its first row and one under it, "shaded" those rules as
    thin filled rectangles (as TeX draws them) over every other row filled grey (a coloured row's
    background), "none" none."""
    ops = [pdfs.text_ops(list(above), y=pdfs.HEIGHT - 72, size=size).decode("latin-1")] if above else []
    x0, y0, x1, y1 = layout.outer(cells)
    if below:
        ops.append(pdfs.text_ops(list(below), y=pdfs.HEIGHT - y1 - 2.5 * size, size=size).decode("latin-1"))
    ops.append("0.8 w")
    if rules == "grid":
        for cell in cells:
            cx0, cy0, cx1, cy1 = layout.box(cell)
            ops.append(f"{cx0} {pdfs.HEIGHT - cy1} {cx1 - cx0} {cy1 - cy0} re S")
    elif rules == "booktabs":
        for y in (y0, y0 + layout.row_height, y1):
            ops.append(f"{x0} {pdfs.HEIGHT - y} m {x1} {pdfs.HEIGHT - y} l S")
    elif rules == "shaded":
        rows = max(cell.row + cell.rowspan for cell in cells)
        ops.append("0.9 g")
        ops.extend(f"{x0} {pdfs.HEIGHT - y0 - (row + 1) * layout.row_height} {x1 - x0} {layout.row_height} re f"
                   for row in range(1, rows, 2))
        ops.append("0 g")
        ops.extend(f"{x0} {pdfs.HEIGHT - y - 0.25} {x1 - x0} 0.5 re f" for y in (y0, y0 + layout.row_height, y1))
    ops.append(f"BT /F1 {size} Tf")
    for cell in cells:
        cx0, cy0, _, cy1 = layout.box(cell)
        baseline = pdfs.HEIGHT - (cy0 + cy1) / 2 - size * 0.35
        ops.append(f"1 0 0 1 {cx0 + 5} {baseline} Tm ({cell.text}) Tj")
    ops.append("ET")
    return pdfs.one_page("\n".join(ops).encode("latin-1"))
