"""A page's layout regions and its read lines -> blocks in reading order and the Markdown a person keeps.

Each line goes to the region holding most of it; lines no region holds become text blocks of their
own. Blocks take PaddleX's PP-StructureV3 labels (a CDLA model's are renamed, PADDLEX_LABELS; a
PP-DocLayout model's are PaddleX's already), so a client of PaddleX reads `parsing_res_list` alike, and
each label reaches the Markdown as PP-StructureV3 writes it (BLOCK_KINDS). The Markdown has titles as headings (a numbered one as
deep as its number), paragraphs joined as in the geometry-only Markdown, tables as rows and cells
where their rules draw a grid or their text lines up in rows and columns (export/tables.py: a pipe
table, or HTML where a cell spans), else as a pipe table when their lines fall into a grid (else row
by row), figures cropped and linked as images, and no headers, footers or page numbers: those stay
in the blocks, out of the body.

A PDF's outline refines the headings: a block whose text is the title of an outline entry that
points at its page is a heading as deep as the entry sits in the outline, whatever the layout model
called it. A grid the page's rules draw is a table even where the layout model saw something else
(`layout_det_res` keeps what the model saw; the block and `table_res_list` hold the table).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..engine.layout import region_order
from ..engine.typeface import InkType, ink_type, weighted_median
from ..result import LayoutRegion, OCRPage, OutlineEntry, TextLine
from .markdown import escape, escape_inline, join_lines
from .tables import Table, recognise_table, render_table, ruled_tables, table_html
from .visualize import encode_jpeg

#: the CDLA model's labels as PaddleX's PP-StructureV3 names them ("title" becomes doc_title or paragraph_title in `parse_page`)
PADDLEX_LABELS = {"text": "text", "figure": "image", "figure_caption": "figure_title", "table": "table",
                  "table_caption": "table_title", "header": "header", "footer": "footer",
                  "reference": "reference", "equation": "formula"}
#: how a block reaches the Markdown: a heading, a paragraph of its text, a figure cropped and linked, a table,
#: its lines one a line (a contents page), or not at all (left out whatever `markdownIgnoreLabels` says)
BlockKind = Literal["heading", "paragraph", "figure", "table", "lines", "unwritten"]
#: the block labels that are no paragraph, as PP-StructureV3 writes them without its chart, seal and formula
#: recognisers: a chart or a seal is cropped as an image is, a formula number is written with no block of its
#: own; every other label (text, abstract, algorithm, reference, captions, formula: its OCR text) is a paragraph
BLOCK_KINDS: dict[str, BlockKind] = {
    "doc_title": "heading", "paragraph_title": "heading",
    "image": "figure", "chart": "figure", "seal": "figure",
    "table": "table",
    "content": "lines",
    "formula_number": "unwritten",
}
#: what PaddleX leaves out of the Markdown by default (its `markdownIgnoreLabels`)
MARKDOWN_IGNORE_LABELS = ("number", "footnote", "header", "header_image", "footer", "footer_image", "aside_text")
#: a line belongs to a region holding at least this share of its box
LINE_IN_REGION = 0.5
#: regions holding shares of a line this close are holding it alike
SHARE_TIE = 0.1
_NUMBERED = re.compile(r"^\s*(\d+(?:\.\d+)*)[.)]?\s+\S")
_SENTENCE_END = tuple(".!?:;。！？；：\"'”’)")
#: on a text-layer page, a block set this much larger than the page's body text is a heading, whatever the
#: layout model called it (LaTeX's \subsection is 1.2 times its text, \section 1.44 times)
HEADING_SIZE = 1.15
#: the labels a heading found by its type may replace: text, and what the CDLA model calls a heading
#: when it does not know it for one (a reference, a caption); not tables, figures or page furniture
_RETITLED = ("text", "reference", "figure_title", "table_title")
#: a figure region holding this many characters, its lines covering this share of it, is text set apart
#: (the CDLA model boxes code listings and contents pages as figures; their text belongs in the body)
TEXT_FIGURE_CHARS = 300
TEXT_FIGURE_COVER = 0.15
#: a text region this much inside such a figure is part of its text
INSIDE_FIGURE = 0.8
#: a region this much inside a text region cuts it where its band passes between the text region's lines
ENCLOSED = 0.8
#: on an OCR page, a numbered block whose strokes are this much thicker than the body's is a bold heading
#: (LaTeX's bold section titles are 1.6 times the text's, its bold titles at the body's size 1.18-1.28 at 150 dpi)
INK_BOLD = 1.15
#: and one this much taller than the body's lines a larger heading (\section is set 1.44 times the text)
INK_LARGER = 1.3
_HEADING_MAX_CHARS = 120
_PAGE_NUMBER = re.compile(r"^(?:\d{1,4}|[ivxlcdm]{1,7})$", re.I)
#: the labels an outline title may make a heading: those the type may, the headings themselves, and
#: formulas (the CDLA model's name for a short line alone on a sparse page); not page furniture, which
#: repeats the section's title in running headers, nor figures and tables
_OUTLINED = (*_RETITLED, "doc_title", "paragraph_title", "formula")
#: a heading the layout model ran into the paragraph below it is found in a block's first lines, up to these
_OUTLINE_LEAD_LINES = 3
#: a section number before a title, which outlines carry or not depending on the document class
_SECTION_NUMBER = re.compile(r"^\(?(\d+(?:\.\d+)*|[A-Z](?:\.\d+)+)[.)]?\s+(?=\S)")
#: dot leaders between a contents entry and its page number: a reader's eye guide, not text (OCR of a
#: scan drops them), so the Markdown keeps the entry and its number and not the dots
_LEADERS = re.compile(r"\s*(?:\.\s?){5,}(?=\s*(?:\d{1,4}|[ivxlcdm]{1,7})\b)", re.I)
#: a table found by its rules alone replaces each region of which it holds at least this share
_RULED_REPLACES = 0.5
#: and is left to a table region that holds at least this share of it (that region reads it already)
_RULED_HELD = 0.9

Box = tuple[float, float, float, float]
#: a region as the page's lines are read into it: (label, box, its lines' indices, the model's score)
Piece = tuple[str, Box, list[int], float | None]


@dataclass(frozen=True)
class Block:
    """One region of a parsed page: PaddleX's label, its text, its box, and its lines."""

    label: str
    content: str
    box: tuple[int, int, int, int]
    lines: tuple[TextLine, ...] = ()
    score: float | None = None  # the layout model's; None for lines no region held and tables found by their rules
    image: str | None = None  # the figure's file name in `ParsedPage.images`
    table: Table | None = None  # a table's rows and cells, when its rules or its text's geometry gave them
    level: int | None = None  # a heading's depth in the Markdown (`#` count) where the PDF outline gave it


@dataclass
class ParsedPage:
    """A page parsed by its layout: blocks in reading order, the Markdown, and its figures' crops."""

    page: OCRPage
    regions: list[LayoutRegion]
    blocks: list[Block]
    markdown: str
    images: dict[str, bytes] = field(default_factory=dict)  # relative path in the Markdown -> JPEG
    is_start: bool = True  # the page starts a paragraph (false: it continues the previous page's)
    is_end: bool = True  # the page ends a paragraph (false: it runs on to the next page)
    tables: bool = True  # tables were read as rows and cells (PaddleX's `use_table_recognition`)


def _box(line: TextLine) -> tuple[float, float, float, float]:
    pts = np.asarray(line.polygon, dtype=np.float64)
    return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())


def _share_inside(box: Sequence[float], outer: Sequence[float]) -> float:
    """How much of `box` lies in `outer`, or of `outer` in `box` when it is the smaller: a page
    number's region is often drawn tighter than its line."""
    w = min(box[2], outer[2]) - max(box[0], outer[0])
    h = min(box[3], outer[3]) - max(box[1], outer[1])
    smaller = max(min(_area(box), _area(outer)), 1e-9)
    return max(w, 0.0) * max(h, 0.0) / smaller


def _area(box: Sequence[float]) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def _overlap(a: Sequence[float], b: Sequence[float]) -> float:
    return max(min(a[2], b[2]) - max(a[0], b[0]), 0.0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)


def assign_lines(lines: Sequence[TextLine], regions: Sequence[Sequence[float]]) -> tuple[list[list[int]], list[int]]:
    """Per region box the indices of its lines (page order), and the lines no region holds; a line held
    by several goes to the smallest of those holding about as much of it as the best (a caption inside
    a figure, a title inside a passage drawn a little tighter than its line)."""
    held: list[list[int]] = [[] for _ in regions]
    orphans: list[int] = []
    for i, line in enumerate(lines):
        box = _box(line)
        shares = [_share_inside(box, region) for region in regions]
        most = max(shares, default=0.0)
        if most < LINE_IN_REGION:
            orphans.append(i)
            continue
        held[min((r for r, share in enumerate(shares) if share >= most - SHARE_TIE),
                 key=lambda r: _area(regions[r]))].append(i)
    return held, orphans


def _orphan_paragraphs(lines: Sequence[TextLine], orphans: list[int]) -> list[list[int]]:
    """Lines no region holds, grouped into paragraphs: a line joins the previous one when it is just
    below it (a gap under one line height) and overlaps it across."""
    groups: list[list[int]] = []
    for i in orphans:
        x0, y0, x1, _ = _box(lines[i])
        if groups:
            px0, py0, px1, py1 = _box(lines[groups[-1][-1]])
            if 0 <= y0 - py1 < max(py1 - py0, 1.0) and min(x1, px1) > max(x0, px0):
                groups[-1].append(i)
                continue
        groups.append([i])
    return groups


def _int_box(box: Sequence[float]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    return x0, y0, x1, y1


def paddlex_label(label: str) -> str:
    """A layout model's label as PaddleX names the block (a CDLA model's renamed; PP-DocLayout's are PaddleX's)."""
    return PADDLEX_LABELS.get(label, label)


def block_kind(label: str) -> BlockKind:
    """How a block of PaddleX's `label` reaches the Markdown (BLOCK_KINDS; a paragraph where it is not listed)."""
    return BLOCK_KINDS.get(label, "paragraph")


def _heading(label: str, text: str, level: int | None = None) -> str:
    if level is None and label == "doc_title":
        level = 1
    if level is None:
        numbered = _NUMBERED.match(text)
        level = 2 + (numbered.group(1).count(".") if numbered else 0)
    return f"{'#' * min(level, 6)} {escape_inline(text)}"


def title_key(text: str) -> tuple[str | None, str]:
    """(its section number or None, the rest) of a title, as an outline's and a page's are compared:
    NFKC, case folded, whitespace dropped (a text layer may lose or add a space an outline has)."""
    folded = unicodedata.normalize("NFKC", text).strip()
    numbered = _SECTION_NUMBER.match(folded)
    rest = folded[numbered.end():] if numbered else folded
    return (numbered.group(1) if numbered else None), "".join(rest.casefold().split())


class OutlineTitles:
    """The outline entries that point at a page, by their titles' keys; each names one block at most,
    the first in reading order that reads as it does. A title in the page's top row that a line
    lower down repeats is its running header, which names nothing, whatever region holds it."""

    def __init__(self, entries: Sequence[OutlineEntry], lines: Sequence[TextLine] = ()) -> None:
        self._left: dict[str, list[tuple[str | None, OutlineEntry]]] = {}
        for entry in entries:
            number, key = title_key(entry.title)
            if key:
                self._left.setdefault(key, []).append((number, entry))
        self._running = _running_titles(lines, set(self._left)) if self._left else []

    def __bool__(self) -> bool:
        return any(self._left.values())

    def take(self, lines: Sequence[TextLine]) -> OutlineEntry | None:
        """The entry whose title the lines read as, used up; a section number on one side only is
        allowed, two different numbers are two different sections."""
        if any(line is running for line in lines for running in self._running):
            return None
        number, key = title_key(join_lines([line.text for line in lines]))
        entries = self._left.get(key, [])
        for k, (entry_number, entry) in enumerate(entries):
            if number is None or entry_number is None or number == entry_number:
                del entries[k]
                return entry
        return None


def _running_titles(lines: Sequence[TextLine], keys: Collection[str]) -> list[TextLine]:
    """The lines of the page's top row that read as one of the titles `keys` and that a line below
    the row repeats: a running header names its section again above the section's own heading."""
    if not lines:
        return []
    first = min(lines, key=lambda line: _box(line)[1])
    row_top, row_bottom = _box(first)[1], _box(first)[3]
    row = [line for line in lines if row_top <= (_box(line)[1] + _box(line)[3]) / 2 <= row_bottom]
    below = {title_key(line.text)[1] for line in lines if all(line is not top for top in row)}
    return [line for line in row if title_key(line.text)[1] in keys and title_key(line.text)[1] in below]


def outlined(label: str, entry: OutlineEntry) -> tuple[str, int | None]:
    """The label and Markdown depth of a block the outline names: a section as deep as its entry
    (a top-level entry `##`, as PP-StructureV3 sets a section), the document's title kept as it is
    where the outline has it at the top."""
    if label == "doc_title" and entry.level == 0:
        return label, None
    return "paragraph_title", min(2 + entry.level, 6)


def body_font_size(lines: Sequence[TextLine]) -> float | None:
    """The size most of a text-layer page's characters are set in; None when its lines carry no fonts (OCR)."""
    sizes: dict[float, int] = {}
    for line in lines:
        if line.font is not None:
            sizes[line.font.size] = sizes.get(line.font.size, 0) + len(line.text)
    return max(sizes, key=lambda size: sizes[size]) if sizes else None


def _heading_shaped(lines: Sequence[TextLine]) -> bool:
    """Short, and not ending as a sentence or a clause does: what a heading's text looks like."""
    text = join_lines([line.text for line in lines])
    return bool(lines) and len(text) <= _HEADING_MAX_CHARS and not text.rstrip().endswith((".", ",", ";", ":"))


def set_as_heading(lines: Sequence[TextLine], body_size: float) -> bool:
    """Whether a block's text-layer lines are typeset as a heading: short, no sentence end, and every line
    larger than the body, or bold at the body's size and numbered like a section (`1.5.1 Font order`)."""
    if not _heading_shaped(lines):
        return False
    fonts = [line.font for line in lines]
    if any(font is None for font in fonts):
        return False
    if all(font.size >= HEADING_SIZE * body_size for font in fonts if font is not None):
        return True
    return all(font.bold and font.size >= body_size for font in fonts if font is not None) and all(
        _NUMBERED.match(line.text) for line in lines)


@dataclass(frozen=True)
class PageInk:
    """An OCR page's lines measured in its pixels (`engine.typeface`), and its body's stroke and height:
    the character-weighted medians, what most of its text is set in."""

    types: dict[int, InkType]  # by the line's index in the page
    body: InkType

    @classmethod
    def measure(cls, page: OCRPage) -> PageInk | None:
        """None where the page has a text layer's fonts (they say more), no image, or no line to measure."""
        if page.image is None or any(line.font is not None for line in page.lines):
            return None
        types = {i: t for i, line in enumerate(page.lines) if (t := ink_type(page.image, line.polygon)) is not None}
        weights = [float(len(page.lines[i].text)) for i in types]
        stroke = weighted_median([t.stroke for t in types.values()], weights)
        height = weighted_median([t.height for t in types.values()], weights)
        return None if stroke is None or height is None else cls(types, InkType(stroke, height))

    def set_as_heading(self, members: Sequence[int], lines: Sequence[TextLine]) -> bool:
        """`set_as_heading` for an OCR page: every line numbered like a section and inked bolder than the
        body, or every line taller than the body and no thinner; short, no sentence end, and words in it
        (an equation's number in its tall parentheses, a page number, are no headings)."""
        block = [lines[i] for i in members]
        if not _heading_shaped(block) or any(i not in self.types for i in members):
            return False
        if sum(ch.isalpha() for line in block for ch in line.text) < 2:
            return False
        types = [self.types[i] for i in members]
        if all(t.stroke >= INK_BOLD * self.body.stroke for t in types) and all(
                _NUMBERED.match(line.text) for line in block):
            return True
        return all(t.height >= INK_LARGER * self.body.height and t.stroke >= self.body.stroke for t in types)


def _text_figure(lines: Sequence[TextLine], box: Sequence[float]) -> bool:
    """Whether a figure region is text set apart (a code listing, a table of contents): it holds as much
    text as a paragraph, and its lines cover a good share of it, where a chart or a diagram has labels."""
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1.0)
    covered = sum(max(b[2] - b[0], 0) * max(b[3] - b[1], 0) for b in (line.box for line in lines))
    return sum(len(line.text) for line in lines) >= TEXT_FIGURE_CHARS and covered >= TEXT_FIGURE_COVER * area


def _text_figures_whole(lines: Sequence[TextLine], pieces: list[Piece]) -> list[Piece]:
    """The pieces with each figure that is text set apart (`_text_figure`, counting the lines of the text
    regions inside it) holding those regions' lines too: a listing the model boxed as a figure and, again,
    part of it as text is read in its own line order, not as the part and then the rest."""
    inner: set[int] = set()
    for k, (label, box, members, _) in enumerate(pieces):
        if block_kind(paddlex_label(label)) != "figure":
            continue
        parts = [j for j, (other, other_box, _, _) in enumerate(pieces) if j != k and j not in inner
                 and paddlex_label(other) == "text" and _share_inside(other_box, box) >= INSIDE_FIGURE]
        held = sorted(members + [i for j in parts for i in pieces[j][2]])
        if parts and _text_figure([lines[i] for i in held], box):
            inner.update(parts)
            pieces[k] = (label, box, held, pieces[k][3])
    return [piece for j, piece in enumerate(pieces) if j not in inner]


def _split_around_inner(lines: Sequence[TextLine], boxes: Sequence[Box], pieces: list[Piece]) -> list[Piece]:
    """The pieces with each text region that encloses others (a passage drawn over a listing and the
    heading below it) cut where an inner region's band passes between its lines: its lines above and
    below are read as blocks of their own, in their places, not all before the regions inside it.
    `boxes`: each line's box."""
    result: list[Piece] = []
    for k, piece in enumerate(pieces):
        label, box, members, score = piece
        if block_kind(paddlex_label(label)) not in ("paragraph", "lines") or len(members) < 2:
            result.append(piece)
            continue
        bands = [(other[1], other[3]) for j, (_, other, held, _) in enumerate(pieces)
                 if j != k and held and _share_inside(other, box) >= ENCLOSED and _area(other) < _area(box)]
        runs: list[list[int]] = []
        run_bottom = 0.0
        for i in sorted(members, key=lambda i: boxes[i][1]):
            if runs and not any(run_bottom <= top and bottom <= boxes[i][1] for top, bottom in bands):
                runs[-1].append(i)
                run_bottom = max(run_bottom, boxes[i][3])
            else:
                runs.append([i])
                run_bottom = boxes[i][3]
        if len(runs) == 1:
            result.append(piece)
            continue
        result.extend((label, _lines_box([lines[i] for i in run]), sorted(run), score) for run in runs)
    return result


def _is_page_number(text: str, box: Sequence[float], top: float, bottom: float) -> bool:
    """A bare number (or roman numeral) that is the page's topmost or bottommost text: its page number,
    which the layout model did not box as a header or footer."""
    return bool(_PAGE_NUMBER.match(text.strip())) and (box[1] <= top + 1 or box[3] >= bottom - 1)


def table_markdown(lines: Sequence[TextLine]) -> str:
    """A table's lines as a pipe table when they fall into rows of as many cells each (two or more),
    the first row its header; otherwise one paragraph line per row, cells apart by ` | `."""
    if not lines:
        return ""
    boxes = [_box(line) for line in lines]
    rows: list[list[int]] = []
    for i in sorted(range(len(lines)), key=lambda i: (boxes[i][1] + boxes[i][3]) / 2):
        centre = (boxes[i][1] + boxes[i][3]) / 2
        if rows and boxes[rows[-1][0]][1] <= centre <= boxes[rows[-1][0]][3]:
            rows[-1].append(i)
        else:
            rows.append([i])
    cells = [[escape(lines[i].text.strip()).replace("|", "\\|") for i in sorted(row, key=lambda i: boxes[i][0])]
             for row in rows]
    if len(cells) > 1 and len({len(row) for row in cells}) == 1 and len(cells[0]) > 1:
        head, *body = cells
        return "\n".join(["| " + " | ".join(head) + " |", "|" + " --- |" * len(head),
                          *("| " + " | ".join(row) + " |" for row in body)])
    return "  \n".join(" | ".join(row) for row in cells)


def _figure_name(label: str, box: tuple[int, int, int, int]) -> str:
    """PaddleX's name for a figure's crop (`img_in_image_box_...`, `img_in_chart_box_...`)."""
    return "imgs/img_in_{}_box_{}_{}_{}_{}.jpg".format(label, *box)


def _lines_box(lines: Sequence[TextLine]) -> Box:
    boxes = np.array([_box(line) for line in lines])
    return float(boxes[:, 0].min()), float(boxes[:, 1].min()), float(boxes[:, 2].max()), float(boxes[:, 3].max())


def layout_pieces(page: OCRPage, regions: Sequence[LayoutRegion], tables: bool) -> list[tuple[str, Box, float | None]]:
    """(label, box, score) of the regions the page's lines go to: the layout's and, when tables are read
    as cells, each grid the page's rules draw that no table region holds, in place of the regions it
    holds (the CDLA model calls a narrow table on a sparse page a formula)."""
    pieces: list[tuple[str, Box, float | None]] = [(r.label, r.box, r.score) for r in regions]
    if not tables:
        return pieces
    for box in ruled_tables(page):
        if any(label == "table" and _overlap(held, box) >= _RULED_HELD * _area(box) for label, held, _ in pieces):
            continue
        pieces = [p for p in pieces if _overlap(p[1], box) < _RULED_REPLACES * max(_area(p[1]), 1e-9)]
        pieces.append(("table", box, None))
    return pieces


def _outline_parts(titles: OutlineTitles, name: str, lines: tuple[TextLine, ...],
                   box: Box) -> list[tuple[str, tuple[TextLine, ...], Box, int | None]]:
    """A block as the page's outline entries name it, (label, lines, box, heading depth) each: a heading at
    its entry's depth when its text is the entry's title; when only its first lines are, those lines a
    heading of their own and the rest the block it was."""
    if not titles or name not in _OUTLINED or not lines:
        return [(name, lines, box, None)]
    entry = titles.take(lines)
    if entry is not None:
        label, level = outlined(name, entry)
        return [(label, lines, box, level)]
    for lead in range(1, min(len(lines), _OUTLINE_LEAD_LINES + 1)) if name in _RETITLED else ():
        entry = titles.take(lines[:lead])
        if entry is not None:
            label, level = outlined(name, entry)
            return [(label, lines[:lead], _lines_box(lines[:lead]), level),
                    (name, lines[lead:], _lines_box(lines[lead:]), None)]
    return [(name, lines, box, None)]


def _block(page: OCRPage, name: str, lines: tuple[TextLine, ...], box: Box, score: float | None,
           level: int | None, tables: bool, images: dict[str, bytes]) -> Block:
    """One block's content: a figure cropped into `images`, a table read as cells, else its text; a formula
    on a page without a text layer is cropped as well (OCR reads no mathematics), its OCR text kept."""
    texts = [line.text for line in lines]
    int_box = _int_box(box)
    kind = block_kind(name)
    image = None
    if kind == "figure" or name == "formula" and page.source != "text_layer":
        image = _figure_name(name, int_box)
        if page.image is not None:
            x0, y0, x1, y1 = int_box
            crop = page.image[y0:y1, x0:x1]
            if crop.size:
                images[image] = encode_jpeg(crop)
    table = recognise_table(page, box, lines) if kind == "table" and tables else None
    if table is not None:
        content = table_html(table)  # PP-StructureV3's block content for a table is its HTML
    elif kind == "lines":
        content = "\n".join(text.strip() for text in texts)
    else:
        content = "" if kind == "figure" else table_markdown(lines) if kind == "table" else join_lines(texts)
    return Block(name, content, int_box, lines, score, image, table, level)


def parse_page(page: OCRPage, regions: Sequence[LayoutRegion], first_page: bool = True,
               ignore_labels: Collection[str] = MARKDOWN_IGNORE_LABELS, tables: bool = True) -> ParsedPage:
    """The page's blocks in reading order and its Markdown; figures are cropped from `page.image`
    when it is there (else linked by name only). `first_page`: the document's first, whose opening
    title is its `doc_title`; `tables`: read tables as rows and cells (else as their lines), and find
    ruled tables the layout did not call tables. `page.outline` names headings and their depth."""
    lines = page.lines
    layout = layout_pieces(page, regions, tables)
    held, orphans = assign_lines(lines, [box for _, box, _ in layout])
    pieces = _text_figures_whole(lines, [(label, box, held[k], score) for k, (label, box, score) in enumerate(layout)])
    line_boxes = [_box(line) for line in lines]
    pieces = _split_around_inner(lines, line_boxes, pieces)
    for group in _orphan_paragraphs(lines, orphans):
        pieces.append(("text", _lines_box([lines[i] for i in group]), group, None))
    order = region_order(np.array([p[1] for p in pieces], dtype=np.float32).reshape(-1, 4), page.width, page.height)
    ordered = [pieces[i] for i in order]
    first_body = next((k for k, p in enumerate(ordered) if p[0] not in ("header", "footer")), None)
    body_size = body_font_size(lines)
    ink = PageInk.measure(page) if body_size is None else None
    top, bottom = min((b[1] for b in line_boxes), default=0.0), max((b[3] for b in line_boxes), default=0.0)
    titles = OutlineTitles(page.outline, lines)

    blocks: list[Block] = []
    images: dict[str, bytes] = {}
    for k, (label, box, members, score) in enumerate(ordered):
        block_lines = tuple(lines[i] for i in members)
        texts = [line.text for line in block_lines]
        name = paddlex_label(label)
        parts = [(name, block_lines, box)]
        if label == "title":  # the document's opening title, unless numbered like a section
            opening = first_page and k == first_body and not _NUMBERED.match(join_lines(texts))
            parts = [("doc_title" if opening else "paragraph_title", block_lines, box)]
        elif label in ("header", "footer") and join_lines(texts).strip().isdigit():
            parts = [("number", block_lines, box)]
        elif name in _RETITLED and (body_size is not None and set_as_heading(block_lines, body_size)
                                    or ink is not None and ink.set_as_heading(members, lines)):
            parts = [("paragraph_title", block_lines, box)]
            if len(block_lines) > 1 and all(_NUMBERED.match(line.text) for line in block_lines):
                # numbered headings run together by one region (`1 Documentation` over `1.1 Logo macros`)
                parts = [("paragraph_title", (line,), _box(line)) for line in block_lines]
        elif block_kind(name) == "figure" and _text_figure(block_lines, box):
            # its text joins the body, but not the page number the region reached over
            numbers = tuple(ln for ln in block_lines if _is_page_number(ln.text, _box(ln), top, bottom))
            parts = [("text", tuple(ln for ln in block_lines if ln not in numbers), box),
                     *(("number", (ln,), _box(ln)) for ln in numbers)]
        elif name == "text" and _is_page_number(join_lines(texts), box, top, bottom):
            parts = [("number", block_lines, box)]
        for part_name, part_lines, part_box in parts:
            for outline_name, outline_lines, outline_box, level in _outline_parts(titles, part_name, part_lines,
                                                                                   part_box):
                if (outline_name == "text" and outline_lines is not part_lines
                        and _is_page_number(join_lines([ln.text for ln in outline_lines]), outline_box, top, bottom)):
                    outline_name = "number"  # what is left of a block once its heading is split off
                blocks.append(_block(page, outline_name, outline_lines, outline_box, score, level, tables, images))

    body = [b for b in blocks if b.label not in ignore_labels]
    markdown = "\n\n".join(part for part in (render_block(b, page.width) for b in body) if part)
    texts_only = [b for b in body if b.label == "text" and b.content]
    is_start = not (texts_only and body[0] is texts_only[0] and texts_only[0].content[:1].islower())
    is_end = not (texts_only and body[-1] is texts_only[-1] and not texts_only[-1].content.rstrip().endswith(_SENTENCE_END))
    return ParsedPage(page, list(regions), blocks, markdown, images, is_start, is_end, tables)


def document_markdown(pages: Sequence[ParsedPage]) -> tuple[str, dict[str, bytes]]:
    """A document's pages as one Markdown and its figures' crops: a paragraph a page break cut joins
    again (the page before runs on, the page after continues it), other pages are apart by a blank
    line; a document of several pages names each figure after its page (`imgs/p2_img_in_...`), as
    the same box may hold a figure on two pages."""
    text, images = "", {}
    for k, parsed in enumerate(pages):
        markdown = parsed.markdown
        for path, jpeg in parsed.images.items():
            name = path if len(pages) == 1 else f"imgs/p{k + 1}_{path.rsplit('/', 1)[-1]}"
            markdown = markdown.replace(f'"{path}"', f'"{name}"')
            images[name] = jpeg
        if not markdown:
            continue
        joins = bool(text) and not pages[k - 1].is_end and not parsed.is_start
        text += (" " if joins else "\n\n" if text else "") + markdown
    return text, images


def render_block(block: Block, page_width: int) -> str:
    """One block as Markdown: a heading, a paragraph, a table, or a figure (or a scanned formula) as
    PP-StructureV3 writes a figure, a centred <img> as wide (in % of the page) as it was on the page, which
    clients find by its `src`."""
    kind = block_kind(block.label)
    if block.image:
        width = max(1, round(100 * (block.box[2] - block.box[0]) / max(page_width, 1)))
        return (f'<div style="text-align: center;"><img src="{block.image}" alt="Image" width="{width}%" />'
                "</div>")
    if kind in ("figure", "unwritten") or not block.content.strip():
        return ""
    if kind == "heading":
        return _heading(block.label, block.content, block.level)
    if block.table is not None:
        return render_table(block.table)
    if kind == "table":
        return block.content
    if kind == "lines":  # a hard line break after each but the last
        return "  \n".join(escape(line) for line in block.content.splitlines() if line)
    return escape(_LEADERS.sub(" ", block.content))


__all__ = ["BLOCK_KINDS", "MARKDOWN_IGNORE_LABELS", "PADDLEX_LABELS", "Block", "BlockKind", "OutlineTitles",
           "ParsedPage", "assign_lines", "block_kind", "document_markdown", "layout_pieces", "outlined", "parse_page",
           "render_block", "table_markdown", "title_key"]
