"""POST /layout-parsing: PaddleX's PP-StructureV3 serving; a document's pages as Markdown and blocks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ..contracts import paddlex, structure
from ..contracts.base import EXAMPLE_IMAGE_B64, inline_schema, request_body
from ..errors import BadInput
from ..service.ocr_service import pages_left_note
from .deps import ignored_options, json_body, parse, respond, service_of
from .error_responses import contract_route
from .quota_checks import charge_pages
from .result_files import destination, publish

router = APIRouter(route_class=contract_route(structure.CONTRACT))

BODY = request_body({"application/json": (inline_schema(structure.LayoutParsingRequest),
                                          {"file": EXAMPLE_IMAGE_B64, "fileType": 1})})


async def published(request: Request, images: dict[str, bytes]) -> dict[str, str]:
    """Images as base64 or signed links, as the `/ocr` result images (OCR_RESULT_IMAGES)."""
    if not images:
        return {}
    files, base = destination(request)
    return await service_of(request).run(publish, images, files, base)


@router.post(
    structure.PATH,
    operation_id="layoutParsing",
    summary="Parse a document's layout: Markdown and blocks per page (PaddleX PP-StructureV3 serving)",
    response_model=structure.LayoutParsingResponse,
    responses={status: {"model": paddlex.ErrorResponse} for status in (400, 403, 413, 415, 422, 429, 503, 504)},
    openapi_extra=BODY,
)
async def layout_parsing(request: Request) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object with a `file` field")
    req = parse(structure.LayoutParsingRequest, body)
    threshold = structure.layout_threshold(req)  # a bad one is refused before the file is read
    warnings = ignored_options(request, structure.LayoutParsingRequest, body)
    skipped = structure.not_honoured(req)
    if skipped:
        warnings.append(structure.not_honoured_warning(skipped))
    service = service_of(request)
    contract = structure.CONTRACT
    visualize = contract.visualize(req.visualize, service.settings)
    doc = await service.ocr(await service.bytes_from_field(req.file), structure.to_options(req),
                            defaults=contract.defaults, declared=structure.declared_kind(req),
                            client_left=request.is_disconnected, keep_images=True, contract=contract.name,
                            pdf_text=req.pdfText)
    await charge_pages(request, doc)
    parsed = await service.parse_layout(doc, threshold, req.markdownIgnoreLabels,
                                        structure.tables(req))
    pages = []
    for page in parsed:
        markdown_images = await published(request, page.images) if req.returnMarkdownImages is not False else None
        images = await published(request, await service.run(structure.page_images, page, visualize))
        pages.append(structure.page_result(page, markdown_images, images))
    note = pages_left_note(doc)
    return await respond(structure.to_response(doc.kind, pages, parsed, request.state.request_id, doc.total_pages,
                                               warnings + ([note] if note else [])), doc)
