"""What every contract declares, and the helpers their converters share."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict

from ..engine import OCROptions
from ..settings import Settings

ErrorBody = Callable[[int, str, str], dict[str, Any]]


@dataclass(frozen=True)
class Contract:
    """A client family: its name (metrics label, error shape), the original's defaults, its error body.

    `defaults` sit below the operator's `OCR_*` settings and above the model set's constants
    (request > setting > contract default); `returns_images` is whether the original sends
    result images when neither the request nor `OCR_VISUALIZE` says.
    """

    name: str
    defaults: OCROptions
    returns_images: bool
    error_body: ErrorBody

    def visualize(self, requested: bool | None, settings: Settings) -> bool:
        if requested is not None:
            return requested
        if settings.visualize is not None:
            return settings.visualize
        return self.returns_images


class Lenient(BaseModel):
    """Peers ignore unknown fields; so do we (a client sending extra keys keeps working)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def language_codes(value: str | Sequence[str] | None) -> list[str]:
    """A request's language field as a list of codes: a list, or one string listing them comma-separated."""
    codes = value.split(",") if isinstance(value, str) else list(value or [])
    return [code.strip() for code in codes if code.strip()]


def int_points(polygon: Sequence[Sequence[float]]) -> list[list[int]]:
    """PaddleX's integer points (rounded, not truncated)."""
    return [[int(round(x)), int(round(y))] for x, y in polygon]


def float_points(polygon: Sequence[Sequence[float]]) -> list[list[float]]:
    return [[float(x), float(y)] for x, y in polygon]


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with nested models written in place, for a route whose body the
    handler reads itself (one path, several content types); no component needs registering."""
    schema = model.model_json_schema(ref_template="#/$defs/{model}")
    defs = schema.pop("$defs", {})

    def expand(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return expand(defs[ref.removeprefix("#/$defs/")])
            return {k: expand(v) for k, v in node.items()}
        if isinstance(node, list):
            return [expand(v) for v in node]
        return node

    expanded: dict[str, Any] = expand(schema)
    return expanded


def request_body(content: dict[str, tuple[dict[str, Any], dict[str, Any] | None]]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its own body: per media type, the schema and the
    example /docs pre-fills (Swagger UI would otherwise invent values, e.g. a 1.0 threshold)."""
    media = {}
    for media_type, (schema, example) in content.items():
        media[media_type] = {"schema": schema} | ({"example": example} if example is not None else {})
    return {"requestBody": {"required": True, "content": media}}


def _example_png() -> str:
    """A small printed page, base64 PNG: the pre-filled value of every /docs "Try it out" image field."""
    page = np.full((150, 560), 255, dtype=np.uint8)  # grey: a third of the bytes in every schema
    for row, text in enumerate(("Invoice 2026-0042", "Total: 128.50 EUR")):
        cv2.putText(page, text, (24, 58 + 60 * row), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2, cv2.LINE_AA)
    ok, png = cv2.imencode(".png", page)
    return base64.b64encode(png.tobytes()).decode("ascii")


EXAMPLE_IMAGE_B64 = _example_png()
