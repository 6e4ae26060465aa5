"""Searchable PDF: each page's image with the recognised text laid invisibly over its lines.

Every line (or word, when the engine boxed words) is one run of text in render mode 3 whose
text matrix maps the run onto the line's polygon: along its first edge for the reading
direction, up its left edge for the height, so rotated and upside-down lines stay selectable
where they are printed.  Image inputs become new pages (a JPEG is embedded as it is, without
re-encoding); a PDF input keeps every page as it was and only gets the text over the pages that
were OCRed, so pages whose own text layer was read are passed through untouched.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from ..errors import BadInput
from ..inputs.pdf import _PDFIUM_LOCK, is_pdf
from ..inputs.textlayer import SOURCE_TEXT_LAYER, page_pixel_size, pixel_transform
from ..result import OCRPage, TextLine
from ..unicode_text import proper_unicode
from .bidi import has_right_to_left, right_to_left, visual_order
from .fonts import DESCENT, CodeMap, cid_font, font_descriptor, type0_font
from .writer import PdfFile

#: used when an image says nothing of its resolution: the scale PDF pages are rendered at (144 dpi)
DEFAULT_DPI = 144.0
PageImage = bytes | np.ndarray
QUARTER_TURN_TILT = 1e-3  # radians


def _fmt(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") or "0"


def _segments(line: TextLine) -> list[tuple[str, np.ndarray]]:
    """Runs of text and the polygon each is stretched over: the engine's words and the separators
    between them (each over the gap it fills) when it made them, else the whole line."""
    whole = [(line.text, np.asarray(line.polygon, dtype=float))]
    words = [w for w in (line.words or ()) if w.text]
    if not words:
        return whole
    out, pos = [], 0
    for i, word in enumerate(words):
        start = line.text.find(word.text, pos)
        if start < 0:
            return whole
        end = start + len(word.text)
        poly = np.asarray(word.polygon, dtype=float)
        if i + 1 < len(words):
            nxt_start = line.text.find(words[i + 1].text, end)
            if nxt_start < 0:
                return whole
            sep = line.text[end:nxt_start]
            if not sep or sep.strip():
                return whole  # CJK characters boxed one by one: too narrow to stand alone, the line reads better
            out.append((word.text, poly))
            if sep:
                nxt = np.asarray(words[i + 1].polygon, dtype=float)
                gap = np.stack([poly[1], nxt[0], nxt[3], poly[2]])  # from this word's end to the next's start
                if np.hypot(*(gap[1] - gap[0])) < 1e-3:
                    out[-1] = (word.text + sep, poly)
                else:
                    out.append((sep, gap))
            pos = nxt_start
            continue
        else:
            out.append((word.text, poly))
    return out


Frame = tuple[np.ndarray, float, float, np.ndarray]  # unit reading direction, length, height, baseline origin


def _frame(poly: np.ndarray, to_page: np.ndarray) -> Frame | None:
    """(unit reading direction, length, height, baseline origin) of a polygon, in points."""
    tl, tr, br, bl = poly @ to_page[:, :2].T + to_page[:, 2]
    along = ((tr - tl) + (br - bl)) / 2
    up = ((tl - bl) + (tr - br)) / 2
    length, height = float(np.hypot(*along)), float(np.hypot(*up))
    if length < 1e-3 or height < 1e-3:
        return None
    return along / length, length, height, bl + up * (-DESCENT / 1000)


def _run(hex_text: str, n: int, frame: Frame) -> str:
    """One text object: `n` glyphs stretched over the frame's length, at its height and angle.

    The font size is the height and Tz stretches the glyphs: readers that group characters into
    lines by font size (pdfium does) then see one size per line.
    """
    u, length, height, origin = frame
    if abs(u[0]) < QUARTER_TURN_TILT:
        # pdfium's text page drops CJK runs set at an exact quarter turn; a tilt this small moves no box
        u = np.array([QUARTER_TURN_TILT, np.sign(u[1]) * np.sqrt(1 - QUARTER_TURN_TILT**2)])
    return (f"/F1 {_fmt(height)} Tf {_fmt(100.0 * length / (n * height))} Tz {_fmt(u[0])} {_fmt(u[1])} "
            f"{_fmt(-u[1])} {_fmt(u[0])} {_fmt(origin[0])} {_fmt(origin[1])} Tm <{hex_text}> Tj")


def line_operators(line: TextLine, to_page: np.ndarray, codes: CodeMap) -> list[str]:
    """The line's text as text objects: one per word and per gap between words, each on its box.

    Each run's characters are laid in visual order (a right-to-left word from its right end), as
    readers, which order glyphs by where they stand, expect: they copy and find it in logical order."""
    segments = _segments(line)
    if has_right_to_left(line.text):
        rtl = right_to_left(line.text)
        segments = [(visual_order(text, rtl), poly) for text, poly in segments]
    runs = [(proper_unicode(text), _frame(poly, to_page)) for text, poly in segments if text]
    return [_run(codes.encode(text), len(text), frame) for text, frame in runs if frame is not None]


def text_operators(result: OCRPage, to_page: np.ndarray, codes: CodeMap) -> bytes:
    """Content-stream operators that draw the page's text invisibly; `to_page` maps pixels to points."""
    ops = ["BT", "3 Tr"]
    ops += [op for line in result.lines for op in line_operators(line, to_page, codes)]
    ops.append("ET")
    return "\n".join(ops).encode("ascii") + b"\n"


def _image_xobject(pdf: PdfFile, image: PageImage) -> tuple[int, int, int, float | None]:
    """(object id, width px, height px, dpi or None) of a page image; JPEG bytes go in unchanged."""
    if isinstance(image, np.ndarray):
        img = Image.fromarray(np.ascontiguousarray(image[:, :, ::-1]) if image.ndim == 3 else image)
        data, dpi = None, None
    else:
        img = Image.open(io.BytesIO(image))
        data, dpi = image, _dpi(img)
    w, h = img.size
    if data is not None and img.format == "JPEG" and img.mode in ("L", "RGB"):
        space = "/DeviceGray" if img.mode == "L" else "/DeviceRGB"
        return pdf.add_stream(data, f"/Type /XObject /Subtype /Image /Width {w} /Height {h} "
                              f"/ColorSpace {space} /BitsPerComponent 8 /Filter /DCTDecode", compress=False), w, h, dpi
    img = _flatten(img)
    space = "/DeviceGray" if img.mode == "L" else "/DeviceRGB"
    return pdf.add_stream(img.tobytes(), f"/Type /XObject /Subtype /Image /Width {w} /Height {h} "
                          f"/ColorSpace {space} /BitsPerComponent 8"), w, h, dpi


def _flatten(img: Image.Image) -> Image.Image:
    """Grey stays grey (a third of the bytes); everything else becomes RGB over white."""
    if img.mode in ("L", "1"):
        return img.convert("L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        canvas.alpha_composite(rgba)
        img = canvas
    rgb = img.convert("RGB")
    arr = np.asarray(rgb)
    if (arr[:, :, 0] == arr[:, :, 1]).all() and (arr[:, :, 1] == arr[:, :, 2]).all():
        return rgb.convert("L")
    return rgb


def _dpi(img: Image.Image) -> float | None:
    dpi = img.info.get("dpi")
    try:
        x = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        return None
    return x if 36 <= x <= 2400 else None


def _font(pdf: PdfFile, codes: CodeMap, font_id: int) -> None:
    """Write the font once every page's text is known (the ToUnicode map needs every character)."""
    to_unicode = pdf.add_stream(codes.to_unicode())
    descriptor = pdf.add(font_descriptor())
    pdf.set(font_id, type0_font(pdf.add(cid_font(descriptor)), to_unicode))


def _finish(pdf: PdfFile, codes: CodeMap, ids: tuple[int, int, int], page_ids: Sequence[int]) -> None:
    catalog, pages_id, font_id = ids
    _font(pdf, codes, font_id)
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    pdf.set(pages_id, f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode())
    pdf.set(catalog, f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode())


def image_pages_pdf(results: Sequence[OCRPage], images: Sequence[PageImage], dpi: float | None = None) -> bytes:
    """A new PDF, one page per image, each with its result's text over it."""
    if len(images) != len(results):
        raise BadInput(f"{len(results)} results but {len(images)} page images")
    pdf, codes = PdfFile(), CodeMap()
    catalog, pages_id = pdf.reserve(), pdf.reserve()
    font_id = pdf.reserve()  # the Type0 font's id, written last; pages refer to it now
    page_ids = []
    for result, image in zip(results, images):
        image_id, w, h, own_dpi = _image_xobject(pdf, image)
        scale = 72.0 / (dpi or own_dpi or DEFAULT_DPI)
        sx, sy = result.width / w if w else 1.0, result.height / h if h else 1.0  # result pixels -> image pixels
        pw, ph = w * scale, h * scale
        to_page = np.array([[scale / sx, 0.0, 0.0], [0.0, -scale / sy, ph]])
        content = f"q {_fmt(pw)} 0 0 {_fmt(ph)} 0 0 cm /Im0 Do Q\n".encode() + text_operators(result, to_page, codes)
        content_id = pdf.add_stream(content)
        page_ids.append(pdf.add(
            (f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {_fmt(pw)} {_fmt(ph)}] "
             f"/Resources << /XObject << /Im0 {image_id} 0 R >> /Font << /F1 {font_id} 0 R >> >> "
             f"/Contents {content_id} 0 R >>").encode()))
    _finish(pdf, codes, (catalog, pages_id, font_id), page_ids)
    info = pdf.add(b"<< /Producer (ocrserve) >>")
    return pdf.to_bytes(catalog, info)


class PdfOverlay:
    """A PDF's searchable copy, built a page at a time: `add` each read page's result (in page
    order), then `save`.  Only the text overlay's compressed streams are kept between pages, and
    pdfium's lock is taken per step, so a long document neither fills memory nor holds the lock.

    `original` is the document's bytes or its path (pdfium then reads the file as it needs it).
    """

    def __init__(self, original: bytes | str | Path, pdf_scale: float) -> None:
        self.original = original
        self.pdf_scale = pdf_scale
        with _PDFIUM_LOCK:
            self.doc = pdfium.PdfDocument(str(original) if isinstance(original, Path) else original)
            self.pages = len(self.doc)
        self.pdf, self.codes = PdfFile(), CodeMap()
        self.ids = (self.pdf.reserve(), self.pdf.reserve(), self.pdf.reserve())  # catalog, pages, font
        self.targets: list[int] = []  # the document's pages that get text, in order
        self.page_ids: list[int] = []

    def add(self, result: OCRPage, index: int) -> None:
        """Lay page `index`'s OCR lines over it; a page read from its own text layer stays as it is."""
        if result.source == SOURCE_TEXT_LAYER:
            return
        with _PDFIUM_LOCK:
            page = self.doc[index]
            try:
                m = pixel_transform(page, self.pdf_scale)
                rendered_w, rendered_h = page_pixel_size(page, self.pdf_scale)
                box = tuple(page.get_mediabox())
            finally:
                page.close()
        sx, sy = result.width / max(rendered_w, 1), result.height / max(rendered_h, 1)
        m = np.diag([sx, sy]) @ m  # the result may be in other pixels than pdf_scale's
        to_page = np.linalg.inv(np.vstack([m, [0.0, 0.0, 1.0]]))[:2]
        _, pages_id, font_id = self.ids
        content_id = self.pdf.add_stream(text_operators(_ocr_lines_only(result), to_page, self.codes))
        self.page_ids.append(self.pdf.add(
            (f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [{' '.join(_fmt(v) for v in box)}] "
             f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>").encode()))
        self.targets.append(index)

    def save(self, out: BinaryIO) -> None:
        """Write the document, every page kept, the added text over its pages."""
        if not self.targets:  # nothing was OCRed: the original as it is, byte for byte
            if isinstance(self.original, (str, Path)):
                with open(self.original, "rb") as source:
                    shutil.copyfileobj(source, out)
            else:
                out.write(self.original)
            return
        _finish(self.pdf, self.codes, self.ids, self.page_ids)
        text = self.pdf.to_bytes(self.ids[0])  # text-only pages in the original pages' own user space
        with _PDFIUM_LOCK:
            overlay = pdfium.PdfDocument(text)
        try:
            for n, index in enumerate(self.targets):
                with _PDFIUM_LOCK:
                    _lay_over(self.doc, overlay, index, n)
        finally:
            with _PDFIUM_LOCK:
                overlay.close()
        with _PDFIUM_LOCK:
            self.doc.save(out)

    def close(self) -> None:
        with _PDFIUM_LOCK:
            self.doc.close()


def overlay_pdf(original: bytes, results: Sequence[OCRPage], pdf_scale: float) -> bytes:
    """The original PDF, every page kept; the OCRed pages get their text laid over them."""
    by_page = {r.page_index if r.page_index is not None else i: r for i, r in enumerate(results)}
    overlay = PdfOverlay(original, pdf_scale)
    try:
        for index in sorted(i for i in by_page if 0 <= i < overlay.pages):
            overlay.add(by_page[index], index)
        if not overlay.targets:
            return original
        out = io.BytesIO()
        overlay.save(out)
        return out.getvalue()
    finally:
        overlay.close()


def _ocr_lines_only(result: OCRPage) -> OCRPage:
    """The page's OCR lines: on a mixed page, the text-layer lines are in the page already."""
    return replace(result, lines=[line for line in result.lines if line.source == "ocr"])


def _lay_over(doc: pdfium.PdfDocument, overlay: pdfium.PdfDocument, index: int, overlay_index: int) -> None:
    """Put overlay page `overlay_index` over page `index` of `doc`, as a form XObject."""
    xobject = pdfium_c.FPDF_NewXObjectFromPage(doc, overlay, overlay_index)
    if not xobject:
        raise BadInput(f"page {index + 1}: the text layer could not be added")
    try:
        form = pdfium_c.FPDF_NewFormObjectFromXObject(xobject)
        page = doc[index]
        try:
            pdfium_c.FPDFPage_InsertObject(page, form)
            if not pdfium_c.FPDFPage_GenerateContent(page):
                raise BadInput(f"page {index + 1}: its content could not be rewritten")
        finally:
            page.close()
    finally:
        pdfium_c.FPDF_CloseXObject(xobject)


def searchable_pdf(results: Sequence[OCRPage], original: bytes | None = None, *,
                   page_images: Sequence[PageImage] | None = None, pdf_scale: float = 2.0,
                   dpi: float | None = None) -> bytes:
    """One searchable PDF for one document.

    `original` is the document's bytes: a PDF is kept and overlaid; an image is embedded as the
    page. Several images make one PDF through `page_images` (bytes or BGR arrays, one per
    result); without either, each result's own `image` is used.
    """
    if original is not None and is_pdf(original):
        return overlay_pdf(original, results, pdf_scale)
    if page_images is None:
        if original is not None and len(results) == 1:
            page_images = [original]
        else:
            missing = [i for i, r in enumerate(results) if r.image is None]
            if missing:
                raise BadInput("a searchable PDF needs each page's image: pass the original bytes or keep the images")
            page_images = [r.image for r in results if r.image is not None]
    return image_pages_pdf(results, page_images, dpi)

