"""ALTO XML v4.4 in pixel units: Page > PrintSpace > TextBlock > TextLine > String / SP."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from xml.sax.saxutils import quoteattr

from ..result import OCRPage
from ..version import __version__
from .bidi import right_to_left
from .layout import blocks, text_angle, words_of, xml_safe, xyxy
from .paged import PagedFormat

NAMESPACE = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
#: a right-to-left line or block (its String elements stay in logical order, the first read first)
_BASE_RTL = ' BASEDIRECTION="rtl"'


def _pos(box: Sequence[int]) -> str:
    x0, y0, x1, y1 = box
    return f'HPOS="{x0}" VPOS="{y0}" WIDTH="{max(x1 - x0, 0)}" HEIGHT="{max(y1 - y0, 0)}"'


def render_page(result: OCRPage, number: int = 1) -> str:
    angle = text_angle(result)
    rotation = f' ROTATION="{angle}"' if angle else ""
    out = [f'    <Page ID="page_{number}" PHYSICAL_IMG_NR="{number}" WIDTH="{result.width}" HEIGHT="{result.height}">',
           f'      <PrintSpace {_pos((0, 0, result.width, result.height))}>']
    for b, block in enumerate(blocks(result), start=1):
        rtl = [right_to_left(placed.line.text) for placed in block.lines]
        block_direction = _BASE_RTL if rtl and all(rtl) else ""  # ALTO 4.3's BASEDIRECTION, inherited by lines
        out.append(f'        <TextBlock ID="block_{number}_{b}" {_pos(block.box)}{rotation}{block_direction}>')
        for n, placed in enumerate(block.lines, start=1):
            line = placed.line
            direction = _BASE_RTL if rtl[n - 1] and not block_direction else ""
            out.append(f'          <TextLine ID="line_{number}_{b}_{n}" {_pos(xyxy(line.polygon))}{direction}>')
            wc = f"{max(0.0, min(1.0, line.score)):.3f}"
            for w, (text, poly) in enumerate(words_of(line)):
                if w:
                    out.append("            <SP/>")
                out.append(f"            <String CONTENT={quoteattr(xml_safe(text))} {_pos(xyxy(poly))} WC=\"{wc}\"/>")
            out.append("          </TextLine>")
        out.append("        </TextBlock>")
    out += ["      </PrintSpace>", "    </Page>"]
    return "\n".join(out)


def document(parts: Iterable[str], pages: int, name: str = "") -> Iterator[str]:

    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<alto xmlns="{NAMESPACE}" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="{NAMESPACE} {SCHEMA}">',
        "  <Description>",
        "    <MeasurementUnit>pixel</MeasurementUnit>",
        "    <sourceImageInformation>",
        f"      <fileName>{_text(name)}</fileName>",
        "    </sourceImageInformation>",
        '    <Processing ID="ocr_0">',
        "      <processingSoftware>",
        "        <softwareName>ocrserve</softwareName>",
        f"        <softwareVersion>{__version__}</softwareVersion>",
        "      </processingSoftware>",
        "    </Processing>",
        "  </Description>",
        "  <Layout>",
    ]
    yield "\n".join(head)
    for part in parts:
        yield "\n" + part
    yield "\n  </Layout>\n</alto>\n"


ALTO = PagedFormat(render_page, document)


def render_alto(results: Sequence[OCRPage], file_name: str = "") -> str:
    return ALTO.render(results, file_name)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
