"""A submission -> a stored job: the model, options, pages, bounds and quota checked up front.

What can be known before any page is read is refused at once (400, 429, 503), so a client never
polls a job that could not have run.  A document that cannot be opened (a corrupt PDF, say) is
still a job, stored as failed with the reason, as the cloud answers it.  The document is already
on disk (jobs.upload) and is counted from its file.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..contracts import jobs as contract
from ..contracts import structure
from ..contracts.paddlex import ignored_keys, ignored_warning, languages
from ..errors import BadInput, QuotaExceeded, StoreFull
from ..inputs import Limits
from ..inputs.pdf import is_pdf
from ..service.quota import seconds_until_utc_midnight, utc_day
from ..settings import Settings
from .callbacks import check_callback_url
from .documents import count_pages
from .job import Job
from .models import model_set_for
from .pages import select_pages
from .spec import JobSpec
from .store import JobStore
from .upload import Incoming

log = logging.getLogger("ocrserve.jobs")
P = TypeVar("P", bound=BaseModel)

if TYPE_CHECKING:
    from ..service.ocr_service import OCRService
    from ..service.quota import Quota


@dataclass(frozen=True)
class Submission:
    """What a client sent, whichever body it came in."""

    owner: str  # "token:<id>" with auth on; "anon:<digest of the presented token>" without
    input: Incoming  # the document, written to a temp file in the store
    model: str
    payload: dict[str, Any] | None
    page_ranges: str | None
    batch_id: str | None
    callback_url: str | None
    base_url: str


def validated_payload(payload: dict[str, Any] | None, model: type[P]) -> P:
    try:
        return model.model_validate(payload or {})
    except ValidationError as exc:
        raise BadInput(f"optionalPayload: {contract.validation_message(exc)}") from None


def _ignored(payload: dict[str, Any] | None, model: type[BaseModel]) -> tuple[str, ...]:
    """The warning for keys no spelling of the options reads, kept with the job so that its status says so too
    (PaddleX drops them silently)."""
    ignored = ignored_keys(model, payload)
    if ignored:
        log.info("job submission: ignored unknown optionalPayload key(s): %s", ", ".join(ignored))
    return (ignored_warning(ignored),) if ignored else ()


def ocr_spec(raw: dict[str, Any] | None, settings: Settings) -> JobSpec:
    """An OCR job's spec from its `optionalPayload` (PaddleX /ocr's options)."""
    payload = validated_payload(raw, contract.OptionalPayload)
    return JobSpec(options=contract.to_options(payload), formats=tuple(payload.outputFormats or ()),
                   visualize=contract.CONTRACT.visualize(payload.visualize, settings), policy=payload.pdfText,
                   warnings=_ignored(raw, contract.OptionalPayload), languages=tuple(languages(payload)))


def layout_spec(raw: dict[str, Any] | None, settings: Settings) -> JobSpec:
    """A PP-StructureV3 job's spec from its `optionalPayload` (/layout-parsing's options)."""
    payload = validated_payload(raw, contract.LayoutOptionalPayload)
    skipped = structure.not_honoured(payload)
    warnings = _ignored(raw, contract.LayoutOptionalPayload) + (
        (structure.not_honoured_warning(skipped),) if skipped else ())
    labels = payload.markdownIgnoreLabels
    return JobSpec(options=structure.to_options(payload), visualize=structure.CONTRACT.visualize(payload.visualize,
                                                                                                  settings),
                   policy=payload.pdfText, warnings=warnings, task="layout_parsing",
                   layout_threshold=structure.layout_threshold(payload),
                   ignore_labels=None if labels is None else tuple(labels),
                   markdown_images=payload.returnMarkdownImages is not False, tables=structure.tables(payload))


async def check_quota(quota: Quota | None, owner: str, pages: int) -> None:
    """429 when the document has more pages than the token has left today."""
    if quota is None or not owner.startswith("token:"):
        return
    used = await asyncio.to_thread(quota.store.used, owner.removeprefix("token:"), utc_day())
    if used + pages > quota.limit:
        raise QuotaExceeded(f"the job reads {pages} pages but {max(0, quota.limit - used)} of today's "
                            f"{quota.limit} are left; it resets at 00:00 UTC",
                            retry_after=seconds_until_utc_midnight())


async def submit(sub: Submission, *, service: OCRService, store: JobStore, settings: Settings, limits: Limits,
                 quota: Quota | None) -> Job:
    model = model_set_for(sub.model, settings)
    spec = (layout_spec(sub.payload, settings) if sub.model == contract.DOCUMENT_PARSING_MODEL
            else ocr_spec(sub.payload, settings))
    # a language this server cannot read is refused now, not when a worker reaches the job
    service.languages.routes(spec.languages, service.require_pipeline().characters)
    if sub.callback_url:
        await check_callback_url(sub.callback_url, service)
    if await asyncio.to_thread(store.index.queued) >= settings.job_max_queued:
        raise StoreFull(f"{settings.job_max_queued} jobs are already waiting (OCR_JOB_MAX_QUEUED); retry later",
                        retry_after=30)
    size = sub.input.size
    if settings.job_max_bytes and await asyncio.to_thread(store.index.bytes_used) + size > settings.job_max_bytes:
        raise StoreFull(f"the job store is full (OCR_JOB_MAX_BYTES={settings.job_max_bytes}); retry once jobs "
                        "expire", retry_after=300)
    error, pages = None, []
    try:
        kind, total = await service.run(count_pages, sub.input.path, limits)
    except BadInput as exc:  # the document itself is bad: a failed job that says why
        error, kind, total = str(exc), "pdf" if is_pdf(sub.input.head) else "image", 0
    if error is None:
        pages = select_pages(sub.page_ranges, total, settings.job_max_pages)
    await check_quota(quota, sub.owner, len(pages))
    now = time.time()
    job = Job(id=secrets.token_hex(16), owner=sub.owner, batch_id=sub.batch_id, model=model, spec=spec,
              pages=pages, kind=kind, doc_pages=total, state="failed" if error else "pending", done_pages=0,
              error=error, base_url=sub.base_url, callback_url=sub.callback_url, bytes=size, created=now,
              started=None, finished=now if error else None, expires=now + settings.job_ttl, lease_owner=None,
              lease_until=None, callback_done=0)
    await asyncio.to_thread(store.create, job, sub.input.path)
    return job
