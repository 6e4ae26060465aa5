"""PaddleOCR 2.x hub serving: `POST /predict/ocr_system` with `{"images": [base64, ...]}`.

Its defaults are PaddleOCR 2.x's: lines under 0.5 dropped (`drop_score`), box threshold 0.6,
unclip ratio 1.5; errors keep the hub's status strings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..engine import OCROptions
from ..result import OCRPage
from .base import Contract, Lenient, int_points

#: the hub's status strings: "000" success, "112" an unsupported content type, "101" anything else
SUCCESS, UNSUPPORTED, FAILED = "000", "112", "101"


def error_body(status: int, message: str, request_id: str) -> dict[str, Any]:
    return {"status": UNSUPPORTED if status == 415 else FAILED, "msg": message, "results": [],
            "request_id": request_id}


CONTRACT = Contract(name="hub",
                    defaults=OCROptions(text_score=0.5, text_det_box_thresh=0.6, text_det_unclip_ratio=1.5),
                    returns_images=False, error_body=error_body)


class Request(Lenient):
    images: list[str] = Field(..., description="base64 images.")


class Line(BaseModel):
    text: str
    confidence: float
    text_region: list[list[int]]


class Response(BaseModel):
    status: str = SUCCESS
    msg: str = ""
    results: list[list[Line]]


class ErrorResponse(BaseModel):
    status: str
    msg: str
    results: list[Any] = []
    request_id: str | None = None


def lines(result: OCRPage) -> list[Line]:
    return [Line(text=line.text, confidence=float(line.score), text_region=int_points(line.polygon))
            for line in result.lines]


def to_response(results: list[OCRPage]) -> Response:
    return Response(results=[lines(r) for r in results])
