"""`OCR` reads every page of a PDF: the page caps of the settings are the HTTP service's, and when
one is set for the library too, the pages it leaves unread are reported with a warning."""

from __future__ import annotations

import warnings

import pypdfium2 as pdfium
import pytest

from _support.pdfs import image_pages_pdf, text_pages_pdf
from ocrserve import OCR, PagesNotReadWarning, load_settings
from ocrserve.inputs import Limits
from ocrserve.ocr import library_limits

MODEL = "pp-ocrv4-mobile"
PAGES = 12
TEXTS = [f"Page {n} of twelve" for n in range(1, PAGES + 1)]
CAPS = ("OCR_MAX_PDF_PAGES", "OCR_MAX_PDF_DOCUMENT_PAGES", "OCR_CONFIG_FILE")


@pytest.fixture(autouse=True)
def no_caps_set(monkeypatch):
    """A user who set no page cap (whatever the machine running the tests has set)."""
    for name in CAPS:
        monkeypatch.delenv(name, raising=False)


def squeezed(text: str) -> str:
    return "".join(text.split())  # the recogniser may drop a space between words; the words are what count


def text_layer_pdf() -> bytes:
    return text_pages_pdf([[text] for text in TEXTS])


def test_every_page_by_default_ocr_and_save_pdf(tmp_path):
    """Twelve scanned pages (no text layer): every one is OCRed by `OCR()(...)`, and every one gets its
    text in `save_pdf`'s searchable PDF, with no warning."""
    path = tmp_path / "manual.pdf"
    path.write_bytes(image_pages_pdf(TEXTS))
    ocr = OCR(model=MODEL)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = ocr(path)
        out = ocr.save_pdf(path, tmp_path / "out" / "manual.pdf")
    assert [r.page_index for r in results] == list(range(PAGES))
    assert [squeezed(" ".join(r.texts)) for r in results] == [squeezed(t) for t in TEXTS]
    doc = pdfium.PdfDocument(out.read_bytes())
    try:
        assert len(doc) == PAGES
        assert [squeezed(doc[i].get_textpage().get_text_range()) for i in range(PAGES)] == [squeezed(t) for t in TEXTS]
    finally:
        doc.close()
    assert not [w for w in caught if issubclass(w.category, PagesNotReadWarning)]


def test_every_page_by_default_pages_and_export(tmp_path):
    """Text-layer pages (read without OCR): `pages` and `export` give all twelve, from a path or bytes."""
    data = text_layer_pdf()
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    ocr = OCR(model=MODEL)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PagesNotReadWarning)
        assert [r.texts for r in ocr.pages(path)] == [[t] for t in TEXTS]
        assert [r.texts for r in ocr.pages(data)] == [[t] for t in TEXTS]
        assert [page.strip() for page in ocr.export(data, "txt").decode().split("\f")] == TEXTS
    # a page read from its layer is not rendered (a long born-digital PDF costs no page images) unless asked
    assert next(ocr.pages(path)).image is None
    drawn = next(ocr.pages(path, render_layer_pages=True))
    assert drawn.image is not None and drawn.image.shape[:2] == (1584, 1224)
    assert drawn.save_image(tmp_path / "drawn").is_file()
    # the service's defaults (10 pages, 1000-page documents) stay the service's
    settings = load_settings(model=MODEL)
    assert (Limits.from_settings(settings).max_pdf_pages, Limits.from_settings(settings).max_pdf_document_pages) == (10, 1000)
    assert (ocr.limits.max_pdf_pages, ocr.limits.max_pdf_document_pages) == (0, 0)
    assert library_limits(settings) == ocr.limits


def test_an_explicit_cap_is_read_and_reported(tmp_path):
    """`max_pdf_pages=4`: four pages, and a warning naming four of twelve that points at the caller's line."""
    path = tmp_path / "report.pdf"
    path.write_bytes(text_layer_pdf())
    ocr = OCR(model=MODEL, max_pdf_pages=4)
    with pytest.warns(PagesNotReadWarning, match=f"{path}: reading the first 4 of its 12 pages") as caught:
        results = ocr(path)
    assert [r.texts for r in results] == [[t] for t in TEXTS[:4]]
    assert caught[0].filename == __file__  # the caller's line, not the library's
    with pytest.warns(PagesNotReadWarning, match="the PDF: reading the first 4 of its 12 pages") as caught:
        assert len(list(ocr.pages(path.read_bytes()))) == 4
    assert caught[0].filename == __file__
    with pytest.warns(PagesNotReadWarning, match="first 4 of its 12"):
        out = ocr.save_pdf(path, tmp_path / "out.pdf")
    assert len(pdfium.PdfDocument(out)) == PAGES  # the document whole: its pages past the cap as they were


@pytest.mark.parametrize("how", ["environment", "config file", "settings object"])
def test_a_cap_set_by_the_user_applies_and_is_reported(tmp_path, monkeypatch, how):
    path = tmp_path / "report.pdf"
    path.write_bytes(text_layer_pdf())
    if how == "environment":
        monkeypatch.setenv("OCR_MAX_PDF_PAGES", "3")
        ocr = OCR(model=MODEL)
    elif how == "config file":
        config = tmp_path / "ocr.yaml"
        config.write_text("max_pdf_pages: 3\n", encoding="utf-8")
        monkeypatch.setenv("OCR_CONFIG_FILE", str(config))
        ocr = OCR(model=MODEL)
    else:
        ocr = OCR(settings=load_settings(model=MODEL, max_pdf_pages=3))
    with pytest.warns(PagesNotReadWarning, match="first 3 of its 12 pages"):
        assert len(ocr(path)) == 3
    # a cap no shorter than the document leaves nothing unread, and says nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error", PagesNotReadWarning)
        assert len(ocr(text_pages_pdf([[t] for t in TEXTS[:3]]))) == 3


def test_an_explicit_document_cap_still_refuses(tmp_path):
    from ocrserve.errors import InputTooLarge

    with pytest.raises(InputTooLarge, match="12 pages, over the limit of 5"):
        OCR(model=MODEL, max_pdf_document_pages=5)(text_layer_pdf())
