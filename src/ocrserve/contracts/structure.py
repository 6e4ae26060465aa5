"""PaddleX's PP-StructureV3 serving (`POST /layout-parsing`, JSON): documents in, Markdown and blocks out.

The request takes PaddleX's fields and spellings (`paddlex.PaddleXOptions`) and its defaults: no
document orientation or unwarping unless asked, every line kept (`textRecScoreThresh` 0.0),
Markdown images returned, result images unless `visualize` or OCR_VISUALIZE says otherwise. The
layout model is one PicoDet detector (docs/layout.md); tables are read as rows and cells from their
ruling lines, or where these draw no grid from where their text lies (export/tables.py), unless
`useTableRecognition` is false; the modules PaddleX runs beside
it that ocrserve has no model for (seal, formula and chart recognition, unwarping, region detection)
are answered as PaddleX answers them disabled: `model_settings` says false, their result lists are
absent, and a warning names each one a request asked for.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..engine import OCROptions
from ..engine.layout import ScoreThreshold, score_threshold
from ..errors import BadInput
from ..export.structure import MARKDOWN_IGNORE_LABELS, ParsedPage, block_kind
from ..export.tables import Table, table_html
from ..export.visualize import encode_jpeg, render_layout_image, render_ocr_image
from ..kinds import DocumentKind, TextLayerPolicy
from .base import Contract
from .paddlex import Envelope, ImageInfo, PaddleXOptions, PDFInfo, data_info, error_body

PATH = "/layout-parsing"
CONTRACT = Contract(name="pp-structurev3", defaults=OCROptions(text_rec_score_thresh=0.0), returns_images=True,
                    error_body=error_body)

#: request fields for modules ocrserve has no model for -> the `model_settings` key PaddleX reports them by
NOT_HONOURED = {"useSealRecognition": "use_seal_recognition", "useFormulaRecognition": "use_formula_recognition",
                "useChartRecognition": "use_chart_recognition", "useRegionDetection": "use_region_detection",
                "useDocUnwarping": "use_doc_unwarping"}


class LayoutParsingRequest(PaddleXOptions):
    """PaddleX 3.x PP-StructureV3 `infer` body; null (or empty) fields mean "the default"."""

    file: str = Field(..., description="http(s) URL or base64 of the file (a `data:` prefix is accepted).")
    fileType: Literal[0, 1] | None = Field(None, description="0 = PDF, 1 = image, null = sniffed from bytes.")
    useDocOrientationClassify: bool | None = Field(None, description="Default false, as PaddleX's serving.")
    useDocUnwarping: bool | None = Field(None, description="Not honoured: no unwarping model (answered false).")
    useTextlineOrientation: bool | None = None
    useSealRecognition: bool | None = Field(None, description="Not honoured: no seal model (answered false).")
    useTableRecognition: bool | None = Field(None, description="Default true: a table's rows and cells from its "
                                             "ruling lines, else from where its text lies (HTML in its block, "
                                             "`table_res_list`); false: its text in reading order, as a pipe "
                                             "table where its lines fall into a grid.")
    useFormulaRecognition: bool | None = Field(
        None, description="Not honoured (no LaTeX): a formula is its text from a text layer, else its image.")
    useChartRecognition: bool | None = Field(None, description="Not honoured: charts are cropped as images.")
    useRegionDetection: bool | None = Field(None, description="Not honoured: no region detector.")
    layoutThreshold: float | dict[str, float] | None = Field(
        None, description="Layout score threshold (default the model's 0.5), or per class id ({\"1\": 0.3}); "
                          "the classes a dict leaves out keep the model's.")
    layoutNms: bool | None = Field(None, description="Accepted; NMS always runs.")
    layoutUnclipRatio: float | list[float] | dict[str, Any] | None = Field(None, description="Accepted, ignored.")
    layoutMergeBboxesMode: str | dict[str, Any] | None = Field(None, description="Accepted, ignored.")
    textDetLimitSideLen: int | None = Field(None, gt=0)
    textDetLimitType: Literal["min", "max"] | None = None
    textDetThresh: float | None = Field(None, ge=0, le=1)
    textDetBoxThresh: float | None = Field(None, ge=0, le=1)
    textDetUnclipRatio: float | None = Field(None, gt=0, le=10)
    textRecScoreThresh: float | None = Field(None, ge=0, le=1, description="Default 0.0: every line is kept.")
    sealDetLimitSideLen: int | None = None
    sealDetLimitType: str | None = None
    sealDetThresh: float | None = None
    sealDetBoxThresh: float | None = None
    sealDetUnclipRatio: float | None = None
    sealRecScoreThresh: float | None = None
    useWiredTableCellsTransToHtml: bool | None = None
    useWirelessTableCellsTransToHtml: bool | None = None
    useTableOrientationClassify: bool | None = None
    useOcrResultsWithTableCells: bool | None = None
    useE2eWiredTableRecModel: bool | None = None
    useE2eWirelessTableRecModel: bool | None = None
    formatBlockContent: bool | None = Field(None, description="Accepted; block contents are plain text.")
    markdownIgnoreLabels: list[str] | None = Field(
        None, description=f"Block labels left out of the Markdown (default: {', '.join(MARKDOWN_IGNORE_LABELS)}).")
    prettifyMarkdown: bool | None = Field(None, description="Accepted; the Markdown is always tidy.")
    showFormulaNumber: bool | None = Field(None, description="Accepted, ignored (no formula recognition).")
    returnMarkdownImages: bool | None = Field(None, description="Return the figures' crops (default true).")
    visualize: bool | None = Field(None, description="Return outputImages and inputImage (default: OCR_VISUALIZE, "
                                   "else yes, as PaddleX).")
    pdfText: TextLayerPolicy | None = Field(None, description="ocrserve extension, PDFs: as on `/ocr`.")


def to_options(req: LayoutParsingRequest) -> OCROptions:
    return OCROptions(
        text_det_limit_side_len=req.textDetLimitSideLen, text_det_limit_type=req.textDetLimitType,
        text_det_thresh=req.textDetThresh, text_det_box_thresh=req.textDetBoxThresh,
        text_det_unclip_ratio=req.textDetUnclipRatio, text_rec_score_thresh=req.textRecScoreThresh,
        use_doc_orientation_classify=bool(req.useDocOrientationClassify),
        use_textline_orientation=req.useTextlineOrientation,
    )


def tables(req: LayoutParsingRequest) -> bool:
    """Whether tables are read as rows and cells: PaddleX's default is yes."""
    return req.useTableRecognition is not False


def layout_threshold(req: LayoutParsingRequest) -> ScoreThreshold:
    """The request's layout threshold: one for all labels, or PaddleX's per-class dict (class ids as its
    keys; the classes it does not name keep the model's thresholds)."""
    value = req.layoutThreshold
    try:
        return score_threshold(value)
    except ValueError:  # only a dict's key can fail: the field's type holds numbers
        keys = sorted(value) if isinstance(value, dict) else value
        raise BadInput(f"layoutThreshold: a per-class threshold's key is a class id (0, 1, ...), not one of "
                       f"{keys!r}") from None


def declared_kind(req: LayoutParsingRequest) -> DocumentKind | None:
    return None if req.fileType is None else ("pdf" if req.fileType == 0 else "image")


def not_honoured(req: LayoutParsingRequest) -> list[str]:
    """The request's fields that ask for a module ocrserve has no model for."""
    return [name for name in NOT_HONOURED if getattr(req, name)]


def not_honoured_warning(names: list[str]) -> str:
    return ("not honoured, answered as PaddleX answers a disabled module (docs/layout.md): "
            + ", ".join(f"{name}=true" for name in names))


# --- responses -----------------------------------------------------------------------------
def pruned_result(parsed: ParsedPage) -> dict[str, Any]:
    """PaddleX's PP-StructureV3 `prunedResult`: the page's size, what ran, its blocks in reading
    order, the layout boxes, and the page's OCR as `overall_ocr_res`."""
    page = parsed.page
    ocr = page.to_dict()
    out: dict[str, Any] = {
        "width": page.width,
        "height": page.height,
        "model_settings": {"use_doc_preprocessor": page.doc_angle is not None, "use_seal_recognition": False,
                           "use_table_recognition": parsed.tables, "use_formula_recognition": False,
                           "use_chart_recognition": False, "use_region_detection": False},
    }
    if "doc_preprocessor_res" in ocr:
        out["doc_preprocessor_res"] = ocr.pop("doc_preprocessor_res")
    order = 0
    blocks = []
    for k, block in enumerate(parsed.blocks):
        in_order = block.label not in MARKDOWN_IGNORE_LABELS and block_kind(block.label) != "unwritten"
        order += in_order
        blocks.append({"block_label": block.label, "block_content": block.content, "block_bbox": list(block.box),
                       "block_id": k, "block_order": order if in_order else None})
    out["parsing_res_list"] = blocks
    out["layout_det_res"] = {"boxes": [
        {"cls_id": r.cls_id, "label": r.label,
         "score": float(r.score), "coordinate": [float(v) for v in r.box]} for r in parsed.regions]}
    ocr["model_settings"] = {"use_doc_preprocessor": False,
                             "use_textline_orientation": page.use_textline_orientation}
    out["overall_ocr_res"] = ocr
    table_results = [table_result(block.table) for block in parsed.blocks if block.table is not None]
    if parsed.tables and table_results:  # as PaddleX: present only when tables were recognised and found
        out["table_res_list"] = table_results
    return out


def table_result(table: Table) -> dict[str, Any]:
    """One entry of PaddleX's `table_res_list`: each cell's box on the page (row by row), the table's
    HTML, and the OCR lines it was read from."""
    lines = table.lines
    return {"cell_box_list": [list(cell.box) for cell in table.cells], "pred_html": table_html(table),
            "table_ocr_pred": {"rec_polys": [[[int(round(x)), int(round(y))] for x, y in line.polygon]
                                             for line in lines],
                               "rec_texts": [line.text for line in lines],
                               "rec_scores": [float(line.score) for line in lines],
                               "rec_boxes": [line.box for line in lines]}}


def page_images(parsed: ParsedPage, visualize: bool) -> dict[str, bytes]:
    """`outputImages` (layout boxes, and the OCR's boxes and text) and `inputImage`, as JPEG bytes."""
    image = parsed.page.image
    if not visualize or image is None:
        return {}
    return {"layout_det_res": encode_jpeg(render_layout_image(image, parsed.regions)),
            "overall_ocr_res": encode_jpeg(render_ocr_image(parsed.page)),
            "inputImage": encode_jpeg(image)}


class Markdown(BaseModel):
    text: str
    images: dict[str, str] = Field(default_factory=dict, description="Each figure's crop by its path in `text`: "
                                   "JPEG base64, or a signed link (OCR_RESULT_IMAGES).")
    isStart: bool = Field(..., description="The page starts a paragraph (false: it continues the previous page's).")
    isEnd: bool = Field(..., description="The page ends a paragraph (false: it runs on to the next page).")


class LayoutParsingResult(BaseModel):
    prunedResult: dict[str, Any]
    markdown: Markdown
    outputImages: dict[str, str] | None = None
    inputImage: str | None = None


class LayoutParsingInferResult(BaseModel):
    layoutParsingResults: list[LayoutParsingResult]
    dataInfo: ImageInfo | PDFInfo


class LayoutParsingResponse(Envelope):
    result: LayoutParsingInferResult
    warnings: list[str] | None = Field(None, description="ocrserve extension, only when there is one: options not "
                                       "honoured or unknown, pages of a PDF not read.")


def page_result(parsed: ParsedPage, markdown_images: dict[str, str] | None, images: dict[str, str]) -> LayoutParsingResult:
    """One page's entry: `markdown_images` None when the request said returnMarkdownImages=false."""
    output = {k: v for k, v in images.items() if k != "inputImage"}
    return LayoutParsingResult(
        prunedResult=pruned_result(parsed),
        markdown=Markdown(text=parsed.markdown, images=markdown_images or {}, isStart=parsed.is_start,
                          isEnd=parsed.is_end),
        outputImages=output or None, inputImage=images.get("inputImage"))


def to_response(kind: str, pages: list[LayoutParsingResult], parsed: list[ParsedPage], log_id: str,
                total_pages: int | None = None, warnings: list[str] | None = None) -> LayoutParsingResponse:
    info = data_info(kind, [p.page for p in parsed], total_pages)
    return LayoutParsingResponse(logId=log_id, result=LayoutParsingInferResult(layoutParsingResults=pages,
                                                                               dataInfo=info),
                                 warnings=warnings or None)
