"""The invisible text's font: a Type0 font with Identity-H codes and no glyphs to draw.

Text drawn in render mode 3 is never painted, so no glyph outlines are needed; what readers
use is the ToUnicode map (code -> character, for search, copy and extraction) and the widths
(every glyph one em wide, so a run of n characters scales exactly onto its box).  Codes are
given out per document, one per distinct character, so any Unicode text, CJK included, fits.
"""

from __future__ import annotations

ASCENT, DESCENT = 800, -200  # in 1/1000 em: a glyph spans 0.2 em below the baseline to 0.8 above


class CodeMap:
    """Characters -> 2-byte codes, shared by every page of one document."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}

    def encode(self, text: str) -> str:
        """Hex string of the text's codes, for a `<...> Tj` operand."""
        out = []
        for ch in text:
            code = self.codes.get(ch)
            if code is None:
                if len(self.codes) >= 0xFFFE:
                    raise ValueError("more than 65534 distinct characters in one document")
                code = self.codes[ch] = len(self.codes) + 1
            out.append(f"{code:04X}")
        return "".join(out)

    def to_unicode(self) -> bytes:
        """The ToUnicode CMap stream's content."""
        rows = [f"<{code:04X}> <{ch.encode('utf-16-be').hex().upper()}>" for ch, code in self.codes.items()]
        chunks = []
        for i in range(0, len(rows), 100):  # a bfchar block holds at most 100 entries
            part = rows[i : i + 100]
            chunks.append(f"{len(part)} beginbfchar\n" + "\n".join(part) + "\nendbfchar")
        body = "\n".join(chunks)
        return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
                f"{body}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n").encode("ascii")


def type0_font(cid_font_id: int, to_unicode_id: int) -> bytes:
    return (f"<< /Type /Font /Subtype /Type0 /BaseFont /GlyphLessFont /Encoding /Identity-H "
            f"/DescendantFonts [{cid_font_id} 0 R] /ToUnicode {to_unicode_id} 0 R >>").encode()


def cid_font(descriptor_id: int) -> bytes:
    return (f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /GlyphLessFont "
            f"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
            f"/FontDescriptor {descriptor_id} 0 R /DW 1000 /CIDToGIDMap /Identity >>").encode()


def font_descriptor() -> bytes:
    return (f"<< /Type /FontDescriptor /FontName /GlyphLessFont /Flags 5 /FontBBox [0 {DESCENT} 1000 {ASCENT}] "
            f"/ItalicAngle 0 /Ascent {ASCENT} /Descent {DESCENT} /CapHeight {ASCENT} /StemV 80 >>").encode()
