"""rapidocr_api (`POST /ocr`, multipart or urlencoded form).

Its defaults are RapidOCR's config.yaml: lines under 0.5 dropped, box threshold 0.5, unclip
ratio 1.6; it returns no images.  The answer is `{"0": {rec_txt, dt_boxes, score}, ...}`,
`{}` when nothing is found.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, RootModel

from ..engine import OCROptions
from ..result import OCRPage
from .base import Contract, Lenient, float_points


def error_body(status: int, message: str, request_id: str) -> dict[str, Any]:
    return {"detail": message, "requestId": request_id}


CONTRACT = Contract(name="rapidocr",
                    defaults=OCROptions(text_score=0.5, text_det_box_thresh=0.5, text_det_unclip_ratio=1.6),
                    returns_images=False, error_body=error_body)


class Switches(Lenient):
    """RapidOCR's per-call switches and thresholds (the seed service, a RapidOCR fork, takes the same)."""

    use_det: bool | None = None
    use_cls: bool | None = None
    use_rec: bool | None = None
    text_score: float | None = Field(None, ge=0, le=1, description="Default 0.5.", examples=[0.5])
    box_thresh: float | None = Field(None, ge=0, le=1, description="Default 0.5.", examples=[0.5])
    unclip_ratio: float | None = Field(None, gt=0, le=10, description="Default 1.6.", examples=[1.6])
    return_word_box: bool | None = None


class Form(Switches):
    """Fields of rapidocr_api's POST /ocr (multipart/form-data or urlencoded)."""

    image_data: str | None = Field(None, description="base64 image (when no image_file is uploaded).")


class Upload(Form):
    """The multipart form: the image as a file part, or base64 in `image_data`."""

    image_file: bytes = Field(None, description="The image file (wins over image_data).")  # type: ignore[assignment]


def to_options(form: Switches) -> OCROptions:
    return OCROptions(use_det=form.use_det, use_cls=form.use_cls, use_rec=form.use_rec, text_score=form.text_score,
                      text_det_box_thresh=form.box_thresh, text_det_unclip_ratio=form.unclip_ratio,
                      return_word_box=form.return_word_box)


class Line(BaseModel):
    rec_txt: str
    dt_boxes: list[list[float]] = Field(..., description="4 points: top-left, top-right, bottom-right, bottom-left.")
    score: float


class Response(RootModel[dict[str, Line]]):
    """Lines keyed by their index as a string, in reading order."""


class ErrorResponse(BaseModel):
    detail: Any
    requestId: str | None = None


def to_response(result: OCRPage) -> Response:
    return Response({str(i): Line(rec_txt=line.text, dt_boxes=float_points(line.polygon), score=float(line.score))
                     for i, line in enumerate(result.lines)})
