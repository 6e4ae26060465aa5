"""PaddleOCR 2.x hub serving: POST /predict/ocr_system with {"images": [base64, ...]}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..errors import UnsupportedInput
from ..result import OCRResult
from .deps import json_body, parse, service_of
from .quota import charge_pages
from .schemas import HubRequest, HubResponse

router = APIRouter()


def hub_lines(result: OCRResult) -> list[dict[str, Any]]:
    return [{"text": line.text, "confidence": float(line.score),
             "text_region": [[int(round(x)), int(round(y))] for x, y in line.polygon]} for line in result.lines]


HUB_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/HubRequest"}}}}}


@router.post("/predict/ocr_system", operation_id="hubOcrSystem", response_model=HubResponse,
             summary="PaddleOCR 2.x hub serving: OCR a list of base64 images", openapi_extra=HUB_BODY)
async def ocr_system(request: Request) -> JSONResponse:
    request.state.contract = "hub"
    if not request.headers.get("content-type", "").lower().startswith("application/json"):
        raise UnsupportedInput("send Content-Type: application/json with {\"images\": [base64, ...]}")
    req = parse(HubRequest, await json_body(request))
    service = service_of(request)
    results = []
    for image in req.images:
        doc = await service.ocr(await service.bytes_from_field(image), file_type=1)
        await charge_pages(request, doc)
        results.append(hub_lines(doc.results[0]))
    return JSONResponse({"status": "000", "msg": "", "results": results})
