"""The closed vocabularies several layers share, as `Literal` types, so a misspelt kind is a type error."""

from __future__ import annotations

from typing import Literal, get_args

#: what a document is, once sniffed: a PDF (pages rendered or read from their text layer) or one image
DocumentKind = Literal["pdf", "image"]

#: how a PDF page is read: `auto` its text layer when the check trusts it, else OCR; `ocr` always OCR;
#: `text` only the layer, never OCR
TextLayerPolicy = Literal["auto", "ocr", "text"]
TEXT_LAYER_POLICIES: tuple[TextLayerPolicy, ...] = get_args(TextLayerPolicy)
