"""POST /ocr: PaddleX serving (JSON) and RapidOCR API (form) on one path, by content type."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import JSONResponse

from ..engine import OCROptions
from ..errors import BadInput, UnsupportedInput
from ..result import OCRResult
from .deps import json_body, parse, service_of
from .images import result_images
from .quota import charge_pages
from .schemas import (
    PaddleXBetaRequest,
    PaddleXBetaResponse,
    PaddleXError,
    PaddleXOCRRequest,
    PaddleXResponse,
    RapidOCRError,
    RapidOCRForm,
)
from .service import Document

router = APIRouter()

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
OCR_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"anyOf": [
                {"$ref": "#/components/schemas/PaddleXOCRRequest"},
                {"$ref": "#/components/schemas/PaddleXBetaRequest"},
            ]}},
            "multipart/form-data": {"schema": {"$ref": "#/components/schemas/RapidOCRUpload"}},
            "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/RapidOCRForm"}},
        },
    }
}


# --- PaddleX -------------------------------------------------------------------------------
def paddlex_options(req: PaddleXOCRRequest) -> OCROptions:
    nested = req.inferenceParams

    def pick(name: str) -> Any:
        value = getattr(req, name)
        return value if value is not None or nested is None else getattr(nested, name)

    return OCROptions(
        text_det_limit_side_len=pick("textDetLimitSideLen"),
        text_det_limit_type=pick("textDetLimitType"),
        text_det_thresh=pick("textDetThresh"),
        text_det_box_thresh=pick("textDetBoxThresh"),
        text_det_unclip_ratio=pick("textDetUnclipRatio"),
        text_rec_score_thresh=pick("textRecScoreThresh"),
        use_doc_orientation_classify=req.useDocOrientationClassify,
        use_textline_orientation=req.useTextlineOrientation,
        return_word_box=req.returnWordBox,
    )


def data_info(doc: Document) -> dict[str, Any]:
    if doc.kind == "pdf":
        pages = [{"width": r.width, "height": r.height} for r in doc.results]
        return {"numPages": len(pages), "pages": pages, "type": "pdf"}
    first = doc.results[0]
    return {"width": first.width, "height": first.height, "type": "image"}


def to_paddlex(doc: Document, visualize: bool, request_id: str) -> dict[str, Any]:
    pages = [{"prunedResult": r.to_dict(), **result_images(r, visualize)} for r in doc.results]
    return {"logId": request_id, "errorCode": 0, "errorMsg": "Success",
            "result": {"ocrResults": pages, "dataInfo": data_info(doc)}}


def to_paddlex_beta(result: OCRResult, request_id: str) -> dict[str, Any]:
    texts = [{"poly": [[int(round(x)), int(round(y))] for x, y in line.polygon], "text": line.text,
              "score": float(line.score)} for line in result.lines]
    images = result_images(result, True)
    return {"logId": request_id, "errorCode": 0, "errorMsg": "Success",
            "result": {"texts": texts, "image": images.get("ocrImage")}}


async def paddlex_ocr(request: Request) -> JSONResponse:
    request.state.contract = "paddlex"
    service = service_of(request)
    body = await json_body(request)
    if isinstance(body, dict) and "file" not in body and "image" in body:
        beta = parse(PaddleXBetaRequest, body)
        limit = beta.inferenceParams.maxLongSide if beta.inferenceParams else None
        options = OCROptions(text_det_limit_side_len=limit, text_det_limit_type="max" if limit else None)
        doc = await service.ocr(await service.bytes_from_field(beta.image), options, file_type=1)
        await charge_pages(request, doc)
        return JSONResponse(to_paddlex_beta(doc.results[0], request.state.request_id))
    req = parse(PaddleXOCRRequest, body)
    options = paddlex_options(req)
    doc = await service.ocr(await service.bytes_from_field(req.file), options, req.fileType)
    await charge_pages(request, doc)
    visualize = req.visualize if req.visualize is not None else service.settings.visualize
    return JSONResponse(to_paddlex(doc, visualize, request.state.request_id))


# --- RapidOCR API --------------------------------------------------------------------------
def to_rapidocr(result: OCRResult) -> dict[str, Any]:
    return {str(i): {"rec_txt": line.text, "dt_boxes": [[float(x), float(y)] for x, y in line.polygon],
                     "score": float(line.score)} for i, line in enumerate(result.lines)}


async def rapidocr_ocr(request: Request) -> JSONResponse:
    request.state.contract = "rapidocr"
    service = service_of(request)
    async with request.form(max_files=1, max_fields=20) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("image_file")
        req = parse(RapidOCRForm, fields)
        if isinstance(upload, UploadFile) or hasattr(upload, "read"):
            data = await upload.read()
        elif req.image_data:
            data = await service.bytes_from_field(req.image_data)
        else:
            raise BadInput("send the image as an `image_file` upload or base64 `image_data` field")
    options = OCROptions(use_det=req.use_det, use_cls=req.use_cls, use_rec=req.use_rec, text_score=req.text_score,
                         text_det_box_thresh=req.box_thresh, text_det_unclip_ratio=req.unclip_ratio,
                         return_word_box=req.return_word_box)
    doc = await service.ocr(data, options, file_type=1)
    await charge_pages(request, doc)
    return JSONResponse(to_rapidocr(doc.results[0]))


@router.post(
    "/ocr",
    operation_id="infer",
    summary="OCR an image or PDF (PaddleX JSON body, or RapidOCR API form body)",
    response_model=PaddleXResponse,
    responses={
        200: {"content": {"application/json": {"schema": {"anyOf": [
            {"$ref": "#/components/schemas/PaddleXResponse"},
            {"$ref": "#/components/schemas/PaddleXBetaResponse"},
            {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/RapidOCRLine"}},
        ]}}}},
        400: {"model": PaddleXError}, 413: {"model": PaddleXError}, 415: {"model": PaddleXError},
        422: {"model": PaddleXError}, 503: {"model": PaddleXError}, 500: {"model": RapidOCRError},
    },
    openapi_extra=OCR_BODY,
)
async def ocr(request: Request) -> JSONResponse:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(FORM_TYPES):
        return await rapidocr_ocr(request)
    if content_type and "json" not in content_type:
        request.state.contract = "paddlex"
        raise UnsupportedInput(f"Content-Type {content_type.split(';')[0]!r} is not accepted here: send "
                               "application/json (PaddleX) or multipart/form-data (RapidOCR API)")
    return await paddlex_ocr(request)


EXTRA_SCHEMAS = [PaddleXOCRRequest, PaddleXBetaRequest, PaddleXBetaResponse, RapidOCRForm]
