"""Text formats from one place: plain text, Markdown, hOCR, ALTO v4 (against the published XSD), JSON."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest

from _support.paths import DATA
from ocrserve.cli import main
from ocrserve.errors import BadInput
from ocrserve.export import FORMATS, export, get_format
from ocrserve.result import OCRPage, TextLine

ALTO_DIR = DATA / "alto"
ALTO_NS = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def alto_schema():
    import xmlschema  # in the test extra
    # the published schema imports xlink from its web address: read it from the copy beside it instead
    text = (ALTO_DIR / "alto-4-4.xsd").read_text(encoding="utf-8").replace(
        'schemaLocation="http://www.loc.gov/standards/xlink/xlink.xsd"', 'schemaLocation="xlink.xsd"')
    return xmlschema.XMLSchema(io.StringIO(text), base_url=str(ALTO_DIR) + "/")


@pytest.fixture(scope="module")
def scene(ocr_default, samples_dir):
    """An OCRed image with word boxes: three lines, the middle one upside down."""
    return ocr_default(str(samples_dir / "scenes/s05_line_rot180.png"), return_word_box=True)


@pytest.fixture(scope="module")
def rotated(ocr_default, samples_dir):
    """A page turned 270 degrees: lines run bottom to top in the image's pixels."""
    return ocr_default(str(samples_dir / "scenes/s07_image_rot270_en.png"))


@pytest.fixture(scope="module")
def manual(ocr_default, samples_dir):
    """Three pages of a typeset manual, read from their text layer."""
    return ocr_default(str(samples_dir / "pdf/tasn1_p6-8.pdf"))


def test_text_is_lines_in_reading_order(scene, manual):
    assert scene.to_text() == "\n".join(line.text for line in scene.lines) + "\n"
    text = export(manual, "txt").decode()
    assert text.count("\f") == 2 and text.split("\f")[1].startswith(manual[1].lines[0].text)


def test_markdown_headings_paragraphs_and_lists(manual):
    md = manual[0].to_markdown()
    assert "### 2.2 Naming" in md.splitlines() or "## 2.2 Naming" in md.splitlines()
    assert "- UTF8String;" in md.splitlines()
    # a paragraph's lines are joined: no line of the output ends inside the sentence about REAL
    assert any(line.startswith("This version doesn’t handle the REAL type. It doesn’t support") for line in md.splitlines())
    assert export(manual, "md").decode().count("\n---\n") == 2


def test_markdown_escapes_what_would_be_markup(manual):
    md = manual[0].to_markdown()
    assert "\\<" in md or "<" not in md
    assert "\n2.2 " not in md  # a numbered heading is not turned into an ordered list


def test_hocr_pages_lines_words_with_boxes(scene, manual):
    root = ET.fromstring(export([scene, *manual], "hocr"))
    pages = root.findall(f".//{XHTML}div[@class='ocr_page']")
    assert len(pages) == 4
    words = pages[0].findall(f".//{XHTML}span[@class='ocrx_word']")
    assert " ".join(w.text for w in words) == " ".join(" ".join(line.text.split()) for line in scene.lines)
    for word in words:
        bbox, conf = word.get("title").split("; ")
        x0, y0, x1, y1 = map(int, bbox.split()[1:])
        assert 0 <= x0 < x1 <= scene.width and 0 <= y0 < y1 <= scene.height
        assert 0 <= int(conf.split()[1]) <= 100


def test_alto_is_valid_v4(alto_schema, scene, rotated, manual):
    for results in ([scene], [rotated], manual):
        alto_schema.validate(export(results, "alto", name="input.png").decode())


def test_alto_content_and_rotation(rotated, scene):
    root = ET.fromstring(rotated.to_alto())
    strings = root.findall(".//a:String", ALTO_NS)
    assert " ".join(s.get("CONTENT") for s in strings) == " ".join(" ".join(line.text.split()) for line in rotated.lines)
    assert {b.get("ROTATION") for b in root.findall(".//a:TextBlock", ALTO_NS)} == {"90"}
    page = root.find(".//a:Page", ALTO_NS)
    assert (int(page.get("WIDTH")), int(page.get("HEIGHT"))) == (rotated.width, rotated.height)
    assert all(0 <= float(s.get("WC")) <= 1 for s in ET.fromstring(scene.to_alto()).findall(".//a:String", ALTO_NS))


def test_json_is_pruned_result_per_page(manual, scene):
    pages = json.loads(export(manual, "json"))
    assert [p["page"] for p in pages] == [1, 2, 3]
    assert pages[0]["prunedResult"]["rec_texts"] == manual[0].texts
    assert pages[0]["prunedResult"]["text_source"] == "text_layer"
    one = json.loads(export([scene], "json"))
    assert one[0]["page"] is None and "text_source" not in one[0]["prunedResult"]  # OCR output unchanged


def test_formats_and_aliases():
    assert set(FORMATS) == {"txt", "md", "hocr", "alto", "json", "pdf"}
    assert get_format("Markdown").name == "md" and get_format("text").name == "txt"
    with pytest.raises(BadInput, match="unknown output format"):
        get_format("docx")


def test_cli_writes_every_format_per_input(samples_dir, tmp_path):
    image, pdf = samples_dir / "scenes/s07_image_rot270_en.png", samples_dir / "pdf/smi_p8-10.pdf"
    assert main(["predict", str(image), str(pdf), "--format", "txt,md,hocr,alto,json,pdf",
                 "--save-path", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_file())  # the layout's figures are in imgs/
    assert names == sorted(f"{stem}{FORMATS[f].extension}" for stem in (image.stem, pdf.stem) for f in FORMATS)
    assert (tmp_path / "smi_p8-10.pdf").read_bytes() == pdf.read_bytes()  # text-layer pages pass through
    assert "sort - sort lines of text files" in (tmp_path / "s07_image_rot270_en.txt").read_text()


def test_cli_one_text_format_to_stdout(samples_dir, capsys):
    # the geometry's Markdown (--no-layout) marks list items; the layout model has no list label
    assert main(["predict", "--format", "md", "--no-layout", str(samples_dir / "pdf/tasn1_p6-8.pdf")]) == 0
    assert "- UTF8String;" in capsys.readouterr().out


def test_cli_pdf_needs_a_directory(samples_dir, capsys):
    assert main(["predict", "--format", "pdf", str(samples_dir / "pdf/tasn1_p6-8.pdf")]) == 2
    assert "--save-path" in capsys.readouterr().err


COMPLEX_LINES = ["مرحبا بالعالم 2026", "हिन्दी में पढ़ें", "ภาษาไทย ที่นี่", "Ελληνικά κείμενο"]


def complex_script_page() -> OCRPage:
    """A built page (no engine) with an Arabic line and Devanagari, Thai and Greek ones full of combining marks."""
    lines = [TextLine(text, 0.9, [[20, 30 + 60 * i], [620, 30 + 60 * i], [620, 70 + 60 * i], [20, 70 + 60 * i]])
             for i, text in enumerate(COMPLEX_LINES)]
    return OCRPage(width=640, height=300, lines=lines, detected_polygons=[line.polygon for line in lines],
                   doc_angle=0, det_params={}, text_rec_score_thresh=0.0, use_textline_orientation=False,
                   return_word_box=False)


def test_complex_scripts_keep_every_mark_and_hocr_marks_right_to_left_lines(alto_schema):
    page = complex_script_page()
    for fmt in ("txt", "md", "hocr", "alto", "json"):
        out = export([page], fmt).decode("utf-8")
        for text in COMPLEX_LINES:  # word by word where a format splits lines into words
            assert all(word in out for word in text.split()), (fmt, text)
    hocr = ET.fromstring(export([page], "hocr"))
    lines = [el for el in hocr.iter() if el.get("class") == "ocr_line"]
    assert [el.get("dir") for el in lines] == ["rtl", None, None, None]
    alto = export([page], "alto").decode()
    alto_schema.validate(alto)
    # ALTO 4.3's base direction, on the line or inherited from its block; Strings stay in logical order
    blocks = ET.fromstring(alto).iterfind(".//a:TextBlock", ALTO_NS)
    directions = [line.get("BASEDIRECTION", block.get("BASEDIRECTION")) for block in blocks
                  for line in block.iterfind("a:TextLine", ALTO_NS)]
    assert directions == ["rtl", None, None, None]
    first = ET.fromstring(alto).find(".//a:TextLine/a:String", ALTO_NS)
    assert first is not None and first.get("CONTENT") == COMPLEX_LINES[0].split()[0]
