"""Operations: /health (both worlds at once), /ready, /live and /metrics."""

from __future__ import annotations

import os
import platform
from typing import Any

import onnxruntime as ort
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..contracts import seed
from ..engine.precision import STAGES
from ..engine.runtime import RuntimeConfig
from ..jobs.models import runnable_models
from ..version import __version__
from .deps import ProperJSONResponse as JSONResponse
from .deps import respond, service_of

router = APIRouter()
GPU_PROVIDERS = {"CUDAExecutionProvider", "TensorrtExecutionProvider", "ROCMExecutionProvider",
                 "DmlExecutionProvider", "OpenVINOExecutionProvider"}


def health(request: Request) -> seed.HealthResponse:
    service = service_of(request)
    pipeline = service.pipeline
    ready = pipeline is not None
    model = pipeline.model_name if pipeline is not None else service.settings.model
    offered = service.languages.offered(pipeline.characters) if pipeline is not None else None
    return seed.HealthResponse(
        logId=request.state.request_id,
        errorCode=0 if ready else 503,
        errorMsg="Healthy" if ready else (service.not_ready_reason or "Loading models"),
        status="healthy" if ready else ("failed" if service.load_error else "loading"),
        model=model,
        model_version=seed.model_version(model),
        gpu_support=bool(GPU_PROVIDERS & set(ort.get_available_providers())),
        providers=pipeline.providers if pipeline is not None else [],
        environment=service.settings.environment,
        supported_languages=offered.readable if offered is not None else [],
        fetchable_languages=offered.fetchable if offered is not None else [],
        version=__version__,
        runtime={"python": platform.python_version(), "onnxruntime": ort.__version__,
                 "platform": platform.platform(), "workers": service.settings.workers},
        inference=inference_of(pipeline.config.runtime) if pipeline is not None else {},
        workers=service.settings.workers,  # the supervisor exports its real count to each worker
        worker_id=os.getpid(),
        memory=service.memory(),
        apiModels=runnable_models(service.settings),
    )


def inference_of(runtime: RuntimeConfig) -> dict[str, Any]:
    """Each stage's backend and precision, and why (engine/precision.py)."""
    return {"stages": {s: {"backend": runtime.backend_of(s), "precision": runtime.precision_of(s)} for s in STAGES},
            "reason": runtime.backend_reason}


@router.get("/health", operation_id="checkHealth", response_model=seed.HealthResponse,
            responses={503: {"model": seed.HealthResponse}}, summary="Engine state: 200 once loaded and answering")
async def check_health(request: Request) -> Response:
    body = health(request)
    return await respond(body, status=200 if body.errorCode == 0 else 503)


@router.get("/ready", operation_id="checkReady", summary="Readiness: 200 once models are loaded and warm")
async def ready(request: Request) -> JSONResponse:
    service = service_of(request)
    if service.ready:
        return JSONResponse({"ready": True, "model": service.settings.model})
    return JSONResponse({"ready": False, "error": service.not_ready_reason}, status_code=503)


@router.get("/live", operation_id="checkLive", summary="Liveness: 200 while the process serves HTTP")
async def live() -> JSONResponse:
    return JSONResponse({"live": True})


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    body = request.app.state.metrics.render()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
