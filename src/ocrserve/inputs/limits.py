"""What one input may cost, checked from headers before the expensive part."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInput, InputTooLarge
from ..settings import Settings

MIN_SIDE = 4  # below this no line of text fits; refuse rather than answer an empty page


@dataclass(frozen=True)
class Limits:
    """What one input may cost; checked from headers before decoding."""

    max_pixels: int = 100_000_000
    max_width: int = 20000
    max_height: int = 20000
    pdf_scale: float = 2.0
    max_pdf_pages: int = 10
    max_pdf_document_pages: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(max_pixels=settings.max_image_pixels, max_width=settings.max_image_width,
                   max_height=settings.max_image_height, pdf_scale=settings.pdf_scale,
                   max_pdf_pages=settings.max_pdf_pages,
                   max_pdf_document_pages=settings.max_pdf_document_pages)

    def check_size(self, w: int, h: int, what: str = "image") -> None:
        if w < MIN_SIDE or h < MIN_SIDE:
            raise BadInput(f"{what} is {w}x{h}; at least {MIN_SIDE}x{MIN_SIDE} pixels are needed to hold text")
        if w > self.max_width or h > self.max_height:
            raise InputTooLarge(f"{what} is {w}x{h}; the limit is {self.max_width}x{self.max_height}")
        if w * h > self.max_pixels:
            raise InputTooLarge(f"{what} is {w}x{h} = {w * h} pixels, over the limit of {self.max_pixels}")
