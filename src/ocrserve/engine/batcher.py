"""Cross-request batching of recognition: crops from concurrent pages share model calls.

Page threads hand their crops to one batching thread and wait.  The batching thread takes
whatever has arrived within `max_wait` of the first crop, sorts all crops by aspect ratio
(so a batch pads to similar widths), cuts batches by padded cost (crops x widest width, not
by count alone), runs them and hands each page its own results.  While it recognises, page
threads keep detecting, so detection of one request overlaps recognition of another.

A failing batch is retried crop by crop, so one bad crop fails only the page it came from.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from ..errors import InferenceError, OCRServeError
from .recognize import Recognition, TextRecognizer

log = logging.getLogger("ocrserve.batcher")


@dataclass
class _Job:
    crops: Sequence[np.ndarray]
    future: Future = field(default_factory=Future)
    results: list[Recognition | None] = field(default_factory=list)
    error: BaseException | None = None
    pending: int = 0


class RecognitionBatcher:
    """Callable like TextRecognizer(crops, batch_size): same results, shared model calls."""

    def __init__(self, recognizer: TextRecognizer, max_batch: int = 16, max_wait_ms: float = 5.0,
                 max_batch_pixels: int = 16 * 48 * 1600) -> None:
        self.recognizer = recognizer
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.max_batch_pixels = max_batch_pixels  # padded cost budget: batch x 48 x widest width
        self.batch_sizes: list[int] = []  # recent batch sizes, read by metrics
        self._inbox: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="ocr-rec-batcher", daemon=True)
        self._thread.start()

    # --- caller side -------------------------------------------------------------------------
    def __call__(self, crops: Sequence[np.ndarray], batch_size: int | None = None) -> list[Recognition]:
        if not crops:
            return []
        job = _Job(crops, results=[None] * len(crops), pending=len(crops))
        self._inbox.put(job)
        return job.future.result()

    def close(self) -> None:
        self._inbox.put(None)
        self._thread.join(timeout=5)

    # --- batching thread ---------------------------------------------------------------------
    def _collect(self, first: _Job) -> tuple[list[_Job], bool]:
        jobs, crops, stop = [first], len(first.crops), False
        deadline = time.monotonic() + self.max_wait
        while crops < self.max_batch * 4:
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
            crops += len(job.crops)
        return jobs, stop

    def _batches(self, items: list[tuple[_Job, int]]) -> list[list[tuple[_Job, int]]]:
        """Width-sorted batches whose padded cost stays within the budget."""
        def ratio(item: tuple[_Job, int]) -> float:
            crop = item[0].crops[item[1]]
            return crop.shape[1] / crop.shape[0]

        ordered = sorted(items, key=ratio)
        batches: list[list[tuple[_Job, int]]] = []
        current: list[tuple[_Job, int]] = []
        for item in ordered:
            width = max(self.recognizer.min_ratio, ratio(item)) * self.recognizer.image_height
            cost = (len(current) + 1) * self.recognizer.image_height * width
            if current and (len(current) >= self.max_batch or cost > self.max_batch_pixels):
                batches.append(current)
                current = []
            current.append(item)
        if current:
            batches.append(current)
        return batches

    def _run(self, batch: list[tuple[_Job, int]]) -> None:
        try:
            recs = self.recognizer.run_batch([job.crops[i] for job, i in batch])
            outcomes: list[Recognition | BaseException] = list(recs)
        except OCRServeError:
            outcomes = []
            for job, i in batch:  # isolate the crop that fails
                try:
                    outcomes.append(self.recognizer.run_batch([job.crops[i]])[0])
                except OCRServeError as exc:
                    outcomes.append(exc)
        for (job, i), outcome in zip(batch, outcomes):
            if isinstance(outcome, BaseException):
                job.error = job.error or outcome
            else:
                job.results[i] = outcome
            job.pending -= 1
            if job.pending == 0:
                if job.error is not None:
                    job.future.set_exception(job.error)
                else:
                    job.future.set_result(job.results)

    def _loop(self) -> None:
        while True:
            first = self._inbox.get()
            if first is None:
                return
            jobs, stop = self._collect(first)
            try:
                items = [(job, i) for job in jobs for i in range(len(job.crops))]
                for batch in self._batches(items):
                    self._run(batch)
                    self.batch_sizes.append(len(batch))
                del self.batch_sizes[:-1000]
            except Exception as exc:  # never leave a caller waiting on a dead thread
                log.exception("recognition batch failed")
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(InferenceError("rec", f"{type(exc).__name__}: {exc}"))
            if stop:
                return
