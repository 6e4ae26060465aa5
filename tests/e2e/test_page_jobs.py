"""The OCR page's job path, in a real browser (headless Chromium, as in test_page.py) against a real
`ocrserve serve` on loopback: a PDF past the page cap read as a job offers every download, each
the job's own file; the model selector offers only the model sets the server can run now."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pypdfium2 as pdfium
import pytest

from _support.chromium import open_page
from _support.pdfs import text_pages_pdf
from _support.server import start_server
from ocrserve.export import FORMATS

SERVED = "pp-ocrv4-mobile"  # start_server's OCR_MODEL
UNBUILT = "pp-ocrv4-mobile-int8"  # built only by `ocrserve models quantize`: its files are not there
JOB_MODELS = f"PP-OCRv4={SERVED},PP-OCRv5=pp-ocrv5-mobile,PP-OCRv4-int8={UNBUILT}"
LINES = ["Page one of the job report", "Page two of the job report", "Page three of the job report"]
WAIT_MS = 180_000  # a generous ceiling for a busy CI machine; not a performance check
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
XHTML = "{http://www.w3.org/1999/xhtml}"
ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
#: download button -> the file name the page gives it
DOWNLOADS = {"txt": "report.txt", "json": "report.json", "pdf": "report.searchable.pdf", "hocr": "report.hocr",
             "alto": "report.alto.xml", "md": "report.md"}


def test_the_page_offers_only_runnable_job_models(tmp_path):
    """No browser needed: a set whose files are missing, or that this version does not know, is left out."""
    from ocrserve import load_settings
    from ocrserve.api.browser import page_config
    from ocrserve.models.presence import missing_files

    settings = load_settings(model=SERVED, job_models=f"{JOB_MODELS},Other=no-such-set")
    assert missing_files(settings.model_copy(update={"model": UNBUILT}))  # what makes it unrunnable: no files
    assert page_config(settings, jobs=True)["jobs"]["models"] == {"PP-OCRv4": SERVED, "PP-OCRv5": "pp-ocrv5-mobile"}
    # a recognition model named by path applies to every set: missing, it leaves no set to run as a job
    broken = load_settings(model=SERVED, job_models=JOB_MODELS, rec_model_path=tmp_path / "absent.onnx")
    assert page_config(broken, jobs=True)["jobs"]["models"] == {}


# --- in the browser ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # one page read at once, so the three-page PDF goes past the cap; three job names, one unrunnable
    env = {"OCR_MAX_PDF_PAGES": "1", "OCR_JOB_MODELS": JOB_MODELS, "OCR_JOB_DIR": str(tmp_path_factory.mktemp("jobs"))}
    with start_server(tmp_path_factory, env) as base:
        yield base


@pytest.fixture()
def page(browser, server):
    with open_page(browser, server + "/", WAIT_MS) as tab:
        yield tab
    assert not tab.errors, tab.errors


def test_the_model_selector_lists_only_runnable_sets(page, server):
    r = httpx.get(server + "/", headers={"Accept": BROWSER_ACCEPT})
    config = json.loads(r.text.split('id="server-config">', 1)[1].split("</script>", 1)[0])
    assert config["jobs"]["models"] == {"PP-OCRv4": SERVED, "PP-OCRv5": "pp-ocrv5-mobile"}
    options = page.eval_on_selector_all("#model option", "os => os.map(o => [o.value, o.textContent])")
    assert options == [["", SERVED], ["PP-OCRv5", "PP-OCRv5 (pp-ocrv5-mobile, as a job)"]]
    assert page.is_enabled("#model")
    note = page.text_content("#model-note")
    assert note.startswith("These are the model sets this server can run now:") and note.count(".") == 1
    assert page.get_attribute("#model", "aria-describedby") == "model-note"


RECORD_SUBMISSIONS = """() => {  // each job submission's optionalPayload (a multipart body is not in the request event)
    const send = window.fetch;
    window.sentJobs = [];
    window.fetch = (url, init) => {
        if (String(url).endsWith("api/v2/ocr/jobs") && init && init.method === "POST") {
            window.sentJobs.push(init.body.get("optionalPayload"));
        }
        return send(url, init);
    };
}"""


def test_a_job_downloads_every_format_from_its_own_files(page, tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(text_pages_pdf([[line] for line in LINES]))
    with page.expect_response(lambda r: r.url.endswith("/ocr") and r.request.method == "POST"):
        page.set_input_files("#file", str(path))
    page.wait_for_function("() => !document.querySelector('#status').classList.contains('busy')")
    assert "at most 1 pages" in page.text_content("#status")

    page.evaluate(RECORD_SUBMISSIONS)
    page.click("#all-pages")
    page.wait_for_function("() => !document.querySelector('#status').classList.contains('busy')")
    sent = page.evaluate("() => window.sentJobs")
    assert len(sent) == 1 and json.loads(sent[0])["outputFormats"] == [name for name in FORMATS if name != "json"]
    job = page.evaluate("() => OCRPage.state.lastJob")
    assert job["model"] == "PP-OCRv4" and job["progress"][-1] == [3, 3, "done"], job
    assert page.text_content("#page-count") == "of 3"

    files: dict[str, Path] = {}
    for button, name in DOWNLOADS.items():
        assert page.is_enabled(f"#download-{button}"), page.get_attribute(f"#download-{button}", "title")
        with page.expect_download() as download:
            if button == "json":  # the page's JSON: the job's JSONL lines as one document, read for the view
                page.click(f"#download-{button}")
            else:  # the job's own file, by its signed link
                with page.expect_response(lambda r: "/files/jobs/" in r.url and r.status == 200) as fetched:
                    page.click(f"#download-{button}")
                assert fetched.value.url.split("?")[0].rsplit("/", 1)[1].startswith("result.")
        assert download.value.suggested_filename == name
        files[button] = Path(download.value.path())

    doc = pdfium.PdfDocument(files["pdf"].read_bytes())
    try:
        assert len(doc) == 3
        assert [doc[i].get_textpage().get_text_range().strip() for i in range(3)] == LINES
    finally:
        doc.close()
    hocr = ET.parse(files["hocr"]).getroot()
    assert len([d for d in hocr.iter(f"{XHTML}div") if d.get("class") == "ocr_page"]) == 3
    hocr_lines = [" ".join(w.text for w in line.iter(f"{XHTML}span") if w.get("class") == "ocrx_word")
                  for line in hocr.iter(f"{XHTML}span") if line.get("class") == "ocr_line"]
    assert hocr_lines == LINES
    alto = ET.parse(files["alto"]).getroot()
    assert len(list(alto.iter(f"{ALTO}Page"))) == 3
    assert [" ".join(s.get("CONTENT") for s in line.iter(f"{ALTO}String")) for line in alto.iter(f"{ALTO}TextLine")] \
        == LINES
    answer = json.loads(files["json"].read_text(encoding="utf-8"))
    assert [p["prunedResult"]["rec_texts"] for p in answer["result"]["ocrResults"]] == [[line] for line in LINES]
    assert [p.strip() for p in files["txt"].read_text(encoding="utf-8").split("\f")] == LINES
    markdown = [line for line in files["md"].read_text(encoding="utf-8").splitlines() if line.strip()]
    assert markdown == [LINES[0], "---", LINES[1], "---", LINES[2]]  # pages apart by a rule
