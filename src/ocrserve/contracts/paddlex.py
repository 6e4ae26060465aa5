"""PaddleX / PaddleOCR 3.x serving (`POST /ocr`, JSON), and its 3.0-beta body on the same path.

PaddleX's defaults where a client can see them: every line is returned (`textRecScoreThresh`
0.0) and result images come back unless the request or `OCR_VISUALIZE` says otherwise (its own
documented client decodes `ocrImage` for every page).  Detection thresholds are the model set's,
as PaddleX configures each model.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from ..engine import OCROptions
from ..engine.geometry import rotate_ccw
from ..export.visualize import encode_jpeg, render_ocr_image
from ..kinds import DocumentKind, TextLayerPolicy
from ..result import OCRPage
from .base import Contract, Lenient, int_points, language_codes

IntPoint = list[int]


def error_body(status: int, message: str, request_id: str) -> dict[str, Any]:
    return {"logId": request_id, "errorCode": status, "errorMsg": message}


CONTRACT = Contract(name="paddlex", defaults=OCROptions(text_rec_score_thresh=0.0), returns_images=True,
                    error_body=error_body)


# --- requests ------------------------------------------------------------------------------
#: PaddleOCR 2.x's option names, which PaddleOCR 3.x still takes (with a deprecation warning) for its own
LEGACY_NAMES = {"use_angle_cls": "useTextlineOrientation", "det_limit_side_len": "textDetLimitSideLen",
                "det_limit_type": "textDetLimitType", "det_db_thresh": "textDetThresh",
                "det_db_box_thresh": "textDetBoxThresh", "det_db_unclip_ratio": "textDetUnclipRatio",
                "drop_score": "textRecScoreThresh"}
#: fields where an empty string is the client's value (a clear 400 follows), not "unset"
KEEP_EMPTY = frozenset({"file", "image"})


def snake_to_camel(name: str) -> str:
    """`text_det_limit_side_len` -> `textDetLimitSideLen`, as PaddleOCR's own client converts its options."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@functools.cache
def accepted_names(model: type[BaseModel]) -> dict[str, str]:
    """Every key `model` reads -> its field: field names and their aliases."""
    out: dict[str, str] = {}
    for name, field in model.model_fields.items():
        out[name] = name
        alias = field.validation_alias
        for choice in alias.choices if isinstance(alias, AliasChoices) else [alias]:
            if isinstance(choice, str):
                out[choice] = name
    return out


def spelled_as_field(model: type[BaseModel], key: str) -> str | None:
    """The key `model` reads for `key` in any accepted spelling (camelCase, snake_case, PaddleOCR 2.x's), or None."""
    names = accepted_names(model)
    for candidate in (key, snake_to_camel(key), LEGACY_NAMES.get(key)):
        if candidate is not None and candidate in names:
            return candidate
    return None


def ignored_keys(model: type[BaseModel], data: Any, prefix: str = "") -> list[str]:
    """The keys of `data` that `model` does not read in any spelling (nested PaddleX options included),
    so that the answer can say so rather than drop them silently."""
    if not isinstance(data, dict):
        return []
    out: list[str] = []
    for key, value in data.items():
        name = spelled_as_field(model, key) if isinstance(key, str) else None
        if name is None:
            out.append(prefix + str(key))
            continue
        nested = model.model_fields[accepted_names(model)[name]].annotation
        inner = next((t for t in getattr(nested, "__args__", (nested,)) if isinstance(t, type)
                      and issubclass(t, BaseModel)), None)
        if inner is not None:
            out += ignored_keys(inner, value, prefix=f"{prefix}{key}.")
    return out


class PaddleXOptions(Lenient):
    """PaddleX's options in the spellings clients send: its serving's camelCase, its Python API's snake_case
    (`use_textline_orientation`) or PaddleOCR 2.x's (`use_angle_cls`); `""` and null mean unset (low-code
    tools send an empty string for a number left blank); other keys are ignored, as PaddleX does."""

    @model_validator(mode="before")
    @classmethod
    def _spellings(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        names = accepted_names(cls)
        out: dict[str, Any] = {}
        given: set[str] = set()  # fields already set by a key of this body
        exact = [k for k in data if isinstance(k, str) and k in names]
        for key in exact + [k for k in data if k not in exact]:  # the exact spelling wins over another
            spelled = spelled_as_field(cls, key) if isinstance(key, str) else None
            value = data[key]
            if spelled is None:
                out[key] = value  # not ours: ignored by the model, reported by ignored_keys
            elif value is None or (value == "" and names[spelled] not in KEEP_EMPTY) or names[spelled] in given:
                continue
            else:
                out[spelled] = value
                given.add(names[spelled])
        return out


class InferenceParams(PaddleXOptions):
    """PaddleX 3.0-rc nested parameters, accepted as an alias of the top-level fields."""

    textDetLimitSideLen: int | None = Field(None, gt=0)
    textDetLimitType: Literal["min", "max"] | None = None
    textDetThresh: float | None = Field(None, ge=0, le=1)
    textDetBoxThresh: float | None = Field(None, ge=0, le=1)
    textDetUnclipRatio: float | None = Field(None, gt=0, le=10)
    textRecScoreThresh: float | None = Field(None, ge=0, le=1)
    maxLongSide: int | None = Field(None, gt=0, description="3.0-beta: scale the long side to this.")


class OCRRequest(PaddleXOptions):
    """PaddleX 3.x `infer` body; every null (or empty) field means "the configured default"."""

    file: str = Field(..., description="http(s) URL or base64 of the file (a `data:` prefix is accepted).")
    fileType: Literal[0, 1] | None = Field(None, description="0 = PDF, 1 = image, null = sniffed from bytes.",
                                           examples=[1])
    useDocOrientationClassify: bool | None = None
    useDocUnwarping: bool | None = Field(None, description="Accepted; no unwarping model is available, so ignored.")
    useTextlineOrientation: bool | None = Field(
        None, validation_alias=AliasChoices("useTextlineOrientation", "useTextLineOrientation"))
    textDetLimitSideLen: int | None = Field(None, gt=0)
    textDetLimitType: Literal["min", "max"] | None = None
    textDetThresh: float | None = Field(None, ge=0, le=1)
    textDetBoxThresh: float | None = Field(None, ge=0, le=1)
    textDetUnclipRatio: float | None = Field(None, gt=0, le=10)
    textRecScoreThresh: float | None = Field(None, ge=0, le=1, description="Default 0.0: every line is returned.")
    returnWordBox: bool | None = None
    visualize: bool | None = Field(None, description="Return ocrImage/docPreprocessingImage/inputImage "
                                                     "(default: OCR_VISUALIZE, else yes, as PaddleX).")
    inferenceParams: InferenceParams | None = None
    lang: str | list[str] | None = Field(
        None, description="ocrserve extension: the document's language(s), PaddleOCR's codes (korean, ru, ar, hi, "
        "th, ...) or EasyOCR's (ko, ch_sim, ...). One the model set cannot read is read by its script's language "
        "set, when installed (400 otherwise, naming what this server reads); with several, each line is read by "
        "every one's recogniser and the surest reading kept. Default: the model set alone.", examples=["korean"])
    pdfText: TextLayerPolicy | None = Field(
        None, description="ocrserve extension, PDFs: `auto` reads a page's own text layer when it is usable and "
        "OCRs the rest, `ocr` OCRs every page, `text` only reads the layers (default: OCR_PDF_TEXT, else auto).")


class BetaRequest(PaddleXOptions):
    """PaddleX 3.0-beta body: `image` instead of `file`, images only."""

    image: str = Field(..., description="http(s) URL or base64 of an image.")
    inferenceParams: InferenceParams | None = None


def languages(req: OCRRequest) -> list[str]:
    """The `lang` extension as a list of codes."""
    return language_codes(req.lang)


def declared_kind(req: OCRRequest) -> DocumentKind | None:
    """PaddleX's `fileType`: 0 a PDF, 1 an image, null sniffed from the bytes."""
    return None if req.fileType is None else ("pdf" if req.fileType == 0 else "image")


def to_options(req: OCRRequest) -> OCROptions:
    nested = req.inferenceParams

    def pick(name: str) -> Any:
        value = getattr(req, name)
        return value if value is not None or nested is None else getattr(nested, name)

    return OCROptions(
        text_det_limit_side_len=pick("textDetLimitSideLen"),
        text_det_limit_type=pick("textDetLimitType"),
        text_det_thresh=pick("textDetThresh"),
        text_det_box_thresh=pick("textDetBoxThresh"),
        text_det_unclip_ratio=pick("textDetUnclipRatio"),
        text_rec_score_thresh=pick("textRecScoreThresh"),
        use_doc_orientation_classify=req.useDocOrientationClassify,
        use_textline_orientation=req.useTextlineOrientation,
        return_word_box=req.returnWordBox,
    )


def beta_options(req: BetaRequest) -> OCROptions:
    limit = req.inferenceParams.maxLongSide if req.inferenceParams else None
    return OCROptions(text_det_limit_side_len=limit, text_det_limit_type="max" if limit else None)


# --- responses -----------------------------------------------------------------------------
class PrunedResult(BaseModel):
    """PaddleX's `prunedResult`: keys in PaddleX's order; optional ones absent when not applicable."""

    model_config = ConfigDict(extra="allow")
    model_settings: dict[str, bool]
    doc_preprocessor_res: dict[str, Any] | None = None
    dt_polys: list[list[IntPoint]]
    text_det_params: dict[str, Any]
    text_type: str
    textline_orientation_angles: list[int] | None = None
    text_rec_score_thresh: float
    return_word_box: bool
    rec_texts: list[str]
    rec_scores: list[float]
    rec_polys: list[list[IntPoint]]
    rec_boxes: list[IntPoint]
    text_word: list[list[str]] | None = None
    text_word_region: list[list[list[IntPoint]]] | None = None
    text_word_boxes: list[list[IntPoint]] | None = None


class PageResult(BaseModel):
    prunedResult: PrunedResult
    ocrImage: str | None = Field(None, description="JPEG, base64 or a signed link (OCR_RESULT_IMAGES): boxes "
                                                   "and text side by side.")
    docPreprocessingImage: str | None = Field(None, description="JPEG of the page turned upright.")
    inputImage: str | None = Field(None, description="JPEG of the decoded input.")


class ImageInfo(BaseModel):
    width: int
    height: int
    type: Literal["image"] = "image"


class PageSize(BaseModel):
    width: int
    height: int


class PDFInfo(BaseModel):
    numPages: int = Field(..., description="Pages read (as PaddleX: at most OCR_MAX_PDF_PAGES).")
    pages: list[PageSize]
    type: Literal["pdf"] = "pdf"
    totalPages: int | None = Field(None, description="ocrserve extension: pages in the document; more than numPages "
                                   "when OCR_MAX_PDF_PAGES ended the reading (`warnings` then says how to read all).")


class InferResult(BaseModel):
    ocrResults: list[PageResult]
    dataInfo: ImageInfo | PDFInfo


class Envelope(BaseModel):
    logId: str = Field(..., description="A UUID naming this request in the server's log.")
    errorCode: int = 0
    errorMsg: str = "Success"


class OCRResponse(Envelope):
    result: InferResult
    warnings: list[str] | None = Field(None, description="ocrserve extension, only when there is one: options "
                                       "ignored (unknown keys, as PaddleX ignores them), pages of a PDF not read.")


class BetaText(BaseModel):
    poly: list[IntPoint]
    text: str
    score: float


class BetaResult(BaseModel):
    texts: list[BetaText]
    image: str | None = None


class BetaResponse(Envelope):
    result: BetaResult
    warnings: list[str] | None = Field(None, description="ocrserve extension: options ignored.")


class ErrorResponse(Envelope):
    errorCode: int


def page_images(result: OCRPage, visualize: bool) -> dict[str, bytes]:
    """ocrImage and inputImage as JPEG bytes, plus docPreprocessingImage when the page was turned
    upright (CPU work: callers run it off the event loop, then ship each as base64 or a link)."""
    if not visualize or result.image is None:
        return {}
    images = {"ocrImage": encode_jpeg(render_ocr_image(result))}
    if result.doc_angle:
        images["docPreprocessingImage"] = encode_jpeg(rotate_ccw(result.image, result.doc_angle))
    images["inputImage"] = encode_jpeg(result.image)
    return images


def data_info(kind: str, results: list[OCRPage], total_pages: int | None = None) -> ImageInfo | PDFInfo:
    if kind == "pdf":
        return PDFInfo(numPages=len(results), pages=[PageSize(width=r.width, height=r.height) for r in results],
                       totalPages=total_pages)
    return ImageInfo(width=results[0].width, height=results[0].height)


def ignored_warning(keys: list[str]) -> str:
    return "ignored unknown option(s), as PaddleX does: " + ", ".join(keys)


def to_response(kind: str, results: list[OCRPage], images: list[dict[str, str]], log_id: str,
                total_pages: int | None = None, warnings: list[str] | None = None) -> OCRResponse:
    pages = [PageResult(prunedResult=PrunedResult.model_validate(r.to_dict()), **imgs)
             for r, imgs in zip(results, images)]
    info = data_info(kind, results, total_pages)
    return OCRResponse(logId=log_id, result=InferResult(ocrResults=pages, dataInfo=info), warnings=warnings or None)


def to_beta_response(result: OCRPage, image: str | None, log_id: str,
                     warnings: list[str] | None = None) -> BetaResponse:
    texts = [BetaText(poly=int_points(line.polygon), text=line.text, score=float(line.score))
             for line in result.lines]
    return BetaResponse(logId=log_id, result=BetaResult(texts=texts, image=image), warnings=warnings or None)
