"""ocrserve's own export endpoint (`POST /v1/export`): one file in, one document out in a chosen format.

The engine options are RapidOCR's form switches (as on `/upload`); the answer is the document
itself with its media type (text, Markdown, hOCR, ALTO XML, JSON or a searchable PDF), so a
client saves the body as it is.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from ..engine import OCROptions
from ..errors import BadInput
from ..export import FORMATS, get_format
from ..kinds import TextLayerPolicy
from . import rapidocr
from .base import Contract


def error_body(status: int, message: str, request_id: str) -> dict[str, Any]:
    return {"success": False, "error": message, "request_id": request_id}


CONTRACT = Contract(name="export", defaults=OCROptions(text_rec_score_thresh=0.5), returns_images=False,
                    error_body=error_body)


class ExportForm(rapidocr.Switches):
    """Form fields beside the `file` part."""

    format: str = Field(..., description="; ".join(f"{f.name}: {f.label}" for f in FORMATS.values()) + ".",
                        json_schema_extra={"enum": list(FORMATS)})
    use_doc_orientation_classify: bool | None = Field(
        None, description="Turn pages photographed or scanned at 90/180/270 degrees upright (default: "
        "OCR_USE_DOC_ORIENTATION_CLASSIFY, else on); `use_cls` is the text-line 0/180 switch.")
    pdf_text: TextLayerPolicy | None = Field(
        None, description="PDFs: `auto` reads a page's own text layer when it is usable and OCRs the rest, `ocr` "
        "OCRs every page, `text` only reads the layers (default: OCR_PDF_TEXT, else auto).")
    lang: str | None = Field(
        None, description="The document's language(s), comma-separated PaddleOCR or EasyOCR codes, as PaddleX's "
        "`lang` extension on `/ocr` (default: the model set alone).")

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        """A name of FORMATS (or an alias), as the registry spells it; the choices named otherwise."""
        try:
            return get_format(value).name
        except BadInput as exc:
            raise ValueError(str(exc)) from None


def to_options(form: ExportForm) -> OCROptions:
    """RapidOCR's switches, plus the document-orientation switch that the page (and PaddleX) have."""
    return rapidocr.to_options(form).merged(OCROptions(use_doc_orientation_classify=form.use_doc_orientation_classify))


def file_name(stem: str, fmt: str) -> str:
    return f"{stem or 'document'}{FORMATS[fmt].extension}"


class ErrorResponse(BaseModel):
    success: bool = False
    error: str
    request_id: str


def response_docs() -> dict[int | str, dict[str, Any]]:
    """OpenAPI: one 200 answer per media type, and the error body for every error status."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    text = {"schema": {"type": "string"}}
    content = {f.media_type.split(";")[0]: (binary if f.name == "pdf" else text) for f in FORMATS.values()}
    ok: dict[int | str, dict[str, Any]] = {200: {"description": "The document in the chosen format (Content-Disposition names the file).",
                "content": content}}
    return ok | {status: {"model": ErrorResponse} for status in (400, 403, 413, 415, 422, 429, 500, 503, 504)}
