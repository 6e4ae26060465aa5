"""POST /ocr: PaddleX serving (a JSON object) and rapidocr_api (a form) on one path.

The body decides: a JSON object is PaddleX's, whatever its declared type (PaddleX 3.0-beta's
Node.js and PHP examples declare JSON as form-encoded); otherwise a form is rapidocr_api's.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..contracts import paddlex, rapidocr
from ..contracts.base import EXAMPLE_IMAGE_B64, Contract, inline_schema, request_body
from ..errors import BadInput, UnsupportedInput
from ..result import OCRPage
from ..service.ocr_service import pages_left_note
from .deps import ignored_options, json_body, json_object_or_none, parse, read_form, respond, service_of
from .error_responses import contract_route
from .quota_checks import charge_pages
from .result_files import destination, publish

log = logging.getLogger("ocrserve.api")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def ocr_contract(request: Request) -> Contract:
    """`/ocr` is rapidocr_api's for a form, whatever goes wrong reading it, and PaddleX's otherwise."""
    content_type = request.headers.get("content-type", "").lower()
    return rapidocr.CONTRACT if content_type.startswith(FORM_TYPES) else paddlex.CONTRACT


router = APIRouter(route_class=contract_route(ocr_contract))

OCR_BODY = request_body({
    "application/json": ({"anyOf": [inline_schema(paddlex.OCRRequest), inline_schema(paddlex.BetaRequest)]},
                         {"file": EXAMPLE_IMAGE_B64, "fileType": 1}),
    "multipart/form-data": (inline_schema(rapidocr.Upload), None),
    "application/x-www-form-urlencoded": (inline_schema(rapidocr.Form), {"image_data": EXAMPLE_IMAGE_B64}),
})


async def shipped_images(request: Request, result: OCRPage, visualize: bool) -> dict[str, str]:
    """A page's result images, drawn and encoded off the event loop, as base64 or signed links."""
    if not visualize or result.image is None:
        return {}
    files, base = destination(request)
    return await service_of(request).run(lambda: publish(paddlex.page_images(result, visualize), files, base))


async def paddlex_ocr(request: Request, body: dict[str, Any]) -> Response:
    request.state.contract = paddlex.CONTRACT  # a JSON object, though it came as a form
    service = service_of(request)
    contract = paddlex.CONTRACT
    if "file" not in body and "image" in body:
        beta = parse(paddlex.BetaRequest, body)
        warnings = ignored_options(request, paddlex.BetaRequest, body)
        visualize = contract.visualize(None, service.settings)
        doc = await service.ocr(await service.bytes_from_field(beta.image), paddlex.beta_options(beta),
                                defaults=contract.defaults, declared="image", client_left=request.is_disconnected,
                                keep_images=visualize, contract=contract.name)
        await charge_pages(request, doc)
        images = await shipped_images(request, doc.results[0], visualize)
        return await respond(paddlex.to_beta_response(doc.results[0], images.get("ocrImage"),
                                                      request.state.request_id, warnings), doc)
    req = parse(paddlex.OCRRequest, body)
    warnings = ignored_options(request, paddlex.OCRRequest, body)
    visualize = contract.visualize(req.visualize, service.settings)
    doc = await service.ocr(await service.bytes_from_field(req.file), paddlex.to_options(req),
                            defaults=contract.defaults, declared=paddlex.declared_kind(req), client_left=request.is_disconnected,
                            keep_images=visualize, contract=contract.name, pdf_text=req.pdfText,
                            languages=paddlex.languages(req))
    await charge_pages(request, doc)
    page_images = [await shipped_images(request, r, visualize) for r in doc.results]
    note = pages_left_note(doc)
    return await respond(paddlex.to_response(doc.kind, doc.results, page_images, request.state.request_id,
                                             doc.total_pages, warnings + ([note] if note else [])), doc)


async def rapidocr_ocr(request: Request) -> Response:
    service = service_of(request)
    upload = await read_form(request, "image_file")
    form, data = parse(rapidocr.Form, upload.fields), upload.data
    if data is None:
        if not form.image_data:
            raise BadInput("send the image as an `image_file` upload or base64 `image_data` field")
        data = await service.bytes_from_field(form.image_data)
    doc = await service.ocr(data, rapidocr.to_options(form), defaults=rapidocr.CONTRACT.defaults, declared="image",
                            client_left=request.is_disconnected, contract=rapidocr.CONTRACT.name)
    await charge_pages(request, doc)
    return await respond(rapidocr.to_response(doc.results[0]), doc)


@router.post(
    "/ocr",
    operation_id="infer",
    summary="OCR an image or PDF (PaddleX JSON body, or rapidocr_api form body)",
    response_model=paddlex.OCRResponse | paddlex.BetaResponse | rapidocr.Response,
    responses={400: {"model": paddlex.ErrorResponse}, 403: {"model": paddlex.ErrorResponse},
               413: {"model": paddlex.ErrorResponse}, 415: {"model": paddlex.ErrorResponse},
               422: {"model": paddlex.ErrorResponse}, 429: {"model": paddlex.ErrorResponse},
               503: {"model": paddlex.ErrorResponse}, 504: {"model": paddlex.ErrorResponse}},
    openapi_extra=OCR_BODY,
)
async def ocr(request: Request) -> Response:
    content_type = request.headers.get("content-type", "").lower()
    if not content_type or "json" in content_type:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise BadInput("the request body must be a JSON object with a `file` field")
        return await paddlex_ocr(request, body)
    body = None if content_type.startswith("multipart/") else await json_object_or_none(request)
    if body is not None:
        return await paddlex_ocr(request, body)
    if content_type.startswith(FORM_TYPES):
        return await rapidocr_ocr(request)
    raise UnsupportedInput(f"Content-Type {content_type.split(';')[0]!r} is not accepted here: send "
                           "application/json (PaddleX) or multipart/form-data (rapidocr_api)")
