"""Text every output can encode: surrogate pairs joined into their code point, lone halves as U+FFFD.

A Python string can hold UTF-16 surrogates (a PDF's text layer gives characters outside the Basic
Multilingual Plane as two halves, a JSON body may escape a lone one), and UTF-8 refuses them.  The
sources mend their own text (`textlayer`); these helpers are the last line before bytes, so that no
string, however strange, turns an answer into a 500.
"""

from __future__ import annotations

import codecs
import logging
import re

log = logging.getLogger("ocrserve")

_SURROGATE = re.compile("[\ud800-\udfff]")
#: the error handler for `str.encode(..., errors=ENCODE_ERRORS)` and text streams: U+FFFD for a lone half
ENCODE_ERRORS = "ocrserve.proper_unicode"


def proper_unicode(text: str) -> str:
    """`text` with each surrogate pair as its one code point and each lone surrogate as U+FFFD."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _replace_surrogates(exc: UnicodeError) -> tuple[bytes, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    # bytes, because the UTF-8 encoder takes only ASCII as a str replacement
    return proper_unicode(exc.object[exc.start:exc.end]).encode(exc.encoding, "replace"), exc.end


codecs.register_error(ENCODE_ERRORS, _replace_surrogates)


def utf8(text: str, *, what: str) -> bytes:
    """`text` as UTF-8; characters it cannot encode become U+FFFD, with one warning naming `what`."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        log.warning("%s held characters UTF-8 cannot encode (lone UTF-16 surrogates); written as U+FFFD", what)
        return text.encode("utf-8", errors=ENCODE_ERRORS)
