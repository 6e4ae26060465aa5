"""A PDF's outline: read once per document, each page handed the entries that point at it, however it is read."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from _support import pdfs
from ocrserve.inputs import Limits
from ocrserve.inputs.outline import read_outline
from ocrserve.inputs.pdf import PdfPages
from ocrserve.result import OutlineEntry

PAGES = [["1 Introduction", "The first page."], ["2 Usage", "Load it.", "2.1 Keys (all)"], ["Index"]]
OUTLINE = [("1 Introduction", 0, 0), ("2 Usage", 0, 1), ("2.1 Keys (all)", 1, 1), ("2.1.1 Deep", 2, 1),
           ("A link elsewhere", 0, None), ("Index", 0, 2)]


@pytest.mark.parametrize("named", [False, True], ids=["dest", "named-goto"])
def test_each_page_gets_the_entries_that_point_at_it_with_their_depth(named):
    doc = pdfium.PdfDocument(pdfs.outlined_pdf(PAGES, OUTLINE, named=named))
    try:
        outline = read_outline(doc)
    finally:
        doc.close()
    assert outline == {0: (OutlineEntry("1 Introduction", 0),),
                       1: (OutlineEntry("2 Usage", 0), OutlineEntry("2.1 Keys (all)", 1), OutlineEntry("2.1.1 Deep", 2)),
                       2: (OutlineEntry("Index", 0),)}


def test_a_pdf_without_an_outline_has_none():
    with PdfPages(pdfs.text_pages_pdf(PAGES), Limits()) as pages:
        assert [pages.outline(k) for k in range(len(pages))] == [(), (), ()]


def test_the_library_hands_each_page_its_entries_whether_read_from_its_layer_or_ocred(ocr_default):
    data = pdfs.outlined_pdf(PAGES, OUTLINE)
    (layer,) = ocr_default.pages(data, pages=[1])
    assert layer.source == "text_layer" and layer.page_index == 1
    assert [entry.title for entry in layer.outline] == ["2 Usage", "2.1 Keys (all)", "2.1.1 Deep"]
    (ocred,) = ocr_default.pages(data, pdf_text="ocr", pages=[2])
    assert ocred.source == "ocr" and ocred.outline == (OutlineEntry("Index", 0),)


def test_pages_outside_the_document_are_refused(ocr_default):
    with pytest.raises(Exception, match="page index 3 is outside the 3 page"):
        list(ocr_default.pages(pdfs.text_pages_pdf(PAGES), pages=[0, 3]))
