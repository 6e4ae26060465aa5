"""A page's layout regions and its read lines -> blocks in reading order and the Markdown a person keeps.

Each line goes to the region holding most of it; lines no region holds become text blocks of their
own. Blocks take PaddleX's PP-StructureV3 labels (the layout model's own are CDLA's), so a client
of PaddleX reads `parsing_res_list` alike. The Markdown has titles as headings (a numbered one as
deep as its number), paragraphs joined as in the geometry-only Markdown, tables as rows and cells
where their rules draw a grid (export/tables.py: a pipe table, or HTML where a cell spans), else as a
pipe table when their lines fall into a grid (else row by row), figures cropped and linked as images,
and no headers, footers or page numbers: those stay in the blocks, out of the body.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..engine.layout import region_order
from ..result import LayoutRegion, OCRPage, TextLine
from .markdown import escape, escape_inline, join_lines
from .tables import Table, recognise_table, render_table, table_html
from .visualize import encode_jpeg

#: the CDLA model's labels as PaddleX's PP-StructureV3 names them ("title" is split by `_title_label`)
PADDLEX_LABELS = {"text": "text", "figure": "image", "figure_caption": "figure_title", "table": "table",
                  "table_caption": "table_title", "header": "header", "footer": "footer",
                  "reference": "reference", "equation": "formula"}
#: what PaddleX leaves out of the Markdown by default (its `markdownIgnoreLabels`)
MARKDOWN_IGNORE_LABELS = ("number", "footnote", "header", "header_image", "footer", "footer_image", "aside_text")
#: a line belongs to a region holding at least this share of its box
LINE_IN_REGION = 0.5
_NUMBERED = re.compile(r"^\s*(\d+(?:\.\d+)*)[.)]?\s+\S")
_SENTENCE_END = tuple(".!?:;。！？；：\"'”’)")
#: on a text-layer page, a block set this much larger than the page's body text is a heading, whatever the
#: layout model called it (LaTeX's \subsection is 1.2 times its text, \section 1.44 times)
HEADING_SIZE = 1.15
#: the labels a heading found by its type may replace: text, and what the CDLA model calls a heading
#: when it does not know it for one (a reference, a caption); not tables, figures or page furniture
_RETITLED = ("text", "reference", "figure_title", "table_title")
_HEADING_MAX_CHARS = 120
_PAGE_NUMBER = re.compile(r"^(?:\d{1,4}|[ivxlcdm]{1,7})$", re.I)


@dataclass(frozen=True)
class Block:
    """One region of a parsed page: PaddleX's label, its text, its box, and its lines."""

    label: str
    content: str
    box: tuple[int, int, int, int]
    lines: tuple[TextLine, ...] = ()
    score: float | None = None  # the layout model's; None for lines no region held
    image: str | None = None  # the figure's file name in `ParsedPage.images`
    table: Table | None = None  # a table's rows and cells, when its rules drew them


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


def assign_lines(lines: Sequence[TextLine], regions: Sequence[LayoutRegion]) -> tuple[list[list[int]], list[int]]:
    """Per region the indices of its lines (page order), and the lines no region holds; a line held
    by several goes to the one holding most of it, the smaller on a tie (a caption inside a figure)."""
    held: list[list[int]] = [[] for _ in regions]
    orphans: list[int] = []
    for i, line in enumerate(lines):
        box = _box(line)
        best = max(range(len(regions)), default=None,
                   key=lambda r: (round(_share_inside(box, regions[r].box), 2), -_area(regions[r].box)))
        if best is None or _share_inside(box, regions[best].box) < LINE_IN_REGION:
            orphans.append(i)
        else:
            held[best].append(i)
    return held, orphans


def _orphan_paragraphs(lines: Sequence[TextLine], orphans: list[int]) -> list[list[int]]:
    """Lines no region holds, grouped into paragraphs: a line joins the previous one when it is just
    below it (a gap under one line height) and overlaps it across."""
    groups: list[list[int]] = []
    for i in orphans:
        x0, y0, x1, _ = _box(lines[i])
        if groups:
            px0, _, px1, py1 = _box(lines[groups[-1][-1]])
            height = y0 - _box(lines[groups[-1][-1]])[1]
            if 0 <= y0 - py1 < max(height, 1.0) and min(x1, px1) > max(x0, px0):
                groups[-1].append(i)
                continue
        groups.append([i])
    return groups


def _int_box(box: Sequence[float]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    return x0, y0, x1, y1


def _heading(label: str, text: str) -> str:
    if label == "doc_title":
        return f"# {escape_inline(text)}"
    numbered = _NUMBERED.match(text)
    level = 2 + (numbered.group(1).count(".") if numbered else 0)
    return f"{'#' * min(level, 6)} {escape_inline(text)}"


def body_font_size(lines: Sequence[TextLine]) -> float | None:
    """The size most of a text-layer page's characters are set in; None when its lines carry no fonts (OCR)."""
    sizes: dict[float, int] = {}
    for line in lines:
        if line.font is not None:
            sizes[line.font.size] = sizes.get(line.font.size, 0) + len(line.text)
    return max(sizes, key=lambda size: sizes[size]) if sizes else None


def set_as_heading(lines: Sequence[TextLine], body_size: float) -> bool:
    """Whether a block's text-layer lines are typeset as a heading: short, no sentence end, and every line
    larger than the body, or bold at the body's size and numbered like a section (`1.5.1 Font order`)."""
    text = join_lines([line.text for line in lines])
    if not lines or len(text) > _HEADING_MAX_CHARS or text.rstrip().endswith((".", ",", ";", ":")):
        return False
    fonts = [line.font for line in lines]
    if any(font is None for font in fonts):
        return False
    if all(font.size >= HEADING_SIZE * body_size for font in fonts if font is not None):
        return True
    return all(font.bold and font.size >= body_size for font in fonts if font is not None) and all(
        _NUMBERED.match(line.text) for line in lines)


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


def _figure_name(box: tuple[int, int, int, int]) -> str:
    """PaddleX's name for a figure's crop."""
    return "imgs/img_in_image_box_{}_{}_{}_{}.jpg".format(*box)


def parse_page(page: OCRPage, regions: Sequence[LayoutRegion], first_page: bool = True,
               ignore_labels: Collection[str] = MARKDOWN_IGNORE_LABELS, tables: bool = True) -> ParsedPage:
    """The page's blocks in reading order and its Markdown; figures are cropped from `page.image`
    when it is there (else linked by name only). `first_page`: the document's first, whose opening
    title is its `doc_title`; `tables`: read tables as rows and cells (else as their lines)."""
    lines = page.lines
    held, orphans = assign_lines(lines, regions)
    pieces: list[tuple[str, tuple[float, float, float, float], list[int], float | None]] = [
        (r.label, r.box, held[k], r.score) for k, r in enumerate(regions)]
    for group in _orphan_paragraphs(lines, orphans):
        boxes = np.array([_box(lines[i]) for i in group])
        pieces.append(("text", (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()),
                       group, None))
    order = region_order(np.array([p[1] for p in pieces], dtype=np.float32).reshape(-1, 4), page.width, page.height)
    ordered = [pieces[i] for i in order]
    first_body = next((k for k, p in enumerate(ordered) if p[0] not in ("header", "footer")), None)
    body_size = body_font_size(lines)
    line_boxes = [_box(line) for line in lines]
    top, bottom = min((b[1] for b in line_boxes), default=0.0), max((b[3] for b in line_boxes), default=0.0)

    blocks: list[Block] = []
    images: dict[str, bytes] = {}
    for k, (label, box, members, score) in enumerate(ordered):
        block_lines = tuple(lines[i] for i in members)
        texts = [line.text for line in block_lines]
        int_box = _int_box(box)
        name = PADDLEX_LABELS.get(label, label)
        if label == "title":  # the document's opening title, unless numbered like a section
            opening = first_page and k == first_body and not _NUMBERED.match(join_lines(texts))
            name = "doc_title" if opening else "paragraph_title"
        elif label in ("header", "footer") and join_lines(texts).strip().isdigit():
            name = "number"
        elif name in _RETITLED and body_size is not None and set_as_heading(block_lines, body_size):
            name = "paragraph_title"
            if len(block_lines) > 1 and all(_NUMBERED.match(line.text) for line in block_lines):
                # numbered headings run together by one region (`1 Documentation` over `1.1 Logo macros`)
                blocks += [Block(name, line.text, _int_box(_box(line)), (line,), score) for line in block_lines]
                continue
        elif name == "text" and _is_page_number(join_lines(texts), box, top, bottom):
            name = "number"
        image = None
        if name == "image":
            image = _figure_name(int_box)
            if page.image is not None:
                x0, y0, x1, y1 = int_box
                crop = page.image[y0:y1, x0:x1]
                if crop.size:
                    images[image] = encode_jpeg(crop)
        table = recognise_table(page, box, block_lines) if name == "table" and tables else None
        if table is not None:
            content = table_html(table)  # PP-StructureV3's block content for a table is its HTML
        else:
            content = "" if name == "image" else table_markdown(block_lines) if name == "table" else join_lines(texts)
        blocks.append(Block(name, content, int_box, block_lines, score, image, table))

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
    """One block as Markdown: a heading, a paragraph, a table, or a figure as PP-StructureV3 writes it, a
    centred <img> as wide (in % of the page) as it was on the page, which clients find by its `src`."""
    if block.label == "image":
        if not block.image:
            return ""
        width = max(1, round(100 * (block.box[2] - block.box[0]) / max(page_width, 1)))
        return (f'<div style="text-align: center;"><img src="{block.image}" alt="Image" width="{width}%" />'
                "</div>")
    if not block.content.strip():
        return ""
    if block.label in ("doc_title", "paragraph_title"):
        return _heading(block.label, block.content)
    if block.table is not None:
        return render_table(block.table)
    if block.label == "table":
        return block.content
    return escape(block.content)


__all__ = ["MARKDOWN_IGNORE_LABELS", "PADDLEX_LABELS", "Block", "ParsedPage", "assign_lines", "document_markdown",
           "parse_page", "render_block", "table_markdown"]
