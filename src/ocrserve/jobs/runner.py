"""Runs jobs in the server process: claim with a lease, one page at a time, resume after a crash.

`OCR_JOB_WORKERS` loops per process each claim the oldest runnable job (pending, or running with a
lapsed lease: its worker died, on this machine or another sharing the store), read it page by page
through the service (which runs a job page only when no synchronous request is in flight), write
each page's result at its position (after its output formats' parts, see jobs.formats) and then
record the page in the index under the lease: only then does it count as read, so a job resumed
anywhere starts after the pages the index counts and writes none twice.  Once every page is read,
the output format files are joined.  A heartbeat renews the lease while a page runs; a job
cancelled or taken over stops before its next page.  A store that cannot be reached stops the run
without failing the job (it is claimed again once the lease lapses).  A sweeper deletes expired
jobs' files.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import secrets
import time
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

from ..contracts import jobs as contract
from ..contracts import paddlex, structure
from ..engine import EffectiveOptions, Pipeline
from ..errors import OCRServeError, StoreUnavailable
from ..inputs import Limits, PageSource
from ..result import OCRPage
from ..settings import Settings
from ..signed_links import LinkSigner
from . import formats
from .blobs import jsonl_line, page_sizes
from .callbacks import send_callback
from .documents import open_input
from .job import Job
from .result_links import link
from .store import JobStore

if TYPE_CHECKING:
    from ..service.ocr_service import OCRService
    from ..service.quota import Quota

log = logging.getLogger("ocrserve.jobs")
P = ParamSpec("P")
R = TypeVar("R")
StoreCall = Literal["renew", "write", "progress"]
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
                job = await asyncio.to_thread(self.store.index.claim, self.worker_id, self.settings.job_lease_s)
            except StoreUnavailable as exc:  # a store that is down: said once a poll, without a traceback
                log.warning("job worker %d: cannot claim: %s", number, exc)
                job = None
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
            try:
                await self.run(job)
            except StoreUnavailable as exc:  # its lease lapses and it is claimed again once the store answers
                log.warning("job %s: the job store is unavailable: %s", job.id[:8], exc)
            except Exception:
                log.exception("job %s: cannot be run", job.id[:8])

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
                await asyncio.to_thread(self.store.index.finish, job.id, self.worker_id, "done")
                log.info("job %s: done, %d pages", job.id[:8], len(job.pages))
        except asyncio.CancelledError:  # shutting down: let the next process resume it at once
            await asyncio.shield(asyncio.to_thread(self.store.index.release, job.id, self.worker_id))
            raise
        except StoreUnavailable as exc:  # not the job's fault: it runs again once the store answers
            log.warning("job %s: stopped, the job store is unavailable: %s", job.id[:8], exc)
            return
        except OCRServeError as exc:
            log.info("job %s: failed: %s", job.id[:8], exc)
            await asyncio.to_thread(self.store.index.finish, job.id, self.worker_id, "failed", str(exc))
        except Exception as exc:
            log.exception("job %s: failed unexpectedly", job.id[:8])
            await asyncio.to_thread(self.store.index.finish, job.id, self.worker_id, "failed",
                                    f"internal error ({type(exc).__name__}); the server log has the details")
        finally:
            heartbeat.cancel()
            await asyncio.to_thread(self.store.blobs.drop_input_copy, job.id)
        final = await asyncio.to_thread(self.store.index.load, job.id)
        if final is not None and final.state in ("done", "failed") and final.callback_url:
            asyncio.create_task(send_callback(self.store, self.service, self.signer, final))

    async def _files(self, job: Job) -> None:
        """The output format files, joined from the pages' parts, then counted in the job's bytes."""
        built = formats.built(job.spec.formats)
        if not built:
            return
        await self.service.run_job(formats.build, self.store.blobs, job, built, self.limits.pdf_scale)
        await asyncio.to_thread(self.store.blobs.drop_parts, job.id)
        await asyncio.to_thread(self.store.settle_bytes, job.id)
        log.info("job %s: %s written", job.id[:8], ", ".join(built))

    async def _heartbeat(self, job_id: str, lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.settings.job_lease_s / 3)
            try:
                renewed = await asyncio.to_thread(self.store.index.renew, job_id, self.worker_id,
                                                  self.settings.job_lease_s)
            except StoreUnavailable:  # the page loop finds out on its own; a short outage need not lose the job
                continue
            if not renewed:
                lost.set()
                return

    async def _pages(self, job: Job, lost: asyncio.Event) -> bool:
        service = self.service
        pipeline = await service.pipeline_for(job.model)
        effective = pipeline.resolve_options(job.spec.options, contract.CONTRACT.defaults)
        routes = service.languages.routes(job.spec.languages, pipeline.characters)
        if routes:  # a language set's recogniser is loaded in the job thread
            pipeline = await service.run_job(service.languages.pipeline, pipeline, routes)
        path = await asyncio.to_thread(self.store.blobs.input_file, job.id)
        source = await service.run_job(open_input, path, job.kind, self.limits)
        try:
            # the index counts the pages read; what a crash or a lost lease wrote past them goes
            await asyncio.to_thread(self.store.blobs.resume, job.id, job.done_pages)
            with service.use_pipeline(pipeline):
                for position in range(job.done_pages, len(job.pages)):
                    if lost.is_set() or not await self._timed("renew", self.store.index.renew, job.id,
                                                              self.worker_id, self.settings.job_lease_s):
                        log.info("job %s: no longer this worker's (cancelled or taken over); stopped", job.id[:8])
                        return False
                    if not await self._page(job, source, position, pipeline, effective):
                        log.info("job %s: page %d not recorded: the job is no longer this worker's; stopped",
                                 job.id[:8], position + 1)
                        return False
        finally:
            await service.run_job(source.close)
        return True

    async def _page(self, job: Job, source: PageSource, position: int, pipeline: Pipeline,
                    effective: EffectiveOptions) -> bool:
        """Read the page at `position`, write it, record it under the lease; False when it was not ours to record."""
        service = self.service
        index = job.pages[position]
        parsing = job.spec.task == "layout_parsing"
        result = await service.job_page(pipeline, source, index, effective,
                                        keep_images=job.spec.visualize or parsing,  # the layout is found on it
                                        pdf_text=job.spec.policy)
        earlier = None
        if position == len(job.pages) - 1 and job.kind == "pdf":  # the last line lists every page's size
            earlier = await asyncio.to_thread(lambda: page_sizes(self.store.blobs.page_lines(job.id, position)))
        built, parts = formats.built(job.spec.formats), None
        if parsing:
            record, written = await self._layout_record(job, index, result, earlier)
        else:
            images = await service.run_job(paddlex.page_images, result, job.spec.visualize)
            links, written = await self._publish(job, index, images)
            record = await service.run_job(contract.page_line, result, links, job.kind, len(job.pages), earlier)
            if built:
                parts_record = await service.run_job(formats.page_parts, result, index + 1, built)  # the page's number
                parts = jsonl_line(parts_record, f"job {job.id}'s {formats.PARTS_NAME}")
        line = jsonl_line(record, f"job {job.id}'s {formats.RESULT_NAME}")
        await self._timed("write", self.store.blobs.put_page, job.id, position, line, parts)
        written += len(line) + len(parts or b"")
        if not await self._timed("progress", self.store.index.progress, job.id, self.worker_id, position + 1, written):
            return False
        if self.quota is not None and job.owner.startswith("token:"):  # charged once, by the worker that recorded it
            await self.quota.charge(job.owner.removeprefix("token:"), 1)
        return True

    async def _timed(self, call: StoreCall, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """A store call of a page, in a thread, its time on /metrics: what a shared store costs per page shows there."""
        started = time.perf_counter()
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        finally:
            if self.service.metrics is not None:
                self.service.metrics.job_store.labels(call).observe(time.perf_counter() - started)

    async def _publish(self, job: Job, index: int, images: dict[str, bytes]) -> tuple[dict[str, str], int]:
        """Each image stored as the page's own file; its signed link (made absolute when served) and the bytes written."""
        links, written = {}, 0
        for key, jpeg in images.items():
            name = f"p{index + 1}-{key}.jpg"
            await self._timed("write", self.store.blobs.put, job.id, name, jpeg)
            links[key] = link(self.signer, "", job.id, name, job.expires)
            written += len(jpeg)
        return links, written

    async def _layout_record(self, job: Job, index: int, result: OCRPage,
                             earlier: list[dict[str, int]] | None) -> tuple[dict[str, Any], int]:
        """A PP-StructureV3 job's line for one read page: its layout, Markdown, figures and drawings."""
        service, spec = self.service, job.spec
        parsed = await service.run_job(service.parse_layout_page, result, index == 0, spec.layout_threshold,
                                       spec.ignore_labels, spec.tables)
        # the official client saves each linked image under its key as a file name, so a key is a plain
        # name, one of its own on every page; the Markdown names the figures by those keys
        named = {path: f"p{index + 1}_{PurePosixPath(path).name}" for path in parsed.images}
        for path, name in named.items():
            parsed.markdown = parsed.markdown.replace(f"({path})", f"({name})").replace(f'"{path}"', f'"{name}"')
        figures = {f"md{k}": jpeg for k, jpeg in enumerate(parsed.images.values(), start=1)}
        figure_links, written = await self._publish(job, index, figures if spec.markdown_images else {})
        markdown_images = dict(zip(named.values(), figure_links.values())) if spec.markdown_images else None
        images = await service.run_job(structure.page_images, parsed, spec.visualize)
        image_links, drawn = await self._publish(job, index, images)
        image_links = {key if key == "inputImage" else f"{key}_p{index + 1}.jpg": url for key, url in image_links.items()}
        entry = structure.page_result(parsed, markdown_images, image_links)
        return contract.layout_page_line(entry, result, job.kind, len(job.pages), earlier), written + drawn

    async def _sweep(self) -> None:
        every = min(SWEEP_EVERY_S, max(1.0, self.settings.job_ttl / 4))
        while True:
            try:
                deleted = await asyncio.to_thread(self.store.sweep, time.time())
                if deleted:
                    log.info("job store: %d expired jobs deleted", deleted)
            except StoreUnavailable as exc:  # the next sweep catches up
                log.warning("job store: sweep skipped: %s", exc)
            except Exception:
                log.exception("job store: sweep failed")
            await asyncio.sleep(every)
