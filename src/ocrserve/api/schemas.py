"""Every request and response body of every contract: the OpenAPI document is built from these.

Field names are the peers' own (camelCase for PaddleX, snake_case for RapidOCR and the seed
service); `null` always means "the configured default".
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

Point = list[float]
IntPoint = list[int]


class _Lenient(BaseModel):
    """Peers ignore unknown fields; so do we (a client sending extra keys keeps working)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# --- PaddleX / PaddleOCR 3.x serving ---------------------------------------------------------
class PaddleXInferenceParams(_Lenient):
    """PaddleX 3.0-rc nested parameters, accepted as an alias of the top-level fields."""

    textDetLimitSideLen: int | None = None
    textDetLimitType: Literal["min", "max"] | None = None
    textDetThresh: float | None = None
    textDetBoxThresh: float | None = None
    textDetUnclipRatio: float | None = None
    textRecScoreThresh: float | None = None
    maxLongSide: int | None = Field(None, gt=0, description="3.0-beta: scale the long side to this.")


class PaddleXOCRRequest(_Lenient):
    file: str = Field(..., description="http(s) URL or base64 of the file (a `data:` prefix is accepted).")
    fileType: Literal[0, 1] | None = Field(None, description="0 = PDF, 1 = image, null = sniffed from bytes.")
    useDocOrientationClassify: bool | None = None
    useDocUnwarping: bool | None = Field(None, description="Accepted; no unwarping model is available, so ignored.")
    useTextlineOrientation: bool | None = Field(
        None, validation_alias=AliasChoices("useTextlineOrientation", "useTextLineOrientation"))
    textDetLimitSideLen: int | None = Field(None, gt=0)
    textDetLimitType: Literal["min", "max"] | None = None
    textDetThresh: float | None = Field(None, ge=0, le=1)
    textDetBoxThresh: float | None = Field(None, ge=0, le=1)
    textDetUnclipRatio: float | None = Field(None, gt=0, le=10)
    textRecScoreThresh: float | None = Field(None, ge=0, le=1)
    returnWordBox: bool | None = None
    visualize: bool | None = Field(None, description="Return ocrImage/inputImage (default: OCR_VISUALIZE).")
    inferenceParams: PaddleXInferenceParams | None = None


class PaddleXBetaRequest(_Lenient):
    """PaddleX 3.0-beta body: `image` instead of `file`, images only."""

    image: str
    inferenceParams: PaddleXInferenceParams | None = None


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


class PaddleXPageResult(BaseModel):
    prunedResult: PrunedResult
    ocrImage: str | None = Field(None, description="JPEG base64: boxes and text side by side.")
    docPreprocessingImage: str | None = Field(None, description="JPEG base64 of the page turned upright.")
    inputImage: str | None = Field(None, description="JPEG base64 of the decoded input.")


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


class PaddleXInferResult(BaseModel):
    ocrResults: list[PaddleXPageResult]
    dataInfo: ImageInfo | PDFInfo


class _PaddleXEnvelope(BaseModel):
    logId: str
    errorCode: int = 0
    errorMsg: str = "Success"


class PaddleXResponse(_PaddleXEnvelope):
    result: PaddleXInferResult


class PaddleXBetaText(BaseModel):
    poly: list[IntPoint]
    text: str
    score: float


class PaddleXBetaResult(BaseModel):
    texts: list[PaddleXBetaText]
    image: str | None = None


class PaddleXBetaResponse(_PaddleXEnvelope):
    result: PaddleXBetaResult


class PaddleXError(_PaddleXEnvelope):
    errorCode: int


# --- RapidOCR API ----------------------------------------------------------------------------
class RapidOCRForm(_Lenient):
    """multipart/form-data or urlencoded fields of rapidocr_api's POST /ocr."""

    image_data: str | None = Field(None, description="base64 image (when no image_file is uploaded).")
    use_det: bool | None = None
    use_cls: bool | None = None
    use_rec: bool | None = None
    text_score: float | None = Field(None, ge=0, le=1)
    box_thresh: float | None = Field(None, ge=0, le=1)
    unclip_ratio: float | None = Field(None, gt=0, le=10)
    return_word_box: bool | None = None


class RapidOCRLine(BaseModel):
    rec_txt: str
    dt_boxes: list[Point]
    score: float


class RapidOCRError(BaseModel):
    detail: Any
    requestId: str | None = None


# --- PaddleOCR 2.x hub serving ---------------------------------------------------------------
class HubRequest(_Lenient):
    images: list[str] = Field(..., description="base64 images.")


class HubLine(BaseModel):
    text: str
    confidence: float
    text_region: list[IntPoint]


class HubResponse(BaseModel):
    status: str = "000"
    msg: str = ""
    results: list[list[HubLine]]


# --- seed service (/paddleocr, /easyocr, /v1/ocr, /upload, /upload_pdf) ---------------------
class SeedPaddleOCRRequest(_Lenient):
    image: str = Field(..., description="base64 image or http(s) URL.")
    use_angle_cls: bool | None = None
    lang: str | None = None
    det_db_thresh: float | None = Field(None, ge=0, le=1)
    det_db_box_thresh: float | None = Field(None, ge=0, le=1)
    det_db_unclip_ratio: float | None = Field(None, gt=0, le=10)


class SeedEasyOCRRequest(_Lenient):
    image: str = Field(..., description="base64 image or http(s) URL.")
    languages: list[str] | None = Field(None, description="EasyOCR language codes, e.g. [\"ch_sim\", \"en\"].")
    gpu: bool | None = Field(None, description="Accepted for compatibility; the device is a server setting.")
    text_threshold: float | None = Field(None, ge=0, le=1)
    detail: int = Field(1, ge=0, le=1)
    paragraph: bool = False
    allowlist: str | None = None
    blocklist: str | None = None


class SeedV1Request(_Lenient):
    image: str = Field(..., description="base64 image or http(s) URL.")
    use_det: bool | None = None
    use_cls: bool | None = None
    use_rec: bool | None = None
    text_score: float | None = Field(None, ge=0, le=1)


class SeedLine(BaseModel):
    text: str
    confidence: float | None = None
    bbox: list[Point] | None = None


class ImageSize(BaseModel):
    width: int
    height: int


class SeedResponse(BaseModel):
    success: bool = True
    results: list[SeedLine]
    processing_time: float
    image_size: ImageSize


class SeedPDFLine(BaseModel):
    page: int
    index: int
    result: list[Any] = Field(..., description="[box (4 points), text, score], RapidOCR's line form.")
    bbox_image: list[int] = Field(..., description="[x, y, w, h] of the line's axis-aligned box.")
    processing_time: float
    image_size: ImageSize


class SeedPDFResponse(BaseModel):
    success: bool = True
    results: list[SeedPDFLine]


class SeedError(BaseModel):
    success: bool = False
    error: str


# --- operations ------------------------------------------------------------------------------
class HealthResponse(BaseModel):
    logId: str
    errorCode: int
    errorMsg: str
    status: str
    model: str
    model_version: str
    gpu_support: bool
    providers: list[str]
    environment: dict[str, Any]
    supported_languages: list[str]
