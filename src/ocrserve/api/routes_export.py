"""`POST /v1/export`: OCR (or the text layer of) one image or short PDF, answered in the chosen format."""

from __future__ import annotations

from pathlib import PurePath

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..contracts import export as contract
from ..contracts.base import inline_schema, language_codes, request_body
from ..export import FORMATS, export
from ..result import OCRPage
from .deps import read_upload, server_timing, service_of
from .error_responses import contract_route
from .quota_checks import charge_pages

router = APIRouter(route_class=contract_route(contract.CONTRACT))


class _FileUpload(contract.ExportForm):
    file: bytes


@router.post("/v1/export", operation_id="export", summary="One file in, text / Markdown / hOCR / ALTO / JSON / "
             "searchable PDF out", responses=contract.response_docs(),
             openapi_extra=request_body({"multipart/form-data": (inline_schema(_FileUpload), None)}))
async def export_document(request: Request) -> Response:
    service = service_of(request)
    form, upload = await read_upload(request, contract.ExportForm)
    data = upload.data
    assert data is not None  # read_upload refuses a form without its file
    doc = await service.ocr(data, contract.to_options(form), defaults=contract.CONTRACT.defaults,
                            client_left=request.is_disconnected, contract=contract.CONTRACT.name,
                            pdf_text=form.pdf_text, languages=language_codes(form.lang))
    await charge_pages(request, doc)
    body = await service.run(_render, doc.results, form.format, data, service.limits.pdf_scale)
    name = contract.file_name(PurePath(_safe_name(upload.filename)).stem, form.format)
    headers = {"Content-Disposition": f'inline; filename="{name}"'}
    if doc.timings:
        headers["Server-Timing"] = server_timing(doc)
    return Response(body, media_type=FORMATS[form.format].media_type, headers=headers)


def _render(results: list[OCRPage], fmt: str, original: bytes, pdf_scale: float) -> bytes:
    return export(results, fmt, original=original, pdf_scale=pdf_scale)


def _safe_name(raw: str) -> str:
    """The uploaded file's own name (only letters, digits, dot, dash and underscore kept), or ''."""
    return "".join(c for c in PurePath(raw).name if c.isalnum() or c in "._-")
