"""A page's result as a JSON record and back: what a job keeps of a page to build its searchable PDF.

The PDF is laid out once every page is read, from these records, so a job resumed after a crash
builds it from the same geometry as one that never stopped.  Only what the PDF writer reads is
kept (size, lines with their polygons, words and sources); polygons keep their full precision.
"""

from __future__ import annotations

from typing import Any

from ..result import OCRPage, TextLine, Word


def _points(polygon: Any) -> list[list[float]]:
    return [[float(x), float(y)] for x, y in polygon]


def to_record(result: OCRPage) -> dict[str, Any]:
    lines = [{"text": line.text, "score": float(line.score), "polygon": _points(line.polygon), "source": line.source,
              "words": None if line.words is None else [[w.text, _points(w.polygon)] for w in line.words]}
             for line in result.lines]
    return {"width": result.width, "height": result.height, "page_index": result.page_index,
            "source": result.source, "text_layer": result.text_layer, "lines": lines}


def from_record(record: dict[str, Any]) -> OCRPage:
    lines = [TextLine(text=line["text"], score=line["score"], polygon=line["polygon"], source=line["source"],
                      words=None if line["words"] is None else tuple(Word(t, p) for t, p in line["words"]))
             for line in record["lines"]]
    return OCRPage(width=record["width"], height=record["height"], lines=lines, detected_polygons=[],
                     doc_angle=None, det_params={}, text_rec_score_thresh=0.0, use_textline_orientation=False,
                     return_word_box=any(line.words is not None for line in lines), page_index=record["page_index"],
                     source=record["source"], text_layer=record["text_layer"])
