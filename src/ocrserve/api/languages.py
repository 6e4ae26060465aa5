"""EasyOCR / PaddleOCR language codes -> can the loaded recognition dictionary read them?

We have one recogniser per model set, so a language is "supported" when the dictionary holds
the characters that language needs; the answer comes from the dictionary, not a hand list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import BadInput

if TYPE_CHECKING:
    from ..service.ocr_service import OCRService

# characters each language cannot do without (checked against the rec dictionary)
PROBES: dict[str, str] = {
    "en": "AZaz09",
    "ch_sim": "这个们说国",
    "ch": "这个们说国",
    "chinese_cht": "這個們說國",
    "ch_tra": "這個們說國",
    "ja": "あいうアイウ",
    "japan": "あいうアイウ",
    "fr": "éèàçêô",
    "de": "äöüßÄÖÜ",
    "es": "ñáéíóú¿¡",
    "it": "àèéìòù",
    "pt": "ãõçáâê",
    "nl": "éëï",
    "latin": "éèàçäöüñ",
    "ko": "가나다",
    "korean": "가나다",
    "ru": "абвгдеж",
    "ar": "ابتث",
}


def supported_languages(charset: set[str]) -> list[str]:
    return sorted(code for code, probe in PROBES.items() if all(ch in charset for ch in probe))


def check_languages(codes: list[str], service: OCRService) -> None:
    """400 naming the supported codes when any asked-for language cannot be read."""
    charset = set(service.require_pipeline().charset)
    supported = supported_languages(charset)
    unknown = [c for c in codes if c.lower() not in supported]
    if unknown:
        raise BadInput(f"language(s) {unknown} not supported by model set "
                       f"{service.require_pipeline().model_name}; supported: {', '.join(supported)}")
