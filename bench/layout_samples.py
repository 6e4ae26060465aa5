"""Layout samples with their true line order: tilted receipts, two-column pages, vertical text, sparse pages.

    python bench/layout_samples.py --out /tmp/layout     # writes the images and a manifest.jsonl

The images are generated, never committed: the tests and the benchmarks build them into a
temporary folder (a second or two).  Latin text is drawn with Pillow and the DejaVu/Liberation
fonts; vertical CJK columns are composed from glyph cells cut out of the sample set's own
Chinese scenes (no CJK font is needed), so the sample set must be at hand.  The manifest has
the sample set's format, `lines` in the order a person reads them; kinds: `receipt`,
`two-column`, `vertical`, `sparse`.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONTS = Path("/usr/share/fonts/truetype")
SANS = FONTS / "dejavu" / "DejaVuSans.ttf"
SERIF = FONTS / "dejavu" / "DejaVuSerif.ttf"
MONO = FONTS / "liberation" / "LiberationMono-Regular.ttf"
LAYOUT_KINDS = ("receipt", "two-column", "vertical", "sparse")

PROSE = (
    "A scanned page reaches the service as pixels only, and the engine must find every line, turn it "
    "upright and read it. The order of the lines matters as much as their characters: a reader who gets "
    "the right words in the wrong order has not been served. Columns are read one after the other, from "
    "the top of the left column to its foot and then on to the right column. Rows of a table are read "
    "from left to right, each cell after the one before it. Headers stay at the top and page numbers at "
    "the bottom, whatever the columns below them do. A photograph taken a little askew still has rows, "
    "and those rows must still be read as rows. Measured results, not impressions, decide which rule wins."
)
PROSE_2 = (
    "The second column continues the argument. Every line of it is a line of running text, long enough "
    "to tell it apart from the short cells of a table. When a page holds two columns of such lines with a "
    "clear gutter between them, the gutter is the boundary that a person's eye follows. Short fields of a "
    "form or a receipt are different: a name and its price belong to one row and must stay together. The "
    "same page may hold both, a table under a paragraph, and each part is read in its own way. This is the "
    "end of the second column, which a reader reaches last before the footer."
)
ITEMS = (("Coffee beans 1kg", 1, 14.90), ("Whole milk 1l", 2, 1.15), ("Rye bread", 1, 3.40),
         ("Apples 1.5kg", 1, 4.20), ("Butter 250g", 2, 2.35), ("Olive oil 0.75l", 1, 8.99),
         ("Pasta 500g", 3, 1.29), ("Tomatoes", 1, 2.79))
# pure-CJK lines of the sample scenes: (file, line text, first cell's left x, cell top y, cell size)
CJK_SOURCES = (("scenes/s03_receipt_zh.jpg", ("列出目录内容", "复制文件和目录", "移除文件或者目录", "估计磁盘文件使用量"), 40, 22),
               ("scenes/s12_zh_paragraph_kai.png", ("的文件。默认情况下，它不删除目录。", "按照给定的格式字符串显示日期和时间。"), 40, 30))


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


class Canvas:
    """A white page that records each line drawn on it, with its polygon, in drawing (reading) order."""

    def __init__(self, width: int, height: int) -> None:
        self.image = Image.new("RGB", (width, height), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.lines: list[dict[str, Any]] = []

    def text(self, xy: tuple[float, float], text: str, font: ImageFont.FreeTypeFont, anchor: str = "la") -> None:
        self.draw.text(xy, text, font=font, fill=(20, 20, 20), anchor=anchor)
        x0, y0, x1, y1 = self.draw.textbbox(xy, text, font=font, anchor=anchor)
        self.lines.append({"text": text, "polygon": [[x0 - 2, y0 - 2], [x1 + 2, y0 - 2], [x1 + 2, y1 + 2],
                                                     [x0 - 2, y1 + 2]]})

    def array(self) -> np.ndarray:
        return cv2.cvtColor(np.asarray(self.image), cv2.COLOR_RGB2BGR)


def two_column_page(seed: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Running header (title left, page number right), two justified-ish columns, a centred footer."""
    rng = np.random.default_rng(seed)
    page = Canvas(1100, 1250)
    body = _font(SERIF, 21)
    page.text((70, 50), "Reading order on generated pages", _font(SANS, 20))
    page.text((1020, 50), f"Page {12 + seed}", _font(SANS, 20), anchor="ra")
    page.text((550, 120), "Two columns, one gutter", _font(SANS, 34), anchor="ma")
    column_width = 440  # a 70 px gutter, about 3 em: typeset gutters are 2-4 em
    for left, prose in ((70, PROSE), (580, PROSE_2)):
        y = 200
        words = prose.split()
        start = int(rng.integers(0, 4))
        for line in textwrap.wrap(" ".join(words[start:] + words[:start]), 60):
            while body.getlength(line) > column_width:  # wrap by width, not by characters
                line = line.rsplit(" ", 1)[0]
            page.text((left, y), line, body)
            y += 34
            if y > 1130:
                break
    # drawn in column order already, since each column was drawn top to bottom before the next
    page.text((550, 1190), f"- {12 + seed} -", _font(SANS, 18), anchor="ma")
    return page.array(), page.lines


def receipt(seed: int) -> Canvas:
    """A shop receipt: title, a four-column item table, a total row."""
    page = Canvas(600, 820)
    font, big = _font(MONO, 20), _font(SANS, 26)
    page.text((300, 30), "CORNER GROCERY", big, anchor="ma")
    page.text((300, 78), f"2026-11-{10 + seed:02d} 18:{20 + seed:02d}  till 3", font, anchor="ma")
    columns = (40, 330, 420, 560)
    y = 140
    for x, head, anchor in zip(columns, ("Item", "Qty", "Price", "Amount"), ("la", "ra", "ra", "ra")):
        page.text((x if anchor == "la" else x, y), head, font, anchor=anchor)
    total = 0.0
    for name, qty, price in ITEMS[seed % 3:] + ITEMS[: seed % 3]:
        y += 62
        total += qty * price
        for x, cell, anchor in zip(columns, (name, str(qty), f"{price:.2f}", f"{qty * price:.2f}"),
                                   ("la", "ra", "ra", "ra")):
            page.text((x, y), cell, font, anchor=anchor)
    y += 80
    page.text((40, y), "TOTAL", big)
    page.text((560, y), f"{total:.2f}", big, anchor="ra")
    return page


def _warp(image: np.ndarray, lines: list[dict[str, Any]], angle: float, persp: float, seed: int
          ) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Rotate by `angle` degrees and pull the corners by up to `persp` of the size: a hand-held photo."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    margin = int(0.12 * max(h, w))
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    centre = np.float32([w / 2, h / 2])
    rad = np.deg2rad(angle)
    rot = np.float32([[np.cos(rad), -np.sin(rad)], [np.sin(rad), np.cos(rad)]])
    dst = (src - centre) @ rot.T + centre + margin
    dst += rng.uniform(-persp, persp, size=(4, 2)).astype(np.float32) * np.float32([w, h])
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    out = cv2.warpPerspective(image, matrix, (w + 2 * margin, h + 2 * margin), borderValue=(235, 235, 235))
    noise = np.random.default_rng(seed + 1).normal(0, 6, out.shape)
    out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    moved = []
    for line in lines:
        pts = cv2.perspectiveTransform(np.float32([line["polygon"]]), matrix)[0]
        moved.append({"text": line["text"], "polygon": np.round(pts, 1).tolist()})
    return out, moved


def tilted_receipt(seed: int, angle: float) -> tuple[np.ndarray, list[dict[str, Any]]]:
    page = receipt(seed)
    return _warp(page.array(), page.lines, angle, 0.02, seed)


def _glyph_cells(samples_dir: Path) -> Iterator[tuple[str, list[np.ndarray]]]:
    """(line text, one square crop per character) from the sample scenes' pure-CJK lines."""
    manifest = {row["path"]: row for row in map(json.loads, (samples_dir / "manifest.jsonl").open(encoding="utf-8"))}
    for path, texts, _, _ in CJK_SOURCES:
        image = cv2.imread(str(samples_dir / path))
        for line in manifest[path]["lines"]:
            if line["text"] not in texts:
                continue
            (x0, y0), (x1, y1) = line["polygon"][0], line["polygon"][2]
            x0, x1 = x0 + 3, x1 - 3  # the scenes' polygons are the glyph box plus 3 px
            step = (x1 - x0) / len(line["text"])
            cells = [image[int(y0):int(y1), int(x0 + k * step):int(x0 + (k + 1) * step)] for k in range(len(line["text"]))]
            yield line["text"], cells


def vertical_page(samples_dir: Path, cell: int = 34) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Each source line as a column of upright characters, the first column on the right."""
    columns = list(_glyph_cells(samples_dir))
    height = max(len(cells) for _, cells in columns) * cell + 120
    width = len(columns) * int(cell * 1.9) + 120
    page = np.full((height, width, 3), 255, dtype=np.uint8)
    lines = []
    for k, (text, cells) in enumerate(columns):
        x = width - 60 - (k + 1) * int(cell * 1.9) + int(cell * 0.45)
        for j, glyph in enumerate(cells):
            page[60 + j * cell:60 + (j + 1) * cell, x:x + cell] = cv2.resize(glyph, (cell, cell),
                                                                          interpolation=cv2.INTER_AREA)
        bottom = 60 + len(cells) * cell
        lines.append({"text": text, "polygon": [[x - 2, 58], [x + cell + 2, 58], [x + cell + 2, bottom + 2],
                                                [x - 2, bottom + 2]]})
    return page, lines


def sparse_pages() -> Iterator[tuple[str, np.ndarray, list[dict[str, Any]]]]:
    """Mostly blank A4 pages at 100 dpi: a chapter end, a page number alone, a form of short fields."""
    header = Canvas(827, 1169)
    header.text((80, 60), "Chapter 3  Document elements", _font(SERIF, 20))
    header.text((750, 60), "38", _font(SERIF, 20), anchor="ra")
    header.text((80, 140), "The table environment ends here; a float is placed", _font(SERIF, 20))
    header.text((80, 175), "by the typesetter where it fits best.", _font(SERIF, 20))
    yield "sparse_header_two_lines", header.array(), header.lines
    number = Canvas(827, 1169)
    number.text((413, 1080), "127", _font(SERIF, 22), anchor="ma")
    yield "sparse_page_number", number.array(), number.lines
    form = Canvas(827, 1169)
    form.text((80, 80), "Application form", _font(SANS, 30))
    for k, field in enumerate(("Name:", "Date:", "City:", "Phone:", "Signature:")):
        form.text((80, 180 + 70 * k), field, _font(SANS, 22))
        form.draw.line((260, 205 + 70 * k, 700, 205 + 70 * k), fill=(60, 60, 60), width=2)
    yield "sparse_form_fields", form.array(), form.lines


def build(samples_dir: Path, out_dir: Path) -> Path:
    """Write every layout sample and its manifest.jsonl into `out_dir`; returns `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cases: list[tuple[str, str, str, np.ndarray, list[dict[str, Any]]]] = []
    for seed, angle in ((0, 3.0), (1, -4.0), (2, 6.0)):
        image, lines = tilted_receipt(seed, angle)
        cases.append((f"receipt_tilt{angle:+.0f}.jpg", "receipt", "en", image, lines))
    for seed in (0, 1):
        image, lines = two_column_page(seed)
        cases.append((f"two_column_{seed}.png", "two-column", "en", image, lines))
    image, lines = vertical_page(samples_dir)
    cases.append(("vertical_zh.png", "vertical", "zh", image, lines))
    for name, image, lines in sparse_pages():
        cases.append((f"{name}.png", "sparse", "en", image, lines))
    with (out_dir / "manifest.jsonl").open("w", encoding="utf-8") as fh:
        for name, kind, lang, image, lines in cases:
            cv2.imwrite(str(out_dir / name), image, [cv2.IMWRITE_JPEG_QUALITY, 90] if name.endswith(".jpg") else [])
            row = {"path": name, "kind": kind, "lang": lang, "rotation": 0, "width": image.shape[1],
                   "height": image.shape[0], "lines": lines, "source": "bench/layout_samples.py"}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return out_dir


def main() -> None:
    from _common import find_samples_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the images and manifest.jsonl")
    parser.add_argument("--samples", type=Path, default=None, help="the sample set (for the CJK glyph cells)")
    args = parser.parse_args()
    print(build(find_samples_dir(args.samples), args.out))


if __name__ == "__main__":
    main()
