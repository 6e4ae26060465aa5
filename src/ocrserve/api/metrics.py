"""Prometheus metrics: requests by route and status, latencies, stage times, pages, in-flight work.

One registry per app instance (tests build many apps in one process); route labels use the
route template, never the raw path, so label cardinality stays bounded.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from ..result import OCRResult

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("ocrserve_requests_total", "HTTP requests by route and status",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("ocrserve_request_duration_seconds", "HTTP request latency",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.inflight = Gauge("ocrserve_inflight_requests", "Requests being served now", registry=r)
        self.stages = Histogram("ocrserve_stage_duration_seconds", "Engine time per stage and page",
                                ["stage"], buckets=LATENCY_BUCKETS, registry=r)
        self.pages = Counter("ocrserve_pages_total", "Pages (images or PDF pages) processed", registry=r)
        self.lines = Counter("ocrserve_text_lines_total", "Text lines returned", registry=r)

    def observe_result(self, result: OCRResult) -> None:
        self.pages.inc()
        self.lines.inc(len(result.lines))
        for stage, seconds in result.timings.items():
            self.stages.labels(stage).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every HTTP request once, labelled by its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_and_record(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.inflight.inc()
        try:
            await self.app(scope, receive, send_and_record)
        finally:
            self.metrics.inflight.dec()
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
