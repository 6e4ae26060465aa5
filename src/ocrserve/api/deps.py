"""Small request helpers shared by the route modules."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from ..errors import BadInput
from .service import OCRService

M = TypeVar("M", bound=BaseModel)


def service_of(request: Request) -> OCRService:
    return request.app.state.service


async def json_body(request: Request) -> Any:
    """The body as JSON, or a 400 that says what is wrong with it."""
    raw = await request.body()
    if not raw.strip():
        raise BadInput("the request body is empty; send a JSON object")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"the request body is not valid JSON: {exc}") from exc


def parse(model: type[M], data: Any) -> M:
    """Validate into a schema model; failures become FastAPI's 422 in the contract's shape."""
    if not isinstance(data, dict):
        raise BadInput("the request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
