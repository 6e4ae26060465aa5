"""Recognition on one shared thread, with chunks of concurrent pages merged where that is exact.

Page threads hand their crops to one recognition thread and wait; while it recognises, they
keep detecting, so detection of one request overlaps recognition of another and the two never
fight over the same cores twice.  Each page's crops are planned into chunks exactly as the
single-request path does (sorted by aspect ratio, padded to the chunk's widest crop); chunks
of different requests that arrived within `max_wait` and share a padded width run in one
model call (within a count and padded-pixel budget).  Chunks are never re-padded, because the
recognisers' readings depend on the padding: results are identical to the single-request path.

A failing call is retried chunk by chunk, so a bad input fails only the page it came from.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from ..errors import InferenceError
from .recognize import Recognition, TextRecognizer

log = logging.getLogger("ocrserve.batcher")


Outcome = list[Recognition] | BaseException  # a request's recognitions, or the error of its own failing chunk


@dataclass
class _Job:
    crops: Sequence[np.ndarray]
    results: list[Recognition | None]
    on_done: Callable[[Outcome], None] | None = None
    error: BaseException | None = None
    pending_chunks: int = 0
    reported: bool = False

    def outcome(self) -> Outcome:
        return self.error if self.error is not None else self.results  # type: ignore[return-value]

    def report(self) -> None:
        """Hand the outcome over as soon as it is final, not when the whole batch round ends."""
        if not self.reported and self.on_done is not None:
            self.on_done(self.outcome())
        self.reported = True

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.report()

    def chunk_done(self) -> None:
        self.pending_chunks -= 1
        if self.pending_chunks == 0:
            self.report()


@dataclass(frozen=True)
class _Chunk:
    job: _Job
    members: list[int]
    width: int


def _groups(recognizer: TextRecognizer, jobs: list[_Job], batch_size: int, max_batch: int,
            max_batch_pixels: int) -> list[list[_Chunk]]:
    """Chunks of equal padded width merged, within the count and pixel budgets."""
    by_width: dict[int, list[_Chunk]] = {}
    for job in jobs:
        plan = recognizer.plan(job.crops, batch_size)
        job.pending_chunks = len(plan)
        for members, width in plan:
            by_width.setdefault(width, []).append(_Chunk(job, members, width))
    groups: list[list[_Chunk]] = []
    for width in sorted(by_width):
        current: list[_Chunk] = []
        for chunk in by_width[width]:
            size = sum(len(c.members) for c in current) + len(chunk.members)
            if current and (size > max_batch or size * width > max_batch_pixels):
                groups.append(current)
                current = []
            current.append(chunk)
        groups.append(current)
    return groups


def _run(recognizer: TextRecognizer, groups: list[list[_Chunk]], call_sizes: list[int] | None) -> None:
    """Every group in one go (the recogniser spreads the calls over its workers), then the bookkeeping here."""
    live = [g for g in ([c for c in group if c.job.error is None] for group in groups) if g]
    outcomes = recognizer.run_calls([([c.job.crops[i] for c in group for i in c.members], group[0].width)
                                     for group in live])
    for group, outcome in zip(live, outcomes):
        if isinstance(outcome, BaseException):
            if len(group) == 1:
                group[0].job.fail(outcome)
            else:  # find the chunk that fails; the others still get their text
                _run(recognizer, [[chunk] for chunk in group], call_sizes)
            continue
        if call_sizes is not None:
            call_sizes.append(len(outcome))
        it = iter(outcome)
        for chunk in group:
            for i in chunk.members:
                chunk.job.results[i] = next(it)
            chunk.job.chunk_done()


def recognize_together(recognizer: TextRecognizer, requests: Sequence[Sequence[np.ndarray]], batch_size: int,
                       max_batch: int = 24, max_batch_pixels: int | None = None,
                       call_sizes: list[int] | None = None,
                       on_done: Sequence[Callable[[Outcome], None]] | None = None) -> list[Outcome]:
    """The crops of several requests, recognised with their chunks merged where that is exact.

    One entry per request, in order: its recognitions, or the typed error of the chunk of its
    own that failed (an exception value, never raised: batch-mates are not failed with it).
    `on_done[i]`, when given, receives request i's outcome as soon as it is final.
    Shared by the in-process batcher thread and the Ray Serve recognition deployment.
    """
    if max_batch_pixels is None:  # merge no further than the recogniser runs in one call
        max_batch_pixels = recognizer.max_call_columns
    callbacks = list(on_done) if on_done is not None else [None] * len(requests)
    jobs = [_Job(crops, [None] * len(crops), callback) for crops, callback in zip(requests, callbacks)]
    _run(recognizer, _groups(recognizer, jobs, batch_size, max_batch, max_batch_pixels), call_sizes)
    for job in jobs:
        job.report()  # requests without crops, or any not yet handed over
    return [job.outcome() for job in jobs]


@dataclass
class _Pending:
    crops: Sequence[np.ndarray]
    future: Future[list[Recognition]] = field(default_factory=Future)

    def settle(self, outcome: Outcome) -> None:
        if self.future.done():
            return
        if isinstance(outcome, BaseException):
            self.future.set_exception(outcome)
        else:
            self.future.set_result(outcome)


class RecognitionBatcher:
    """Callable like TextRecognizer(crops, batch_size), with the same results."""

    def __init__(self, recognizer: TextRecognizer, batch_size: int = 6, max_wait_ms: float = 5.0,
                 max_batch: int = 24, max_batch_pixels: int | None = None) -> None:
        self.recognizer = recognizer
        self.batch_size = batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.max_batch = max_batch
        # padded cost budget, crops x padded width: by default what the recogniser runs in one call
        self.max_batch_pixels = recognizer.max_call_columns if max_batch_pixels is None else max_batch_pixels
        self.batch_sizes: list[int] = []  # recent merged batches' sizes (one past the budget: several calls)
        self._inbox: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()  # orders "job queued" before "closed", so none is stranded
        self._thread = threading.Thread(target=self._loop, name="ocr-rec", daemon=True)
        self._thread.start()

    # --- caller side -------------------------------------------------------------------------
    def __call__(self, crops: Sequence[np.ndarray], batch_size: int | None = None) -> list[Recognition]:
        if not crops:
            return []
        job = _Pending(crops)
        with self._lock:
            closed = self._closed
            if not closed:
                self._inbox.put(job)
        if closed:  # a page still running during shutdown finishes on its own thread
            return self.recognizer(crops, self.batch_size)
        return job.future.result()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._inbox.put(None)
        self._thread.join(timeout=5)

    # --- recognition thread ------------------------------------------------------------------
    def _collect(self, first: _Pending) -> tuple[list[_Pending], bool]:
        jobs, stop = [first], False
        deadline = time.monotonic() + self.max_wait
        while sum(len(j.crops) for j in jobs) < self.max_batch * 4:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                job = self._inbox.get(timeout=remaining)
            except queue.Empty:
                break
            if job is None:
                stop = True
                break
            jobs.append(job)
        return jobs, stop

    def _loop(self) -> None:
        while True:
            first = self._inbox.get()
            if first is None:
                return
            jobs, stop = self._collect(first)
            try:
                recognize_together(self.recognizer, [j.crops for j in jobs], self.batch_size, self.max_batch,
                                   self.max_batch_pixels, self.batch_sizes, [j.settle for j in jobs])
                del self.batch_sizes[:-1000]
            except Exception as exc:  # never leave a caller waiting on a dead thread
                log.exception("recognition failed")
                for job in jobs:
                    job.settle(InferenceError("rec", f"{type(exc).__name__}: {exc}"))
            if stop:
                return
