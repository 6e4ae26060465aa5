"""PaddleX / PaddleOCR 3.x serving (`POST /ocr`, JSON), and its 3.0-beta body on the same path.

PaddleX's defaults where a client can see them: every line is returned (`textRecScoreThresh`
0.0) and result images come back unless the request or `OCR_VISUALIZE` says otherwise (its own
documented client decodes `ocrImage` for every page).  Detection thresholds are the model set's,
as PaddleX configures each model.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from ...engine import OCROptions
from ...engine.geometry import rotate_ccw
from ...render import encode_jpeg, render_ocr_image
from ...result import OCRResult
from .base import Contract, Lenient, int_points

IntPoint = list[int]


def error_body(status: int, message: str, request_id: str) -> dict[str, Any]:
    return {"logId": request_id, "errorCode": status, "errorMsg": message}


CONTRACT = Contract(name="paddlex", defaults=OCROptions(text_rec_score_thresh=0.0), returns_images=True,
                    error_body=error_body)


# --- requests ------------------------------------------------------------------------------
class InferenceParams(Lenient):
    """PaddleX 3.0-rc nested parameters, accepted as an alias of the top-level fields."""

    textDetLimitSideLen: int | None = Field(None, gt=0)
    textDetLimitType: Literal["min", "max"] | None = None
    textDetThresh: float | None = Field(None, ge=0, le=1)
    textDetBoxThresh: float | None = Field(None, ge=0, le=1)
    textDetUnclipRatio: float | None = Field(None, gt=0, le=10)
    textRecScoreThresh: float | None = Field(None, ge=0, le=1)
    maxLongSide: int | None = Field(None, gt=0, description="3.0-beta: scale the long side to this.")


class OCRRequest(Lenient):
    """PaddleX 3.x `infer` body; every null field means "the configured default"."""

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
    pdfText: Literal["auto", "ocr", "text"] | None = Field(
        None, description="ocrserve extension, PDFs: `auto` reads a page's own text layer when it is usable and "
        "OCRs the rest, `ocr` OCRs every page, `text` only reads the layers (default: OCR_PDF_TEXT, else auto).")


class BetaRequest(Lenient):
    """PaddleX 3.0-beta body: `image` instead of `file`, images only."""

    image: str = Field(..., description="http(s) URL or base64 of an image.")
    inferenceParams: InferenceParams | None = None


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
    numPages: int
    pages: list[PageSize]
    type: Literal["pdf"] = "pdf"


class InferResult(BaseModel):
    ocrResults: list[PageResult]
    dataInfo: ImageInfo | PDFInfo


class Envelope(BaseModel):
    logId: str = Field(..., description="A UUID naming this request in the server's log.")
    errorCode: int = 0
    errorMsg: str = "Success"


class OCRResponse(Envelope):
    result: InferResult


class BetaText(BaseModel):
    poly: list[IntPoint]
    text: str
    score: float


class BetaResult(BaseModel):
    texts: list[BetaText]
    image: str | None = None


class BetaResponse(Envelope):
    result: BetaResult


class ErrorResponse(Envelope):
    errorCode: int


def page_images(result: OCRResult, visualize: bool) -> dict[str, bytes]:
    """ocrImage and inputImage as JPEG bytes, plus docPreprocessingImage when the page was turned
    upright (CPU work: callers run it off the event loop, then ship each as base64 or a link)."""
    if not visualize or result.image is None:
        return {}
    images = {"ocrImage": encode_jpeg(render_ocr_image(result))}
    if result.doc_angle:
        images["docPreprocessingImage"] = encode_jpeg(rotate_ccw(result.image, result.doc_angle))
    images["inputImage"] = encode_jpeg(result.image)
    return images


def data_info(kind: str, results: list[OCRResult]) -> ImageInfo | PDFInfo:
    if kind == "pdf":
        return PDFInfo(numPages=len(results), pages=[PageSize(width=r.width, height=r.height) for r in results])
    return ImageInfo(width=results[0].width, height=results[0].height)


def to_response(kind: str, results: list[OCRResult], images: list[dict[str, str]], log_id: str) -> OCRResponse:
    pages = [PageResult(prunedResult=PrunedResult.model_validate(r.to_dict()), **imgs)
             for r, imgs in zip(results, images)]
    return OCRResponse(logId=log_id, result=InferResult(ocrResults=pages, dataInfo=data_info(kind, results)))


def to_beta_response(result: OCRResult, image: str | None, log_id: str) -> BetaResponse:
    texts = [BetaText(poly=int_points(line.polygon), text=line.text, score=float(line.score))
             for line in result.lines]
    return BetaResponse(logId=log_id, result=BetaResult(texts=texts, image=image))
