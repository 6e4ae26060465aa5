"""The seed service's endpoints: /paddleocr, /easyocr, /v1/ocr, /upload, /upload_pdf.

They share one response shape (`success`, `results`, `processing_time`, `image_size`) and
differ only in how options arrive, so each route maps its fields to OCROptions and hands over.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from ..engine import OCROptions
from ..errors import BadInput
from ..result import OCRResult
from .deps import service_of
from .languages import check_languages
from .paragraphs import merge_paragraphs
from .quota import charge_pages
from .schemas import (
    SeedEasyOCRRequest,
    SeedError,
    SeedPaddleOCRRequest,
    SeedPDFResponse,
    SeedResponse,
    SeedV1Request,
)
from .service import Document

router = APIRouter()
ERRORS = {status: {"model": SeedError} for status in (400, 403, 413, 415, 422, 500, 503)}


def seed_lines(result: OCRResult) -> list[dict[str, Any]]:
    return [{"text": line.text, "confidence": float(line.score),
             "bbox": [[float(x), float(y)] for x, y in line.polygon]} for line in result.lines]


def seed_response(doc: Document, started: float, lines: list[dict[str, Any]] | None = None) -> JSONResponse:
    first = doc.results[0]
    return JSONResponse({
        "success": True,
        "results": lines if lines is not None else seed_lines(first),
        "processing_time": round(time.perf_counter() - started, 4),
        "image_size": {"width": first.width, "height": first.height},
    })


async def run_image(request: Request, data: bytes, options: OCROptions) -> Document:
    doc = await service_of(request).ocr(data, options, file_type=1)
    await charge_pages(request, doc)
    return doc


async def run_field(request: Request, image: str, options: OCROptions) -> Document:
    """A JSON `image` field (base64 or URL) through the engine."""
    return await run_image(request, await service_of(request).bytes_from_field(image), options)


@router.post("/paddleocr", operation_id="seedPaddleOCR", response_model=SeedResponse, responses=ERRORS,
             summary="PaddleOCR-style JSON request")
async def paddleocr(request: Request, body: SeedPaddleOCRRequest) -> JSONResponse:
    started = time.perf_counter()
    if body.lang is not None:
        check_languages([body.lang], service_of(request))
    options = OCROptions(use_textline_orientation=body.use_angle_cls, text_det_thresh=body.det_db_thresh,
                         text_det_box_thresh=body.det_db_box_thresh, text_det_unclip_ratio=body.det_db_unclip_ratio)
    return seed_response(await run_field(request, body.image, options), started)


@router.post("/easyocr", operation_id="seedEasyOCR", response_model=SeedResponse, responses=ERRORS,
             summary="EasyOCR-style JSON request")
async def easyocr(request: Request, body: SeedEasyOCRRequest) -> JSONResponse:
    started = time.perf_counter()
    check_languages(body.languages or ["en"], service_of(request))
    options = OCROptions(text_rec_score_thresh=body.text_threshold)
    doc = await run_field(request, body.image, options)
    lines = seed_lines(doc.results[0])
    lines = [dict(line, text=_filter_chars(line["text"], body.allowlist, body.blocklist)) for line in lines]
    if body.paragraph:
        lines = merge_paragraphs(lines)
    if body.detail == 0:
        lines = [{"text": line["text"]} for line in lines]
    return seed_response(doc, started, lines)


def _filter_chars(text: str, allowlist: str | None, blocklist: str | None) -> str:
    if allowlist:
        text = "".join(ch for ch in text if ch in allowlist or ch.isspace())
    if blocklist:
        text = "".join(ch for ch in text if ch not in blocklist)
    return text


@router.post("/v1/ocr", operation_id="seedV1OCR", response_model=SeedResponse, responses=ERRORS,
             summary="RapidOCR-style JSON request")
async def v1_ocr(request: Request, body: SeedV1Request) -> JSONResponse:
    started = time.perf_counter()
    options = OCROptions(use_det=body.use_det, use_cls=body.use_cls, use_rec=body.use_rec, text_score=body.text_score)
    return seed_response(await run_field(request, body.image, options), started)


@router.post("/upload", operation_id="seedUpload", response_model=SeedResponse, responses=ERRORS,
             summary="Multipart image upload")
async def upload(request: Request, file: UploadFile = File(...), use_det: bool | None = Form(None),
                 use_cls: bool | None = Form(None), use_rec: bool | None = Form(None),
                 text_score: float | None = Form(None, ge=0, le=1)) -> JSONResponse:
    started = time.perf_counter()
    options = OCROptions(use_det=use_det, use_cls=use_cls, use_rec=use_rec, text_score=text_score)
    return seed_response(await run_image(request, await file.read(), options), started)


@router.post("/upload_pdf", operation_id="seedUploadPDF", response_model=SeedPDFResponse, responses=ERRORS,
             summary="Multipart PDF upload, one result per line per page")
async def upload_pdf(request: Request, file: UploadFile = File(...), use_det: bool | None = Form(None),
                     use_cls: bool | None = Form(None), use_rec: bool | None = Form(None),
                     text_score: float | None = Form(None, ge=0, le=1),
                     box_thresh: float | None = Form(None, ge=0, le=1),
                     unclip_ratio: float | None = Form(None, gt=0, le=10),
                     return_word_box: bool | None = Form(None)) -> JSONResponse:
    started = time.perf_counter()
    options = OCROptions(use_det=use_det, use_cls=use_cls, use_rec=use_rec, text_score=text_score,
                         text_det_box_thresh=box_thresh, text_det_unclip_ratio=unclip_ratio,
                         return_word_box=return_word_box)
    data = await file.read()
    doc = await service_of(request).ocr(data, options, file_type=0)
    await charge_pages(request, doc)
    if doc.kind != "pdf":
        raise BadInput("/upload_pdf takes a PDF; use /upload for images")
    elapsed = round(time.perf_counter() - started, 4)
    results = []
    for page_no, result in enumerate(doc.results, start=1):
        size = {"width": result.width, "height": result.height}
        for index, line in enumerate(result.lines):
            x0, y0, x1, y1 = line.box
            box = [[float(x), float(y)] for x, y in line.polygon]
            results.append({"page": page_no, "index": index, "result": [box, line.text, float(line.score)],
                            "bbox_image": [x0, y0, x1 - x0, y1 - y0], "processing_time": elapsed,
                            "image_size": size})
    return JSONResponse({"success": True, "results": results})
