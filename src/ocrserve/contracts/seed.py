"""The FastAPI PP-OCR service many users run today (a RapidOCR fork): `/paddleocr`, `/easyocr`,
`/v1/ocr`, `/upload`, `/upload_pdf` and `/health`, in the shapes its README documents.

Its defaults are its own `OCR_TEXT_SCORE` 0.5, `OCR_BOX_THRESH` 0.5 and `OCR_UNCLIP_RATIO` 1.6;
it returns no images.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..engine import OCROptions
from ..kinds import TextLayerPolicy
from ..result import OCRPage
from . import rapidocr
from .base import Contract, Lenient, float_points


def error_body(status: int, message: str, request_id: str) -> dict[str, Any]:
    return {"success": False, "error": message, "request_id": request_id}


CONTRACT = Contract(name="seed",
                    defaults=OCROptions(text_score=0.5, text_det_box_thresh=0.5, text_det_unclip_ratio=1.6),
                    returns_images=False, error_body=error_body)

IMAGE_FIELD = Field(..., description="base64 image or http(s) URL.")


# --- requests ------------------------------------------------------------------------------
class PaddleOCRRequest(Lenient):
    image: str = IMAGE_FIELD
    use_angle_cls: bool | None = Field(None, examples=[True])
    lang: str | None = Field(None, examples=["ch"])
    det_db_thresh: float | None = Field(None, ge=0, le=1, examples=[0.3])
    det_db_box_thresh: float | None = Field(None, ge=0, le=1, examples=[0.5])
    det_db_unclip_ratio: float | None = Field(None, gt=0, le=10, examples=[1.6])


class EasyOCRRequest(Lenient):
    image: str = IMAGE_FIELD
    languages: list[str] | None = Field(None, description="EasyOCR language codes, e.g. [\"ch_sim\", \"en\"].",
                                        examples=[["ch_sim", "en"]])
    gpu: bool | None = Field(None, description="Accepted for compatibility; the device is a server setting.")
    text_threshold: float | None = Field(None, ge=0, le=1, description="Lines scoring below are dropped.",
                                         examples=[0.5])
    detail: int = Field(1, ge=0, le=1)
    paragraph: bool = False
    allowlist: str | None = None
    blocklist: str | None = None


class V1Request(Lenient):
    image: str = IMAGE_FIELD
    use_det: bool | None = Field(None, examples=[True])
    use_cls: bool | None = Field(None, examples=[True])
    use_rec: bool | None = Field(None, examples=[True])
    text_score: float | None = Field(None, ge=0, le=1, examples=[0.5])


class UploadForm(rapidocr.Switches):
    """`/upload` and `/upload_pdf` form fields (the file comes as its own part): RapidOCR's."""

    pdf_text: TextLayerPolicy | None = Field(
        None, description="PDFs: `auto` reads a page's own text layer when it is usable and OCRs the rest, `ocr` "
        "OCRs every page, `text` only reads the layers (default: OCR_PDF_TEXT, else auto).")


def paddleocr_options(req: PaddleOCRRequest) -> OCROptions:
    return OCROptions(use_textline_orientation=req.use_angle_cls, text_det_thresh=req.det_db_thresh,
                      text_det_box_thresh=req.det_db_box_thresh, text_det_unclip_ratio=req.det_db_unclip_ratio)


def easyocr_options(req: EasyOCRRequest) -> OCROptions:
    return OCROptions(text_rec_score_thresh=req.text_threshold)


def v1_options(req: V1Request) -> OCROptions:
    return OCROptions(use_det=req.use_det, use_cls=req.use_cls, use_rec=req.use_rec, text_score=req.text_score)


upload_options = rapidocr.to_options


# --- responses -----------------------------------------------------------------------------
class Line(BaseModel):
    text: str
    confidence: float | None = None
    bbox: list[list[float]] | None = Field(None, description="4 points, clockwise from the text's top-left.")


class ImageSize(BaseModel):
    width: int
    height: int


class Response(BaseModel):
    success: bool = True
    results: list[Line]
    processing_time: float = Field(..., description="Seconds spent on the request.")
    image_size: ImageSize


class PDFPage(BaseModel):
    page: int = Field(..., description="1-based page number.")
    index: int = Field(..., description="0-based page index.")
    result: list[Line] = Field(..., description="The page's lines in reading order.")
    bbox_image: list[int] = Field(..., description="[x, y, width, height] of the page image.")
    processing_time: float = Field(..., description="Seconds spent on this page.")
    image_size: ImageSize


class PDFResponse(BaseModel):
    success: bool = True
    results: list[PDFPage]
    total_pages: int | None = Field(None, description="Pages in the PDF; `results` holds the first "
                                    "OCR_MAX_PDF_PAGES of them.")
    warnings: list[str] | None = Field(None, description="Only when there is one: pages of the PDF not read, and "
                                       "how to read them.")


class ErrorResponse(BaseModel):
    success: bool = False
    error: str
    request_id: str | None = None


class HealthResponse(BaseModel):
    """The seed's documented keys, PaddleX's envelope, and our own detail in extra keys."""

    logId: str
    errorCode: int
    errorMsg: str
    status: str = Field(..., description="healthy | loading | failed")
    model: str = Field(..., description="The model set serving requests.")
    model_version: str = Field(..., description="The model generation: v4, v5 or v6.")
    gpu_support: bool
    providers: list[str]
    environment: str = Field(..., description="The deployment's name (OCR_ENVIRONMENT).")
    supported_languages: list[str] = Field(
        ..., description="Language codes (PaddleOCR's spelling) this server reads now: its model set's own, and "
        "those of the language sets installed here; EasyOCR's codes (ch_sim, ko, ...) are accepted for them too.")
    fetchable_languages: list[str] = Field(
        default_factory=list, description="Extension: codes this server would read once `ocrserve models pull "
        "<set>` brings their language set.")
    version: str = Field(..., description="ocrserve's version.")
    runtime: dict[str, Any] = Field(..., description="Python, ONNX Runtime, platform, worker count.")
    inference: dict[str, Any] = Field(
        default_factory=dict, description="Backend, each stage's precision, and why (OCR_BACKEND / OCR_PRECISION; "
        "`auto` picks the fastest combination verified on this model set that this CPU runs).")
    workers: int = Field(..., description="Worker processes serving this address (as the supervisor started them).")
    worker_id: int = Field(..., description="The process id of the worker that answered (the `pid` Prometheus "
                           "gives a worker's files).")
    memory: dict[str, Any] = Field(
        default_factory=dict, description="This worker's resident memory (`rss_mib`) and what each model set "
        "loaded for jobs added to it when it loaded (`job_model_sets_mib`; at most OCR_JOB_MAX_LOADED_MODELS).")
    apiModels: list[str] = Field(
        default_factory=list, description="The job API's `model` names this server runs (`/api/v2/ocr/jobs`): those "
        "of OCR_JOB_MODELS whose model set's files are installed.")


def lines(result: OCRPage) -> list[Line]:
    return [Line(text=line.text, confidence=float(line.score), bbox=float_points(line.polygon))
            for line in result.lines]


def to_response(result: OCRPage, seconds: float, results: list[Line] | None = None) -> Response:
    return Response(results=lines(result) if results is None else results, processing_time=round(seconds, 4),
                    image_size=ImageSize(width=result.width, height=result.height))


def to_pdf_response(results: list[OCRPage], page_seconds: list[float], total_pages: int | None = None,
                    warnings: list[str] | None = None) -> PDFResponse:
    pages = [PDFPage(page=i + 1, index=i, result=lines(r), bbox_image=[0, 0, r.width, r.height],
                     processing_time=round(seconds, 4), image_size=ImageSize(width=r.width, height=r.height))
             for i, (r, seconds) in enumerate(zip(results, page_seconds))]
    return PDFResponse(results=pages, total_pages=total_pages, warnings=warnings or None)


def model_version(model_set: str) -> str:
    """`pp-ocrv6-small` -> `v6`: the generation the seed's clients read."""
    head = model_set.split("-")[1] if "-" in model_set else model_set
    return "v" + head.removeprefix("ocrv") if head.startswith("ocrv") else head
