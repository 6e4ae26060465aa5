"""Runs jobs in the server process: claim with a lease, one page at a time, resume after a crash.

`OCR_JOB_WORKERS` loops per process each claim the oldest runnable job (pending, or running with a
lapsed lease: its worker died), read it page by page through the service (which runs a job page
only when no synchronous request is in flight), append each page's line to the JSONL (after its
output formats' parts, see jobs.formats) and move the progress on; once every page is read, the
output format files are joined.  A heartbeat renews the lease while a page runs; a job cancelled or
taken over stops before its next page.  A sweeper deletes expired jobs' files.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import secrets
import time
from typing import TYPE_CHECKING

from ..contracts import jobs as contract
from ..contracts import paddlex
from ..engine import EffectiveOptions, Pipeline
from ..errors import OCRServeError
from ..inputs import Limits, PageSource
from ..settings import Settings
from ..signed_links import LinkSigner
from . import formats
from .callbacks import send_callback
from .documents import open_input
from .result_links import link
from .store import Job, JobStore

if TYPE_CHECKING:
    from ..service.ocr_service import OCRService
    from ..service.quota import Quota

log = logging.getLogger("ocrserve.jobs")
IDLE_POLL_S = 1.0  # how often an idle worker looks for jobs submitted to another process
SWEEP_EVERY_S = 60.0


class JobRunner:
    """The job workers and the sweeper of one process."""

    def __init__(self, store: JobStore, service: OCRService, settings: Settings, signer: LinkSigner,
                 quota: Quota | None = None) -> None:
        self.store = store
        self.service = service
        self.settings = settings
        self.signer = signer
        self.quota = quota
        self.worker_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        # every page the document has, whatever OCR_MAX_PDF_PAGES says: the job's pages were chosen at submit
        self.limits = dataclasses.replace(Limits.from_settings(settings), max_pdf_pages=0, max_pdf_document_pages=0)

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._work(n)) for n in range(self.settings.job_workers)]
        self.tasks.append(asyncio.create_task(self._sweep()))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def submitted(self) -> None:
        """A job was just stored: wake an idle worker of this process at once."""
        self.wake.set()

    async def _work(self, number: int) -> None:
        while True:
            try:
                await self.service_ready()
                job = await asyncio.to_thread(self.store.claim, self.worker_id, self.settings.job_lease_s)
            except Exception:  # a locked or broken index must not end the worker
                log.exception("job worker %d: cannot claim", number)
                job = None
            if job is None:
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), IDLE_POLL_S)
                except asyncio.TimeoutError:
                    pass
                continue
            await self.run(job)

    async def service_ready(self) -> None:
        while not self.service.ready:
            await asyncio.sleep(IDLE_POLL_S)

    async def run(self, job: Job) -> None:
        """Read the job's remaining pages; end it done or failed, unless it stopped being ours."""
        log.info("job %s: claimed by %s (%d of %d pages done)", job.id[:8], self.worker_id, job.done_pages,
                 len(job.pages))
        lost = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat(job.id, lost))
        try:
            ended = await self._pages(job, lost)
            if ended:
                await self._files(job)
                await asyncio.to_thread(self.store.finish, job.id, self.worker_id, "done")
                log.info("job %s: done, %d pages", job.id[:8], len(job.pages))
        except asyncio.CancelledError:  # shutting down: let the next process resume it at once
            await asyncio.shield(asyncio.to_thread(self.store.release, job.id, self.worker_id))
            raise
        except OCRServeError as exc:
            log.info("job %s: failed: %s", job.id[:8], exc)
            await asyncio.to_thread(self.store.finish, job.id, self.worker_id, "failed", str(exc))
        except Exception as exc:
            log.exception("job %s: failed unexpectedly", job.id[:8])
            await asyncio.to_thread(self.store.finish, job.id, self.worker_id, "failed",
                                    f"internal error ({type(exc).__name__}); the server log has the details")
        finally:
            heartbeat.cancel()
        final = await asyncio.to_thread(self.store.load, job.id)
        if final is not None and final.state in ("done", "failed") and final.callback_url:
            asyncio.create_task(send_callback(self.store, self.service, self.signer, final))

    async def _files(self, job: Job) -> None:
        """The output format files, joined from the pages' parts, then counted in the job's bytes."""
        built = formats.built(job.spec.formats)
        if not built:
            return
        await self.service.run_job(formats.build, self.store, job, built, self.limits.pdf_scale)
        (self.store.job_dir(job.id) / formats.PARTS_NAME).unlink(missing_ok=True)
        await asyncio.to_thread(self.store.settle_bytes, job.id)
        log.info("job %s: %s written", job.id[:8], ", ".join(built))

    async def _heartbeat(self, job_id: str, lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.settings.job_lease_s / 3)
            if not await asyncio.to_thread(self.store.renew, job_id, self.worker_id, self.settings.job_lease_s):
                lost.set()
                return

    async def _pages(self, job: Job, lost: asyncio.Event) -> bool:
        service = self.service
        pipeline = await service.pipeline_for(job.model)
        effective = pipeline.resolve_options(job.spec.options, contract.CONTRACT.defaults)
        routes = service.languages.routes(job.spec.languages, set(pipeline.charset))
        pipeline = await service.run_job(service.languages.pipeline, pipeline, routes)
        source = await service.run_job(open_input, self.store.input_path(job.id), job.kind, self.limits)
        try:
            done = await asyncio.to_thread(self.store.done_lines, job.id)
            # a page's parts are written before its JSONL line: those of a page not counted as read go
            await asyncio.to_thread(self.store.keep_lines, job.id, formats.PARTS_NAME, done)
            with service.use_pipeline(pipeline):
                for position in range(done, len(job.pages)):
                    if lost.is_set() or not await asyncio.to_thread(
                            self.store.renew, job.id, self.worker_id, self.settings.job_lease_s):
                        log.info("job %s: no longer this worker's (cancelled or taken over); stopped", job.id[:8])
                        return False
                    await self._page(job, source, position, pipeline, effective)
        finally:
            await service.run_job(source.close)
        return True

    async def _page(self, job: Job, source: PageSource, position: int, pipeline: Pipeline,
                    effective: EffectiveOptions) -> None:
        service = self.service
        index = job.pages[position]
        result = await service.job_page(pipeline, source, index, effective, keep_images=job.spec.visualize,
                                        pdf_text=job.spec.policy)
        images = await service.run_job(paddlex.page_images, result, job.spec.visualize)
        links, written = {}, 0
        for key, jpeg in images.items():
            name = f"p{index + 1}-{key}.jpg"
            await asyncio.to_thread(self.store.write_file, job.id, name, jpeg)
            links[key] = link(self.signer, "", job.id, name, job.expires)  # made absolute when served
            written += len(jpeg)
        built = formats.built(job.spec.formats)
        if built:
            parts = await service.run_job(formats.page_parts, result, index + 1, built)  # the document's page number
            written += await asyncio.to_thread(self.store.append_line, job.id, parts, formats.PARTS_NAME)
        last = position == len(job.pages) - 1
        earlier = await asyncio.to_thread(self.store.page_sizes, job.id) if last and job.kind == "pdf" else None
        line = await service.run_job(contract.page_line, result, links, job.kind, len(job.pages), earlier)
        written += await asyncio.to_thread(self.store.append_line, job.id, line)
        await asyncio.to_thread(self.store.progress, job.id, self.worker_id, position + 1, written)
        if self.quota is not None and job.owner.startswith("token:"):
            await self.quota.charge(job.owner.removeprefix("token:"), 1)

    async def _sweep(self) -> None:
        every = min(SWEEP_EVERY_S, max(1.0, self.settings.job_ttl / 4))
        while True:
            try:
                deleted = await asyncio.to_thread(self.store.sweep, time.time())
                if deleted:
                    log.info("job store: %d expired jobs deleted", deleted)
            except Exception:
                log.exception("job store: sweep failed")
            await asyncio.sleep(every)
