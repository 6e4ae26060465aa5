"""Pages rendered from real text with Debian's Noto fonts: a language's clean sample pages.

Each PDF page with a usable text layer (a language's own documents, e.g. Debian's documentation
packages) becomes an image of the same text: its lines, in the layer's order, one per row at 150 dpi,
each word set in the first Noto face that holds all its characters (the script's own face first),
shaped and ordered by Pillow's Raqm layout, a right-to-left line right-aligned with its words in
visual order (ocrserve.export.bidi).  The truth is each line's own text and the box it was drawn in.
A line that no face holds whole is left out of both the page and the truth, and counted.

The faces come from Debian's `fonts-noto-core` (and `fonts-noto-cjk` once a page holds Han, kana or
Hangul), fetched with `apt-get download` into the ignored `.cache/` as the PDF corpus is.
"""

from __future__ import annotations

import sys
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from _common import REPO
from PIL import Image, ImageDraw, ImageFont

from ocrserve.export.bidi import levels, right_to_left, visual_indices
from ocrserve.tools.evaluation import Sample

sys.path.insert(0, str(REPO / "tests"))
from _support.corpus import candidate_versions, check_tools, package_dir  # noqa: E402

PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 1240, 1754, 80  # A4 at 150 dpi
FONT_PX, MIN_FONT_PX, ROW = 30, 14, 1.7  # body size about 14 pt at 150 dpi; a row is 1.7 sizes
FONT_FILES = (".ttf", ".ttc", ".otf")
#: Unicode name prefix of a character -> the Noto faces to try first for it (then the general ones)
SCRIPT_FACES = {
    "ARABIC": ("NotoNaskhArabic-Regular.ttf", "NotoSansArabic-Regular.ttf"),
    "HEBREW": ("NotoSansHebrew-Regular.ttf",),
    "DEVANAGARI": ("NotoSansDevanagari-Regular.ttf",),
    "THAI": ("NotoSansThai-Regular.ttf",),
    "TAMIL": ("NotoSansTamil-Regular.ttf",),
    "TELUGU": ("NotoSansTelugu-Regular.ttf",),
    "KANNADA": ("NotoSansKannada-Regular.ttf",),
    "BENGALI": ("NotoSansBengali-Regular.ttf",),
    "CJK": ("NotoSansCJK-Regular.ttc",), "HIRAGANA": ("NotoSansCJK-Regular.ttc",),
    "KATAKANA": ("NotoSansCJK-Regular.ttc",), "HANGUL": ("NotoSansCJK-Regular.ttc",),
}
GENERAL_FACES = ("NotoSans-Regular.ttf", "NotoSansMath-Regular.ttf", "NotoSansSymbols-Regular.ttf",
                 "NotoSansSymbols2-Regular.ttf")


@dataclass
class Rendered:
    samples: list[Sample]
    lines_left_out: int  # lines no one face holds whole


@cache
def _fonts_dir(package: str) -> Path:  # once per package: apt-cache reads the whole index each call
    check_tools()
    version = candidate_versions([package]).get(package)
    return package_dir(package, version, keep=FONT_FILES)[1]


@cache
def _face_path(name: str) -> Path | None:
    package = "fonts-noto-cjk" if "CJK" in name else "fonts-noto-core"
    return next(iter(_fonts_dir(package).rglob(name)), None)


@cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont | None:
    path = _face_path(name)
    return None if path is None else ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)


@cache
def _holds(name: str, ch: str) -> bool:
    """Whether face `name` draws `ch` with a glyph of its own: unlike its missing-glyph box."""
    font = _font(name, 24)
    if font is None:
        return False
    if ch.isspace():
        return True
    return bytes(font.getmask(ch)) != bytes(font.getmask("\U0010fffd"))


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return next((prefix for prefix in SCRIPT_FACES if name.startswith(prefix)), "")


def _faces_for(text: str) -> tuple[str, ...]:
    """The faces to try for a line's characters: its scripts' own faces (the most used first), then the
    general ones."""
    scripts = [s for s in map(_script, text) if s]
    ranked = sorted(set(scripts), key=lambda s: -scripts.count(s))
    return tuple(dict.fromkeys([face for s in ranked for face in SCRIPT_FACES[s]] + list(GENERAL_FACES)))


def _line_runs(text: str) -> list[tuple[str, str, int]] | None:
    """(characters, face, embedding level) of each run of a line, in the order the runs stand from the
    left: a run is the longest stretch one face draws at one level (a mark stays with its base)."""
    faces = _faces_for(text)
    level = levels(text, right_to_left(text))
    runs: list[list] = []
    for ch, lv in zip(text, level, strict=True):
        if runs and unicodedata.combining(ch):  # a mark stays with its base, in its base's face
            if not _holds(runs[-1][1], ch):
                return None
            runs[-1][0] += ch
            continue
        if runs and ch == " " and runs[-1][2] == lv:
            runs[-1][0] += ch
            continue
        face = next((f for f in faces if _holds(f, ch)), None)
        if face is None:
            return None
        if runs and runs[-1][1] == face and runs[-1][2] == lv:
            runs[-1][0] += ch
        else:
            runs.append([ch, face, lv])
    return [tuple(runs[i]) for i in visual_indices([lv for _, _, lv in runs])]  # type: ignore[misc]


def render_page(lines: list[str], path: Path) -> tuple[list[tuple[str, list[list[float]]]], int]:
    """Draw `lines` one per row into a PNG at `path`; (truth lines with their boxes, lines left out)."""
    rows = []
    left_out = 0
    for text in (" ".join(t.split()) for t in lines):
        runs = _line_runs(text) if text else None
        if runs is None:
            left_out += bool(text)
            continue
        size = FONT_PX
        while True:
            fonts = [_font(face, size) for _, face, _ in runs]
            width = sum(f.getlength(run, direction="rtl" if lv % 2 else "ltr")
                        for (run, _, lv), f in zip(runs, fonts, strict=True) if f is not None)
            if width <= PAGE_WIDTH - 2 * MARGIN or size <= MIN_FONT_PX:
                break
            size = max(MIN_FONT_PX, int(size * (PAGE_WIDTH - 2 * MARGIN) / width))
        rows.append((text, runs, fonts, width, size))
    height = max(PAGE_HEIGHT, int(2 * MARGIN + sum(ROW * r[4] for r in rows)))
    image = Image.new("L", (PAGE_WIDTH, height), 255)
    draw = ImageDraw.Draw(image)
    truth, y = [], float(MARGIN)
    for text, runs, fonts, width, size in rows:
        x0 = x = PAGE_WIDTH - MARGIN - width if right_to_left(text) else MARGIN
        top, bottom = y + size, y
        for (run, _, level), font in zip(runs, fonts, strict=True):
            direction = "rtl" if level % 2 else "ltr"
            if run.strip():
                box = draw.textbbox((x, y), run, font=font, direction=direction)
                draw.text((x, y), run, font=font, fill=0, direction=direction)
                top, bottom = min(top, box[1]), max(bottom, box[3])
            x += font.getlength(run, direction=direction)
        truth.append((text, [[x0, top], [x0 + width, top], [x0 + width, bottom], [x0, bottom]]))
        y += ROW * size
    image.save(path, dpi=(150, 150))
    return truth, left_out


def noto_samples(layer_samples: list[Sample], out_dir: Path, kind: str) -> Rendered:
    """A rendered page for each text-layer page: the same lines in Noto faces, scored as `kind`."""
    samples, left_out = [], 0
    for sample in layer_samples:
        path = out_dir / f"{sample.path.stem}-p{sample.page}-noto.png"
        truth, dropped = render_page([text for text, _ in sample.lines], path)
        left_out += dropped
        if truth:
            samples.append(Sample(path, kind, sample.lang, 0, None, truth))
    return Rendered(samples, left_out)
