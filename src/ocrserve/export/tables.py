"""A table region's cells and their text: its ruling lines -> a grid (engine/tables.py), or where no
rules draw one, its text's geometry -> a grid (`_text_grid`); its lines -> cells.

The rules are the PDF's own drawing when the page was read from its text layer (`OCRPage.rulings`),
else they are found in the table's pixels. `ruled_tables` finds the grids on a whole page, so that a
table reads as one where the layout model called it something else; a grid from the text is only
looked for inside a table region. Each line goes to the cell holding its middle; a line that
runs across cells (pdfium joins a row's cells into one line, OCR may box two close cells as one) is
cut where the columns meet: at its characters' own edges for a PDF's text, else at the space nearest
the boundary, the characters taken as evenly wide (or, for a table read from its text, placed by the
ink of the line in the page's pixels). A table reads as a Markdown pipe table when no cell spans,
else as an HTML `<table>` with rowspan/colspan; PaddleX's `pred_html` is that HTML either way.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..engine.tables import Box, Grid, GridCell, detect_rulings, find_grids, ink_runs, table_grid
from ..result import OCRPage, Segment, TextLine
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
#: an OCR line is cut at a space at most this many characters from where a boundary falls in it (its
#: characters' places are estimated, as if evenly wide)
NEAR_SPACE = 3

# Tables without a grid of rules, read from their text's geometry (`_text_grid`):
#: a gap between columns is free of text over at least this many text heights: wider than a word
#: space (a quarter of one), a little narrower than what typesetting leaves between columns (about one)
COLUMN_GAP = 0.4
#: a gap still parts two columns where the text of at most this share of the table's bands crosses it
#: (a cell over both columns: a group's header, a note); those cells span the two
CROSSING_BANDS = 0.2
#: and where at most this share of the bands (at least one) hide it in an OCR line that holds two
#: cells: the line is cut at its space there
HIDING_BANDS = 0.25
#: lines are at one height (a band) when they overlap over at least this share of the shorter one's height
BAND_OVERLAP = 0.5
#: a band of one cell alone belongs to the row of a neighbouring band nearer than this share of the
#: table's row pitch: it is the next line of a wrapped cell, or a cell set beside a row's two lines
WRAP_PITCH = 0.8
#: and a band of one cell whose text above it fills its column or ends unfinished (`UNFINISHED`) is that
#: text's next line when nearer than this share of the row pitch (a table may set lines and rows alike)
NEXT_LINE = 1.1
UNFINISHED = (",", "-", "/")
#: a table read from its text has text in at least two cells in more than this share of its rows, and
#: at least two rows and two columns: else it is no table, whatever the layout model said
ROWS_OF_CELLS = 0.5


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


def _cut_index(line: TextLine, edges: Sequence[tuple[float, float]], boundary: float) -> tuple[int, bool]:
    """Where `line` is cut at `boundary`, and whether that is a clean cut: the first character right of
    it when the edges are the PDF's own; else the nearest space, if one is near (a character's place
    is only estimated), or that character all the same, which cuts a word."""
    cut = next((k for k, (_, right) in enumerate(edges) if right > boundary), len(line.text))
    if line.glyphs is not None:
        return cut, True
    spaces = [k for k, ch in enumerate(line.text) if ch.isspace() and abs(k - cut) <= NEAR_SPACE]
    return min(spaces, key=lambda k: abs(k - cut), default=cut), bool(spaces)


def _cuts(line: TextLine, xs: Sequence[float], tol: float,
          edges: Sequence[tuple[float, float]] | None = None) -> list[tuple[str, float]]:
    """The line cut at the column boundaries inside it: (piece, its middle x) for each non-blank piece.
    `edges`: its characters' edges where they are known better than `_edges` knows them."""
    text = line.text
    edges = _edges(line) if edges is None else edges
    x0, x1 = edges[0][0], edges[-1][1]
    at = [0]
    for boundary in xs:
        if not x0 + tol < boundary < x1 - tol:
            continue
        cut, _ = _cut_index(line, edges, boundary)
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
    """The table in `box` as cells with their text: from its ruled grid, else from its text's geometry
    (`_text_grid`); None when neither reads as a table."""
    height = _line_height(lines)
    region = _grown(box, page)
    rulings = _rulings(page, region, height)
    tol = _tolerance(height)
    grid = table_grid(rulings, region, tol=tol)
    if grid is not None:
        return _filled(grid, lines, height)
    shapes = [_shape(line, page.image, height) for line in lines]
    texted = [k for k, line in enumerate(lines) if line.text.strip()]
    grid = _text_grid([lines[k] for k in texted], [shapes[k] for k in texted], height,
                      _flat_rules(rulings, region, tol))
    return None if grid is None else _filled(grid, lines, height, [shape.edges for shape in shapes])


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


def _filled(grid: Grid, lines: Sequence[TextLine], height: float,
            edges: Sequence[Sequence[tuple[float, float]] | None] | None = None) -> Table:
    """The grid's cells with the text of the lines (or pieces of lines) whose middle each holds;
    `edges`: per line, its characters' edges where known better than `_edges` knows them."""
    owner = {}
    for k, cell in enumerate(grid.cells):
        for r in range(cell.row, cell.row + cell.rowspan):
            for c in range(cell.col, cell.col + cell.colspan):
                owner[r, c] = k
    held: dict[int, list[tuple[float, float, str]]] = {}
    for number, line in enumerate(lines):
        if not line.text:
            continue
        lx0, ly0, lx1, ly1 = line.box
        row = _index(grid.ys, (ly0 + ly1) / 2)
        if row is None:
            continue
        # cut only where two cells of its row meet: a cell's own text is not cut where it spans a column's edge
        bounds = [grid.xs[c] for c in range(1, grid.cols) if owner.get((row, c - 1)) != owner.get((row, c))]
        for piece, middle in _cuts(line, bounds, tol=height / 4, edges=None if edges is None else edges[number]):
            col = _index(grid.xs, middle)
            if col is None:
                continue
            # a grid position no cell covers (two merges that leave a notch) gives its text to the row's
            # nearest cell rather than losing it
            held_by = owner.get((row, col))
            if held_by is None:
                nearest = min((c for c in range(grid.cols) if (row, c) in owner), key=lambda c: abs(c - col),
                              default=None)
                held_by = None if nearest is None else owner[row, nearest]
            if held_by is not None:
                held.setdefault(held_by, []).append(((ly0 + ly1) / 2, middle, piece))
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


# --- a table without a grid of rules: its rows and columns from its text's geometry ----------------
@dataclass(frozen=True)
class _Shape:
    """Where a line's text lies across: its stretches of ink that hold no column gap (`inks`), and its
    characters' edges. A PDF's text gives both; an OCR line's come from the page's pixels. An OCR line
    known by its box alone is one stretch that may hide a gap at a space (`soft`)."""

    inks: tuple[tuple[float, float], ...]
    edges: tuple[tuple[float, float], ...]
    soft: bool = False


#: a word, or dot leaders (`. . . .`) as one: their dots line up from row to row, and the gaps between them are no columns
_WORD_OR_LEADER = re.compile(r"[.·…](?:\s*[.·…])+|\S+")


def _shape(line: TextLine, image: np.ndarray | None, height: float) -> _Shape:
    """Where `line`'s text lies: from its glyphs, its word boxes, the ink of its box in `image`, else its box."""
    if line.glyphs is not None and len(line.glyphs) == len(line.text):
        words = [(m.start(), m.end() - 1) for m in _WORD_OR_LEADER.finditer(line.text)]
        return _Shape(tuple((line.glyphs[a][0], line.glyphs[b][1]) for a, b in words), line.glyphs)
    if line.words:
        return _Shape(tuple((min(p[0] for p in word.polygon), max(p[0] for p in word.polygon))
                            for word in line.words), tuple(_edges(line)))
    runs = ink_runs(image, line.box, COLUMN_GAP * height) if image is not None else []
    edges = _run_edges(line.text, runs) if runs else None
    if edges is None:
        return _Shape(((float(line.box[0]), float(line.box[2])),), tuple(_edges(line)), soft=True)
    return _Shape(tuple(runs), edges)


def _run_edges(text: str, runs: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...] | None:
    """Each character's edges in an OCR line whose ink lies in `runs`: its words shared out among the
    runs in order, each run's share of the characters as near its share of the ink as can be, and a
    run's characters taken as evenly wide; None when there are more runs than words."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    if len(runs) > len(words):
        return None
    chars = sum(b - a for a, b in words)
    ink = sum(x1 - x0 for x0, x1 in runs)

    def misfit(run: int, first: int, last: int) -> float:
        held = sum(b - a for a, b in words[first:last])
        return abs(held / chars - (runs[run][1] - runs[run][0]) / ink)

    # best[k][w]: the least misfit of the first k runs holding the first w words, and where run k starts
    best: dict[tuple[int, int], tuple[float, int]] = {(0, 0): (0.0, 0)}
    for k in range(1, len(runs) + 1):
        for w in range(k, len(words) - (len(runs) - k) + 1):
            best[k, w] = min((best[k - 1, v][0] + misfit(k - 1, v, w), v) for v in range(k - 1, w)
                             if (k - 1, v) in best)
    bounds = [len(words)]
    for k in range(len(runs), 0, -1):
        bounds.append(best[k, bounds[-1]][1])
    bounds.reverse()
    edges: list[tuple[float, float]] = [(runs[0][0], runs[0][0])] * len(text)
    for k, (x0, x1) in enumerate(runs):
        a, b = words[bounds[k]][0], words[bounds[k + 1] - 1][1]
        step = (x1 - x0) / (b - a)
        edges[a:b] = [(x0 + j * step, x0 + (j + 1) * step) for j in range(b - a)]
        if k + 1 < len(runs):  # the spaces between two runs stand for the gap between them
            following = words[bounds[k + 1]][0]
            edges[b:following] = [(x1, runs[k + 1][0])] * (following - b)
    return tuple(edges)


def _bands(boxes: Sequence[Sequence[float]]) -> list[list[int]]:
    """The lines' indices grouped by height, top to bottom: a line joins the band above it when it
    overlaps the band over half its height or more (cells set on one baseline, or middle-aligned)."""
    bands: list[list[int]] = []
    top = bottom = 0.0
    for i in sorted(range(len(boxes)), key=lambda i: boxes[i][1] + boxes[i][3]):
        y0, y1 = boxes[i][1], boxes[i][3]
        if bands and min(y1, bottom) - max(y0, top) >= BAND_OVERLAP * min(y1 - y0, bottom - top):
            bands[-1].append(i)
            top, bottom = min(top, y0), max(bottom, y1)
        else:
            bands.append([i])
            top, bottom = y0, y1
    return bands


def _splits(line: TextLine, edges: Sequence[tuple[float, float]], boundary: float) -> bool:
    """Whether an OCR line has a space where `boundary` falls in it, so that it cuts into two cells there."""
    cut, clean = _cut_index(line, edges, boundary)
    return clean and 0 < cut < len(line.text)


def _column_bounds(bands: Sequence[Sequence[int]], lines: Sequence[TextLine], shapes: Sequence[_Shape],
                   left: float, right: float, height: float) -> tuple[list[float], list[set[int]]]:
    """The boundaries between columns: the middles of the x-gaps that the text of (nearly) every band
    leaves free, at least `COLUMN_GAP` text heights wide; and per band the boundaries its text crosses.

    A soft line covers its whole box, so a gap it hides is found in the other bands; it hides it,
    rather than crosses it, where it has a space there (`_splits`)."""
    origin = int(np.floor(left))
    width = int(np.ceil(right)) - origin + 1
    count = len(bands)
    hard = np.zeros((count, width), dtype=bool)
    soft = np.zeros((count, width), dtype=bool)
    for band, members in enumerate(bands):
        for i in members:
            for x0, x1 in shapes[i].inks:
                (soft if shapes[i].soft else hard)[band, int(np.floor(x0)) - origin:int(np.ceil(x1)) - origin + 1] = True
    soft &= ~hard
    covered = (hard | soft).sum(axis=0)
    crossing_allowed = int(CROSSING_BANDS * count)
    open_x = (hard.sum(axis=0) <= crossing_allowed) & (soft.sum(axis=0) <= max(1, int(HIDING_BANDS * count)))
    bounds: list[float] = []
    crossed: list[set[int]] = [set() for _ in range(count)]
    for start, stop in _runs(open_x):
        if start == 0 or stop == width:  # the table's own edges, not a gap between columns
            continue
        # the gap is where the fewest bands have text, widened band by band until it is a gap's width (a
        # heading or a long name over part of it leaves the rest of it a gap); the boundary stays in its
        # least covered stretch, which crosses the fewest cells
        free = covered[start:stop]
        for level in np.unique(free):
            a, b = max(((start + a, start + b) for a, b in _runs(free <= level)), key=lambda r: r[1] - r[0])
            if b - a >= COLUMN_GAP * height:
                break
        else:
            continue
        a, b = max(((a + c, a + d) for c, d in _runs(covered[a:b] == covered[a:b].min())), key=lambda r: r[1] - r[0])
        at = (a + b - 1) // 2
        boundary = origin + (a + b - 1) / 2
        crossing = {band for band in range(count) if hard[band, at] or soft[band, at] and not all(
            _splits(lines[i], shapes[i].edges, boundary) for i in bands[band]
            if shapes[i].soft and shapes[i].inks[0][0] <= boundary <= shapes[i].inks[0][1])}
        if len(crossing) <= crossing_allowed:
            bounds.append(boundary)
            for band in crossing:
                crossed[band].add(len(bounds) - 1)
    return bounds, crossed


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """The [start, stop) index ranges where `flags` holds."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _first_column(col: int, crossed: set[int]) -> int:
    """The first column of the cell that holds column `col`, where `crossed` boundaries join columns."""
    while col > 0 and col - 1 in crossed:
        col -= 1
    return col


def _band_pieces(lines: Sequence[TextLine], shapes: Sequence[_Shape], band: Sequence[int], xs: Sequence[float],
                 crossed: set[int], height: float) -> list[tuple[int, str]]:
    """Each piece of a band's lines, cut where two of its cells meet, with its column."""
    bounds = [x for k, x in enumerate(xs[1:-1]) if k not in crossed]
    pieces = []
    for i in band:
        for piece, middle in _cuts(lines[i], bounds, tol=height / 4, edges=shapes[i].edges):
            col = _index(xs, middle)
            if col is not None:
                pieces.append((col, piece))
    return pieces


def _own_columns(columns: Sequence[Sequence[int]], crossed: Sequence[set[int]], cols: int) -> int | None:
    """A column that no band has text in on its own (only cells that span it do), or None: a boundary
    beside it parts nothing."""
    alone = {col for band, band_columns in enumerate(columns) for col in band_columns
             if col not in crossed[band] and col - 1 not in crossed[band]}
    return next((col for col in range(cols) if col not in alone), None)


def _rows(centres: Sequence[float], cells: Sequence[set[int]], spans: Sequence[Sequence[tuple[float, float]]],
          rules: Sequence[tuple[float, float, float]], height: float, xs: Sequence[float],
          unfinished: Sequence[set[int]]) -> list[list[int]]:
    """The bands grouped into rows: a band of one cell alone joins its nearer neighbour (the one above
    unless the one below is nearer by a quarter text height: a cell beside two rows keeps its text in
    the first) when that is nearer than `WRAP_PITCH` of the row pitch, the median distance between two
    successive bands of two cells or more, or joins the band above nearer than the row pitch (and a
    tenth) whose text in its column runs to the column's right edge (a wrapped paragraph cell's full
    line) or ends unfinished (`unfinished`: per band, the columns whose text ends in a comma or a
    hyphen). A rule between them that runs over text of both keeps them apart (a header's rule; not
    one under a group's heading alone). `spans`: each band's text stretches across; `xs`: the
    columns' bounds."""
    count = len(centres)

    def right_end(band: int, col: int) -> float:
        return max((x1 for x0, x1 in spans[band] if xs[col] <= x0 < xs[col + 1]), default=-np.inf)

    column_right = [max(right_end(band, col) for band in range(count)) for col in range(len(xs) - 1)]
    pitches = [centres[b + 1] - centres[b] for b in range(count - 1) if len(cells[b]) > 1 and len(cells[b + 1]) > 1]
    joined = [False] * max(count - 1, 0)  # joined[b]: bands b and b + 1 are one row
    if pitches:
        pitch = float(np.median(pitches))
        reach = WRAP_PITCH * pitch

        def parted(a: int, b: int) -> bool:
            return any(centres[a] < y < centres[b] and all(any(min(x1, s1) > max(x0, s0) for s0, s1 in spans[band])
                                                           for band in (a, b)) for y, x0, x1 in rules)

        for band in range(count):
            if len(cells[band]) != 1:
                continue
            above = centres[band] - centres[band - 1] if band > 0 and not parted(band - 1, band) else np.inf
            below = centres[band + 1] - centres[band] if band + 1 < count and not parted(band, band + 1) else np.inf
            (col,) = cells[band]
            if above < NEXT_LINE * pitch and (right_end(band - 1, col) >= column_right[col] - height
                                              or col in unfinished[band - 1]):
                joined[band - 1] = True
            elif min(above, below) < reach:
                joined[band - 1 if above <= below + height / 4 else band] = True
    rows = [[0]] if count else []
    for band in range(1, count):
        if joined[band - 1]:
            rows[-1].append(band)
        else:
            rows.append([band])
    return rows


def _flat_rules(rulings: Sequence[Segment], region: Box, tol: float) -> list[tuple[float, float, float]]:
    """The horizontal rules in `region` as (y, x0, x1): a booktabs table's top, header and bottom rules."""
    x0, y0, x1, y1 = region
    return [((s[1] + s[3]) / 2, min(s[0], s[2]), max(s[0], s[2])) for s in rulings
            if abs(s[3] - s[1]) <= abs(s[2] - s[0]) and y0 - tol <= s[1] <= y1 + tol
            and min(s[0], s[2]) >= x0 - tol and max(s[0], s[2]) <= x1 + tol]


def _text_grid(lines: Sequence[TextLine], shapes: Sequence[_Shape], height: float,
               rules: Sequence[tuple[float, float, float]]) -> Grid | None:
    """A grid for a table without ruled columns, from where its text lies: rows from the lines' heights
    (bands of lines, a wrapped cell's next line joined to its row), columns from the x-gaps free of
    text in (nearly) every band; a cell spans the columns its text crosses. `rules`: horizontal rules
    as (y, x0, x1), which part rows and bound the table. None when it is no table: fewer than two rows
    or columns, or too few rows with text in two cells."""
    if len(lines) < 2:
        return None
    boxes = [line.box for line in lines]
    left, right = float(min(b[0] for b in boxes)), float(max(b[2] for b in boxes))
    bands = _bands(boxes)
    bounds, crossed = _column_bounds(bands, lines, shapes, left, right, height)
    while True:
        xs = (left, *bounds, right)
        pieces = [_band_pieces(lines, shapes, band, xs, crossed[b], height) for b, band in enumerate(bands)]
        columns = [[col for col, _ in band_pieces] for band_pieces in pieces]
        lonely = _own_columns(columns, crossed, len(xs) - 1) if bounds else None
        if lonely is None:
            break
        # drop the boundary beside it that more bands cross, and renumber those after it
        gone = max((k for k in (lonely - 1, lonely) if 0 <= k < len(bounds)),
                   key=lambda k: sum(k in c for c in crossed))
        bounds = bounds[:gone] + bounds[gone + 1:]
        crossed = [{k - (k > gone) for k in c if k != gone} for c in crossed]
    cols = len(xs) - 1
    centres = [float(np.mean([(boxes[i][1] + boxes[i][3]) / 2 for i in band])) for band in bands]
    band_cells = [{_first_column(col, crossed[b]) for col in columns[b]} for b in range(len(bands))]
    spans = [[ink for i in band for ink in shapes[i].inks] for band in bands]
    unfinished = [{_first_column(col, crossed[b]) for col, piece in pieces[b] if piece.endswith(UNFINISHED)}
                  for b in range(len(bands))]
    rows = _rows(centres, band_cells, spans, rules, height, xs, unfinished)
    row_crossed = [set().union(*(crossed[b] for b in row)) for row in rows]
    filled = sum(len({_first_column(col, row_crossed[r]) for b in row for col in columns[b]}) > 1
                 for r, row in enumerate(rows))
    if len(rows) < 2 or cols < 2 or filled <= ROWS_OF_CELLS * len(rows):
        return None
    across = [y for y, x0, x1 in rules if min(x1, right) - max(x0, left) >= 0.5 * (right - left)]
    ys = _row_bounds([[i for b in row for i in bands[b]] for row in rows], boxes, across, height)
    cells = []
    for r in range(len(rows)):
        col = 0
        while col < cols:
            end = col
            while end + 1 < cols and end in row_crossed[r]:
                end += 1
            cells.append(GridCell(r, col, 1, end - col + 1, (xs[col], ys[r], xs[end + 1], ys[r + 1])))
            col = end + 1
    return Grid(tuple(xs), tuple(ys), tuple(cells))


def _row_bounds(rows: Sequence[Sequence[int]], boxes: Sequence[Sequence[float]], rules: Sequence[float],
                height: float) -> list[float]:
    """Where rows meet: a rule between two rows' lines, else halfway from one row's text to the next's,
    kept between their lines' middles (a line goes to the row that holds its middle); the table's top and
    bottom at its text, or at a rule within a text height of it."""
    middles = [[(boxes[i][1] + boxes[i][3]) / 2 for i in row] for row in rows]
    top = min(boxes[i][1] for i in rows[0])
    bottom = max(boxes[i][3] for i in rows[-1])
    ys = [min((y for y in rules if top - height <= y <= top), default=top)]
    for r in range(len(rows) - 1):
        low, high = max(middles[r]), min(middles[r + 1])
        between = [y for y in rules if low < y < high]
        halfway = (max(boxes[i][3] for i in rows[r]) + min(boxes[i][1] for i in rows[r + 1])) / 2
        ys.append(between[0] if between else min(max(halfway, low + 0.5), high - 0.5))
    ys.append(max((y for y in rules if bottom <= y <= bottom + height), default=bottom))
    return ys


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
