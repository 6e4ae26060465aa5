"""The page reader: one typed request for one page, and the one place that decides how it is read.

A PDF page is answered by its text layer when the policy allows and the check trusts the layer;
otherwise it is rendered and OCRed, with a partial layer's lines kept beside the OCR's and only
the layer's image regions OCRed where the rest of the layer holds.  Either way a PDF page carries
the entries of the document's outline that point at it.  Every face (the service's
requests and jobs, the library) reads pages through `read_page`, so they decide alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .engine import EffectiveOptions
from .errors import BadInput
from .inputs import PageSource
from .inputs.pdf import PdfPages
from .inputs.textlayer import TextLayer, layer_result, merge_ocr, read_regions
from .kinds import TEXT_LAYER_POLICIES, TextLayerPolicy
from .result import OCRPage


class Predictor(Protocol):
    """What OCRs a page's pixels: the engine's `Pipeline`."""

    def predict(self, image: np.ndarray, options: EffectiveOptions) -> OCRPage: ...


@dataclass(frozen=True)
class PageRequest:
    """Page `index` of `source`, read with `options` under the text-layer `policy`.

    `keep_image`: the page's pixels stay on the result (a response draws them); a page answered by
    its text layer is then rendered as well, still without OCR.
    """

    source: PageSource
    index: int
    options: EffectiveOptions
    policy: TextLayerPolicy = "auto"
    keep_image: bool = False


@dataclass(frozen=True)
class PageRead:
    """A page read, and the seconds spent decoding it (reading its layer, or rendering it)."""

    page: OCRPage
    decode_seconds: float


def text_layer_policy(value: str) -> TextLayerPolicy:
    """A policy named by a caller, checked: a 400 that lists the choices, never a silent default."""
    for policy in TEXT_LAYER_POLICIES:
        if value == policy:
            return policy
    raise BadInput(f"pdf_text must be one of {', '.join(TEXT_LAYER_POLICIES)}, not {value!r}")


def _layer(source: PageSource, index: int, policy: TextLayerPolicy) -> TextLayer | None:
    if policy == "ocr" or not isinstance(source, PdfPages):
        return None
    return source.text_layer(index)


def _after_ocr(page: OCRPage, layer: TextLayer | None) -> OCRPage:
    """An OCRed page: say why its layer was not used; a partial layer's lines are kept beside the OCR's."""
    if layer is None or layer.check.status == "none":
        return page
    if layer.check.status == "partial":
        return merge_ocr(layer, page)
    page.text_layer = layer.check.status
    return page


def read_page(pipeline: Predictor, request: PageRequest) -> PageRead:
    """The page from its text layer when that answers it (`text` never OCRs), else OCRed by `pipeline`;
    a PDF page carries the outline's entries that point at it, however it was read."""
    read = _read(pipeline, request)
    if isinstance(request.source, PdfPages):
        read.page.outline = request.source.outline(request.index)
    return read


def _read(pipeline: Predictor, request: PageRequest) -> PageRead:
    started = time.perf_counter()
    source, index, options = request.source, request.index, request.options
    layer = _layer(source, index, request.policy)
    if layer is not None and isinstance(source, PdfPages) and (layer.check.usable or request.policy == "text"):
        width, height = source.page_size(index)
        decoded = time.perf_counter() - started
        page = layer_result(layer, width, height, det_params=options.det.public(),
                            text_rec_score_thresh=options.text_rec_score_thresh)
        page.timings = {"text_layer": decoded}
        if request.keep_image:
            page.image = source.page(index)
        return PageRead(page, decoded)
    image = source.page(index)
    decoded = time.perf_counter() - started
    if layer is not None and layer.check.regions:
        return PageRead(read_regions(image, layer, lambda pixels: pipeline.predict(pixels, options)), decoded)
    return PageRead(_after_ocr(pipeline.predict(image, options), layer), decoded)
