"""Prometheus metrics: requests by route and status, latencies, queue, batches, stage times, pages.

One registry per app instance (tests build many apps in one process); route labels use the
route template, never the raw path, so label cardinality stays bounded.  Under several workers
(PROMETHEUS_MULTIPROC_DIR set by the supervisor, see ocrserve.metrics_dir) every worker writes
its samples to that directory and /metrics answers the sum: counters and histograms over every
worker that ever ran, gauges over the live ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector

from ..result import OCRPage

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
BATCH_BUCKETS = (1, 2, 4, 6, 8, 12, 16, 24, 32, 64, 128)
WIDTH_BUCKETS = (80, 160, 320, 480, 640, 960, 1280, 1920, 2560, 3840)
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
GAUGE_REFRESH_S = 0.5  # how stale another worker's queue depth may be in a scrape


def multiprocess() -> bool:
    """Whether prometheus_client chose file-backed values (it decides once, when first imported)."""
    return values.ValueClass is not values.MutexValue


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess = multiprocess()
        self._exposed = CollectorRegistry() if self.multiprocess else self.registry
        if self.multiprocess:
            MultiProcessCollector(self._exposed)  # type: ignore[no-untyped-call]
        self._depth_source: Callable[[], int] | None = None
        r = self.registry
        self.requests = Counter("ocrserve_requests_total", "HTTP requests by route and status",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("ocrserve_request_duration_seconds", "HTTP request latency",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.inflight = Gauge("ocrserve_inflight_requests", "Requests being served now", registry=r,
                              multiprocess_mode="livesum")
        self.stages = Histogram("ocrserve_stage_duration_seconds", "Engine time per stage and page",
                                ["stage"], buckets=LATENCY_BUCKETS, registry=r)
        self.pages = Counter("ocrserve_pages_total", "Pages (images or PDF pages) processed, by contract",
                             ["contract"], registry=r)
        self.lines = Counter("ocrserve_text_lines_total", "Text lines returned", registry=r)
        self.queue_depth = Gauge("ocrserve_queue_depth", "Admitted requests waiting for an inference slot",
                                 registry=r, multiprocess_mode="livesum")
        self.slot_wait = Histogram("ocrserve_queue_wait_seconds", "Time a request waited for an inference slot",
                                   buckets=LATENCY_BUCKETS, registry=r)
        self.batch_crops = Histogram("ocrserve_rec_batch_crops", "Text-line crops per recognition batch",
                                     buckets=BATCH_BUCKETS, registry=r)
        self.batch_width = Histogram("ocrserve_rec_batch_padded_width", "Padded width (px) of each recognition batch",
                                     buckets=WIDTH_BUCKETS, registry=r)
        self.remote_rec_crops = Counter("ocrserve_rec_remote_crops",
                                        "Text-line crops read for this process by a recognition deployment (Ray Serve)",
                                        registry=r)
        self.job_store = Histogram("ocrserve_job_store_seconds",
                                   "Job store calls of each page a job reads, by call: renew (the lease), write "
                                   "(the page's result, parts and images) and progress (its record in the index)",
                                   ["call"], buckets=STORE_BUCKETS, registry=r)

    def observe_result(self, result: OCRPage, contract: str) -> None:
        self.pages.labels(contract).inc()
        self.lines.inc(len(result.lines))
        for stage, seconds in result.timings.items():
            self.stages.labels(stage).observe(seconds)

    def observe_batch(self, crops: int, padded_width: int) -> None:
        """The engine's recognition-batch observer: called once per batch actually run."""
        self.batch_crops.observe(crops)
        self.batch_width.observe(padded_width)

    def track_queue_depth(self, source: Callable[[], int]) -> None:
        """Report `source()` as the queue depth: read at scrape time in one process; with several,
        where a scrape cannot call into other workers, each worker writes it every GAUGE_REFRESH_S."""
        if not self.multiprocess:
            self.queue_depth.set_function(source)
            return
        self._depth_source = source
        threading.Thread(target=self._refresh_depth, name="metrics-queue-depth", daemon=True).start()

    def _refresh_depth(self) -> None:
        source = self._depth_source
        while source is not None:
            self.queue_depth.set(source())
            time.sleep(GAUGE_REFRESH_S)

    def render(self) -> bytes:
        if self._depth_source is not None:
            self.queue_depth.set(self._depth_source())  # this worker's own value is never stale
        return generate_latest(self._exposed)
