"""What a prediction returns, as pure data, and its PaddleX `prunedResult` dict.

The conversions to text, Markdown, hOCR, ALTO and a drawn image live above it (export/, render),
and the library face's `OCRResult` offers them as methods.

Coordinates are always in the pixel space of the image the caller gave us (for PDF pages: the
rendered page), whatever rotation the engine applied internally.  Polygons start at the text's
own top-left corner and run clockwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .unicode_text import utf8

#: an axis-aligned line segment [x0, y0, x1, y1] in a page's pixels: horizontal (y0 == y1) or vertical (x0 == x1)
Segment = tuple[float, float, float, float]


@dataclass(frozen=True)
class LineFont:
    """The type a text-layer line is set in: its size in points (the most common among its characters)
    and whether most of its characters are bold; what tells a heading from the text on a digital page."""

    size: float
    bold: bool


@dataclass(frozen=True)
class OutlineEntry:
    """A bookmark of a PDF's outline that points at a page: its title, and how deep it sits in the
    outline (0 for a top-level entry); export/structure.py makes the block that reads so a heading."""

    title: str
    level: int


@dataclass(frozen=True)
class Word:
    text: str
    polygon: list[list[float]]


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float
    polygon: list[list[float]]  # 4 points, clockwise from the text's top-left
    textline_angle: int = -1  # 0 / 180 when the text-line classifier ran, else -1
    words: tuple[Word, ...] | None = None
    source: str = "ocr"  # "ocr", or "text_layer": read from the PDF page's own text, not from pixels
    #: each character's left and right edge in pixels, one pair per character of `text` (PDF text layers
    #: only): a line pdfium ran across a table's cells is cut exactly where the cells meet
    glyphs: tuple[tuple[float, float], ...] | None = field(default=None, repr=False, compare=False)
    #: the line's type (PDF text layers only): export/structure.py takes a line set larger or bold for a heading
    font: LineFont | None = field(default=None, repr=False, compare=False)

    @property
    def box(self) -> list[int]:
        """Axis-aligned [x_min, y_min, x_max, y_max]."""
        pts = np.asarray(self.polygon)
        return [int(pts[:, 0].min()), int(pts[:, 1].min()), int(pts[:, 0].max()), int(pts[:, 1].max())]


@dataclass(frozen=True)
class LayoutRegion:
    """One region a layout detector found: its label (the model's own), score and axis-aligned box
    [x_min, y_min, x_max, y_max] in the page's pixels."""

    label: str
    score: float
    box: tuple[float, float, float, float]
    cls_id: int = -1  # the label's index in the model's label list

    @property
    def int_box(self) -> list[int]:
        return [int(round(v)) for v in self.box]


@dataclass
class OCRPage:
    """One page or image as read: its lines, their geometry, and how it was read."""

    width: int
    height: int
    lines: list[TextLine]
    detected_polygons: list[list[list[float]]]  # every detection, before the score filter
    doc_angle: int | None  # degrees CCW applied to make the page upright; None when not classified
    det_params: dict[str, Any]
    text_rec_score_thresh: float
    use_textline_orientation: bool
    return_word_box: bool
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    image: np.ndarray | None = field(default=None, repr=False)  # BGR input, for visualisation
    page_index: int | None = None
    #: where the lines came from: "ocr", or "text_layer" (the PDF page's own text, read without OCR)
    source: str = "ocr"
    #: the PDF text layer's verdict when one was looked at (`textlayer.LayerCheck.status`), else None
    text_layer: str | None = None
    #: the page's ruling lines as drawn in the PDF (horizontal and vertical segments in pixels, `Segment`),
    #: read with its text layer; None when not read (a table's rules are then found in its pixels)
    rulings: list[Segment] | None = field(default=None, repr=False)
    #: the PDF outline's entries that point at this page, in the outline's order (none for images)
    outline: tuple[OutlineEntry, ...] = field(default=(), repr=False)

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]

    @property
    def text(self) -> str:
        """All lines joined by newlines, in reading order."""
        return "\n".join(self.texts)

    def to_dict(self) -> dict[str, Any]:
        """PaddleX `prunedResult`: same keys, same order, native ints and floats."""
        use_doc = self.doc_angle is not None
        out: dict[str, Any] = {
            "model_settings": {"use_doc_preprocessor": use_doc,
                               "use_textline_orientation": self.use_textline_orientation},
        }
        if self.doc_angle is not None:
            out["doc_preprocessor_res"] = {
                "model_settings": {"use_doc_orientation_classify": True, "use_doc_unwarping": False},
                "angle": int(self.doc_angle),
            }
        out["dt_polys"] = [_int_poly(p) for p in self.detected_polygons]
        out["text_det_params"] = dict(self.det_params)
        out["text_type"] = "general"
        if self.detected_polygons:
            out["textline_orientation_angles"] = [line.textline_angle for line in self.lines]
        out["text_rec_score_thresh"] = float(self.text_rec_score_thresh)
        out["return_word_box"] = bool(self.return_word_box)
        out["rec_texts"] = self.texts
        out["rec_scores"] = [float(line.score) for line in self.lines]
        out["rec_polys"] = [_int_poly(line.polygon) for line in self.lines]
        out["rec_boxes"] = [line.box for line in self.lines]
        if self.return_word_box:
            words = [line.words or () for line in self.lines]
            out["text_word"] = [[w.text for w in ws] for ws in words]
            out["text_word_region"] = [[_int_poly(w.polygon) for w in ws] for ws in words]
            out["text_word_boxes"] = [[_xyxy(w.polygon) for w in ws] for ws in words]
        if self.source != "ocr" or self.text_layer not in (None, "none"):
            # extension keys (docs/pdf.md): absent on plain OCR pages, so their output stays PaddleX's
            out["text_source"] = self.source
            out["text_layer"] = self.text_layer
        return out

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def save_json(self, path: str | Path) -> Path:
        """Write `{"res": prunedResult}` like PaddleX's `save_to_json` (a directory gets a file name)."""
        target = output_path(path, self, ".json")
        target.write_bytes(utf8(json.dumps({"res": self.to_dict()}, ensure_ascii=False, indent=2), what=str(target)))
        return target


def _int_poly(poly: Any) -> list[list[int]]:
    return [[int(round(x)), int(round(y))] for x, y in poly]


def _xyxy(poly: Any) -> list[int]:
    pts = np.asarray(poly)
    return [int(pts[:, 0].min()), int(pts[:, 1].min()), int(pts[:, 0].max()), int(pts[:, 1].max())]


def output_path(path: str | Path, result: OCRPage, suffix: str) -> Path:
    """`path` itself, or a file named after the page inside it when it is a directory."""
    p = Path(path)
    if p.is_dir() or not p.suffix:
        p.mkdir(parents=True, exist_ok=True)
        name = "result" if result.page_index is None else f"result_page{result.page_index + 1}"
        p = p / f"{name}{'_ocr' if suffix != '.json' else ''}{suffix}"
    p.parent.mkdir(parents=True, exist_ok=True)
    return p
