"""PaddleOCR 2.x hub serving: POST /predict/ocr_system with {"images": [base64, ...]}."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..contracts import hub
from ..contracts.base import EXAMPLE_IMAGE_B64, inline_schema, request_body
from ..errors import UnsupportedInput
from .deps import json_body, json_object_or_none, parse, respond, service_of
from .error_responses import contract_route
from .quota_checks import charge_pages

router = APIRouter(route_class=contract_route(hub.CONTRACT))
HUB_BODY = request_body({"application/json": (inline_schema(hub.Request), {"images": [EXAMPLE_IMAGE_B64]})})


@router.post("/predict/ocr_system", operation_id="hubOcrSystem", response_model=hub.Response,
             responses={status: {"model": hub.ErrorResponse} for status in (400, 403, 413, 415, 422, 503)},
             summary="PaddleOCR 2.x hub serving: OCR a list of base64 images", openapi_extra=HUB_BODY)
async def ocr_system(request: Request) -> Response:
    if "json" in request.headers.get("content-type", "").lower():
        body = await json_body(request)
    else:  # a JSON object is served whatever its declared type; anything else is the hub's 112
        body = await json_object_or_none(request)
        if body is None:
            raise UnsupportedInput("send Content-Type: application/json with {\"images\": [base64, ...]}")
    req = parse(hub.Request, body)
    service = service_of(request)
    results = []
    for image in req.images:
        doc = await service.ocr(await service.bytes_from_field(image), defaults=hub.CONTRACT.defaults, declared="image",
                                client_left=request.is_disconnected, contract=hub.CONTRACT.name)
        await charge_pages(request, doc)
        results.append(doc.results[0])
    return await respond(hub.to_response(results))
