"""`OCR`: the Python face.  Decodes whatever it is given, runs the Pipeline, returns results."""

from __future__ import annotations

from typing import Any

from .engine import OCROptions, build_pipeline
from .inputs import ImageLike, Limits, load_input
from .result import OCRResult
from .settings import Settings, load_settings


class OCR:
    """PP-OCR on ONNX Runtime.

    >>> ocr = OCR(model="pp-ocrv6-small")
    >>> result = ocr("page.png")            # one OCRResult for an image
    >>> pages = ocr("scan.pdf")             # a list of OCRResult, one per page, for a PDF
    >>> print(result.text); result.save_image("out/")

    Keyword arguments of the constructor are settings (see `ocrserve config`); keyword arguments
    of a call are per-request options with PaddleX / RapidOCR names (see OCROptions).
    """

    def __init__(self, model: str | None = None, settings: Settings | None = None, **overrides: Any) -> None:
        if model is not None:
            overrides["model"] = model
        if settings is not None and overrides:
            settings = settings.model_copy(update=overrides)
        self.settings = settings or load_settings(**overrides)
        self.pipeline = build_pipeline(self.settings)
        self.limits = Limits.from_settings(self.settings)

    def predict(self, source: ImageLike, options: OCROptions | None = None, **option_values: Any) -> list[OCRResult]:
        """Always a list: one result per image or PDF page."""
        opts = (options or OCROptions()).merged(OCROptions(**option_values)) if option_values else options
        effective = self.pipeline.resolve_options(opts)
        loaded = load_input(source, self.limits)
        results = []
        for index, page in enumerate(loaded.pages):
            result = self.pipeline.predict(page, effective)
            if loaded.kind == "pdf":
                result.page_index = index
            results.append(result)
        return results

    def __call__(self, source: ImageLike, options: OCROptions | None = None,
                 **option_values: Any) -> OCRResult | list[OCRResult]:
        """An OCRResult for an image; a list of them (one per page) for a PDF."""
        results = self.predict(source, options, **option_values)
        return results if results and results[0].page_index is not None else results[0]
