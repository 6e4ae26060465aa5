"""Request and response plumbing shared by the route modules: bodies in, models out."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from ..contracts import paddlex
from ..errors import BadInput
from ..service.ocr_service import Document, OCRService
from ..unicode_text import utf8

log = logging.getLogger("ocrserve.api")

M = TypeVar("M", bound=BaseModel)
#: bodies up to this size are parsed on the event loop; bigger ones (base64 files) in a thread
INLINE_PARSE_BYTES = 64 * 1024
MAX_FORM_FIELDS = 20


def service_of(request: Request) -> OCRService:
    service: OCRService = request.app.state.service
    return service


def loads_json(raw: bytes) -> Any:
    """The body as JSON, or a 400 that says what is wrong with it."""
    if not raw.strip():
        raise BadInput("the request body is empty; send a JSON object")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"the request body is not valid JSON: {exc}") from exc


async def json_body(request: Request) -> Any:
    raw = await request.body()
    return loads_json(raw) if len(raw) <= INLINE_PARSE_BYTES else await run_in_threadpool(loads_json, raw)


async def json_object_or_none(request: Request) -> dict[str, Any] | None:
    """The body if it is a JSON object, whatever its declared type (some published clients declare
    JSON as form-encoded); None otherwise."""
    raw = await request.body()
    if not raw.lstrip()[:1] == b"{":
        return None
    try:
        data = loads_json(raw) if len(raw) <= INLINE_PARSE_BYTES else await run_in_threadpool(loads_json, raw)
    except BadInput:
        return None
    return data if isinstance(data, dict) else None


def parse(model: type[M], data: Any) -> M:
    """Validate into a contract's request model; failures become the 422 in the contract's shape."""
    if not isinstance(data, dict):
        raise BadInput("the request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


@dataclass(frozen=True)
class FormData:
    """A form as read once: its text fields, and its one file part's bytes and name."""

    fields: dict[str, str]
    data: bytes | None  # None: no file part
    filename: str  # as the client named the file part, '' without one


async def read_form(request: Request, file_field: str) -> FormData:
    """A multipart or urlencoded form, with the file part named `file_field` (if any)."""
    async with request.form(max_files=1, max_fields=MAX_FORM_FIELDS) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get(file_field)
        if isinstance(upload, UploadFile):
            return FormData(fields, await upload.read(), upload.filename or "")
    return FormData(fields, None, "")


async def read_upload(request: Request, model: type[M], file_field: str = "file") -> tuple[M, FormData]:
    """A multipart upload whose file part is required: its fields validated into `model`."""
    form = await read_form(request, file_field)
    fields = parse(model, form.fields)
    if form.data is None:
        raise BadInput(f"send the file as a multipart `{file_field}` part")
    return fields, form


def server_timing(doc: Document) -> str:
    """`Server-Timing`: each stage's milliseconds over the request's pages, queue wait included."""
    return ", ".join(f"{stage};dur={seconds * 1000:.1f}" for stage, seconds in doc.timings.items())


class ProperJSONResponse(JSONResponse):
    """A JSON response that no string can fail: a lone UTF-16 surrogate is sent as U+FFFD."""

    def render(self, content: Any) -> bytes:
        return utf8(json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")),
                    what="a JSON response")


def response_bytes(body: BaseModel) -> bytes:
    """A response model as JSON bytes, None fields left out; strings UTF-8 cannot hold as U+FFFD."""
    try:
        return body.model_dump_json(exclude_none=True).encode("utf-8")
    except PydanticSerializationError:  # pydantic refuses lone surrogates outright; the slower path mends them
        return ProperJSONResponse(None).render(body.model_dump(mode="json", exclude_none=True))


async def respond(body: BaseModel, doc: Document | None = None, status: int = 200) -> Response:
    """Serialise a contract's response model off the event loop (it may carry megabytes of images)."""
    content = await run_in_threadpool(response_bytes, body)
    headers = {"Server-Timing": server_timing(doc)} if doc is not None and doc.timings else None
    return Response(content, status_code=status, media_type="application/json", headers=headers)


def ignored_options(request: Request, model: type[paddlex.PaddleXOptions], body: dict[str, Any]) -> list[str]:
    """The answer's warning about keys no spelling of an option matches (PaddleX drops them silently), also logged."""
    keys = paddlex.ignored_keys(model, body)
    if not keys:
        return []
    log.info("request %s: ignored unknown PaddleX option(s): %s", request.state.request_id, ", ".join(keys))
    return [paddlex.ignored_warning(keys)]
