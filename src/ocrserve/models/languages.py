"""Language codes -> the recogniser that reads them: PaddleOCR's codes (`lang`) and EasyOCR's (`languages`).

PaddleOCR routes a language to the PP-OCRv5 recogniser of its script group (`korean`, `latin`,
`eslav`, `arabic`, `devanagari`, `th`, `el`, `ta`, `te`, `en`; Kannada, `ka`, exists for PP-OCRv4
only).  The multilingual sets a server runs (PP-OCRv4/v5/v6: Chinese, Japanese, English and much of
the Latin alphabet) read a language themselves when their dictionary holds the characters it cannot
do without (its probe), so a Chinese, Japanese, English or Latin-script code is read by the server's
own set where its dictionary covers it, and every other code by its script group's set.  The groups follow PaddleOCR 3.x's own tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass

from ..errors import BadInput
from .registry import ALL_SETS, ModelSet

LATIN = ("af", "az", "bs", "cs", "cy", "da", "de", "es", "et", "fr", "ga", "hr", "hu", "id", "is", "it", "ku", "la",
         "lt", "lv", "mi", "ms", "mt", "nl", "no", "oc", "pi", "pl", "pt", "ro", "rs_latin", "sk", "sl", "sq", "sv",
         "sw", "tl", "tr", "uz", "vi", "french", "german", "fi", "eu", "gl", "lb", "rm", "ca", "qu")
ARABIC = ("ar", "fa", "ug", "ur", "ps", "sd", "bal")
ESLAV = ("ru", "be", "uk")
CYRILLIC = ("rs_cyrillic", "bg", "mn", "abq", "ady", "kbd", "ava", "dar", "inh", "che", "lbe", "lez", "tab", "kk",
            "ky", "tg", "mk", "tt", "cv", "ba", "mhr", "mo", "udm", "kv", "os", "bua", "xal", "tyv", "sah", "kaa")
DEVANAGARI = ("hi", "mr", "ne", "bh", "mai", "ang", "bho", "mah", "sck", "new", "gom", "sa", "bgc")
#: read by the multilingual recognisers themselves, in PaddleOCR as here
MULTILINGUAL = ("ch", "chinese_cht", "japan")

#: PaddleOCR language code -> the script group whose recogniser reads it
SCRIPT_OF: dict[str, str] = {
    **{code: "latin" for code in LATIN},
    **{code: "arabic" for code in ARABIC},
    **{code: "cyrillic" for code in CYRILLIC},
    **{code: "eslav" for code in ESLAV},  # PaddleOCR reads these with the East Slavic recogniser
    **{code: "devanagari" for code in DEVANAGARI},
    "korean": "korean", "th": "th", "el": "el", "ta": "ta", "te": "te", "ka": "ka", "en": "en",
}
#: EasyOCR's codes, and ISO 639-1 spellings, where PaddleOCR spells the language otherwise
ALIASES: dict[str, str] = {
    "ch_sim": "ch", "zh": "ch", "zh_cn": "ch", "ch_tra": "chinese_cht", "zh_tw": "chinese_cht", "ja": "japan",
    "ko": "korean", "kn": "ka", "sr": "rs_cyrillic", "ckb": "ku",
}
#: characters a language cannot do without: the server's own set reads it only if its dictionary holds them
PROBES: dict[str, str] = {
    "ch": "这个们说国", "chinese_cht": "這個們說國", "japan": "あいうアイウ", "en": "AZaz09",
    "fr": "éèàçêôœ", "german": "äöüßÄÖÜ", "de": "äöüßÄÖÜ", "es": "ñáéíóú¿¡", "it": "àèéìòù", "pt": "ãõçáâê",
    "nl": "éëï", "pl": "ąęłńśźżŁ", "cs": "čřšžůěý", "sk": "čšžľťď", "tr": "çğışöü", "vi": "ăâđêôơưạ",
    "ro": "ăâîșț", "hu": "őűáé", "da": "æøå", "no": "æøå", "sv": "åäö", "fi": "äö", "is": "þðæ",
    "korean": "가나다", "ru": "абвгдежыэ", "uk": "ієїґ", "be": "ўі", "ar": "ابتث", "hi": "कखगघ",
    "th": "กขค", "el": "αβγδ", "ta": "அஆஇ", "te": "అఆఇ", "ka": "ಅಆಇ",
}
LATIN_PROBE = "éèàçäöüñ"  # a Latin-script language without a probe of its own
#: the groups a multilingual set may read itself (None: Chinese, Japanese); every other script has a
#: recogniser of its own, which reads it better than a few of its letters in a multilingual dictionary
OWN_SCRIPTS = (None, "latin", "en")


@dataclass(frozen=True)
class Route:
    """A language and who reads it: `model_set` None is the server's own set."""

    code: str  # PaddleOCR's spelling
    model_set: str | None


def paddle_code(code: str) -> str:
    """A code as PaddleOCR spells it (EasyOCR's and ISO's accepted); BadInput for one no table knows."""
    key = code.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in SCRIPT_OF and key not in MULTILINGUAL:
        raise BadInput(f"unknown language {code!r}: give PaddleOCR's code (ch, en, korean, japan, ru, ar, hi, th, "
                       "fr, de, ...) or EasyOCR's (ch_sim, ko, ja, ...)")
    return key


def _probe(code: str) -> str | None:
    return PROBES.get(code) or (LATIN_PROBE if SCRIPT_OF.get(code) == "latin" else None)


def sets_by_script(sets: Iterable[ModelSet] | None = None) -> dict[str, str]:
    """Script group -> the registry set whose recogniser reads it."""
    return {s.script: s.name for s in (sets if sets is not None else ALL_SETS.values()) if s.script}


def route(code: str, own_charset: Set[str], by_script: dict[str, str] | None = None) -> Route:
    """Who reads language `code`: the server's own set when its dictionary holds the language's probe,
    else the set of its script group; BadInput naming why when neither can."""
    paddle = paddle_code(code)
    script = SCRIPT_OF.get(paddle)
    probe = _probe(paddle)
    if script in OWN_SCRIPTS and probe is not None and all(ch in own_charset for ch in probe):
        return Route(paddle, None)
    model_set = (by_script if by_script is not None else sets_by_script()).get(script) if script else None
    if model_set is None:
        what = f"the {script} recogniser" if script else "a recogniser for it"
        raise BadInput(f"language {code!r} cannot be read: this server's model set lacks its characters and "
                       f"{what} is not in the catalogue (`ocrserve models list`)")
    return Route(paddle, model_set)


def all_codes() -> list[str]:
    """Every code the tables know, PaddleOCR's spelling."""
    return sorted({*SCRIPT_OF, *MULTILINGUAL})
