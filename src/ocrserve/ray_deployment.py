"""Ray Serve: the same HTTP service spread over a Ray cluster (extra `ocrserve[ray]`).

Two deployments make one application:

- `OCRIngress` serves the FastAPI app of `ocrserve.api.app.create_app`, unchanged: the same
  routes, schemas, auth, quotas, limits and error shapes as `ocrserve serve`.  Its engine decodes
  and runs document orientation, detection and text-line orientation in the replica; only
  recognition leaves it.
- `OCRRecognition` holds the recognition model.  `@serve.batch` gathers the crop lists of pages
  from many requests (and many ingress replicas); `recognize_together` merges their chunks where
  that is exact, so readings equal the single-process service's, and a chunk that fails fails
  only the page it came from (its error travels back as a value, never as the batch's exception).

Jobs of `OCR_MODEL` go through the same deployment: each ingress replica builds its jobs' engine
with the same remote recognition, in its low-priority job thread, so a job page's detection still
yields to requests in the replica and its crops join the requests' batches.  A job of another
model set is read wholly in the ingress replica (the deployment holds `OCR_MODEL` only).

Replica counts, autoscaling and CPUs/GPUs per replica come from the settings (`OCR_RAY_*`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import ray
from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

from . import errors
from .api.app import create_app
from .engine import Pipeline, build_pipeline
from .engine.batcher import Outcome, recognize_together
from .engine.builder import load_recognizer
from .engine.config import runtime_config
from .engine.recognize import Recognition
from .errors import InferenceError
from .memory import set_mmap_threshold
from .models.resolve import resolve_models
from .service.metrics import Metrics
from .service.ocr_service import PipelineFactory
from .settings import Settings

log = logging.getLogger("ocrserve.ray_deployment")

APP_NAME = "ocrserve"
INGRESS = "OCRIngress"
RECOGNITION = "OCRRecognition"


@dataclass(frozen=True)
class RemoteFailure:
    """A page's recognition error as it crosses process boundaries: the error type's name and
    its message, rebuilt on the ingress side as the same typed error (so the same HTTP status)."""

    kind: str
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> RemoteFailure:
        return cls(type(exc).__name__, str(exc))

    def to_exception(self) -> errors.OCRServeError:
        error_type = getattr(errors, self.kind, None)
        if isinstance(error_type, type) and issubclass(error_type, errors.OCRServeError) \
                and error_type is not InferenceError:
            try:
                return error_type(self.message)
            except TypeError:  # a type whose constructor wants more than a message
                pass
        return InferenceError("rec", self.message)


WireOutcome = list[Recognition] | RemoteFailure


def to_wire(outcome: Outcome) -> WireOutcome:
    return RemoteFailure.of(outcome) if isinstance(outcome, BaseException) else outcome


class RecognitionService:
    """The recognition model of one replica, and the batched call the ingress replicas make."""

    def __init__(self, settings: Settings) -> None:
        set_mmap_threshold(settings.malloc_mmap_threshold)
        self.recognizer = load_recognizer(resolve_models(settings), runtime_config(settings),
                                          max_call_columns=settings.rec_batch_max_columns,
                                          padding=settings.rec_padding, min_width=settings.rec_min_width)
        self.batch_size = settings.rec_batch_size
        self.call_sizes: list[int] = []
        blank = np.full((48, 192, 3), 255, dtype=np.uint8)
        blank[12:36, 12:180] = 0
        self.recognizer([blank], 1)  # warm: the first real batch is not the slow one

    def charset(self) -> list[str]:
        return list(self.recognizer.decode.charset)

    def recognize_pages(self, pages: Sequence[Sequence[np.ndarray]]) -> list[WireOutcome]:
        outcomes = recognize_together(self.recognizer, pages, self.batch_size, call_sizes=self.call_sizes)
        del self.call_sizes[:-1000]
        return [to_wire(o) for o in outcomes]


@serve.deployment(name=RECOGNITION)
class RecognitionDeployment:
    """One replica: a RecognitionService behind `@serve.batch`."""

    def __init__(self, settings: Settings) -> None:
        self.service = RecognitionService(settings)
        # @serve.batch gives the method these setters; Ray's annotations keep the plain signature
        self.recognize.set_max_batch_size(settings.ray_rec_max_pages)  # type: ignore[attr-defined]
        self.recognize.set_batch_wait_timeout_s(settings.rec_batch_wait_ms / 1000.0)  # type: ignore[attr-defined]

    def charset(self) -> list[str]:
        return self.service.charset()

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.005)
    async def recognize(self, pages: list[list[np.ndarray]]) -> list[WireOutcome]:
        # off the replica's event loop, so the next batch keeps gathering while this one runs
        return await asyncio.to_thread(self.service.recognize_pages, pages)


class RayRecognition:
    """Recognition through the deployment handle; called from the ingress engine's threads (the
    requests' and the job thread).  `on_read(crops)` is told of each call the deployment answered."""

    def __init__(self, handle: DeploymentHandle[Any], on_read: Callable[[int], None] | None = None) -> None:
        self.handle = handle
        self.on_read = on_read
        self._charset: list[str] | None = None

    @property
    def charset(self) -> list[str]:
        if self._charset is None:
            self._charset = self.handle.charset.remote().result()
        return self._charset

    def __call__(self, crops: Sequence[np.ndarray], batch_size: int) -> list[Recognition]:
        if not crops:
            return []
        outcome = self.handle.recognize.remote([np.ascontiguousarray(c) for c in crops]).result()
        if isinstance(outcome, RemoteFailure):
            raise outcome.to_exception()
        if self.on_read is not None:
            self.on_read(len(crops))
        recognitions: list[Recognition] = outcome
        return recognitions


def ray_pipeline_factory(recognition_handle: Callable[[], DeploymentHandle[Any]]) -> PipelineFactory:
    def build(settings: Settings, metrics: Metrics | None = None) -> Pipeline:
        # recognition batches run in the OCRRecognition replicas: this ingress counts the crops it sent
        on_read = metrics.remote_rec_crops.inc if metrics is not None else None
        return build_pipeline(settings, remote_recognition=RayRecognition(recognition_handle(), on_read))
    return build


def _current_recognition_handle() -> DeploymentHandle[Any]:
    """The recognition deployment of the application this replica belongs to (whatever it was named)."""
    return serve.get_deployment_handle(RECOGNITION, app_name=serve.get_replica_context().app_name)


def _ingress_app(settings: Settings) -> Callable[[], FastAPI]:
    def build() -> FastAPI:  # evaluated in each ingress replica
        factory = ray_pipeline_factory(_current_recognition_handle)
        # jobs too, so a job page's crops are read by the same deployment as a request's; Ray's proxies
        # send requests to a replica once its start is done, so a loading one must not end it early
        # (a proxy prefers its own node's replica, and would answer 503 there while another is ready)
        return create_app(settings, pipeline_factory=factory, job_pipeline_factory=factory,
                          load_before_serving=True)
    return build


def ingress_actor_options(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What Ray reserves for each ingress replica, and what it carries from this process's environment.

    Custom resources only when set, since a replica asking for one can only run on a node that offers
    it.  The variables of `OCR_RAY_FORWARD_ENV` set here (the S3 store's endpoint and keys) go in the
    replica's runtime environment, so a replica on any node reaches the same store as this process.
    """
    environ = os.environ if environ is None else environ
    options: dict[str, Any] = {"num_cpus": settings.ray_ingress_cpus, "num_gpus": settings.ray_ingress_gpus}
    if settings.ray_ingress_resources:
        options["resources"] = dict(settings.ray_ingress_resources)
    forwarded = {name: environ[name] for name in settings.ray_forward_env if name in environ}
    if forwarded:
        options["runtime_env"] = {"env_vars": forwarded}
        log.info("ingress replicas carry %s from this process's environment", ", ".join(sorted(forwarded)))
    return options


def build_app(settings: Settings) -> serve.Application:
    """The Ray Serve application: ingress and recognition, sized from the settings."""
    rec_options: dict[str, Any] = {
        "ray_actor_options": {"num_cpus": settings.ray_rec_cpus, "num_gpus": settings.ray_rec_gpus},
        "max_ongoing_requests": settings.ray_rec_max_pages * 4,
    }
    if settings.ray_rec_max_replicas > settings.ray_rec_replicas:
        rec_options["autoscaling_config"] = {
            "min_replicas": settings.ray_rec_replicas, "max_replicas": settings.ray_rec_max_replicas,
            "target_ongoing_requests": settings.ray_rec_max_pages,
        }
    else:
        rec_options["num_replicas"] = settings.ray_rec_replicas
    # @serve.deployment makes the class a Deployment; Ray's annotations keep the class
    recognition = RecognitionDeployment.options(**rec_options).bind(settings)  # type: ignore[attr-defined]

    @serve.deployment(name=INGRESS)
    @serve.ingress(_ingress_app(settings))
    class Ingress:
        def __init__(self, recognition: DeploymentHandle[Any]) -> None:
            self.recognition = recognition  # bound so that the application deploys it

    app: serve.Application = Ingress.options(  # type: ignore[attr-defined]
        num_replicas=settings.ray_ingress_replicas,
        ray_actor_options=ingress_actor_options(settings),
        # the app's own admission control (OCR_MAX_QUEUE -> 503) decides, not Ray's proxy queue
        max_ongoing_requests=settings.max_queue,
    ).bind(recognition)
    return app


def serve_on_ray(settings: Settings, host: str, port: int) -> None:
    """`ocrserve serve --ray`: join (OCR_RAY_ADDRESS / RAY_ADDRESS) or start a Ray instance, deploy,
    and serve on host:port until SIGTERM/SIGINT, then remove the application and exit."""
    init: dict[str, Any] = {"address": settings.ray_address, "include_dashboard": False,
                            "namespace": APP_NAME, "log_to_driver": True}
    if settings.ray_address is None and not ray.is_initialized():
        init["_node_ip_address"] = "127.0.0.1" if host in ("127.0.0.1", "localhost") else None
        init["object_store_memory"] = settings.ray_object_store_memory
    ray.init(**{k: v for k, v in init.items() if v is not None})
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # after ray.init, which installs its own
        signal.signal(sig, lambda *_: stop.set())
    try:
        serve.start(http_options={"host": host, "port": port})
        serve.run(build_app(settings), name=APP_NAME, route_prefix="/", blocking=False)
        log.info("ocrserve on Ray Serve at http://%s:%d (ingress x%d, recognition x%d)", host, port,
                 settings.ray_ingress_replicas, settings.ray_rec_replicas)
        stop.wait()
        log.info("stopping: removing the application")
        serve.delete(APP_NAME)
        serve.shutdown()  # type: ignore[no-untyped-call]
    finally:
        ray.shutdown()
