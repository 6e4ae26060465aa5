"""The engine as the HTTP layer sees it: admission, deadlines, pages decoded one at a time.

Every blocking step (base64 and image decoding, PDF rendering, inference, result images) runs
in a bounded pool of threads; ONNX Runtime releases the GIL, so requests overlap on the cores
instead of queueing behind one lock as PaddleX's serving does.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..contracts.jobs import PATH as JOBS_PATH  # where a document too long for one request goes
from ..engine import EffectiveOptions, OCROptions, Pipeline, build_pipeline, load_layout
from ..engine.layout import LayoutDetector, ScoreThreshold
from ..engine.recognize import BatchObserver
from ..engine.runtime import usable_cores
from ..errors import BadInput, ClientGone, DeadlineExceeded, InputTooLarge, ModelMissing, Overloaded
from ..export.structure import MARKDOWN_IGNORE_LABELS, ParsedPage, parse_page
from ..inputs import Limits, PageSource, open_pages
from ..inputs.pdf import is_pdf
from ..kinds import DocumentKind, TextLayerPolicy
from ..memory import set_mmap_threshold
from ..models.presence import NeededFile, describe_missing, missing_files, needed_files
from ..reader import PageRead, PageRequest, read_page
from ..result import OCRPage
from ..settings import Settings
from ..urlfetch import FetchPolicy, fetch_url, is_url
from .languages import LanguageReaders
from .metrics import Metrics

log = logging.getLogger("ocrserve.service")
T = TypeVar("T")

_DATA_URL = re.compile(r"^data:[\w/+.-]*(;[\w-]+=[\w-]+)*;base64,", re.IGNORECASE)
_NAMED: dict[DocumentKind, str] = {"pdf": "a PDF", "image": "an image"}
JOB_YIELD_S = 0.05  # how often a waiting job page looks again for a moment with no request in flight
MODEL_POLL_S = 1.0  # how often a server waiting for its model files (OCR_WAIT_FOR_MODELS) looks again
#: asked before each page: has the client gone away? (a route passes its request's check)
ClientLeft = Callable[[], Awaitable[bool]]


def engine_threads(settings: Settings) -> int:
    """Pages read at once: OCR_INFERENCE_THREADS, else one per core up to 4, and one on two cores or fewer.

    Every stage of a page already runs on all cores; a second page in flight overlaps only the
    serial parts, and on two cores it read no faster while holding a second page's buffers
    (docs/benchmarks.md, "Pages in flight").
    """
    if settings.inference_threads:
        return settings.inference_threads
    cores = usable_cores()
    return 1 if cores <= 2 else min(4, cores)


def decode_base64(text: str) -> bytes:
    """Strict base64 (standard or URL-safe alphabet), with or without a `data:` prefix."""
    body = _DATA_URL.sub("", text.strip(), count=1)
    body = "".join(body.split())
    if not body:
        raise BadInput("the file field is empty")
    body += "=" * (-len(body) % 4)
    try:
        if "-" in body or "_" in body:
            return base64.urlsafe_b64decode(body.encode("ascii"))
        return base64.b64decode(body.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise BadInput("the file is neither an http(s) URL nor valid base64") from exc


JOB_NICE = 19  # the lowest priority: a job page gets the cores only when requests leave them idle


def _lowest_priority() -> None:
    """Lower the calling thread's scheduling priority (Linux: per thread; elsewhere a no-op)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), JOB_NICE)
    except (AttributeError, OSError) as exc:
        log.warning("job thread keeps its priority: %s", exc)


def current_rss() -> int:
    """Resident bytes of this process (0 where /proc is absent): what a loaded model set costs."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _file_states(paths: list[Path]) -> dict[str, tuple[int, int]] | None:
    """Size and mtime of each path; None when one vanished meanwhile (look again next time)."""
    try:
        return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in paths}
    except OSError:
        return None


def pages_left_note(doc: Document) -> str | None:
    """What an answer says when OCR_MAX_PDF_PAGES ended a PDF early: pages read, pages in it, where the rest go."""
    if doc.kind != "pdf" or len(doc.results) >= doc.total_pages:
        return None
    return (f"read the first {len(doc.results)} of the PDF's {doc.total_pages} pages (OCR_MAX_PDF_PAGES); for every "
            f"page send it as a job: POST {JOBS_PATH} (PaddleOCR's job API, pageRanges picks pages)")


async def _never_left() -> bool:
    return False


#: builds an engine of the settings' model set; `metrics`, when given, count its recognition work
PipelineFactory = Callable[[Settings, Metrics | None], Pipeline]


def _batch_observer(metrics: Metrics | None) -> BatchObserver | None:
    return metrics.observe_batch if metrics is not None else None


def local_pipeline(settings: Settings, metrics: Metrics | None = None) -> Pipeline:
    """Every model in this process; concurrent pages share recognition batches unless told not to."""
    return build_pipeline(settings, batch_across_calls=settings.rec_batch_wait_ms > 0,
                          on_batch=_batch_observer(metrics))


def local_job_pipeline(settings: Settings, metrics: Metrics | None = None) -> Pipeline:
    """Every model in this process, unbatched: a batcher's thread would not be the job thread."""
    return build_pipeline(settings, on_batch=_batch_observer(metrics))


@dataclass
class Document:
    """A decoded request input and its OCR results, one per page."""

    kind: DocumentKind
    results: list[OCRPage]
    page_seconds: list[float] = field(default_factory=list)  # wall time of each page: decode + engine
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage over all pages, queue included
    total_pages: int = 0  # pages in the input: a PDF's past OCR_MAX_PDF_PAGES are in it but not in `results`


class OCRService:
    """Owns the Pipeline for one process and the threads that run it."""

    def __init__(self, settings: Settings, metrics: Metrics | None = None,
                 pipeline_factory: PipelineFactory | None = None,
                 job_pipeline_factory: PipelineFactory | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.pipeline_factory = pipeline_factory or local_pipeline
        # builds the jobs' engine of OCR_MODEL (any other set a job asks for is local_job_pipeline's)
        self.job_pipeline_factory = job_pipeline_factory or local_job_pipeline
        self.limits = Limits.from_settings(settings)
        threads = engine_threads(settings)
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ocr")
        # job pages run in one thread of the lowest OS priority, with their own model sessions built
        # there (ONNX Runtime's threads inherit it), so a request competing with a job page wins the cores
        self.job_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr-job",
                                               initializer=_lowest_priority)
        # requests past this many wait holding only their compressed bytes, not decoded pages:
        # with 16 requests in flight, 16 decoded 12 MP photos would be 600 MB for nothing
        self.slots = asyncio.Semaphore(threads)
        # built once: a malformed allowlist entry fails at startup, not on the first URL
        self.fetch_policy = FetchPolicy(max_bytes=settings.max_file_size, timeout_s=settings.url_timeout,
                                        max_redirects=settings.url_max_redirects,
                                        allowlist=tuple(settings.url_allowlist))
        self.pipeline: Pipeline | None = None
        self.load_error: str | None = None
        self.waiting_for: str | None = None  # what a server waiting for model files still lacks
        self._closing = threading.Event()
        # other model sets, loaded on first use for a job's `model`, least recently used first
        # recognisers of the languages a request asks for that the serving set does not read
        self.languages = LanguageReaders(settings)
        self.extra_pipelines: OrderedDict[str, Pipeline] = OrderedDict()
        self.pipeline_users: dict[str, int] = {}
        self.extra_rss: dict[str, int] = {}  # bytes the process grew by when each was loaded
        self._loading: dict[str, asyncio.Future[Pipeline]] = {}
        # the layout detector, loaded on the first document parsed (most servers only OCR)
        self.layout: LayoutDetector | None = None
        self._layout_lock = threading.Lock()
        self.started_at = time.time()
        self.inflight = 0  # requests admitted and not finished (touched only on the event loop)
        self.waiting = 0  # of those, the ones waiting for an inference slot

    # --- lifecycle -------------------------------------------------------------------------
    def load(self) -> None:
        """Load the models and run each stage once so the first request is not the slow one.

        Any failure, of any type, is kept as the load error that /health and every OCR request
        report; the traceback goes to the log once.
        """
        set_mmap_threshold(self.settings.malloc_mmap_threshold)  # before the first big buffer
        try:
            if self.settings.wait_for_models and not self.wait_for_model_files():
                return  # closed while waiting
            pipeline = self.pipeline_factory(self.settings, self.metrics)
            started = time.perf_counter()
            lines = pipeline.warm_up()
            log.info("warm-up: %d lines in %.2f s", lines, time.perf_counter() - started)
            self.pipeline = pipeline
            log.info("model set %s ready: %s", pipeline.model_name, pipeline.stage_placements())
        except Exception as exc:
            self.load_error = f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
            log.exception("engine failed to load: %s", exc)
            raise

    def note_missing_models(self) -> bool:
        """Whether model files are missing and this server is to wait for them (OCR_WAIT_FOR_MODELS);
        called before the load starts, so that /ready says so from the first request."""
        if not self.settings.wait_for_models:
            return False
        missing = missing_files(self.settings)
        self.waiting_for = self._waiting_message(missing) if missing else None
        return bool(missing)

    def _waiting_message(self, missing: list[NeededFile]) -> str:
        return "waiting for model files (OCR_WAIT_FOR_MODELS): " + describe_missing(self.settings, missing)

    def wait_for_model_files(self) -> bool:
        """Poll until every model file is there and has stopped changing (a copy in progress is not
        loaded half-written); False if the service was closed first.  Logs once what it waits for."""
        missing = missing_files(self.settings)
        if not missing:
            self.waiting_for = None
            return True
        self.waiting_for = self._waiting_message(missing)
        log.warning("%s", self.waiting_for)
        seen: dict[str, tuple[int, int]] | None = None
        while not self._closing.wait(MODEL_POLL_S):
            needed = needed_files(self.settings)
            missing = [f for f in needed if f.path is None]
            if missing:
                self.waiting_for = self._waiting_message(missing)
                seen = None
                continue
            now = _file_states([f.path for f in needed if f.path is not None])
            if now is not None and now == seen:
                self.waiting_for = None
                log.info("model files of %s are present: loading", self.settings.model)
                return True
            seen = now
        return False

    @property
    def ready(self) -> bool:
        return self.pipeline is not None

    @property
    def not_ready_reason(self) -> str | None:
        """Why OCR cannot run yet: waiting for model files, the load's error, or None (loading or ready)."""
        return self.waiting_for or self.load_error

    def close(self) -> None:
        self._closing.set()  # a load waiting for model files gives up
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.pipeline is not None:
            self.pipeline.close()
        self.job_executor.shutdown(wait=False, cancel_futures=True)
        for pipeline in self.extra_pipelines.values():
            pipeline.close()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def run_job(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in the low-priority job thread (a job's decoding, drawing and encoding)."""
        return await asyncio.get_running_loop().run_in_executor(self.job_executor, fn, *args)

    def require_pipeline(self) -> Pipeline:
        if self.pipeline is None:
            raise ModelMissing(self.not_ready_reason or "the engine is still loading; retry shortly")
        return self.pipeline

    async def pipeline_for(self, model: str) -> Pipeline:
        """The jobs' pipeline of model set `model`, loaded on first use in the job thread.

        Jobs never share the requests' pipeline (its sessions' threads run at normal priority),
        only a remote recognition (Ray's deployment, through `job_pipeline_factory`), which has no
        sessions here.  At most `job_max_loaded_models` sets stay loaded for jobs; past it the
        least recently used one that no job is using is closed.  Callers hold it with
        `use_pipeline` while they use it.
        """
        self.require_pipeline()  # the requests' engine first: its load failure is every job's too
        if model in self.extra_pipelines:
            self.extra_pipelines.move_to_end(model)
            return self.extra_pipelines[model]
        if model not in self._loading:  # one load per set, however many jobs ask at once
            self._loading[model] = asyncio.ensure_future(self.run_job(self._load_extra, model))
        try:
            pipeline = await asyncio.shield(self._loading[model])
        finally:
            if self._loading.get(model) is not None and self._loading[model].done():
                self._loading.pop(model, None)
        self.extra_pipelines[model] = pipeline
        self._evict_idle(keep=model)
        return pipeline

    def _load_extra(self, model: str) -> Pipeline:
        before = current_rss()
        settings = self.settings.model_copy(update={"model": model})
        # a recognition deployment (Ray) serves OCR_MODEL only, so another set is read wholly in this process
        factory = self.job_pipeline_factory if model == self.settings.model else local_job_pipeline
        pipeline = factory(settings, self.metrics)
        pipeline.warm_up()
        self.extra_rss[model] = max(current_rss() - before, 0)
        log.info("model set %s loaded for jobs: RSS +%.0f MiB", model, self.extra_rss[model] / 2**20)
        return pipeline

    def _evict_idle(self, keep: str | None = None) -> None:
        """Close idle sets past the cap, least recently used first; never `keep`, which a caller is about to use."""
        cap = self.settings.job_max_loaded_models
        for name in list(self.extra_pipelines):
            if len(self.extra_pipelines) <= cap:
                break
            if name != keep and self.pipeline_users.get(name, 0) == 0:
                self.extra_pipelines.pop(name).close()
                self.extra_rss.pop(name, None)
                log.info("model set %s unloaded (OCR_JOB_MAX_LOADED_MODELS=%d)", name,
                         self.settings.job_max_loaded_models)

    def memory(self) -> dict[str, Any]:
        """This process's resident memory, and what each model set loaded for jobs added to it."""
        return {"rss_mib": round(current_rss() / 2**20, 1),
                "job_model_sets_mib": {name: round(self.extra_rss.get(name, 0) / 2**20, 1)
                                       for name in self.extra_pipelines}}

    @contextmanager
    def use_pipeline(self, pipeline: Pipeline) -> Iterator[None]:
        """Mark `pipeline` in use, so it is not unloaded under a running job."""
        name = pipeline.model_name
        self.pipeline_users[name] = self.pipeline_users.get(name, 0) + 1
        try:
            yield
        finally:
            self.pipeline_users[name] -= 1
            self._evict_idle()  # a set loaded past the cap while this one was busy may go now

    # --- layout ----------------------------------------------------------------------------
    def layout_detector(self) -> LayoutDetector:
        """OCR_LAYOUT_MODEL's detector, loaded once, on first use (in a worker thread: it blocks)."""
        with self._layout_lock:
            if self.layout is None:
                self.layout = load_layout(self.settings)
                log.info("layout model %s loaded", self.settings.layout_model)
            return self.layout

    def parse_layout_page(self, page: OCRPage, first_page: bool, score_thresh: ScoreThreshold = None,
                          ignore_labels: Sequence[str] | None = None, tables: bool = True) -> ParsedPage:
        """One read page parsed by its layout (its image must have been kept): blocks and Markdown;
        `tables`: tables read as rows and cells."""
        if page.image is None:
            raise BadInput("the page's image was not kept; it is needed to find its layout")
        regions = self.layout_detector().detect(page.image, score_thresh)
        return parse_page(page, regions, first_page,
                          MARKDOWN_IGNORE_LABELS if ignore_labels is None else ignore_labels, tables)

    async def parse_layout(self, doc: Document, score_thresh: ScoreThreshold = None,
                           ignore_labels: Sequence[str] | None = None, tables: bool = True) -> list[ParsedPage]:
        """Every page of a read document parsed by its layout, page by page in the worker threads."""
        parsed = []
        for k, page in enumerate(doc.results):
            started = time.perf_counter()
            parsed.append(await self.run(self.parse_layout_page, page, k == 0 and not page.page_index,
                                         score_thresh, ignore_labels, tables))
            page.timings["layout"] = time.perf_counter() - started
        return parsed

    # --- inputs ----------------------------------------------------------------------------
    async def bytes_from_field(self, value: str) -> bytes:
        """A contract's `file`/`image` string: an http(s) URL to fetch, or base64."""
        if is_url(value):
            return await self.fetch(value)
        if len(value) > self.settings.max_file_size * 4 // 3 + 1024:
            raise InputTooLarge(f"the file is over the limit of {self.settings.max_file_size} bytes")
        return await self.run(decode_base64, value)

    async def fetch(self, url: str) -> bytes:
        return await fetch_url(url, self.fetch_policy)

    def open_pages(self, data: bytes, declared: DocumentKind | None = None) -> PageSource:
        """Check the bytes against the limits and the declared kind; pages are decoded later, one by one."""
        if len(data) > self.settings.max_file_size:
            raise InputTooLarge(f"the file is {len(data)} bytes, over the limit of {self.settings.max_file_size}")
        actual: DocumentKind = "pdf" if is_pdf(data) else "image"
        if declared is not None and declared != actual:
            raise BadInput(f"the request declares {_NAMED[declared]} but the file is {_NAMED[actual]}")
        return open_pages(data, self.limits)

    # --- OCR -------------------------------------------------------------------------------
    def admit(self) -> None:
        """Refuse at once when the queue is full: a fast 503 beats a slow timeout and unbounded memory."""
        if self.inflight >= self.settings.max_queue:
            raise Overloaded(f"{self.inflight} requests are already queued (OCR_MAX_QUEUE="
                             f"{self.settings.max_queue}); retry shortly", retry_after=1)

    async def ocr(self, data: bytes, options: OCROptions | None = None, *, defaults: OCROptions | None = None,
                  declared: DocumentKind | None = None, client_left: ClientLeft | None = None,
                  keep_images: bool = False, contract: str = "library",
                  pdf_text: TextLayerPolicy | None = None, languages: Sequence[str] = ()) -> Document:
        """Decode and OCR one input within the request deadline.

        `defaults` are the calling contract's own defaults (below the operator's settings);
        `client_left` is asked before each page, so a client that went away costs no more pages;
        decoded images stay on the results only when `keep_images` (a response draws them);
        `pdf_text` is the request's text-layer choice (None: OCR_PDF_TEXT); `languages`: the codes
        the document is written in (none: the serving set reads it).
        """
        pipeline = self.require_pipeline()
        effective = pipeline.resolve_options(options, defaults)  # bad options fail before any decoding
        routes = self.languages.routes(languages, pipeline.characters)  # and a language it cannot read
        self.admit()
        self.inflight += 1
        try:
            if routes:  # a language set's recogniser may have to be loaded: off the event loop
                pipeline = await self.run(self.languages.pipeline, pipeline, routes)
            return await asyncio.wait_for(
                self._ocr(pipeline, data, effective, declared, client_left or _never_left, keep_images, contract,
                          pdf_text),
                timeout=self.settings.request_timeout or None)
        except asyncio.TimeoutError:
            raise DeadlineExceeded(
                f"the request took longer than OCR_REQUEST_TIMEOUT={self.settings.request_timeout:g} s and was "
                f"stopped; for a document that long, send it as a job: POST {JOBS_PATH} (PaddleOCR's job API, "
                "read page by page without a deadline; poll GET /api/v2/ocr/jobs/{jobId})") from None
        finally:
            self.inflight -= 1

    async def _ocr(self, pipeline: Pipeline, data: bytes, effective: EffectiveOptions, declared: DocumentKind | None,
                   client_left: ClientLeft, keep_images: bool, contract: str,
                   pdf_text: TextLayerPolicy | None) -> Document:
        queued = time.perf_counter()
        self.waiting += 1
        try:
            await self.slots.acquire()
        finally:
            self.waiting -= 1
        try:
            waited = time.perf_counter() - queued
            if self.metrics is not None:
                self.metrics.slot_wait.observe(waited)
            if await client_left():
                raise ClientGone("the client disconnected while queued; dropped")
            source = await self.run(self.open_pages, data, declared)
            try:
                doc = Document(source.kind, [], timings={"queue": waited}, total_pages=getattr(source, "total", 1))
                for index in range(len(source)):
                    if await client_left():
                        raise ClientGone("the client disconnected; remaining pages dropped")
                    await self._page(pipeline, source, index, effective, keep_images, contract, doc, pdf_text)
                return doc
            finally:
                await self.run(source.close)
        finally:
            self.slots.release()

    async def job_page(self, pipeline: Pipeline, source: PageSource, index: int, effective: EffectiveOptions,
                       keep_images: bool, contract: str = "jobs",
                       pdf_text: TextLayerPolicy | None = None) -> OCRPage:
        """One page of a job, run only when no synchronous request is in this process: a job yields
        to requests between its pages, so a long document never makes a request wait behind it."""
        while self.inflight > 0 or self.slots.locked():
            await asyncio.sleep(JOB_YIELD_S)
        await self.slots.acquire()  # free and uncontended here: never suspends
        try:
            doc = Document(source.kind, [])
            await self._page(pipeline, source, index, effective, keep_images, contract, doc, pdf_text,
                             run=self.run_job)  # a job page's steps stay in the job thread
            return doc.results[0]
        finally:
            self.slots.release()

    async def _page(self, pipeline: Pipeline, source: PageSource, index: int, effective: EffectiveOptions,
                    keep_images: bool, contract: str, doc: Document, pdf_text: TextLayerPolicy | None = None,
                    run: Callable[..., Awaitable[PageRead]] | None = None) -> None:
        """Read one page (its text layer or OCR: one call in the given threads, the requests' by default)."""
        started = time.perf_counter()
        request = PageRequest(source, index, effective, pdf_text or self.settings.pdf_text, keep_images)
        read = await (run or self.run)(read_page, pipeline, request)
        result, decoded = read.page, read.decode_seconds
        if not keep_images:
            result.image = None
        if source.kind == "pdf":
            result.page_index = index
        doc.results.append(result)
        doc.page_seconds.append(time.perf_counter() - started)
        for stage, seconds in {"decode": decoded, **result.timings}.items():
            doc.timings[stage] = doc.timings.get(stage, 0.0) + seconds
        if self.metrics is not None:
            self.metrics.observe_result(result, contract)
