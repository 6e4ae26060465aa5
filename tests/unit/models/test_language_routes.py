"""Language codes -> who reads them (models/languages.py): PaddleOCR's groups, EasyOCR's spellings, the
serving set's own dictionary first.  Tables alone: no model is loaded."""

from __future__ import annotations

import pytest

from ocrserve.errors import BadInput
from ocrserve.models.languages import ALIASES, SCRIPT_OF, all_codes, paddle_code, route, sets_by_script
from ocrserve.models.registry import ALL_SETS

LATIN_AND_CJK = set("这个们说国這個們說國あいうアイウAZaz09éèàçêôœäöüßÄÖÜñáíóú¿¡ìòùãõâëïåæø")


@pytest.mark.parametrize(("code", "expected"), [
    ("ru", "pp-ocrv5-eslav"), ("uk", "pp-ocrv5-eslav"), ("korean", "pp-ocrv5-korean"), ("ko", "pp-ocrv5-korean"),
    ("ar", "pp-ocrv5-arabic"), ("fa", "pp-ocrv5-arabic"), ("hi", "pp-ocrv5-devanagari"), ("mr", "pp-ocrv5-devanagari"),
    ("th", "pp-ocrv5-thai"), ("el", "pp-ocrv5-greek"), ("ta", "pp-ocrv5-tamil"), ("te", "pp-ocrv5-telugu"),
    ("ka", "pp-ocrv4-kannada"), ("kn", "pp-ocrv4-kannada"), ("pl", "pp-ocrv5-latin"),
])
def test_a_script_the_serving_set_lacks_goes_to_its_language_set(code, expected):
    assert route(code, LATIN_AND_CJK).model_set == expected


@pytest.mark.parametrize("code", ["ch", "ch_sim", "zh", "chinese_cht", "ch_tra", "japan", "ja", "en", "fr", "de",
                                  "german", "es", "it", "pt"])
def test_what_the_serving_sets_dictionary_covers_it_reads_itself(code):
    assert route(code, LATIN_AND_CJK).model_set is None


def test_without_the_characters_even_a_multilingual_code_goes_elsewhere_or_is_refused():
    assert route("en", set("abc")).model_set == "pp-ocrv5-english"  # the probe needs A-Z, a-z, 0-9
    assert route("fr", set("abcdefghijklmnopqrstuvwxyz")).model_set == "pp-ocrv5-latin"
    with pytest.raises(BadInput, match="cannot be read"):  # no Japanese set exists to send it to
        route("japan", set("abc"))


def test_a_group_without_a_recogniser_in_the_catalogue_is_refused_naming_why():
    with pytest.raises(BadInput, match="cyrillic recogniser is not in the catalogue"):
        route("bg", LATIN_AND_CJK)


@pytest.mark.parametrize("code", ["xx", "klingon", "", "../etc", "ru; DROP TABLE"])
def test_unknown_codes_are_refused_with_the_codes_to_use(code):
    with pytest.raises(BadInput, match="PaddleOCR's code"):
        paddle_code(code)


def test_spellings_are_normalised():
    assert paddle_code(" KO ") == "korean" and paddle_code("zh-CN") == "ch" and paddle_code("RU") == "ru"


def test_every_language_set_in_the_catalogue_is_reachable_and_every_alias_lands_on_a_known_code():
    by_script = sets_by_script()
    assert {s.name for s in ALL_SETS.values() if s.script} == set(by_script.values())
    assert set(by_script) <= set(SCRIPT_OF.values())
    assert all(target in all_codes() for target in ALIASES.values())
