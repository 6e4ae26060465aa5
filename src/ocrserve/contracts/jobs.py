"""PaddleOCR's official async job API (`/api/v2/ocr/jobs`), as `paddleocr==3.7.0`'s client reads it.

Every answer is the envelope `{code, msg, data}` (`code` 0 on success); errors carry a non-zero
`code` and their message in `msg`, which the client quotes in its exception.  `optionalPayload`
takes the PaddleX `/ocr` options, with PaddleX's defaults (every line returned; result images
unless `visualize: false` or `OCR_VISUALIZE`).  A result is a JSONL file, one line per page:
`{"result": {"ocrResults": [PaddleX page], "dataInfo": {...}}}`, its images as signed links.
`optionalPayload.outputFormats` (an extension) adds the document as other files, each a signed link
in `resultUrl` beside `jsonUrl`; the client reads `jsonUrl` and ignores the other keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError, create_model, field_validator

from ..engine import OCROptions
from ..export import ALIASES, FORMATS
from ..result import OCRPage
from . import structure
from .base import Contract, Lenient
from .paddlex import OCRRequest, PageResult, PrunedResult
from .paddlex import to_options as paddlex_options

#: where the job API lives: PaddleOCR's official client posts here
PATH = "/api/v2/ocr/jobs"
#: the job API's model name for document parsing (PaddleX's PP-StructureV3 pipeline; /layout-parsing's)
DOCUMENT_PARSING_MODEL = "PP-StructureV3"
#: what the client accepts as a job's state; a cancelled job is reported as failed, with why
State = Literal["pending", "running", "done", "failed"]


def error_body(status: int, message: str, request_id: str) -> dict[str, Any]:
    return {"code": status, "msg": message, "data": None, "logId": request_id}


CONTRACT = Contract(name="jobs", defaults=OCROptions(text_rec_score_thresh=0.0), returns_images=True,
                    error_body=error_body)
#: `outputFormats` names -> the `resultUrl` key of their link (json is the JSONL, always linked)
OUTPUT_FORMATS = {f.name: f.link_key for f in FORMATS.values()}


# --- requests ------------------------------------------------------------------------------
class OptionalPayload(OCRRequest):
    """`optionalPayload`: the PaddleX `/ocr` options (the file comes separately)."""

    file: str | None = Field(None, exclude=True)  # type: ignore[assignment]  # the file comes separately
    outputFormats: list[str] | None = Field(
        None, description="Extension: files to build beside the JSONL, each linked in resultUrl: "
        + ", ".join(f"{f.name} ({f.label}, {f.link_key})" for f in FORMATS.values()) + ".",
        examples=[["pdf", "md"]])

    @field_validator("outputFormats", mode="before")
    @classmethod
    def _format_names(cls, value: Any) -> Any:
        """Names as given (a list, or one comma-separated string), case and aliases aside; each once."""
        if value is None:
            return None
        names = value.split(",") if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError("a list of format names")
        accepted = ", ".join(OUTPUT_FORMATS)
        out: list[str] = []
        for name in names:
            key = ALIASES.get(name.strip().lower(), name.strip().lower())
            if key not in OUTPUT_FORMATS:
                raise ValueError(f"unknown format {name!r}; accepted: {accepted}")
            if key not in out:
                out.append(key)
        return out


class LayoutOptionalPayload(structure.LayoutParsingRequest):
    """`optionalPayload` of a PP-StructureV3 job: /layout-parsing's options (the file comes separately)."""

    file: str | None = Field(None, exclude=True)  # type: ignore[assignment]  # the file comes separately


class SubmitURL(Lenient):
    """A JSON submission: the document by URL (fetched through the same guard as URL inputs)."""

    fileUrl: str = Field(..., description="http(s) URL of a PDF or image.")
    model: str = Field("PP-OCRv6", description="PP-OCRv5, PP-OCRv5-latin or PP-OCRv6 (OCR_JOB_MODELS maps them to "
                       "model sets), or PP-StructureV3.")
    optionalPayload: dict[str, Any] | None = Field(None, description="PaddleX /ocr options.")
    pageRanges: str | None = Field(None, description='1-based pages to read, e.g. "2-3,5".', examples=["1-3"])
    batchId: str | None = Field(None, max_length=128, description="Groups jobs for the batch status query.")
    callbackUrl: str | None = Field(None, description="Extension: receives a POST of the final status, signed.")


class SubmitForm(Lenient):
    """A multipart submission's text fields (the document is its `file` part)."""

    model: str = "PP-OCRv6"
    optionalPayload: str | None = Field(None, description="PaddleX /ocr options as a JSON object string.")
    pageRanges: str | None = None
    batchId: str | None = Field(None, max_length=128)
    callbackUrl: str | None = None


def validation_message(exc: ValidationError) -> str:
    """A request model's failures in one line, for the 400 the client expects (not a 422)."""
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())


def to_options(payload: OptionalPayload) -> OCROptions:
    return paddlex_options(payload)  # an OCRRequest whose file comes separately


# --- responses -----------------------------------------------------------------------------
class Progress(BaseModel):
    totalPages: int
    extractedPages: int
    startTime: str | None = Field(None, description="ISO 8601 UTC; when a worker started the job.")
    endTime: str | None = Field(None, description="ISO 8601 UTC; when the job ended.")


def _result_url_fields() -> dict[str, Any]:
    """`resultUrl`: the JSONL's link, which every job has, and one link per format the job was asked for."""
    fields: dict[str, Any] = {
        "jsonUrl": (str, Field(..., description="Signed link to the JSONL result; no token needed, expires with "
                                                "the job."))}
    fields.update({f.link_key: (str | None, Field(None, description=f"Extension (outputFormats {f.name}): {f.label}, "
                                                  "signed as jsonUrl.")) for f in FORMATS.values() if f.name != "json"})
    return fields


if TYPE_CHECKING:
    class ResultUrl(BaseModel):  # what a type checker sees; at run time its fields come from FORMATS
        jsonUrl: str
else:
    ResultUrl = create_model("ResultUrl", **_result_url_fields())


WARNINGS_DOC = ("Extension, only when there is one: optionalPayload keys ignored (unknown to every spelling of "
                "PaddleX's options; PaddleX ignores them too). The official client reads past it.")


class JobData(BaseModel):
    jobId: str
    state: State
    batchId: str | None = None
    extractProgress: Progress
    resultUrl: ResultUrl | None = None
    errorMsg: str | None = None
    warnings: list[str] | None = Field(None, description=WARNINGS_DOC)


class SubmitData(BaseModel):
    jobId: str
    warnings: list[str] | None = Field(None, description=WARNINGS_DOC)


class BatchData(BaseModel):
    batchId: str
    extractResult: list[JobData]


class Envelope(BaseModel):
    code: int = 0
    msg: str = "Success"
    logId: str | None = None


class SubmitResponse(Envelope):
    data: SubmitData


class JobResponse(Envelope):
    data: JobData


class BatchResponse(Envelope):
    data: BatchData


class ErrorResponse(Envelope):
    data: None = None


# --- the JSONL result ----------------------------------------------------------------------
def page_line(result: OCRPage, images: dict[str, str], kind: str, pages_read: int,
              earlier_sizes: list[dict[str, int]] | None = None) -> dict[str, Any]:
    """One JSONL line for one page: PaddleX's page result and a dataInfo.

    The client merges the lines' dataInfo, last one winning, so a PDF's last line lists every
    page's size (`earlier_sizes` + its own), as PaddleX's one response does; others list their own.
    """
    page = PageResult(prunedResult=PrunedResult.model_validate(result.to_dict()), **images)
    return {"result": {"ocrResults": [page.model_dump(exclude_none=True)],
                       "dataInfo": _data_info(result, kind, pages_read, earlier_sizes)}}


def layout_page_line(parsed: structure.LayoutParsingResult, result: OCRPage, kind: str, pages_read: int,
                     earlier_sizes: list[dict[str, int]] | None = None) -> dict[str, Any]:
    """One JSONL line of a PP-StructureV3 job: the page's /layout-parsing entry and a dataInfo, as
    the official client reads them (`layoutParsingResults`, its `markdown` and `outputImages`)."""
    return {"result": {"layoutParsingResults": [parsed.model_dump(exclude_none=True)],
                       "dataInfo": _data_info(result, kind, pages_read, earlier_sizes)}}


def _data_info(result: OCRPage, kind: str, pages_read: int, earlier_sizes: list[dict[str, int]] | None) -> dict[str, Any]:
    if kind == "pdf":
        sizes = [*(earlier_sizes or []), {"width": result.width, "height": result.height}]
        return {"type": "pdf", "numPages": pages_read, "pages": sizes}
    return {"type": "image", "width": result.width, "height": result.height}
