"""The visualised result: PaddleX's `ocr_res_img` and `layout_det_res`, and the encoders that ship it.

Left half: the input with each recognised line's polygon outlined over a light fill, so a reader
sees what was found where.  Right half: a white page with each line's text redrawn inside the
same polygon, so misreadings stand out next to the original (PaddleX's `draw_box_txt_fine`).
Geometry is done with OpenCV on BGR arrays; Pillow only renders the glyphs.
"""

from __future__ import annotations

import base64
import functools
import glob
import logging
import os
import shutil
import subprocess
from pathlib import Path
from typing import Union

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import BadInput
from ..result import LayoutRegion, OCRPage

Font = Union[ImageFont.FreeTypeFont, ImageFont.ImageFont]
Colour = tuple[int, int, int]

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
             "/System/Library/Fonts", "/Library/Fonts", "C:/Windows/Fonts")
CJK_FONT_PATTERNS = ("NotoSansCJK*.tt[cf]", "NotoSansCJK*.otf", "NotoSerifCJK*.tt[cf]", "wqy*.tt[cf]",
                     "DroidSansFallback*.tt[cf]", "ukai*.tt[cf]", "uming*.tt[cf]", "PingFang*.ttc",
                     "msyh*.tt[cf]", "simsun*.tt[cf]")
LATIN_FONT_PATTERNS = ("DejaVuSans.ttf",)
FILL_ALPHA = 0.3  # weight of the polygon fill over the input: light enough to read the text beneath
TEXT_HEIGHT_RATIO = 0.8  # glyph size relative to the box height (PaddleX's create_font)
WHITE = (255, 255, 255)


# --- fonts ----------------------------------------------------------------------------------------
def _find_font_file(patterns: tuple[str, ...]) -> str | None:
    """First file matching any pattern under the usual font folders (patterns in priority order)."""
    for pattern in patterns:
        for folder in FONT_DIRS:
            hits = sorted(glob.glob(os.path.join(os.path.expanduser(folder), "**", pattern), recursive=True))
            if hits:
                return hits[0]
    return None


def _fc_list_chinese_font() -> str | None:
    """Ask fontconfig for any font covering Chinese: it knows fonts installed in unusual places."""
    if shutil.which("fc-list") is None:
        return None
    try:
        proc = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted(line.split(":")[0].strip() for line in proc.stdout.splitlines() if line.strip())
    return next((f for f in files if f.lower().endswith((".ttf", ".ttc", ".otf"))), None)


@functools.lru_cache(maxsize=1)
def font_path() -> str | None:
    """A CJK-capable font if the system has one (Chinese is most of what we read), else DejaVu Sans.

    None means Pillow's built-in font.  Cached: the lookup walks font folders and may run fc-list.
    """
    return _find_font_file(CJK_FONT_PATTERNS) or _fc_list_chinese_font() or _find_font_file(LATIN_FONT_PATTERNS)


CJK_FONT_PACKAGE = "fonts-noto-cjk"  # Debian/Ubuntu; Noto Sans CJK on other systems


def warn_if_no_cjk_font() -> bool:
    """Log one warning when drawn result images cannot show Chinese or Japanese; True if a CJK font exists."""
    if _find_font_file(CJK_FONT_PATTERNS) or _fc_list_chinese_font():
        return True
    logging.getLogger("ocrserve.export.visualize").warning(
        "no CJK font found: Chinese and Japanese text in drawn result images (visualize, --save-path) will show "
        "as empty boxes; install one, e.g. `apt-get install %s` (text in JSON and on the page is unaffected)",
        CJK_FONT_PACKAGE)
    return False


@functools.lru_cache(maxsize=512)
def _font(size: int) -> Font:
    """The font at `size` pixels; cached because a page asks for the same few sizes many times."""
    path = font_path()
    if path is not None:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size)  # Pillow >= 10.1: scalable built-in font
    except TypeError:
        return ImageFont.load_default()


def _fitted_font(text: str, width: int, height: int) -> Font:
    """As large as 80% of the box height allows, shrunk until the text fits the box width."""
    size = max(1, int(height * TEXT_HEIGHT_RATIO))
    font = _font(size)
    length = font.getlength(text)
    if length > width:
        size = max(1, int(size * width / length))
        font = _font(size)
    return font


# --- drawing --------------------------------------------------------------------------------------
def _colours(n: int) -> list[Colour]:
    """Saturated hues a golden-ratio step apart: neighbours differ, and none vanishes on white."""
    if n == 0:
        return []
    hues = (np.arange(n) * 0.618034 % 1.0 * 180).astype(np.uint8)
    hsv = np.stack([hues, np.full(n, 220, np.uint8), np.full(n, 210, np.uint8)], axis=1)[None]
    return [(int(b), int(g), int(r)) for b, g, r in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0]]


def _quad(polygon: list[list[float]]) -> np.ndarray:
    """The line's 4 corners from its top-left, clockwise; other point counts get their min-area rect."""
    pts = np.asarray(polygon, dtype=np.float32).reshape(-1, 2)
    return pts if len(pts) == 4 else cv2.boxPoints(cv2.minAreaRect(pts)).astype(np.float32)


def _thickness(image: np.ndarray) -> int:
    """Outlines grow with the image so they stay visible once a big page is shrunk for display."""
    return max(1, round(max(int(side) for side in image.shape[:2]) / 1000))


def _text_tile(text: str, width: int, height: int) -> np.ndarray:
    """A white width x height tile with `text` in black, left-aligned and vertically centred."""
    tile = Image.new("RGB", (width, height), WHITE)
    if text:
        font = _fitted_font(text, width, height)
        draw = ImageDraw.Draw(tile)
        left, top, _, bottom = draw.textbbox((0, 0), text, font=font)
        draw.text((-left, (height - (bottom - top)) / 2 - top), text, fill=(0, 0, 0), font=font)
    return np.asarray(tile)


def _line_tile(text: str, quad: np.ndarray) -> np.ndarray:
    """The text sized to the quad's own frame; tall narrow boxes get it turned to read top-down."""
    width = int(round(float(np.linalg.norm(quad[1] - quad[0]))))
    height = int(round(float(np.linalg.norm(quad[3] - quad[0]))))
    if height > 2 * width and height > 30:
        return np.ascontiguousarray(np.rot90(_text_tile(text, height, width), k=-1))
    return _text_tile(text, width, height)


def _draw_text_in_quad(canvas: np.ndarray, quad: np.ndarray, text: str) -> None:
    """Warp the line's text tile onto the quad; only the quad's bounding box is touched (fast on big pages)."""
    if cv2.contourArea(quad) < 1.0:
        return
    tile = _line_tile(text, quad)
    h, w = canvas.shape[:2]
    x0, y0 = np.clip(np.floor(quad.min(axis=0)).astype(int), 0, [w - 1, h - 1])
    x1, y1 = np.clip(np.ceil(quad.max(axis=0)).astype(int) + 1, 1, [w, h])
    if tile.shape[0] < 1 or tile.shape[1] < 1 or x1 <= x0 or y1 <= y0:
        return
    th, tw = tile.shape[:2]
    src = np.array([[0, 0], [tw, 0], [tw, th], [0, th]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, (quad - np.array([x0, y0], dtype=np.float32)).astype(np.float32))
    warped = cv2.warpPerspective(tile, matrix, (int(x1 - x0), int(y1 - y0)), flags=cv2.INTER_NEAREST,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=WHITE)
    roi = canvas[y0:y1, x0:x1]
    np.minimum(roi, warped, out=roi)  # ink wins, so overlapping lines do not erase each other


def _boxes_panel(image: np.ndarray, quads: list[np.ndarray], colours: list[Colour]) -> np.ndarray:
    """Left half: light fills blended over the input, then crisp outlines on top."""
    fill = image.copy()
    for quad, colour in zip(quads, colours):
        cv2.fillPoly(fill, [np.round(quad).astype(np.int32)], colour)
    panel = cv2.addWeighted(fill, FILL_ALPHA, image, 1.0 - FILL_ALPHA, 0.0)
    outlines = [np.round(q).astype(np.int32) for q in quads]
    for pts, colour in zip(outlines, colours):
        cv2.polylines(panel, [pts], True, colour, _thickness(image), cv2.LINE_AA)
    return panel


def _text_panel(shape: tuple[int, ...], quads: list[np.ndarray], texts: list[str],
                colours: list[Colour]) -> np.ndarray:
    """Right half: each line's text redrawn where it was found, with a thin outline in its colour."""
    panel = np.full(shape, 255, dtype=np.uint8)
    for quad, text, colour in zip(quads, texts, colours):
        _draw_text_in_quad(panel, quad, text)
        cv2.polylines(panel, [np.round(quad).astype(np.int32)], True, colour, 1)
    return panel


def render_ocr_image(result: OCRPage) -> np.ndarray:
    """Boxes left, recognised text right (BGR uint8, 2w x h): PaddleX's `ocr_res_img` layout."""
    if result.image is None:
        raise BadInput("no image kept")
    image = np.ascontiguousarray(result.image)
    quads = [_quad(line.polygon) for line in result.lines]
    colours = _colours(len(quads))
    return np.hstack([_boxes_panel(image, quads, colours),
                      _text_panel(image.shape, quads, result.texts, colours)])


def render_layout_image(image: np.ndarray, regions: list[LayoutRegion]) -> np.ndarray:
    """The page with each layout region outlined and labelled with its reading-order number, its label
    and score (BGR uint8): PaddleX's `layout_det_res`."""
    canvas = np.ascontiguousarray(image).copy()
    colours = _colours(len(regions))
    thickness = _thickness(canvas)
    for number, (region, colour) in enumerate(zip(regions, colours), start=1):
        x0, y0, x1, y1 = region.int_box
        cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, thickness)
        caption = f"{number} {region.label} {region.score:.2f}"
        scale = max(0.5, thickness / 3)
        (w, h), _ = cv2.getTextSize(caption, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        top = max(y0 - h - 6, 0)
        cv2.rectangle(canvas, (x0, top), (x0 + w + 6, top + h + 6), colour, -1)
        cv2.putText(canvas, caption, (x0 + 3, top + h + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, WHITE, 1, cv2.LINE_AA)
    return canvas


# --- encoding -------------------------------------------------------------------------------------
_ENCODINGS: dict[str, tuple[str, list[int]]] = {
    ".png": (".png", []),
    ".jpg": (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95]),
    ".jpeg": (".jpg", [cv2.IMWRITE_JPEG_QUALITY, 95]),
    ".webp": (".webp", [cv2.IMWRITE_WEBP_QUALITY, 90]),
}


def _encode(image: np.ndarray, ext: str, params: list[int]) -> bytes:
    """cv2.imencode with its silent `False` turned into an error."""
    ok, buf = cv2.imencode(ext, image, params)
    if not ok:
        raise BadInput(f"cannot encode a {image.shape} {image.dtype} image as {ext}")
    return buf.tobytes()


def write_image(path: Path, image: np.ndarray) -> None:
    """Encode by suffix and write bytes: unlike cv2.imwrite it never fails silently or on non-ASCII paths."""
    path = Path(path)
    encoding = _ENCODINGS.get(path.suffix.lower())
    if encoding is None:
        raise BadInput(f"cannot write {path.name!r}: the suffix must be one of {', '.join(_ENCODINGS)}")
    path.write_bytes(_encode(image, *encoding))


def fit_within(image: np.ndarray, max_side: int) -> np.ndarray:
    """Shrink (never enlarge) to fit a max_side square, keeping the aspect ratio."""
    h, w = image.shape[:2]
    scale = min(1.0, max_side / w, max_side / h)
    if scale >= 1.0:
        return image
    size = (max(1, int(w * scale)), max(1, int(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def encode_jpeg(image: np.ndarray, max_side: int = 2000, quality: int = 85) -> bytes:
    """JPEG bytes capped at max_side, like PaddleX's 2000x2000 result images."""
    return _encode(fit_within(image, max_side), ".jpg", [cv2.IMWRITE_JPEG_QUALITY, quality])


def encode_jpeg_base64(image: np.ndarray, max_side: int = 2000, quality: int = 85) -> str:
    """JPEG as base64 text for JSON responses."""
    return base64.b64encode(encode_jpeg(image, max_side, quality)).decode("ascii")
