"""Markdown from geometry alone: paragraphs at wide gaps, headings for short blocks of large text.

No layout model: a block's line height against the page's median line height decides its
heading level, which is what a reader of a typeset page sees too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from ..result import OCRPage
from .layout import Block, blocks, is_bullet
from .paged import PagedFormat, between, stripped

_LEADING_MARKER = re.compile(r"^(\s*)([#>+\-*=|]|\d+[.)](?=\s))")
_INLINE = re.compile(r"([\\`*_\[\]<>])")


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x2E80 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFFEF


def join_lines(texts: Sequence[str]) -> str:
    """Lines of one paragraph as one string: no space between CJK lines, hyphenated words rejoined."""
    out = ""
    for text in (t.strip() for t in texts):
        if not text:
            continue
        if not out:
            out = text
        elif out.endswith("-") and len(out) > 1 and out[-2].isalpha() and text[0].islower():
            out = out[:-1] + text
        elif _is_cjk(out[-1]) or _is_cjk(text[0]):
            out += text
        else:
            out += " " + text
    return out


def escape_inline(text: str) -> str:
    """Markdown's inline markup characters escaped (a heading's text, whose start is no list marker)."""
    return _INLINE.sub(r"\\\1", text)


def escape(text: str) -> str:
    return _LEADING_MARKER.sub(lambda m: m.group(1) + "\\" + m.group(2), escape_inline(text))


def _visible(text: str) -> bool:
    """Whether `text` shows anything: not only spaces and format characters such as U+200B."""
    return any(ch.isprintable() and not ch.isspace() for ch in text)


def render_block(block: Block) -> str:
    """One block as Markdown; empty when it shows nothing, and a heading only when it has a letter
    or digit (a large rule of dashes or dots is no title)."""
    texts = [p.line.text for p in block.lines]
    if is_bullet(texts[0]):
        item = join_lines([texts[0].lstrip()[2:], *texts[1:]])
        return "- " + escape(item) if _visible(item) else ""
    plain = join_lines(texts)
    if not _visible(plain):
        return ""
    text = escape(plain)
    if block.level and any(ch.isalnum() for ch in plain):
        return f"{'#' * block.level} {text}"
    return text


def render_page(result: OCRPage, number: int = 1) -> str:
    return "\n\n".join(part for part in (render_block(b) for b in blocks(result)) if part)


def document(parts: Iterable[str], pages: int, name: str = "") -> Iterator[str]:
    """Pages apart by a rule, the whole stripped and ended by one newline."""
    yield from stripped(between(parts, "\n\n---\n\n"))
    yield "\n"


MARKDOWN = PagedFormat(render_page, document)


def render_markdown(results: Sequence[OCRPage]) -> str:
    return MARKDOWN.render(results)
