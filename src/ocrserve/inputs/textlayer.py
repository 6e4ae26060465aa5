"""A PDF page's own text as an OCRPage: no rendering, no OCR, when the text can be trusted.

Characters and their boxes come from pdfium's text page, cut into lines where pdfium breaks
them (its order is the page's reading order) and mapped into the pixel space the page renders
to at `pdf_scale`, so a line reads exactly like an OCR line of the rendered page.  The check
(`check_layer`) refuses the usual broken layers: fonts without a ToUnicode map (replacement or
private-use characters), and images whose ink the layer does not cover (a scan with only a stamp
for text, a screenshot on a text page): those image regions alone are OCRed and their lines join
the layer's.
"""

from __future__ import annotations

import ctypes
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..result import LineFont, OCRPage, Segment, TextLine
from .rulings import read_rulings

#: `OCRPage.source` of a page read from its text layer; its `to_dict()` says so in `text_source`
SOURCE_TEXT_LAYER = "text_layer"
#: `OCRPage.source` of a page whose text layer was kept and whose image regions were OCRed as well
SOURCE_MIXED = "text_layer+ocr"
#: at most this share of a layer's characters may be unmappable (U+FFFD, private use, controls)
MAX_UNMAPPED = 0.05
#: an image region is OCRed when the layer's line boxes hold less than this share of its ink
MIN_INK_COVERED = 0.5
#: images smaller than this share of the page, or thinner than MIN_REGION_PT, cannot hold a readable line
MIN_REGION_AREA = 0.005
MIN_REGION_PT = 8.0
#: an image with less ink than this share of its pixels is blank (a rule, a tint): nothing to read
MIN_REGION_INK = 0.002
#: regions covering this share of the page are read as one page: one detector call, no seams
WHOLE_PAGE = 0.6
REGION_MARGIN = 8  # pixels of context around a region, so that DB sees the edges of its lines
INK_SCALE = 0.5  # the coarse render the ink is counted on (36 dpi)
INK_LEVEL = 128  # grey below this is ink


@dataclass(frozen=True)
class LayerCheck:
    """The verdict on a page's text layer: `status` is usable, none, unmapped or partial."""

    status: str
    reason: str
    characters: int = 0
    unmapped: float = 0.0
    image_cover: float = 0.0
    ink_covered: float = 0.0
    #: a partial layer's image regions to OCR, [x0, y0, x1, y1] in the rendered page's pixels
    regions: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def usable(self) -> bool:
        return self.status == "usable"


@dataclass(frozen=True)
class TextLayer:
    lines: list[TextLine]
    check: LayerCheck
    rulings: list[Segment] = field(default_factory=list)  # the page's drawn rules, for its tables


def pixel_transform(page: pdfium.PdfPage, scale: float) -> np.ndarray:
    """2x3 affine from the page's user space (points) to the pixels `page.render(scale=scale)` gives.

    Taken from pdfium itself (crop box origin and /Rotate included), over a grid 1000 times finer
    than the bitmap so that its integer device coordinates lose nothing.
    """
    k = 1000
    size_x, size_y = math.ceil(page.get_width() * scale) * k, math.ceil(page.get_height() * scale) * k
    dx, dy = ctypes.c_int(), ctypes.c_int()
    out = []
    for x, y in ((0.0, 0.0), (1000.0, 0.0), (0.0, 1000.0)):
        pdfium_c.FPDF_PageToDevice(page, 0, 0, size_x, size_y, 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
        out.append((dx.value / k, dy.value / k))
    (ox, oy), (ax, ay), (bx, by) = out
    return np.array([[(ax - ox) / 1000, (bx - ox) / 1000, ox], [(ay - oy) / 1000, (by - oy) / 1000, oy]])


def _unmapped(code: int) -> bool:
    return (code in (0, 0xFFFD) or 0xE000 <= code <= 0xF8FF or code >= 0xF0000 or _control(code)
            or 0xD800 <= code <= 0xDFFF)


def _control(code: int) -> bool:
    """C0 and C1 controls but the line structure: a broken font map's codes, never text to keep."""
    return (code < 0x20 and code not in (9, 10, 13)) or 0x7F <= code <= 0x9F


def _code_point(textpage: pdfium.PdfTextPage, index: int, count: int) -> tuple[int, int]:
    """(code point, UTF-16 units it takes) at `index`: pdfium gives a character outside the Basic
    Multilingual Plane as two surrogate halves, which join here; a lone half stays as it is."""
    code = pdfium_c.FPDFText_GetUnicode(textpage, index)
    if 0xD800 <= code <= 0xDBFF and index + 1 < count:
        low = pdfium_c.FPDFText_GetUnicode(textpage, index + 1)
        if 0xDC00 <= low <= 0xDFFF:
            return 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00), 2
    return code, 1


def _union(a: tuple[float, float, float, float] | None,
           b: tuple[float, float, float, float] | None) -> tuple[float, float, float, float] | None:
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _char_box(textpage: pdfium.PdfTextPage, index: int) -> tuple[float, float, float, float] | None:
    rect = pdfium_c.FS_RECTF()
    if not pdfium_c.FPDFText_GetLooseCharBox(textpage, index, rect):
        return None
    return rect.left, rect.bottom, rect.right, rect.top


def _line_polygon(boxes: Sequence[tuple[float, float, float, float]], m: np.ndarray) -> list[list[float]]:
    """The union of a line's character boxes, in pixels, its corners from the text's own top-left."""
    pts = []
    for left, bottom, right, top in boxes:
        pts += [(left, bottom), (right, bottom), (right, top), (left, top)]
    px = np.asarray(pts) @ m[:, :2].T + m[:, 2]
    x0, y0 = px.min(axis=0)
    x1, y1 = px.max(axis=0)
    rect = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    first, last = np.asarray(boxes[0]), np.asarray(boxes[-1])
    c0 = np.array([(first[0] + first[2]) / 2, (first[1] + first[3]) / 2]) @ m[:, :2].T
    c1 = np.array([(last[0] + last[2]) / 2, (last[1] + last[3]) / 2]) @ m[:, :2].T
    d = c1 - c0
    turns = 0
    if len(boxes) > 1 and np.hypot(*d) > 1e-6:
        # reading direction in pixels: right 0, down 1, left 2, up 3 quarter turns clockwise
        turns = int(round(math.atan2(d[1], d[0]) / (math.pi / 2))) % 4
    rect = rect[turns:] + rect[:turns]
    return [[round(float(x), 1), round(float(y), 1)] for x, y in rect]


def _glyph_edges(boxes: Sequence[tuple[float, float, float, float]], owners: Sequence[int],
                 m: np.ndarray) -> tuple[tuple[float, float], ...]:
    """Each character's left and right edge in pixels; a space (no box of its own) is the empty
    stretch at the right edge of the character before it."""
    corners = np.asarray([[(x0, b), (x1, b), (x0, t), (x1, t)] for x0, b, x1, t in boxes], dtype=np.float64)
    xs = corners @ m[0, :2] + m[0, 2]
    left, right = xs.min(axis=1), xs.max(axis=1)
    edges = []
    for k, owner in enumerate(owners):
        own = k == 0 or owners[k - 1] != owner
        edges.append((round(float(left[owner] if own else right[owner]), 1), round(float(right[owner]), 1)))
    return tuple(edges)


#: a font whose PostScript name says so is bold, whatever weight its descriptor gives (Type 1 fonts often give none)
_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi|cmbx|cmb\d|lmroman\d+-bold", re.I)
_FORCE_BOLD = 1 << 18  # the font descriptor's ForceBold flag (PDF 32000-1, table 123)


def _font_is_bold(font: Any) -> bool:
    weight = pdfium_c.FPDFFont_GetWeight(font)
    if weight >= 600 or pdfium_c.FPDFFont_GetFlags(font) & _FORCE_BOLD:
        return True
    size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
    buffer = ctypes.create_string_buffer(max(size, 1))
    pdfium_c.FPDFFont_GetBaseFontName(font, buffer, size)
    return bool(_BOLD_NAME.search(buffer.value.decode("latin-1", "replace")))


def _char_font(textpage: pdfium.PdfTextPage, index: int, bold_fonts: dict[int, bool]) -> tuple[float, bool]:
    """A character's font size (points) and boldness; `bold_fonts` caches the answer per font object."""
    size = round(float(pdfium_c.FPDFText_GetFontSize(textpage, index)), 1)
    text_object = pdfium_c.FPDFText_GetTextObject(textpage, index)
    font = pdfium_c.FPDFTextObj_GetFont(text_object) if text_object else None
    if not font:
        return size, False
    key = ctypes.cast(font, ctypes.c_void_p).value or 0
    if key not in bold_fonts:
        bold_fonts[key] = _font_is_bold(font)
    return size, bold_fonts[key]


def _line_font(fonts: Sequence[tuple[float, bool]]) -> LineFont | None:
    if not fonts:
        return None
    size = Counter(size for size, _ in fonts).most_common(1)[0][0]
    return LineFont(size, 2 * sum(bold for _, bold in fonts) > len(fonts))


def read_lines(textpage: pdfium.PdfTextPage, m: np.ndarray) -> tuple[list[TextLine], int, int]:
    """(lines, visible characters, unmappable characters) of a text page."""
    lines: list[TextLine] = []
    text: list[str] = []
    boxes: list[tuple[float, float, float, float]] = []
    owners: list[int] = []  # per character of `text`: the index in `boxes` of its own box or the one before
    fonts: list[tuple[float, bool]] = []  # per visible character: its font size and boldness
    bold_fonts: dict[int, bool] = {}
    visible = unmapped = 0

    def flush() -> None:
        line = "".join(text)
        start, end = len(line) - len(line.lstrip()), len(line.rstrip())
        if line[start:end] and boxes:
            lines.append(TextLine(text=line[start:end], score=1.0, polygon=_line_polygon(boxes, m),
                                  source=SOURCE_TEXT_LAYER, glyphs=_glyph_edges(boxes, owners[start:end], m),
                                  font=_line_font(fonts)))
        text.clear()
        boxes.clear()
        owners.clear()
        fonts.clear()

    def put(ch: str, box: tuple[float, float, float, float] | None) -> None:
        text.append(ch)
        if box is not None:
            boxes.append(box)
        owners.append(len(boxes) - 1)

    count = textpage.count_chars()
    i = 0
    while i < count:
        code, units = _code_point(textpage, i, count)
        first, i = i, i + units
        if code in (10, 13):
            flush()
            continue
        if code == 2:  # pdfium's mark for a hyphen that ends a line: keep the hyphen, end the line
            box = _char_box(textpage, first)
            if box is not None:
                put("-", box)
            flush()
            continue
        lone_half = 0xD800 <= code <= 0xDFFF
        ch = chr(code) if 0 < code < 0x110000 and not lone_half else "\ufffd"
        if pdfium_c.FPDFText_IsGenerated(textpage, first) or ch.isspace():
            put(" ", None)
            continue
        visible += 1
        unmapped += _unmapped(code)
        if code == 0xFFFE or pdfium_c.FPDFText_HasUnicodeMapError(textpage, first) == 1:
            unmapped += not _unmapped(code)
        box = _char_box(textpage, first)
        if units == 2:
            box = _union(box, _char_box(textpage, first + 1))
        if box is None or _control(code):
            continue
        put(ch, box)
        fonts.append(_char_font(textpage, first, bold_fonts))
    flush()
    return lines, visible, unmapped


def _image_boxes(page: pdfium.PdfPage) -> list[tuple[float, float, float, float]]:
    out = []
    for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=4):
        left, bottom, right, top = obj.get_bounds()
        out.append((left, bottom, right, top))
    return out


def _area(box: tuple[float, float, float, float]) -> float:
    return max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)


def _clip(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float]:
    return max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])


def check_layer(page: pdfium.PdfPage, lines: Sequence[TextLine], visible: int, unmapped: int,
                m: np.ndarray) -> LayerCheck:
    if visible == 0:
        return LayerCheck("none", "the page has no text layer")
    share = unmapped / visible
    if share > MAX_UNMAPPED:
        return LayerCheck("unmapped", f"{share:.0%} of the text layer's {visible} characters have no Unicode "
                          "mapping (a font without ToUnicode, or private-use code points); the page was OCRed", visible, share)
    page_box = tuple(page.get_bbox())
    page_area = max(_area(page_box), 1e-6)
    images = [_clip(b, page_box) for b in _image_boxes(page)]
    cover = min(sum(_area(b) for b in images), page_area) / page_area
    images = [b for b in images if _area(b) >= MIN_REGION_AREA * page_area
              and min(b[2] - b[0], b[3] - b[1]) >= MIN_REGION_PT]
    if not images:  # nothing but the layer can hold text: no render needed
        return LayerCheck("usable", "", visible, share, cover)
    ink = _Ink(page, lines, m)
    uncovered = [(b, box) for b, box in ((b, ink.region(b)) for b in images) if box is not None]
    regions = [box for _, box in uncovered]
    covered = ink.covered_share()
    if not regions:
        return LayerCheck("usable", "", visible, share, cover, covered)
    if sum(_area(b) for b, _ in uncovered) / page_area >= WHOLE_PAGE:  # no regions: the whole page
        return LayerCheck("partial", f"the page is {cover:.0%} image and its text layer lies over {covered:.0%} "
                          "of its ink; the page was OCRed", visible, share, cover, covered)
    return LayerCheck("partial", f"{len(regions)} image region(s) hold ink the text layer does not cover; only "
                      "they were OCRed, and their lines added to the layer's", visible, share, cover, covered,
                      tuple(regions))


class _Ink:
    """A page's dark pixels on a coarse render, and which of them lie under a text line's box.

    An OCR layer covers the printed text it was made from; a stamp over a scan, or a screenshot
    on a text page, leaves its image's ink outside every line box.
    """

    def __init__(self, page: pdfium.PdfPage, lines: Sequence[TextLine], m: np.ndarray) -> None:
        bitmap = page.render(scale=INK_SCALE, grayscale=True)
        try:
            grey = bitmap.to_numpy()
        finally:
            bitmap.close()
        grey = grey[:, :, 0] if grey.ndim == 3 else grey
        self.ink = grey < INK_LEVEL
        self.m = m
        self.ratio = INK_SCALE / max(float(np.hypot(m[0, 0], m[1, 0])), 1e-6)  # rendered -> coarse pixels
        self.mask = np.zeros_like(self.ink)
        h, w = self.mask.shape
        for line in lines:
            pts = np.asarray(line.polygon) * self.ratio
            x0, y0 = np.floor(pts.min(axis=0)).astype(int) - 1
            x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
            self.mask[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)] = True

    def covered_share(self) -> float:
        total = int(self.ink.sum())
        if total < 0.001 * self.ink.size:
            return 1.0  # a blank page: nothing the layer could be missing
        return float((self.ink & self.mask).sum()) / total

    def region(self, box: tuple[float, float, float, float]) -> tuple[int, int, int, int] | None:
        """The image `box` (user space) in rendered pixels when its ink is mostly outside the layer, else None."""
        x0, y0, x1, y1 = _to_pixels(self.m, box)
        h, w = self.ink.shape
        c0, r0 = max(int(x0 * self.ratio), 0), max(int(y0 * self.ratio), 0)
        c1, r1 = min(math.ceil(x1 * self.ratio), w), min(math.ceil(y1 * self.ratio), h)
        ink = self.ink[r0:r1, c0:c1]
        total = int(ink.sum())
        if total == 0 or total < MIN_REGION_INK * ink.size:
            return None
        if float((ink & self.mask[r0:r1, c0:c1]).sum()) / total >= MIN_INK_COVERED:
            return None
        return int(x0), int(y0), math.ceil(x1), math.ceil(y1)


def _to_pixels(m: np.ndarray, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    corners = np.array([[box[0], box[1], 1], [box[2], box[1], 1], [box[0], box[3], 1], [box[2], box[3], 1]])
    pts = corners @ m.T
    return float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())


def read_text_layer(page: pdfium.PdfPage, scale: float) -> TextLayer:
    """The page's text lines in rendered-pixel space and the verdict on them."""
    m = pixel_transform(page, scale)
    textpage = page.get_textpage()
    try:
        lines, visible, unmapped = read_lines(textpage, m)
    finally:
        textpage.close()
    return TextLayer(lines, check_layer(page, lines, visible, unmapped, m), read_rulings(page, m))


def page_pixel_size(page: pdfium.PdfPage, scale: float) -> tuple[int, int]:
    return math.ceil(page.get_width() * scale), math.ceil(page.get_height() * scale)


def layer_result(layer: TextLayer, width: int, height: int, *, det_params: dict[str, Any] | None = None,
                 text_rec_score_thresh: float = 0.0, page_index: int | None = None) -> OCRPage:
    """An OCRPage from a text layer: score 1.0 per line, `source` = text_layer, no detections run."""
    return OCRPage(
        width=width, height=height, lines=list(layer.lines),
        detected_polygons=[line.polygon for line in layer.lines], doc_angle=None,
        det_params=dict(det_params or {}), text_rec_score_thresh=text_rec_score_thresh,
        use_textline_orientation=False, return_word_box=False, page_index=page_index,
        source=SOURCE_TEXT_LAYER, text_layer=layer.check.status, rulings=list(layer.rulings),
    )


def merge_ocr(layer: TextLayer, ocr: OCRPage) -> OCRPage:
    """OCR of a page whose layer is partial: the layer's lines kept, OCR lines added where it has none.

    An OCR line mostly inside a layer line's box is the same text read twice and is dropped.
    """
    kept = [line for line in ocr.lines if not _covered(line, layer.lines)]
    ocr.lines = _by_position(list(layer.lines) + kept)
    ocr.source = SOURCE_MIXED if layer.lines else "ocr"
    ocr.text_layer = layer.check.status
    return ocr


def read_regions(image: np.ndarray, layer: TextLayer, predict: Callable[[np.ndarray], OCRPage]) -> OCRPage:
    """OCR of the layer's image regions only, merged into its lines, in the whole page's pixels.

    Each region's lines go in as one block where the region sits in the layer's reading order
    (before the first layer line below it in the same column), so a figure in a column reads
    inside that column.
    """
    height, width = image.shape[:2]
    lines, detected, parts = list(layer.lines), [], []
    timings: dict[str, float] = {}
    for x0, y0, x1, y1 in layer.check.regions:
        x0, y0 = max(x0 - REGION_MARGIN, 0), max(y0 - REGION_MARGIN, 0)
        x1, y1 = min(x1 + REGION_MARGIN, width), min(y1 + REGION_MARGIN, height)
        part = predict(np.ascontiguousarray(image[y0:y1, x0:x1]))
        parts.append(part)
        for stage, seconds in part.timings.items():
            timings[stage] = timings.get(stage, 0.0) + seconds
        detected += [_shifted(poly, x0, y0) for poly in part.detected_polygons]
        block = [_shift_line(line, x0, y0) for line in part.lines]
        block = [line for line in block if not _covered(line, layer.lines)]
        at = insert_position(lines, (x0, y0, x1, y1))
        lines[at:at] = block
    first = parts[0]
    return replace(first, width=width, height=height, lines=lines,
                   detected_polygons=[line.polygon for line in layer.lines] + detected,
                   doc_angle=None if first.doc_angle is None else 0,  # the page itself was not turned
                   timings=timings, image=image if first.image is not None else None,
                   source=SOURCE_MIXED, text_layer=layer.check.status)


def _shifted(polygon: Sequence[Sequence[float]], dx: int, dy: int) -> list[list[float]]:
    return [[float(x) + dx, float(y) + dy] for x, y in polygon]


def _shift_line(line: TextLine, dx: int, dy: int) -> TextLine:
    words = None if line.words is None else tuple(replace(w, polygon=_shifted(w.polygon, dx, dy)) for w in line.words)
    return replace(line, polygon=_shifted(line.polygon, dx, dy), words=words)


def insert_position(lines: Sequence[TextLine], region: tuple[int, int, int, int]) -> int:
    """Where a region's block goes in `lines`: before the first line below its top that shares its columns."""
    x0, y0, x1, _ = region
    after_above = None
    for i, line in enumerate(lines):
        a0, b0, a1, _ = line.box
        if min(x1, a1) <= max(x0, a0):  # another column
            continue
        if b0 >= y0:
            return i
        after_above = i + 1
    return len(lines) if after_above is None else after_above


def _by_position(lines: list[TextLine]) -> list[TextLine]:
    """Lines of two sources in one order: rows a line-height tall from the top, then left to right."""
    if not lines:
        return lines
    height = max(float(np.median([line.box[3] - line.box[1] for line in lines])), 1.0)
    return sorted(lines, key=lambda line: (round((line.box[1] + line.box[3]) / 2 / height), line.box[0]))


def _covered(line: TextLine, others: Sequence[TextLine]) -> bool:
    x0, y0, x1, y1 = line.box
    area = max((x1 - x0) * (y1 - y0), 1)
    for other in others:
        a0, b0, a1, b1 = other.box
        inter = max(min(x1, a1) - max(x0, a0), 0) * max(min(y1, b1) - max(y0, b0), 0)
        if inter / area > 0.5:
            return True
    return False
