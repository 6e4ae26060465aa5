"""Operations: GET / (RapidOCR's probe), /health (both worlds at once), /ready."""

from __future__ import annotations

import platform
from typing import Any

import onnxruntime as ort
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from .. import __version__
from .deps import service_of
from .languages import supported_languages
from .schemas import HealthResponse

router = APIRouter()
GPU_PROVIDERS = {"CUDAExecutionProvider", "TensorrtExecutionProvider", "ROCMExecutionProvider",
                 "DmlExecutionProvider", "OpenVINOExecutionProvider"}


@router.get("/", operation_id="root", summary="RapidOCR API's welcome probe")
async def root() -> dict[str, str]:
    return {"message": "Welcome to RapidOCR API Server!", "service": "ocrserve", "docs": "/docs"}


def health_body(request: Request) -> tuple[int, dict[str, Any]]:
    service = service_of(request)
    pipeline = service.pipeline
    ready = pipeline is not None
    status = "healthy" if ready else ("failed" if service.load_error else "loading")
    providers = pipeline.providers if ready else []
    return (200 if ready else 503), {
        "logId": request.state.request_id,
        "errorCode": 0 if ready else 503,
        "errorMsg": "Healthy" if ready else (service.load_error or "Loading models"),
        "status": status,
        "model": service.settings.model,
        "model_version": __version__,
        "gpu_support": bool(GPU_PROVIDERS & set(ort.get_available_providers())),
        "providers": providers,
        "environment": {"python": platform.python_version(), "onnxruntime": ort.__version__,
                        "platform": platform.platform(), "workers": service.settings.workers},
        "supported_languages": supported_languages(set(pipeline.charset)) if ready else [],
    }


@router.get("/health", operation_id="checkHealth", response_model=HealthResponse,
            responses={503: {"model": HealthResponse}}, summary="Liveness and engine state")
async def health(request: Request) -> JSONResponse:
    status, body = health_body(request)
    return JSONResponse(body, status_code=status)


@router.get("/ready", operation_id="checkReady", summary="Readiness: 200 once models are loaded and warm")
async def ready(request: Request) -> JSONResponse:
    service = service_of(request)
    if service.ready:
        return JSONResponse({"ready": True, "model": service.settings.model})
    return JSONResponse({"ready": False, "error": service.load_error}, status_code=503)


@router.get("/metrics", operation_id="metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    body = request.app.state.metrics.render()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
