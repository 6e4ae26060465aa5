"""`/api/v2/ocr/jobs`: PaddleOCR's official job API (submit, status, batch status, cancel), and the
signed links its client downloads results from without a token (`/files/jobs/...`).

A submission's document streams to disk (jobs.upload) under its own limit, OCR_JOB_MAX_FILE_SIZE,
which is also this path's body limit (`body_limits`, applied by the app's body-limit middleware).
A job's files are streamed from wherever the store keeps them (jobs.blobs), so any replica sharing
the store serves any job's links.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import RedirectResponse, Response, StreamingResponse

from ..contracts import jobs as contract
from ..contracts.base import inline_schema, request_body
from ..errors import BadInput, ClientGone, InputTooLarge, NotFound
from ..export import FORMATS
from ..jobs import result_links, upload
from ..jobs.formats import FILES
from ..jobs.job import Job
from ..jobs.status import job_data
from ..jobs.store import JobStore
from ..jobs.submit import Submission, submit
from ..settings import Settings
from .auth import presented_token
from .deps import INLINE_PARSE_BYTES, loads_json, respond, service_of
from .error_responses import contract_route
from .forwarded import public_base_url

PATH = contract.PATH
FIELDS_ROOM = 64 * 1024  # a multipart body's other fields and framing, beside the document
JSON_MAX_BYTES = 1024 * 1024  # a JSON submission names its document by URL, so it is small
#: each file a job link can serve -> its media type
MEDIA_TYPES = {FILES[name]: FORMATS[name].media_type for name in FILES if name != "json"}
router = APIRouter(route_class=contract_route(contract.CONTRACT))  # submissions: under the quota dependency, as every OCR route
status_router = APIRouter(route_class=contract_route(contract.CONTRACT))  # reads: never refused for quota, or a job that used the last page could not be fetched
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": contract.ErrorResponse} for s in (400, 403, 404, 413, 429, 503)}
SUBMIT_BODY = request_body({
    "multipart/form-data": ({**inline_schema(contract.SubmitForm), "required": ["file"],
                             "properties": {**inline_schema(contract.SubmitForm)["properties"],
                                            "file": {"type": "string", "format": "binary"}}}, None),
    "application/json": (inline_schema(contract.SubmitURL), None),  # no example: it would fetch a URL
})


def owner_of(request: Request) -> str:
    """Who a job belongs to: the configured token (auth on), else the presented one's digest."""
    token_id: str | None = getattr(request.state, "token_id", None)
    if token_id:
        return "token:" + token_id
    credential = presented_token(request.headers.get("authorization", "").encode("latin-1"))
    return "anon:" + (hashlib.sha256(credential).hexdigest() if credential else "")


def store_of(request: Request) -> JobStore:
    store: JobStore = request.app.state.job_store
    return store


def body_limits(settings: Settings) -> dict[str, tuple[int, str]]:
    """This route's own body limit, for the app's middleware: (bytes, the 413's message)."""
    return {PATH: (settings.job_max_file_size + FIELDS_ROOM, str(upload.too_large(settings.job_max_file_size)))}


def _validated(model: type[Any], data: dict[str, Any]) -> Any:
    """Validation failures are the client's InvalidRequestError (400), not FastAPI's 422."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise BadInput(contract.validation_message(exc)) from None


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"optionalPayload is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadInput("optionalPayload must be a JSON object")
    return value


async def _chunks(request: Request) -> AsyncIterator[bytes]:
    """The body as it arrives; a client gone mid-upload is ClientGone (nobody reads the answer)."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise ClientGone("the client disconnected during the upload") from None


async def _json(request: Request) -> Any:
    body = bytearray()
    async for chunk in _chunks(request):
        body += chunk
        if len(body) > JSON_MAX_BYTES:
            raise InputTooLarge(f"a JSON job submission is over {JSON_MAX_BYTES} bytes: it names its document "
                                "by fileUrl; send the document itself as multipart `file`")
    raw = bytes(body)
    return loads_json(raw) if len(raw) <= INLINE_PARSE_BYTES else await run_in_threadpool(loads_json, raw)


async def _submission(request: Request) -> Submission:
    """The submission, its document written to a temp file in the store (deleted here when refused)."""
    store, limit = store_of(request), request.app.state.settings.job_max_file_size
    base = dict(owner=owner_of(request), base_url=public_base_url(request))
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/"):
        fields, incoming = await upload.receive_form(_chunks(request), content_type, store, limit)
        try:
            form = _validated(contract.SubmitForm, fields)
            if incoming is None:
                raise BadInput("send the document as a multipart `file` part, or JSON with `fileUrl`")
            payload = _json_object(form.optionalPayload) if form.optionalPayload else None
        except BaseException:
            if incoming is not None:
                incoming.discard()
            raise
        return Submission(input=incoming, model=form.model, payload=payload, page_ranges=form.pageRanges,
                          batch_id=form.batchId, callback_url=form.callbackUrl, **base)
    body = await _json(request)
    if not isinstance(body, dict):
        raise BadInput("the request body must be a JSON object with `fileUrl`, or multipart with `file`")
    req = _validated(contract.SubmitURL, body)
    incoming = await upload.fetch_into(req.fileUrl, service_of(request).fetch_policy, store, limit)
    return Submission(input=incoming, model=req.model, payload=req.optionalPayload, page_ranges=req.pageRanges,
                      batch_id=req.batchId, callback_url=req.callbackUrl, **base)


@router.post(PATH, operation_id="submitOcrJob", summary="Submit a document as an async OCR job",
             response_model=contract.SubmitResponse, responses=ERRORS, openapi_extra=SUBMIT_BODY)
async def submit_job(request: Request) -> Response:
    sub = await _submission(request)
    app = request.app.state
    try:
        job = await submit(sub, service=service_of(request), store=app.job_store, settings=app.settings,
                           limits=app.job_runner.limits, quota=app.quota)
    finally:
        sub.input.discard()  # moved into the job when it was stored; a refused one's goes here
    app.job_runner.submitted()
    data = contract.SubmitData(jobId=job.id, warnings=list(job.spec.warnings) or None)
    return await respond(contract.SubmitResponse(data=data, logId=request.state.request_id))


async def _job_response(request: Request, job: Job) -> Response:
    data = job_data(job, request.app.state.job_signer, public_base_url(request))
    return await respond(contract.JobResponse(data=data, logId=request.state.request_id))


@status_router.get(PATH + "/batch/{batch_id}", operation_id="getOcrJobBatch", summary="Status of a batch's jobs",
                   response_model=contract.BatchResponse, responses=ERRORS)
async def batch_status(request: Request, batch_id: str) -> Response:
    jobs = await asyncio.to_thread(store_of(request).index.batch, batch_id, owner_of(request))
    if not jobs:
        raise NotFound(f"no jobs in batch {batch_id!r} for this token")
    signer = request.app.state.job_signer
    data = contract.BatchData(batchId=batch_id, extractResult=[job_data(j, signer, public_base_url(request))
                                                               for j in jobs])
    return await respond(contract.BatchResponse(data=data, logId=request.state.request_id))


@status_router.get(PATH + "/{job_id}", operation_id="getOcrJob", summary="Status of a job",
                   response_model=contract.JobResponse, responses=ERRORS)
async def job_status(request: Request, job_id: str) -> Response:
    job = await asyncio.to_thread(store_of(request).index.get, job_id, owner_of(request))
    return await _job_response(request, job)


@status_router.delete(PATH + "/{job_id}", operation_id="cancelOcrJob", summary="Cancel a job (extension)",
                      response_model=contract.JobResponse, responses=ERRORS)
async def cancel_job(request: Request, job_id: str) -> Response:
    job = await asyncio.to_thread(store_of(request).index.cancel, job_id, owner_of(request))
    return await _job_response(request, job)


@status_router.get(result_links.PREFIX + "{job_id}/{name}", operation_id="getOcrJobFile", response_class=Response,
                   summary="A job's JSONL result, output format file or result image, behind a signed, expiring link",
                   responses={200: {"content": {"application/jsonl": {}, "image/jpeg": {},
                                                **{t.split(";")[0]: {} for t in MEDIA_TYPES.values()}}}})
async def job_file(request: Request, job_id: str, name: str, expires: str | None = None,
                   sig: str | None = None) -> Response:
    signer = request.app.state.job_signer
    if not result_links.valid_name(job_id, name) or not signer.verify(result_links.file_path(job_id, name), expires, sig):
        raise NotFound("no such job file, or its link has expired")
    store = store_of(request)
    headers = {"Cache-Control": "private, max-age=3600"}
    if name == result_links.RESULT_NAME:
        job = await asyncio.to_thread(store.index.load, job_id)
        if job is None or job.state != "done":
            raise NotFound("no such job file, or its link has expired")
        lines = await asyncio.to_thread(store.blobs.page_lines, job_id, len(job.pages))
        return StreamingResponse(absolute_links(lines, public_base_url(request)), media_type="application/jsonl",
                                 headers=headers)
    media_type = MEDIA_TYPES.get(name, "image/jpeg")
    if request.app.state.settings.job_links == "presigned":  # expires was checked by verify: digits, not past
        url = await asyncio.to_thread(store.blobs.presigned_url, job_id, name, int(expires or 0) - int(time.time()),
                                      media_type)
        if url is not None:
            return RedirectResponse(url, status_code=307)
    size, chunks = await asyncio.to_thread(store.blobs.read, job_id, name)
    # a sync iterator: Starlette reads it in a thread, so a slow store never blocks the event loop
    return StreamingResponse(chunks, media_type=media_type,
                             headers={**headers, "Content-Length": str(size)})


def absolute_links(lines: Iterator[bytes], base_url: str) -> Iterator[bytes]:
    """The JSONL with its image links made absolute for this client's view of the server (the
    stored links are relative, so they survive a new host name, port or proxy)."""
    relative, absolute = b'":"' + result_links.PREFIX.encode(), b'":"' + base_url.rstrip("/").encode() + result_links.PREFIX.encode()
    for line in lines:
        yield line.replace(relative, absolute)
