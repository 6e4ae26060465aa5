"""The OCR page at `/`, in a real browser: headless Chromium (the system's, driven by Playwright's
Python API; Playwright's own browser download is not reachable here) against a real
`ocrserve serve` (pp-ocrv4-mobile) on loopback.

What a person does is what each test does: open a file through the page's file input and look
at what the page drew.  The page's boxes, texts and pages are checked against the API's own
answer for the same file and options, asked for separately over HTTP.  Errors the server cannot
be made to give on demand (429 with its Retry-After, 503, 413) are answered for it by
intercepting the page's request, to check that the page shows a server's words as they are.

A missing Chromium or Playwright is a failure that says what to install, never a skip.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageStat

from _support import tables
from _support.chromium import open_page
from _support.packaging import package_data_patterns
from _support.paths import REPO
from _support.server import start_server
from ocrserve.models import MODEL_SETS

IMAGE = "scenes/s01_sign_zh_en.png"
PDF = "pdf/smi_p8-10.pdf"
PDF_PAGES = 2  # of its 3
JOB_MODELS = "PP-OCRv4=pp-ocrv4-mobile,PP-OCRv5=pp-ocrv5-mobile"  # OCR_JOB_MODELS of the plain server
TOKEN = "page-token-7d2c91fa"
SMALL_LIMIT = 100_000  # bytes: the token server's OCR_MAX_FILE_SIZE
TOKEN_KEY = "ocrserve.token"  # static/js/token.js
# the page's defaults for a server with no OCR_* option settings (PaddleX's: every line kept)
OPTIONS = {"useDocOrientationClassify": True, "useTextlineOrientation": True, "textRecScoreThresh": 0.0}
WAIT_MS = 180_000  # a generous ceiling for a busy CI machine; not a performance check
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


# --- no browser needed ---------------------------------------------------------------------
def test_every_page_file_ships_as_package_data():
    """index.html's stylesheet, scripts and icon are served from package data: each must be shipped."""
    static = REPO / "src" / "ocrserve" / "api" / "static"
    names = re.findall(r'(?:href|src)="([\w/.-]+\.(?:css|js|ico))"', (static / "index.html").read_text(encoding="utf-8"))
    on_disk = sorted(str(p.relative_to(static)) for p in static.rglob("*") if p.is_file() and p.suffix != ".html")
    assert sorted(names) == on_disk  # no file left unused, none missing
    patterns = package_data_patterns()
    unshipped = [n for n in names if not any(fnmatch.fnmatch(f"api/static/{n}", p) for p in patterns)]
    assert not unshipped, (unshipped, patterns)


def test_page_config_follows_the_app(tmp_path):
    """The job models are offered only by an app that serves the job API; an included router's own `/`
    is refused (the page would never be served)."""
    from fastapi import APIRouter, FastAPI

    from ocrserve import load_settings
    from ocrserve.api.browser import install_browser_routes, page_config

    settings = load_settings(model="pp-ocrv4-mobile", model_dir=tmp_path / "models", api_tokens="t-1")
    assert page_config(settings)["jobs"] is None and page_config(settings)["auth"] is True
    # the sets whose files are there (test_page_jobs.py has the sets left out)
    assert page_config(settings, jobs=True)["jobs"]["models"].items() <= settings.job_models.items()
    pulled = load_settings(model="pp-ocrv4-mobile")  # the session's model dir, every PyPI set pulled into it
    from_pypi = {name: mset for name, mset in pulled.job_models.items() if mset in MODEL_SETS}
    assert from_pypi and page_config(pulled, jobs=True)["jobs"]["models"] == from_pypi  # not the hub's latin set
    assert page_config(settings, jobs=True)["jobs"]["maxFileSize"] == settings.job_max_file_size  # not the request's
    router = APIRouter()
    router.add_api_route("/", lambda: {}, methods=["GET"])
    app = FastAPI(docs_url=None, redoc_url=None)
    app.include_router(router)
    with pytest.raises(RuntimeError, match="already registered at /"):
        install_browser_routes(app, settings)


# --- fixtures --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # two PDF pages read, not ten: the page's note on the cap is seen, and CI reads a page less
    # and the job API's names: one for the served set (every page of a PDF), one for another set
    env = {"OCR_MAX_PDF_PAGES": str(PDF_PAGES), "OCR_JOB_MODELS": JOB_MODELS,
           "OCR_JOB_DIR": str(tmp_path_factory.mktemp("jobs"))}
    with start_server(tmp_path_factory, env) as base:
        yield base


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    # a small file limit as well, for a real 413 (the PDF sample is over it, the image under)
    # its job API serves only the served set, so the model selector has one entry
    env = {"OCR_API_TOKENS": TOKEN, "OCR_MAX_FILE_SIZE": str(SMALL_LIMIT), "OCR_JOB_MODELS": "PP-OCRv4=pp-ocrv4-mobile",
           "OCR_JOB_DIR": str(tmp_path_factory.mktemp("token-jobs"))}
    with start_server(tmp_path_factory, env) as base:
        yield base


@pytest.fixture()
def page(browser, server):
    with open_page(browser, server + "/", WAIT_MS) as tab:
        yield tab
    assert not [e for e in tab.errors if "status of 4" not in e and "status of 5" not in e], tab.errors


# --- helpers ---------------------------------------------------------------------------------
def api_answer(base: str, path: Path, file_type: int | None, token: str | None = None) -> httpx.Response:
    """The API's answer for the file with the page's options (result images left out: same lines)."""
    body = {"file": base64.b64encode(path.read_bytes()).decode("ascii"), "visualize": False, **OPTIONS}
    if file_type is not None:
        body["fileType"] = file_type
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{base}/ocr", json=body, headers=headers, timeout=WAIT_MS / 1000)


def open_file(tab, path: Path):
    """Give the page a file through its input; returns the page's own /ocr response, once drawn."""
    with tab.expect_response(lambda r: r.url.endswith("/ocr") and r.request.method == "POST") as info:
        tab.set_input_files("#file", str(path))
    tab.wait_for_function("() => !document.querySelector('#status').classList.contains('busy')")
    return info.value


def drawn_boxes(tab) -> list[dict]:
    """Each drawn polygon's points, and its on-screen box in the page's pixels (scaled back)."""
    return tab.evaluate("""() => {
        const svg = document.querySelector('#boxes');
        const [, , width, height] = svg.getAttribute('viewBox').split(' ').map(Number);
        const img = document.querySelector('#page-image').getBoundingClientRect();
        const sx = width / img.width, sy = height / img.height;
        return Array.from(svg.querySelectorAll('polygon.box')).map((p) => {
            const r = p.getBoundingClientRect();
            return {
                index: Number(p.dataset.index),
                points: p.getAttribute('points').split(' ').map((xy) => xy.split(',').map(Number)),
                screen: [(r.left - img.left) * sx, (r.top - img.top) * sy, (r.right - img.left) * sx,
                         (r.bottom - img.top) * sy],
                pxPerScreenPx: Math.max(sx, sy),
            };
        });
    }""")


def listed(tab) -> list[list[str]]:
    return tab.eval_on_selector_all("#lines li", "els => els.map(li => [li.querySelector('.text').textContent, "
                                    "li.querySelector('.conf').textContent])")


def assert_page_matches(tab, pruned: dict, width: int, height: int) -> None:
    """The drawn boxes and the listed lines are the API's, box for box, in the API's order."""
    assert tab.get_attribute("#boxes", "viewBox") == f"0 0 {width} {height}"
    boxes = sorted(drawn_boxes(tab), key=lambda b: b["index"])
    assert len(boxes) == len(pruned["rec_polys"]) > 0
    for box, poly in zip(boxes, pruned["rec_polys"]):
        assert box["points"] == poly
        xs, ys = [p[0] for p in poly], [p[1] for p in poly]
        slack = box["pxPerScreenPx"] + 1  # one screen pixel of rounding, in page pixels
        for got, want in zip(box["screen"], (min(xs), min(ys), max(xs), max(ys))):
            assert abs(got - want) <= slack, (box, poly)
    assert listed(tab) == [[t, f"{s:.3f}"] for t, s in zip(pruned["rec_texts"], pruned["rec_scores"])]


def error_shown(tab) -> tuple[str, str, str]:
    tab.wait_for_selector("#error:not([hidden])")
    return (tab.text_content("#error .error-status"), tab.text_content("#error .error-message"),
            tab.text_content("#error .error-retry") if tab.query_selector("#error .error-retry") else "")


# --- tests -----------------------------------------------------------------------------------
def test_root_serves_the_page_with_nothing_else_to_fetch(server):
    r = httpx.get(server + "/", headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'sha256-" in policy
    assert "<script src=" not in r.text and 'rel="stylesheet"' not in r.text  # written in, not linked
    config = json.loads(r.text.split('id="server-config">', 1)[1].split("</script>", 1)[0])
    assert config["model"] == "pp-ocrv4-mobile" and config["models"] == ["pp-ocrv4-mobile"]
    assert config["auth"] is False and config["maxPdfPages"] == PDF_PAGES
    assert config["jobs"]["models"] == {"PP-OCRv4": "pp-ocrv4-mobile", "PP-OCRv5": "pp-ocrv5-mobile"}
    assert httpx.get(server + "/").json()["message"] == "Welcome to RapidOCR API Server!"  # API clients


def test_every_control_has_a_label(page):
    unlabelled = page.evaluate("""() => Array.from(document.querySelectorAll('input, select'))
        .filter((el) => !el.labels || el.labels.length === 0).map((el) => el.id)""")
    assert unlabelled == []
    nameless = page.evaluate("""() => Array.from(document.querySelectorAll('button'))
        .filter((b) => !(b.getAttribute('aria-label') || b.textContent.trim())).map((b) => b.id)""")
    assert nameless == []


def test_image_boxes_and_texts_are_the_apis(page, server, samples_dir, tmp_path):
    path = samples_dir / IMAGE
    answer = api_answer(server, path, 1).json()["result"]
    response = open_file(page, path)
    assert response.status == 200
    pruned = answer["ocrResults"][0]["prunedResult"]
    assert_page_matches(page, pruned, answer["dataInfo"]["width"], answer["dataInfo"]["height"])
    assert page.is_hidden("#pager") and page.input_value("#model") == ""  # the served set, through /ocr
    models = page.eval_on_selector_all("#model option", "os => os.map(o => [o.value, o.textContent])")
    assert models == [["", "pp-ocrv4-mobile"], ["PP-OCRv5", "PP-OCRv5 (pp-ocrv5-mobile, as a job)"]]
    assert page.is_enabled("#model")
    assert page.eval_on_selector("#page-image", "img => img.complete && img.naturalWidth > 0")

    # every stage the server timed is listed, plus the browser's own round trip
    stages = [part.split(";")[0].strip() for part in response.headers["server-timing"].split(",")]
    shown = page.eval_on_selector_all("#timings tr", "rows => rows.map(r => r.cells[0].textContent)")
    assert shown == stages + ["round trip, this browser"] and "decode" in stages

    with page.expect_download() as info:
        page.click("#download-json")
    saved = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert saved["result"]["ocrResults"][0]["prunedResult"]["rec_texts"] == pruned["rec_texts"]
    assert "inputImage" not in saved["result"]["ocrResults"][0]
    with page.expect_download() as info:
        page.click("#download-txt")
    assert Path(info.value.path()).read_text(encoding="utf-8") == "\n".join(pruned["rec_texts"]) + "\n"

    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    figure = page.query_selector("#figure").bounding_box()
    with Image.open(shot) as im:
        whole = im.convert("RGB")
        crop = whole.crop((int(figure["x"]), int(figure["y"]), int(figure["x"] + figure["width"]),
                           int(figure["y"] + figure["height"])))
    assert whole.size[0] >= 1000 and len(whole.getcolors(1 << 24)) > 50, "the page screenshot is blank"
    assert max(ImageStat.Stat(crop).stddev) > 10 and len(crop.getcolors(1 << 24)) > 100, "the image is blank"


def test_hover_and_focus_link_a_box_and_its_line(page, samples_dir):
    open_file(page, samples_dir / IMAGE)
    count = page.locator("#boxes polygon.box").count()
    assert count >= 2
    for index in range(count):
        page.hover(f"#boxes polygon.box[data-index='{index}']")
        active = page.eval_on_selector_all("#lines li.active", "els => els.map(e => Number(e.dataset.index))")
        assert active == [index]
        assert page.get_attribute(f"#lines li[data-index='{index}']", "aria-current") == "true"
    page.hover("#lines li[data-index='0'] button")
    assert page.eval_on_selector_all("#boxes polygon.box.active", "els => els.map(e => Number(e.dataset.index))") == [0]
    page.click("#boxes polygon.box[data-index='1']")  # a click keeps the line lit after the pointer leaves
    page.mouse.move(1, 1)
    assert page.eval_on_selector_all("#lines li.active", "els => els.map(e => Number(e.dataset.index))") == [1]
    page.click("#boxes polygon.box[data-index='1']")  # and a second click lets it go
    page.mouse.move(1, 1)
    assert page.locator("#lines li.active").count() == 0
    page.focus("#lines li[data-index='1'] button")  # the keyboard path: Tab onto a line
    assert page.eval_on_selector_all("#boxes polygon.box.active", "els => els.map(e => Number(e.dataset.index))") == [1]


def test_pdf_pages_are_navigable(page, samples_dir):
    """Checked against the server's answer to the page's own request (a PDF is read once, not twice,
    on a shared CI machine); that request is checked to be the API call for this file and options."""
    path = samples_dir / PDF
    response = open_file(page, path)
    sent = json.loads(response.request.post_data)
    assert base64.b64decode(sent.pop("file")) == path.read_bytes()
    assert sent == {"visualize": True, "fileType": 0, **OPTIONS}
    answer = response.json()["result"]
    pages = answer["dataInfo"]["pages"]
    assert answer["dataInfo"]["numPages"] == len(pages) == PDF_PAGES
    assert f"at most {PDF_PAGES} pages" in page.text_content("#status")
    assert page.is_visible("#pager")
    assert page.text_content("#page-count") == f"of {len(pages)}" and page.input_value("#page-number") == "1"
    assert_page_matches(page, answer["ocrResults"][0]["prunedResult"], pages[0]["width"], pages[0]["height"])
    assert page.is_disabled("#page-prev")

    page.click("#page-next")
    assert page.input_value("#page-number") == "2" and page.is_disabled("#page-next")
    assert_page_matches(page, answer["ocrResults"][1]["prunedResult"], pages[1]["width"], pages[1]["height"])
    page.wait_for_function("() => { const i = document.querySelector('#page-image'); "
                           "return i.complete && i.naturalWidth > 0; }")

    page.fill("#page-number", "1")  # typing a page number goes there too
    page.dispatch_event("#page-number", "change")
    assert listed(page)[0][0] == answer["ocrResults"][0]["prunedResult"]["rec_texts"][0]

    # past the cap, every page is read through the job API, with progress
    assert page.is_visible("#all-pages")
    with page.expect_response(lambda r: "/files/jobs/" in r.url and r.status == 200) as result:
        page.click("#all-pages")
    page.wait_for_function("() => !document.querySelector('#status').classList.contains('busy')")
    job = page.evaluate("() => OCRPage.state.lastJob")  # the model asked for and each progress seen
    assert job["model"] == "PP-OCRv4" and job["progress"][-1] == [3, 3, "done"], job
    assert page.eval_on_selector("#progress", "p => [p.value, p.max]") == [3, 3]  # the bar went to its end
    lines = [json.loads(line) for line in result.value.text().splitlines() if line.strip()]
    job_pages = [page_result for line in lines for page_result in line["result"]["ocrResults"]]
    sizes = lines[-1]["result"]["dataInfo"]["pages"]
    assert len(job_pages) == len(sizes) == 3 and page.text_content("#page-count") == "of 3"
    assert page.is_hidden("#progress-box") and page.is_hidden("#all-pages")
    # every download is offered: the job built each format from the pages it read (test_page_jobs.py reads them)
    assert all(page.is_enabled(f"#download-{name}") for name in ("json", "txt", "pdf", "hocr", "alto", "md"))
    page.fill("#page-number", "3")
    page.dispatch_event("#page-number", "change")
    assert_page_matches(page, job_pages[2]["prunedResult"], sizes[2]["width"], sizes[2]["height"])
    page.wait_for_function("() => { const i = document.querySelector('#page-image'); "
                           "return i.complete && i.naturalWidth > 0; }")


RECORD_EXPORTS = """() => {  // the form each POST /v1/export of the page sends (a File body is not in its request event)
    const send = window.fetch;
    window.sentExports = [];
    window.fetch = (url, init) => {
        if (String(url).endsWith("v1/export")) {
            window.sentExports.push(Object.fromEntries(Array.from(init.body.entries(), ([k, v]) =>
                [k, typeof v === "string" ? v : {name: v.name, size: v.size}])));
        }
        return send(url, init);
    };
}"""


def test_server_rendered_downloads_hold_the_listed_text(page, samples_dir):
    """Searchable PDF, hOCR, ALTO and Markdown: the file that was read, sent to /v1/export with the
    options it was read with; what comes back holds the lines the page lists."""
    path = samples_dir / IMAGE
    open_file(page, path)
    texts = [row[0] for row in listed(page)]
    assert len(texts) == 2 and page.is_enabled("#download-pdf")

    page.evaluate(RECORD_EXPORTS)
    with page.expect_download() as info:
        page.click("#download-pdf")
    assert page.evaluate("() => window.sentExports") == [{
        "file": {"name": path.name, "size": path.stat().st_size}, "format": "pdf",
        "use_doc_orientation_classify": "true", "use_cls": "true", "text_score": "0"}]
    assert info.value.suggested_filename == "s01_sign_zh_en.searchable.pdf"
    pdf = pdfium.PdfDocument(Path(info.value.path()).read_bytes())
    try:
        assert len(pdf) == 1
        text = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    assert text.split("\r\n") == texts

    with page.expect_download() as info:
        page.click("#download-hocr")
    assert info.value.suggested_filename == "s01_sign_zh_en.hocr"
    xhtml = {"h": "http://www.w3.org/1999/xhtml"}
    root = ET.parse(info.value.path()).getroot()
    hocr_lines = [" ".join(word.text for word in line.iterfind("h:span[@class='ocrx_word']", xhtml))
                  for line in root.iterfind(".//h:span[@class='ocr_line']", xhtml)]
    assert hocr_lines == texts

    with page.expect_download() as info:
        page.click("#download-alto")
    strings = ET.parse(info.value.path()).getroot().iterfind(".//{http://www.loc.gov/standards/alto/ns-v4#}String")
    assert " ".join(s.get("CONTENT") for s in strings) == " ".join(texts)
    with page.expect_download() as info:
        page.click("#download-md")
    assert [line for line in Path(info.value.path()).read_text(encoding="utf-8").splitlines() if line] == texts

    # an option changed reads the file again, and the downloads send that option
    with page.expect_response(lambda r: r.url.endswith("/ocr")):
        page.click("label[for=doc-orientation]")
    page.wait_for_function("() => !document.querySelector('#status').classList.contains('busy')")
    with page.expect_download():
        page.click("#download-md")
    assert page.evaluate("() => window.sentExports.at(-1).use_doc_orientation_classify") == "false"


def test_the_markdown_view_shows_what_layout_parsing_answers(page, server, tmp_path):
    """"Markdown" sends the read file to /layout-parsing with the options it was read with and shows
    the Markdown it answers: here a ruled table's cells as a pipe table."""
    path = tmp_path / "supplies.pdf"
    path.write_bytes(tables.pdf(tables.PLAIN, tables.Layout(150, 260, (140, 110, 110), 26),
                                above=["Office supplies", "", "Bought for the office in the spring of this year."]))
    open_file(page, path)
    assert page.is_enabled("#markdown") and page.is_hidden("#markdown-box")
    with page.expect_response(lambda r: r.url.endswith("/layout-parsing")) as info:
        page.click("#markdown")
    assert info.value.ok
    page.wait_for_selector("#markdown-box", state="visible")
    sent = json.loads(info.value.request.post_data)
    assert {k: sent[k] for k in OPTIONS} == OPTIONS and sent["fileType"] == 0
    body = {"file": base64.b64encode(path.read_bytes()).decode("ascii"), "fileType": 0, "visualize": False, **OPTIONS}
    answer = httpx.post(f"{server}/layout-parsing", json=body, timeout=WAIT_MS / 1000).json()
    shown = page.text_content("#markdown-text")
    assert shown == answer["result"]["layoutParsingResults"][0]["markdown"]["text"]
    assert "| Paper A4 | 12 | 4.50 |" in shown
    # pages are joined as the library joins them: a paragraph cut by a page break runs on
    assert page.evaluate("""() => OCRPage.markdown.joinPages([{text: 'a', isStart: true, isEnd: false},
        {text: 'b', isStart: false, isEnd: true}, {text: 'c', isStart: true, isEnd: true}])""") == "a b\n\nc"
    again = tmp_path / "supplies-again.pdf"  # the same file given again would not be read again
    again.write_bytes(path.read_bytes())
    open_file(page, again)  # a new read hides the last Markdown
    assert page.is_hidden("#markdown-box") and page.is_enabled("#markdown")


def test_a_failed_download_shows_the_servers_error(page, samples_dir):
    message = "daily page quota of 100 used; it resets at 00:00 UTC"
    open_file(page, samples_dir / IMAGE)
    body = json.dumps({"success": False, "error": message, "request_id": "req-5678"})
    page.route("**/v1/export", lambda route: route.fulfill(
        status=429, headers={"Content-Type": "application/json", "Retry-After": "12", "X-Request-ID": "req-5678"},
        body=body))
    page.click("#download-pdf")
    assert error_shown(page) == ("HTTP 429", message, " Retry in 12 s.")
    assert "req-5678" in page.text_content("#error")
    assert page.is_enabled("#download-pdf")  # to try again later


def test_drop_paste_and_options(page, samples_dir):
    """A file dropped on the page or pasted is read like a picked one; an option changed reads it again
    with that option; Copy all puts every line on the clipboard."""
    data = base64.b64encode((samples_dir / IMAGE).read_bytes()).decode("ascii")
    make = "(b64) => { const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)); " \
           "const dt = new DataTransfer(); dt.items.add(new File([bytes], 'sign.png', {type: 'image/png'})); "
    for gesture in ("window.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));",
                    "document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true}));"):
        page.evaluate("() => { document.querySelector('#lines').textContent = ''; }")
        with page.expect_response(lambda r: r.url.endswith("/ocr")) as info:
            page.evaluate(make + gesture + "}", data)
        assert info.value.status == 200
        page.wait_for_function("() => document.querySelectorAll('#lines li').length > 0")
        assert page.text_content("#file-name").startswith("sign.png")

    with page.expect_request(lambda r: r.url.endswith("/ocr")) as sent:
        page.click("label[for=doc-orientation]")  # unticks it; the file is read again
    assert json.loads(sent.value.post_data)["useDocOrientationClassify"] is False
    page.wait_for_function("() => !document.querySelector('#status').classList.contains('busy')")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#copy")
    texts = [row[0] for row in listed(page)]
    assert page.evaluate("() => navigator.clipboard.readText()") == "\n".join(texts)


def test_a_new_file_clears_the_last_result(page, samples_dir, tmp_path):
    open_file(page, samples_dir / IMAGE)
    path = tmp_path / "broken.png"
    path.write_bytes(b"not a png at all")
    response = open_file(page, path)
    assert response.status >= 400
    assert page.locator("#boxes polygon.box").count() == 0 and page.locator("#lines li").count() == 0
    assert page.is_hidden("#figure") and page.is_disabled("#download-json") and page.is_disabled("#copy")


def test_a_text_file_shows_the_servers_415(page, server, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not an image\n", encoding="utf-8")
    expected = api_answer(server, path, None)
    assert expected.status_code == 415
    response = open_file(page, path)
    assert response.status == 415
    status, message, retry = error_shown(page)
    assert (status, message, retry) == ("HTTP 415", expected.json()["errorMsg"], "")
    assert page.locator("#boxes polygon.box").count() == 0


@pytest.mark.parametrize("status, retry_after, message", [
    (429, "37", "daily page quota of 100 used; it resets at 00:00 UTC"),
    (503, "1", "the queue is full (64 requests); retry shortly"),
    (413, None, "the request body is over the limit of 27983530 bytes"),
])
def test_server_errors_are_shown_as_sent(page, samples_dir, status, retry_after, message):
    """Statuses a test cannot make this server give on demand, answered for it; the page must show the
    server's message verbatim, and its Retry-After as a wait."""
    headers = {"Content-Type": "application/json", "X-Request-ID": "req-1234"}
    if retry_after:
        headers["Retry-After"] = retry_after
    body = json.dumps({"logId": "req-1234", "errorCode": status, "errorMsg": message})
    page.route("**/ocr", lambda route: route.fulfill(status=status, headers=headers, body=body))
    open_file(page, samples_dir / IMAGE)
    assert error_shown(page) == (f"HTTP {status}", message, f" Retry in {retry_after} s." if retry_after else "")
    assert "req-1234" in page.text_content("#error")


def test_token_field_with_auth_on(browser, token_server, samples_dir):
    path = samples_dir / IMAGE
    missing = api_answer(token_server, path, 1)
    assert missing.status_code == 403
    answer = api_answer(token_server, path, 1, token=TOKEN).json()["result"]
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.set_default_timeout(WAIT_MS)
        tab.goto(token_server + "/")
        assert tab.is_visible("#token") and tab.input_value("#token") == ""
        assert tab.is_disabled("#model")  # one model set: shown, not a choice
        assert tab.eval_on_selector_all("#model option", "os => os.map(o => o.textContent)") == ["pp-ocrv4-mobile"]

        response = open_file(tab, path)  # no token yet: the server's 403, in its words
        assert response.status == 403
        assert error_shown(tab)[:2] == ("HTTP 403", missing.json()["errorMsg"])

        tab.fill("#token", TOKEN)
        with tab.expect_request(lambda r: r.url.endswith("/ocr")) as sent:
            tab.press("#token", "Enter")  # Enter in the token field reads the file again
        assert sent.value.headers["authorization"] == f"Bearer {TOKEN}"
        tab.wait_for_function("() => document.querySelectorAll('#lines li').length > 0")
        tab.wait_for_function("() => !document.querySelector('#status').classList.contains('busy')")
        assert tab.is_hidden("#error")
        info = answer["dataInfo"]
        assert_page_matches(tab, answer["ocrResults"][0]["prunedResult"], info["width"], info["height"])

        stored = tab.evaluate("""(key) => ({session: sessionStorage.getItem(key),
            local: Object.keys(localStorage).map(k => k + '=' + localStorage.getItem(k)), cookie: document.cookie})""",
                              TOKEN_KEY)
        assert stored["session"] == TOKEN
        assert not [entry for entry in stored["local"] if TOKEN in entry] and TOKEN not in stored["cookie"]
        tab.reload()
        assert tab.input_value("#token") == TOKEN  # the same tab keeps it
        other = context.new_page()  # a new tab does not (session storage is per tab)
        other.goto(token_server + "/")
        assert other.input_value("#token") == ""
        tab.click("#token-forget")
        assert tab.evaluate("(key) => sessionStorage.getItem(key)", TOKEN_KEY) is None
    finally:
        context.close()


def test_the_servers_413_is_shown(browser, token_server, samples_dir):
    path = samples_dir / PDF
    assert path.stat().st_size > SMALL_LIMIT
    expected = api_answer(token_server, path, 0, token=TOKEN)
    assert expected.status_code == 413
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.set_default_timeout(WAIT_MS)
        tab.goto(token_server + "/")
        tab.fill("#token", TOKEN)
        assert open_file(tab, path).status == 413
        assert error_shown(tab) == ("HTTP 413", expected.json()["errorMsg"], "")
    finally:
        context.close()
