"""hOCR 1.2: XHTML with ocr_page / ocr_par / ocr_line / ocrx_word and their bbox and x_wconf."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from html import escape

from ..result import OCRPage
from ..version import __version__
from .bidi import right_to_left
from .layout import blocks, words_of, xml_safe, xyxy
from .paged import PagedFormat


def _bbox(box: Sequence[int]) -> str:
    return "bbox {} {} {} {}".format(*box)


def render_page(result: OCRPage, number: int = 1) -> str:
    out = [f'  <div class="ocr_page" id="page_{number}" title="{_bbox((0, 0, result.width, result.height))}; '
           f'ppageno {number - 1}">']
    for b, block in enumerate(blocks(result), start=1):
        out.append(f'   <p class="ocr_par" id="par_{number}_{b}" title="{_bbox(block.box)}">')
        for placed in block.lines:
            line = placed.line
            lid = f"line_{number}_{b}_{len(out)}"
            direction = ' dir="rtl"' if right_to_left(line.text) else ""  # so that readers lay out and copy it right
            out.append(f'    <span class="ocr_line" id="{lid}" title="{_bbox(xyxy(line.polygon))}"{direction}>')
            for w, (text, poly) in enumerate(words_of(line), start=1):
                conf = int(round(max(0.0, min(1.0, line.score)) * 100))
                out.append(f'     <span class="ocrx_word" id="word_{lid[5:]}_{w}" '
                           f'title="{_bbox(xyxy(poly))}; x_wconf {conf}">{escape(xml_safe(text))}</span>')
            out.append("    </span>")
        out.append("   </p>")
    out.append("  </div>")
    return "\n".join(out)


def document(parts: Iterable[str], pages: int, name: str = "") -> Iterator[str]:

    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
        " <head>",
        "  <title></title>",
        '  <meta http-equiv="Content-Type" content="text/html; charset=utf-8"/>',
        f'  <meta name="ocr-system" content="ocrserve {__version__}"/>',
        '  <meta name="ocr-capabilities" content="ocr_page ocr_par ocr_line ocrx_word"/>',
        f'  <meta name="ocr-number-of-pages" content="{pages}"/>',
        " </head>",
        " <body>",
    ]
    yield "\n".join(head)
    for part in parts:
        yield "\n" + part
    yield "\n </body>\n</html>\n"


HOCR = PagedFormat(render_page, document)


def render_hocr(results: Sequence[OCRPage]) -> str:
    return HOCR.render(results)
