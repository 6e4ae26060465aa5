"""Small PDFs written byte by byte, one per text-layer case the checks must tell apart.

Written here, not with the code under test, so that a bug in ocrserve's own PDF writer cannot
hide a bug in its reader.  Pages are US Letter (612 x 792 pt); text is 12 pt.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 612, 792
LINES = ["The quick brown fox jumps over the lazy dog.", "Pack my box with five dozen liquor jugs.",
         "Sphinx of black quartz, judge my vow."]
HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def build(objects: list[bytes]) -> bytes:
    """Objects 1..n (1 is the catalog) into a file with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def stream(data: bytes, extra: str = "") -> bytes:
    return f"<< /Length {len(data)} {extra} >>\nstream\n".encode() + data + b"\nendstream"


def text_ops(lines: list[str], mode: int = 0, x: float = 72, y: float = 700, size: float = 12,
             encode=lambda s: "(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")") -> bytes:
    ops = [f"BT {mode} Tr /F1 {size} Tf"]
    for i, line in enumerate(lines):
        ops.append(f"1 0 0 1 {x} {y - i * size * 1.5} Tm {encode(line)} Tj")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def page_image(lines: list[str], scale: float = 2.0, x: float = 72, y: float = 700, size: float = 12) -> Image.Image:
    """The lines drawn black on white at `scale` pixels per point, where the text ops would put them."""
    img = Image.new("L", (int(WIDTH * scale), int(HEIGHT * scale)), 255)
    draw = ImageDraw.Draw(img)
    # DejaVu where installed (Debian's fonts-dejavu-core), else Pillow's own scalable default font
    font = (ImageFont.truetype("DejaVuSans.ttf", int(size * scale)) if _has_dejavu()
            else ImageFont.load_default(size=int(size * scale)))
    for i, line in enumerate(lines):
        baseline = (HEIGHT - (y - i * size * 1.5)) * scale
        draw.text((x * scale, baseline), line, fill=0, font=font, anchor="ls")
    return img


def _has_dejavu() -> bool:
    try:
        ImageFont.truetype("DejaVuSans.ttf", 10)
        return True
    except OSError:
        return False


def jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def one_page(content: bytes, font: bytes | None = HELVETICA, extra_objects: list[bytes] = (),
             image: Image.Image | None = None, image_box: tuple[float, float, float, float] | None = None) -> bytes:
    """Catalog 1, pages 2, page 3, content 4, font 5, image 6, then `extra_objects` (7...)."""
    resources = "/Font << /F1 5 0 R >>"
    pre = b""
    if image is not None:
        x0, y0, x1, y1 = image_box or (0, 0, WIDTH, HEIGHT)
        resources += " /XObject << /Im0 6 0 R >>"
        pre = f"q {x1 - x0} 0 0 {y1 - y0} {x0} {y0} cm /Im0 Do Q\n".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] /Resources << {resources} >> "
        f"/Contents 4 0 R >>".encode(),
        stream(pre + content),
        font or b"null",
        stream(jpeg(image), f"/Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
               "/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode") if image is not None else b"null",
        *extra_objects,
    ]
    return build(objects)


def text_pdf() -> bytes:
    """A born-digital page: three lines of Helvetica with a proper encoding."""
    return one_page(text_ops(LINES))


def unmapped_pdf() -> bytes:
    """A Type0 font with Identity-H codes and no ToUnicode map: the codes mean nothing as text."""
    font = (b"<< /Type /Font /Subtype /Type0 /BaseFont /XYZABC+Custom /Encoding /Identity-H "
            b"/DescendantFonts [7 0 R] >>")
    cid = (b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /XYZABC+Custom /CIDSystemInfo << /Registry (Adobe) "
           b"/Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R /DW 600 >>")
    desc = (b"<< /Type /FontDescriptor /FontName /XYZABC+Custom /Flags 4 /FontBBox [0 -200 1000 800] "
            b"/ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >>")
    # glyph ids of a subset font: 3, 4, 5 ... as a subsetter numbers them, nothing to do with Unicode
    encode = lambda s: "<" + "".join(f"{3 + (ord(c) % 40):04X}" for c in s) + ">"  # noqa: E731
    return one_page(text_ops(LINES, encode=encode), font, [cid, desc])


def private_use_pdf() -> bytes:
    """A ToUnicode map that sends every code to the private-use area (a symbol font's habit)."""
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /ToUnicode 7 0 R >>"
    rows = "\n".join(f"<{c:02X}> <{0xF000 + c:04X}>" for c in range(32, 127))
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Custom def /CMapType 2 def\n"
            "1 begincodespacerange <00> <FF> endcodespacerange\n"
            f"95 beginbfchar\n{rows}\nendbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n")
    return one_page(text_ops(LINES), font, [stream(cmap.encode())])


def invisible_ocr_pdf() -> bytes:
    """A scan with an older OCR tool's invisible text (render mode 3) over its lines: a good layer."""
    return one_page(text_ops(LINES, mode=3), image=page_image(LINES))


def partial_pdf() -> bytes:
    """A scan whose only text is a stamped footer: the layer says nothing of what the image shows."""
    return one_page(text_ops(["Received 2026-11-30"], x=72, y=40, size=8), image=page_image(LINES))


FIGURE_LINES = ["Figure 2: invoice 2026-0042", "Total due 118.00 EUR"]
FIGURE_BOX = (72.0, 300.0, 432.0, 420.0)  # points: below the text, left of the page's middle


def figure_image(lines: list[str], box: tuple[float, float, float, float] = FIGURE_BOX, scale: float = 2.0,
                 size: float = 14) -> Image.Image:
    """A screenshot-like figure: text drawn in pixels, with no text layer of its own."""
    width, height = int((box[2] - box[0]) * scale), int((box[3] - box[1]) * scale)
    img = Image.new("L", (width, height), 235)
    draw = ImageDraw.Draw(img)
    font = (ImageFont.truetype("DejaVuSans.ttf", int(size * scale)) if _has_dejavu()
            else ImageFont.load_default(size=int(size * scale)))
    for i, line in enumerate(lines):
        draw.text((12 * scale, (20 + i * size * 1.8) * scale), line, fill=0, font=font, anchor="ls")
    return img


def figure_pdf() -> bytes:
    """A text page with a figure whose words exist only as pixels: the figure alone needs OCR."""
    return one_page(text_ops(LINES), image=figure_image(FIGURE_LINES), image_box=FIGURE_BOX)


def scanned_pdf() -> bytes:
    """A scan and nothing else."""
    return one_page(b"", font=None, image=page_image(LINES))


def rotated_scan_pdf(rotate: int) -> bytes:
    """A scan on a page with /Rotate: its image is upright once the viewer turns the page."""
    data = scanned_pdf()
    return data.replace(b"/Type /Page /Parent 2 0 R", f"/Type /Page /Parent 2 0 R /Rotate {rotate}".encode(), 1)


#: what `unicode_pdf`'s fourth line says, each character through its own ToUnicode entry
ASTRAL_LINE = "Math 𝑎𝑰 name 𠀋 smile 😀 office"
LONE_HALVES = ("\ud835", "\udc4e")


def unicode_pdf(lone_halves: bool = True) -> bytes:
    """Helvetica whose ToUnicode map names characters outside the Basic Multilingual Plane (math
    letters as unicode-math sets them, a CJK Extension B ideograph, an emoji), a ligature, and, as a
    broken map does, a lone surrogate half and a control character."""
    specials = {"\x80": "𝑎", "\x81": "𝑰", "\x82": "𠀋", "\x83": "😀", "\x84": "ﬃ"}
    broken = {"\x85": LONE_HALVES[0], "\x86": LONE_HALVES[1], "\x87": "\x07"}
    rows = [f"<{ord(code):02X}> <{text.encode('utf-16-be', 'surrogatepass').hex().upper()}>"
            for code, text in {**specials, **broken}.items()]
    rows += [f"<{c:02X}> <{c:04X}>" for c in range(32, 127)]
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Custom def /CMapType 2 def\n"
            "1 begincodespacerange <00> <FF> endcodespacerange\n"
            f"{len(rows)} beginbfchar\n" + "\n".join(rows) + "\nendbfchar\nendcmap CMapName currentdict /CMap "
            "defineresource pop end end\n")
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding /ToUnicode 7 0 R >>"
    fourth = "Math \x80\x81 name \x82 smile \x83 o\x84ce" + (" \x85 \x86\x87" if lone_halves else "")
    encode = lambda s: "<" + s.encode("latin-1").hex().upper() + ">"  # noqa: E731
    return one_page(text_ops([*LINES, fourth], encode=encode), font, [stream(cmap.encode())])


def text_pages_pdf(pages: list[list[str]]) -> bytes:
    """A born-digital document: page i holds the lines `pages[i]` in Helvetica (read from its layer, no OCR)."""
    return build(_text_pages_objects(pages))


def _text_pages_objects(pages: list[list[str]]) -> list[bytes]:
    """`text_pages_pdf`'s objects: catalog 1, pages 2, page i at 3 + 2i with its content after it, the font last."""
    n = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode()]
    font = 3 + 2 * n
    for i, lines in enumerate(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] /Resources << /Font "
                       f"<< /F1 {font} 0 R >> >> /Contents {4 + 2 * i} 0 R >>".encode())
        objects.append(stream(text_ops(lines)))
    objects.append(HELVETICA)
    return objects


def outlined_pdf(pages: list[list[str]], outline: list[tuple[str, int, int | None]], named: bool = False) -> bytes:
    """`text_pages_pdf`'s document with an outline: `outline` lists (title, depth, page index or None for a
    bookmark to nowhere) in the outline's order, each entry a child of the last one above its depth.
    Bookmarks point at their page with a `/Dest` array, or when `named` as hyperref does: a GoTo action
    to a named destination of the catalog's `/Dests`."""
    objects = _text_pages_objects(pages)
    root = len(objects) + 1
    first_item = root + 1
    parents: list[int | None] = []
    stack: list[int] = []  # the item numbers of the open entries, one per depth
    for k, (_, depth, _) in enumerate(outline):
        del stack[depth:]
        parents.append(stack[-1] if stack else None)
        stack.append(first_item + k)
    items = [first_item + k for k in range(len(outline))]

    def children(parent: int | None) -> list[int]:
        return [item for item, up in zip(items, parents) if up == parent]

    def links(parent: int | None, item: int) -> str:
        kids, siblings = children(item), children(parent)
        at = siblings.index(item)
        out = f"/Parent {parent or root} 0 R"
        out += f" /Prev {siblings[at - 1]} 0 R" if at > 0 else ""
        out += f" /Next {siblings[at + 1]} 0 R" if at + 1 < len(siblings) else ""
        return out + (f" /First {kids[0]} 0 R /Last {kids[-1]} 0 R /Count {len(kids)}" if kids else "")

    dests = []
    for k, ((title, _, page), item) in enumerate(zip(outline, items)):
        target = "" if page is None else f"[{3 + 2 * page} 0 R /XYZ 0 {HEIGHT} 0]"
        if page is not None and named:
            dests.append(f"/entry{k} {target}")
            target = f"/A << /S /GoTo /D /entry{k} >>"
        elif page is not None:
            target = f"/Dest {target}"
        escaped = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        objects.append(f"<< /Title ({escaped}) {links(parents[k], item)} {target} >>".encode("latin-1"))
    top = children(None)
    objects.insert(root - 1, f"<< /Type /Outlines /First {top[0]} 0 R /Last {top[-1]} 0 R /Count {len(top)} >>"
                   .encode())
    objects[0] = (f"<< /Type /Catalog /Pages 2 0 R /Outlines {root} 0 R /PageMode /UseOutlines "
                  f"/Dests << {' '.join(dests)} >> >>").encode()
    return build(objects)


def image_pages_pdf(texts: list[str], size: tuple[int, int] = (260, 40)) -> bytes:
    """A scan-like document of small pages, one line of text drawn on each and no text layer (so each
    page is OCRed, fast): page i shows `texts[i]`, `size` points (72 dpi pixels) per page."""
    images = []
    for text in texts:
        img = Image.new("L", size, 255)
        font = ImageFont.truetype("DejaVuSans.ttf", 20) if _has_dejavu() else ImageFont.load_default(size=20)
        ImageDraw.Draw(img).text((10, size[1] // 2), text, fill=0, font=font, anchor="lm")
        images.append(img)
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=72.0)
    return buf.getvalue()
