"""Pages drawn like a typeset paper, for the layout stage: a title, section headings, paragraphs,
a ruled table with its caption, a bar chart, a page number; in one column or two; and a born-digital
manual whose outline names a heading its type does not."""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from _support import pdfs

WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi
MARGIN = 120

PROSE = ("Layout analysis finds the regions of a page before its text is read, so that a title is not "
         "taken for a paragraph and a table is not read across its columns. Each region is then read in "
         "the order a person would read it, and the text of the page is assembled from the regions in "
         "that order, which keeps headers and page numbers out of the body of the document.")
TABLE = [["Model", "Pages", "Seconds"], ["small", "120", "14.2"], ["tiny", "120", "6.8"], ["medium", "120", "31.5"]]


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSerif-Bold.ttf" if bold else "DejaVuSerif.ttf"
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        return ImageFont.load_default(size=size)


@dataclass
class DrawnPage:
    """The page's pixels (BGR, as the engine reads them) and where each element was drawn."""

    image: np.ndarray
    boxes: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)

    def png(self) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(self.image[:, :, ::-1]).save(buf, "PNG")
        return buf.getvalue()


class _Pen:
    def __init__(self) -> None:
        self.img = Image.new("RGB", (WIDTH, HEIGHT), "white")
        self.draw = ImageDraw.Draw(self.img)
        self.boxes: dict[str, list[tuple[int, int, int, int]]] = {}

    def note(self, kind: str, box: tuple[int, int, int, int]) -> None:
        self.boxes.setdefault(kind, []).append(box)

    def text(self, kind: str, x: int, y: int, lines: list[str], size: int, bold: bool = False,
             centre_in: int | None = None) -> int:
        font = _font(size, bold)
        inks = []  # where each line's ink is
        for line in lines:
            length = int(self.draw.textlength(line, font=font))
            left = x if centre_in is None else x + (centre_in - length) // 2
            self.draw.text((left, y), line, fill="black", font=font)
            inks.append(self.draw.textbbox((left, y), line, font=font))
            y += int(size * 1.45)
        self.note(kind, (min(int(b[0]) for b in inks), min(int(b[1]) for b in inks),
                         max(int(b[2]) for b in inks), max(int(b[3]) for b in inks)))
        return y

    def paragraph(self, x: int, y: int, width: int, text: str = PROSE, size: int = 22) -> int:
        chars = max(20, int(width / (size * 0.55)))
        return self.text("text", x, y, textwrap.wrap(text, chars), size)

    def table(self, x: int, y: int, width: int, rows: list[list[str]] = TABLE, size: int = 22) -> int:
        font, row_h, col_w = _font(size), int(size * 2.2), width // len(rows[0])
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                self.draw.text((x + c * col_w + 14, y + r * row_h + (row_h - size) // 2), cell, fill="black", font=font)
        bottom = y + row_h * len(rows)
        for r in range(len(rows) + 1):
            self.draw.line([(x, y + r * row_h), (x + width, y + r * row_h)], fill="black", width=2)
        for c in range(len(rows[0]) + 1):
            self.draw.line([(x + c * col_w, y), (x + c * col_w, bottom)], fill="black", width=2)
        self.note("table", (x, y, x + width, bottom))
        return bottom

    def chart(self, x: int, y: int, width: int, height: int) -> int:
        self.draw.line([(x, y), (x, y + height), (x + width, y + height)], fill="black", width=3)
        values = (0.35, 0.8, 0.55, 0.95, 0.6)
        bar = width // (2 * len(values) + 1)
        for i, v in enumerate(values):
            left = x + bar * (2 * i + 1)
            self.draw.rectangle([left, y + height - int(v * (height - 10)), left + bar, y + height - 2],
                                fill=(60 + 30 * i, 90, 200 - 25 * i))
        self.note("figure", (x, y, x + width, y + height))
        return y + height

    def done(self) -> DrawnPage:
        return DrawnPage(np.ascontiguousarray(np.asarray(self.img)[:, :, ::-1]), self.boxes)


def paper_page(page_number: int = 3) -> DrawnPage:
    """One column: title, a heading, two paragraphs, a captioned ruled table, a bar chart with its caption,
    and the page number at the foot."""
    pen, width = _Pen(), WIDTH - 2 * MARGIN
    y = pen.text("title", MARGIN, 130, ["Reading Documents by Their Layout"], 44, bold=True, centre_in=width)
    y = pen.text("heading", MARGIN, y + 50, ["1. Introduction"], 30, bold=True)
    y = pen.paragraph(MARGIN, y + 24, width)
    y = pen.paragraph(MARGIN, y + 30, width)
    y = pen.text("caption", MARGIN, y + 50, ["Table 1: Time to read 120 pages"], 22, centre_in=width)
    y = pen.table(MARGIN + 150, y + 16, width - 300)
    y = pen.chart(MARGIN + 250, y + 70, width - 500, 330)
    pen.text("caption", MARGIN, y + 20, ["Figure 1: Pages read per second"], 22, centre_in=width)
    pen.text("page_number", MARGIN, HEIGHT - 110, [str(page_number)], 22, centre_in=width)
    return pen.done()


def two_column_page() -> DrawnPage:
    """A full-width title over two columns of paragraphs (three in each)."""
    pen = _Pen()
    gutter = 60
    column = (WIDTH - 2 * MARGIN - gutter) // 2
    top = pen.text("title", MARGIN, 130, ["Two Columns of Prose"], 44, bold=True, centre_in=WIDTH - 2 * MARGIN) + 60
    for x in (MARGIN, MARGIN + column + gutter):
        y = top
        for _ in range(3):
            y = pen.paragraph(x, y, column, size=20) + 40
    return pen.done()


#: `outlined_pdf()`'s second page has this heading, set as its text is (no larger, not bold, no number):
#: only the outline, which has it one level down, says it is a heading
OUTLINED_HEADING = "Usage notes"


def outlined_pdf() -> bytes:
    """A born-digital manual of two pages whose outline names a section and, on page 2, a subsection."""
    prose = textwrap.wrap(PROSE, 80)
    return pdfs.outlined_pdf([["Overview", "", *prose], [*prose[:4], "", OUTLINED_HEADING, "", *prose]],
                             [("1 Overview", 0, 0), (OUTLINED_HEADING, 1, 1)])
