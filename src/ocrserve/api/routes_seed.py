"""The seed service's endpoints: /paddleocr, /easyocr, /v1/ocr, /upload, /upload_pdf.

Each maps its fields to OCROptions through the seed contract and hands over; JSON bodies are
read by the route itself, so a JSON object is served whatever its declared content type.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from ..contracts import seed
from ..contracts.base import EXAMPLE_IMAGE_B64, inline_schema, request_body
from ..engine import OCROptions
from ..errors import BadInput
from ..inputs.pdf import is_pdf
from ..kinds import DocumentKind, TextLayerPolicy
from ..service.ocr_service import Document, pages_left_note
from .deps import json_body, parse, read_upload, respond, service_of
from .error_responses import contract_route
from .paragraphs import merge_paragraphs
from .quota_checks import charge_pages

router = APIRouter(route_class=contract_route(seed.CONTRACT))
ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": seed.ErrorResponse}
                                           for status in (400, 403, 413, 415, 422, 429, 500, 503, 504)}


class _FileUpload(seed.UploadForm):
    file: bytes


def _json_doc(model: type[BaseModel], **example: Any) -> dict[str, Any]:
    return request_body({"application/json": (inline_schema(model), {"image": EXAMPLE_IMAGE_B64, **example})})


UPLOAD_DOC = request_body({"multipart/form-data": (inline_schema(_FileUpload), None)})


async def _ocr(request: Request, data: bytes, options: OCROptions, declared: DocumentKind,
               pdf_text: TextLayerPolicy | None = None, languages: Sequence[str] = ()) -> Document:
    doc = await service_of(request).ocr(data, options, defaults=seed.CONTRACT.defaults, declared=declared,
                                        languages=languages,
                                        client_left=request.is_disconnected, contract=seed.CONTRACT.name,
                                        pdf_text=pdf_text)
    await charge_pages(request, doc)
    return doc


async def _ocr_field(request: Request, image: str, options: OCROptions, languages: Sequence[str] = ()) -> Document:
    """A JSON `image` field (base64 or URL) through the engine, read in `languages` (PaddleOCR's or EasyOCR's codes)."""
    return await _ocr(request, await service_of(request).bytes_from_field(image), options, "image",
                      languages=languages)


async def _upload(request: Request) -> tuple[seed.UploadForm, bytes]:
    form, upload = await read_upload(request, seed.UploadForm)
    return form, upload.data  # type: ignore[return-value]  # read_upload requires the file


@router.post("/paddleocr", operation_id="seedPaddleOCR", response_model=seed.Response, responses=ERRORS,
             summary="PaddleOCR-style JSON request", openapi_extra=_json_doc(seed.PaddleOCRRequest, use_angle_cls=True, lang="ch"))
async def paddleocr(request: Request) -> Response:
    started = time.perf_counter()
    body = parse(seed.PaddleOCRRequest, await json_body(request))
    doc = await _ocr_field(request, body.image, seed.paddleocr_options(body), [body.lang] if body.lang else [])
    return await respond(seed.to_response(doc.results[0], time.perf_counter() - started), doc)


@router.post("/easyocr", operation_id="seedEasyOCR", response_model=seed.Response, responses=ERRORS,
             summary="EasyOCR-style JSON request", openapi_extra=_json_doc(seed.EasyOCRRequest, languages=["ch_sim", "en"]))
async def easyocr(request: Request) -> Response:
    started = time.perf_counter()
    body = parse(seed.EasyOCRRequest, await json_body(request))
    doc = await _ocr_field(request, body.image, seed.easyocr_options(body), body.languages or [])
    lines = [{"text": _filter_chars(line.text, body.allowlist, body.blocklist), "confidence": line.confidence,
              "bbox": line.bbox} for line in seed.lines(doc.results[0])]
    if body.paragraph:
        lines = merge_paragraphs(lines)
    if body.detail == 0:
        lines = [{"text": line["text"]} for line in lines]
    results = [seed.Line.model_validate(line) for line in lines]
    return await respond(seed.to_response(doc.results[0], time.perf_counter() - started, results), doc)


def _filter_chars(text: str, allowlist: str | None, blocklist: str | None) -> str:
    if allowlist:
        text = "".join(ch for ch in text if ch in allowlist or ch.isspace())
    if blocklist:
        text = "".join(ch for ch in text if ch not in blocklist)
    return text


@router.post("/v1/ocr", operation_id="seedV1OCR", response_model=seed.Response, responses=ERRORS,
             summary="RapidOCR-style JSON request", openapi_extra=_json_doc(seed.V1Request, use_det=True, use_cls=True, use_rec=True, text_score=0.5))
async def v1_ocr(request: Request) -> Response:
    started = time.perf_counter()
    body = parse(seed.V1Request, await json_body(request))
    doc = await _ocr_field(request, body.image, seed.v1_options(body))
    return await respond(seed.to_response(doc.results[0], time.perf_counter() - started), doc)


@router.post("/upload", operation_id="seedUpload", response_model=seed.Response, responses=ERRORS,
             summary="Multipart image upload", openapi_extra=UPLOAD_DOC)
async def upload(request: Request) -> Response:
    started = time.perf_counter()
    form, data = await _upload(request)
    doc = await _ocr(request, data, seed.upload_options(form), "image")
    return await respond(seed.to_response(doc.results[0], time.perf_counter() - started), doc)


@router.post("/upload_pdf", operation_id="seedUploadPDF", response_model=seed.PDFResponse, responses=ERRORS,
             summary="Multipart PDF upload: one result per page", openapi_extra=UPLOAD_DOC)
async def upload_pdf(request: Request) -> Response:
    form, data = await _upload(request)
    if not is_pdf(data):
        raise BadInput("/upload_pdf takes a PDF; use /upload for images")
    doc = await _ocr(request, data, seed.upload_options(form), "pdf", form.pdf_text)
    note = pages_left_note(doc)
    return await respond(seed.to_pdf_response(doc.results, doc.page_seconds, doc.total_pages,
                                              [note] if note else None), doc)
