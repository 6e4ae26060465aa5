"""Real-world PDFs never break the service: a corpus from Debian documentation packages through every way in.

Over a hundred PDFs (tests/_support/corpus.py: CJK, Cyrillic, Greek, Arabic, Hebrew and Indic scripts,
XeLaTeX and LuaLaTeX math with characters outside the BMP, forms, slides, a 2415-page manual), and
damaged and encrypted copies of some of them made here, go through PaddleX `POST /ocr` and
`POST /layout-parsing`, `/upload_pdf`, `/v1/export` in every format, an async job and `ocrserve
predict`, the first three pages of each.
Every answer is a 2xx whose body parses (strict JSON, hOCR as XML, ALTO against its XSD, searchable
PDFs in pdfium and qpdf), or a 4xx in the contract's own error shape; never a 5xx, never a traceback
in the server's log, and the server ends healthy with its memory near where it started.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time
import unicodedata
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest
import xmlschema

from _support import corpus as corpus_support
from _support.paths import DATA
from _support.server import free_port, wait_ready
from ocrserve.export.searchable_pdf import searchable_pdf
from ocrserve.inputs import Limits
from ocrserve.inputs.pdf import PdfPages
from ocrserve.result import OCRPage, TextLine

pytestmark = pytest.mark.corpus

PAGES = 3  # pages read of each document, by the server (OCR_MAX_PDF_PAGES) and the command line (--max-pages)
MAX_DOCUMENT_PAGES = 1000  # longer PDFs are refused with 413 (OCR_MAX_PDF_DOCUMENT_PAGES, its default)
MODEL = "pp-ocrv6-tiny"  # the fastest set: an image-only page costs the least
FORMATS = ("txt", "md", "hocr", "alto", "json", "pdf")
MEDIA_TYPES = {"txt": "text/plain", "md": "text/markdown", "hocr": "text/vnd.hocr+html",
               "alto": "application/alto+xml", "json": "application/json", "pdf": "application/pdf"}
JOB_LINKS = {"pdf": "pdfUrl", "txt": "txtUrl", "md": "markdownUrl", "hocr": "hocrUrl", "alto": "altoUrl"}
JOBS = "/api/v2/ocr/jobs"
AUTH = {"Authorization": "Bearer tok-corpus"}
# a hundred page sizes later, detection and recognition (OpenVINO where `auto` picks it) keep compiled kernels
# for up to OCR_OPENVINO_SHAPE_CACHE shapes per model set, and jobs have sessions of their own: measured
# +335 MiB over a one-document warm-up, and +1 MiB more for a second pass over the corpus; a leak grows past it
RSS_SLACK_MIB = 400
IDLE_RELEASE_S = 2  # seconds without inference before the server gives its arena's free memory back
ALTO_DIR = DATA / "alto"
ALTO_NS = "{http://www.loc.gov/standards/alto/ns-v4#}"


@dataclass(frozen=True)
class Doc:
    """One PDF sent: a corpus file as Debian ships it, or a damaged or encrypted copy of one."""

    name: str
    path: Path
    pages: int | None  # pages pdfium counts in it; None when pdfium cannot open it
    expect: str  # "read": must be answered 2xx (a real, intact PDF); "refuse": 4xx; "either": 2xx or a clear 4xx
    copy: bool = False  # made here from a corpus file

    @property
    def read(self) -> int:
        """Pages a successful answer holds."""
        return min(PAGES, self.pages or 0)

    @property
    def too_long(self) -> bool:
        return self.pages is not None and self.pages > MAX_DOCUMENT_PAGES


def pdfium_pages(path: Path) -> int | None:
    try:
        doc = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return None
    try:
        return len(doc)
    finally:
        doc.close()


def damaged_copies(sources: list[corpus_support.CorpusFile], out: Path) -> list[Doc]:
    """Truncated, overwritten and encrypted copies of real PDFs, each kind made from the next source in turn."""
    def cut_half(data: bytes) -> bytes:
        return data[: len(data) // 2]

    def cut_head(data: bytes) -> bytes:
        return data[:1024]

    def cut_tail(data: bytes) -> bytes:  # the cross-reference data and trailer gone
        return data[:-2048]

    def overwrite_middle(data: bytes) -> bytes:
        middle = len(data) // 2
        return data[:middle] + b"\xff\x00garbage" * 512 + data[middle + 4608:]

    def wrong_startxref(data: bytes) -> bytes:
        at = data.rfind(b"startxref")
        return data[:at] + b"startxref\n99999999\n%%EOF\n"

    def wrong_lengths(data: bytes) -> bytes:  # every stream's /Length points past its end
        return re.sub(rb"/Length (\d+)", lambda m: b"/Length %d" % (int(m.group(1)) * 3 + 7), data)

    damages: list[tuple[str, Callable[[bytes], bytes]]] = [
        ("truncated-half", cut_half), ("truncated-1k", cut_head), ("truncated-tail", cut_tail),
        ("overwritten-middle", overwrite_middle), ("wrong-startxref", wrong_startxref),
        ("wrong-lengths", wrong_lengths)]
    docs: list[Doc] = []
    for i, (kind, damage) in enumerate(damages):
        source = sources[i % len(sources)]
        path = out / f"{kind}-{source.file.name}"
        path.write_bytes(damage(source.file.read_bytes()))
        docs.append(Doc(f"{kind} of {source.name}", path, pdfium_pages(path), "either", copy=True))
    locked = [("encrypted-user-password", pikepdf.Encryption(owner="owner", user="user", R=6), "refuse"),
              ("encrypted-rc4-user-password",
               pikepdf.Encryption(owner="owner", user="user", R=4, aes=False, metadata=False), "refuse"),
              ("encrypted-owner-only", pikepdf.Encryption(owner="owner", user="", R=6), "read")]
    for i, (kind, encryption, expect) in enumerate(locked):
        source = sources[(len(damages) + i) % len(sources)]
        path = out / f"{kind}-{source.file.name}"
        with pikepdf.open(source.file) as pdf:
            pdf.save(path, encryption=encryption)
        with pikepdf.open(path, password="user" if expect == "refuse" else "") as locked_pdf:
            pages = len(locked_pdf.pages)
        docs.append(Doc(f"{kind} copy of {source.name}", path, pages, expect, copy=True))
    return docs


@pytest.fixture(scope="module")
def corpus() -> list[corpus_support.CorpusFile]:
    try:
        return corpus_support.ensure_corpus()
    except corpus_support.CorpusUnavailable as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def docs(corpus, tmp_path_factory) -> list[Doc]:
    real = [Doc(f.name, f.file, pdfium_pages(f.file), "read") for f in corpus]
    sources = [corpus[i * len(corpus) // 5] for i in range(5)]  # spread over the packages, the same each run
    return real + damaged_copies(sources, tmp_path_factory.mktemp("damaged"))


@dataclass
class Server:
    base: str
    proc: subprocess.Popen
    log: Path
    baseline_mib: float = 0.0

    def rss_mib(self) -> float:
        return float(httpx.get(f"{self.base}/health", timeout=30).json()["memory"]["rss_mib"])

    def settled_rss_mib(self) -> float:
        """The RSS once the idle release has given the arena's free memory back (readings stop falling)."""
        time.sleep(IDLE_RELEASE_S + 1)
        last = self.rss_mib()
        for _ in range(10):
            time.sleep(1)
            now = self.rss_mib()
            if now > last - 5:
                return now
            last = now
        return last


@contextlib.contextmanager
def serve(tmp: Path) -> Iterator[Server]:
    port = free_port()
    env = dict(os.environ, OCR_MODEL=MODEL, OCR_MAX_PDF_PAGES=str(PAGES),
               OCR_MAX_PDF_DOCUMENT_PAGES=str(MAX_DOCUMENT_PAGES), OCR_JOB_DIR=str(tmp / "jobs"),
               OCR_JOB_MODELS=f"PP-OCRv6={MODEL}", OCR_JOB_SECRET="c" * 32, OCR_RESULT_FILES_DIR=str(tmp / "results"),
               OCR_QUOTA_DB=str(tmp / "quota.sqlite3"), OCR_ARENA_IDLE_RELEASE_S=str(IDLE_RELEASE_S))
    log = tmp / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ocrserve", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_ready(proc, server.base, log)
        yield server
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0, log.read_text()[-5000:]


@pytest.fixture(scope="module")
def server(docs, tmp_path_factory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("corpus-server")) as server:
        warm = next(d for d in docs if d.expect == "read" and d.read == PAGES)
        for send in (paddlex, layout_parsing, upload_pdf, lambda s, d: export(s, d, "pdf")):
            assert send(server, warm).status_code == 200
        job = submit_job(server, warm.path, warm.pages)  # jobs load their own model sessions on first use
        assert job_state(server, job.json()["data"]["jobId"], deadline=time.monotonic() + 120)["state"] == "done"
        server.baseline_mib = server.settled_rss_mib()  # as a warmed-up service runs, every kind of session loaded
        yield server


# --- requests --------------------------------------------------------------------------------
def paddlex(server: Server, doc: Doc) -> httpx.Response:
    body = {"file": base64.b64encode(doc.path.read_bytes()).decode(), "fileType": 0}
    return httpx.post(f"{server.base}/ocr", json=body, timeout=300)


def layout_parsing(server: Server, doc: Doc) -> httpx.Response:
    body = {"file": base64.b64encode(doc.path.read_bytes()).decode(), "fileType": 0}
    return httpx.post(f"{server.base}/layout-parsing", json=body, timeout=300)


def upload_pdf(server: Server, doc: Doc) -> httpx.Response:
    return httpx.post(f"{server.base}/upload_pdf", timeout=300,
                      files={"file": (doc.path.name, doc.path.read_bytes(), "application/pdf")})


def export(server: Server, doc: Doc, fmt: str) -> httpx.Response:
    return httpx.post(f"{server.base}/v1/export", data={"format": fmt}, timeout=300,
                      files={"file": (doc.path.name, doc.path.read_bytes(), "application/pdf")})


# --- checks ----------------------------------------------------------------------------------
def strict_json(text: str | bytes) -> Any:
    """JSON as any client's parser takes it: no NaN or Infinity, no lone surrogate in a string."""
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    value = json.loads(text, parse_constant=refuse)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate escaped as \\udXXX
    return value


def paddlex_error(body: dict, status: int) -> bool:
    return body.get("errorCode") == status and bool(body.get("errorMsg")) and bool(body.get("logId"))


def seed_error(body: dict, status: int) -> bool:  # the FastAPI service's shape, which export shares
    return body.get("success") is False and bool(body.get("error")) and bool(body.get("request_id"))


def jobs_error(body: dict, status: int) -> bool:
    return body.get("code") == status and bool(body.get("msg")) and body.get("data") is None and bool(body.get("logId"))


def verdict(r: httpx.Response, doc: Doc, shape: Callable[[dict, int], bool]) -> tuple[bool, str | None]:
    """(whether the answer is a success to check further, what is wrong with it or None)."""
    status = r.status_code
    if 200 <= status < 300:
        return True, "answered 2xx to a PDF that must be refused" if doc.expect == "refuse" else None
    if not 400 <= status < 500:
        return False, f"{status}: {r.text[:500]}"
    try:
        body = strict_json(r.content)
    except ValueError as exc:
        return False, f"{status} whose body is not JSON ({exc}): {r.text[:300]}"
    if not isinstance(body, dict) or not shape(body, status):
        return False, f"{status} not in the contract's error shape: {r.text[:300]}"
    if doc.expect == "read" and not (status == 413 and doc.too_long):
        return False, f"{status} for an intact PDF: {r.text[:300]}"
    if doc.too_long and status != 413:
        return False, f"{status} for a {doc.pages}-page PDF, not 413: {r.text[:300]}"
    if "encrypted" in doc.name and doc.expect == "refuse" and "encrypted" not in r.text:
        return False, f"{status} that does not say the PDF is encrypted: {r.text[:300]}"
    return False, None


def checked_text(data: bytes) -> str:
    return data.decode("utf-8")  # strict: a lone surrogate written as UTF-8 bytes fails here


def check_searchable_pdf(data: bytes, doc: Doc) -> None:
    pages = len(pdfium.PdfDocument(data))
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == pages, f"pikepdf reads {len(pdf.pages)} pages, pdfium {pages}"
    assert pages == doc.pages, f"{pages} pages, the input has {doc.pages}"


def check_format(fmt: str, data: bytes, doc: Doc, schema: xmlschema.XMLSchema, read: int) -> None:
    """Raises when `data` is not a well-formed document of `fmt` holding `read` pages."""
    if fmt in ("txt", "md"):
        text = checked_text(data)
        if fmt == "txt":
            assert text.count("\f") <= read - 1, f"{text.count(chr(12))} form feeds for {read} pages"
    elif fmt == "hocr":
        root = ET.fromstring(data)
        pages = [e for e in root.iter() if e.get("class") == "ocr_page"]
        assert len(pages) == read, f"{len(pages)} ocr_page elements for {read} pages"
    elif fmt == "alto":
        schema.validate(checked_text(data))
        assert len(ET.fromstring(data).findall(f".//{ALTO_NS}Page")) == read
    elif fmt == "json":
        pages = strict_json(data)
        assert isinstance(pages, list) and len(pages) == read, f"{len(pages)} pages for {read}"
    elif fmt == "pdf":
        check_searchable_pdf(data, doc)


@pytest.fixture(scope="module")
def alto_schema() -> xmlschema.XMLSchema:
    # the published schema imports xlink from its web address: read it from the copy beside it instead
    text = (ALTO_DIR / "alto-4-4.xsd").read_text(encoding="utf-8").replace(
        'schemaLocation="http://www.loc.gov/standards/xlink/xlink.xsd"', 'schemaLocation="xlink.xsd"')
    return xmlschema.XMLSchema(io.StringIO(text), base_url=str(ALTO_DIR) + "/")


def report(problems: list[str], what: str) -> None:
    assert not problems, f"{len(problems)} problem(s) with {what}:\n" + "\n".join(problems)


# --- tests -----------------------------------------------------------------------------------
def has_form(path: Path) -> bool:
    with pikepdf.open(path) as pdf:
        return "/AcroForm" in pdf.Root


def is_slides(path: Path) -> bool:
    """A landscape first page and more than a few pages."""
    doc = pdfium.PdfDocument(str(path))
    try:
        width, height = doc[0].get_size()
        return width > 1.2 * height and len(doc) > PAGES
    finally:
        doc.close()


def first_pages_text(path: Path) -> str:
    doc = pdfium.PdfDocument(str(path))
    try:
        return "".join(doc[i].get_textpage().get_text_range() for i in range(min(PAGES, len(doc))))
    finally:
        doc.close()


def test_the_corpus_is_varied(corpus, docs):
    """At least 100 real PDFs, with each kind of document the corpus is chosen for."""
    assert len(corpus) >= 100
    assert max(d.pages or 0 for d in docs) > MAX_DOCUMENT_PAGES  # a manual longer than the service reads
    forms = [f for f in corpus if has_form(f.file)]
    assert len(forms) >= 2, "no PDF forms in the corpus"
    slides = [f for f in corpus if is_slides(f.file)]
    assert len(slides) >= 3, "no slides in the corpus"
    text = "".join(first_pages_text(f.file) for f in corpus)
    scripts = {"CJK": (0x4E00, 0x9FFF), "Hangul": (0xAC00, 0xD7A3), "Cyrillic": (0x400, 0x4FF),
               "Greek": (0x370, 0x3FF), "Arabic": (0x600, 0x6FF), "Hebrew": (0x590, 0x5FF),
               "Devanagari": (0x900, 0x97F), "Bengali": (0x980, 0x9FF), "outside the BMP": (0x10000, 0x10FFFF)}
    missing = [name for name, (lo, hi) in scripts.items() if sum(lo <= ord(c) <= hi for c in text) < 20]
    assert not missing, f"too little text in {missing}"


#: the scripts whose text layers must be read exactly, each in at least one document of the corpus
EXACT_SCRIPTS = {"Cyrillic": (0x400, 0x4FF), "Greek": (0x370, 0x3FF), "Arabic": (0x600, 0x6FF),
                 "Devanagari": (0x900, 0x97F), "Thai": (0xE00, 0xE7F)}


def comparable(text: str) -> str:
    """Text without what two readers of one layer may lay out differently: whitespace, format and control
    characters, and the hyphens pdfium marks (or not) as generated at line ends."""
    return "".join(c for c in text if not c.isspace() and c not in "-\x02\ufffe\ufffd"
                   and unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co"))


def test_text_layers_in_every_script_are_read_exactly(corpus):
    """A PDF page read from its text layer holds exactly the characters pdfium's own text extraction gives,
    combining marks and right-to-left text included, in every script the corpus has."""
    pages_by_script = {name: 0 for name in EXACT_SCRIPTS}
    problems = []
    for item in corpus:
        doc = pdfium.PdfDocument(str(item.file))
        try:
            extracted = [doc[i].get_textpage().get_text_range() for i in range(min(PAGES, len(doc)))]
        finally:
            doc.close()
        scripts = [name for name, (lo, hi) in EXACT_SCRIPTS.items()
                   if sum(lo <= ord(c) <= hi for c in "".join(extracted)) >= 20]
        if not scripts:
            continue
        with PdfPages(str(item.file), Limits()) as pages:
            for index, expected in enumerate(extracted):
                read = "".join(line.text for line in pages.text_layer(index).lines)
                if comparable(read) != comparable(expected):
                    problems.append(f"{item.path} page {index + 1} ({', '.join(scripts)})")
        for name in scripts:
            pages_by_script[name] += 1
    assert all(pages_by_script.values()), pages_by_script
    report(problems, "text layers read inexactly")


#: share of the corpus's right-to-left lines a searchable PDF must give back exactly through pdfium: 913 of 965
#: (94.6 %) when measured, 5 before runs were laid in visual order; the rest mix directions with brackets
#: or Latin words, where the text layer's own order is pdfium's guess and readers differ
RTL_ROUND_TRIP = 0.9


def test_right_to_left_text_reads_back_from_the_searchable_pdf(corpus):
    """The corpus's Arabic, Persian and Hebrew lines (from real text layers, logical order), laid invisibly
    over a blank page as OCR lines are, read back from the searchable PDF in the same order."""
    texts: list[str] = []
    for item in corpus:
        with PdfPages(str(item.file), Limits(max_pdf_document_pages=10**6)) as pages:  # long manuals too
            for index in range(min(PAGES, len(pages))):
                texts += [line.text for line in pages.text_layer(index).lines
                          if sum(0x590 <= ord(c) <= 0x6FF for c in line.text) >= 3]
    texts = list(dict.fromkeys(texts))
    assert len(texts) >= 500, len(texts)
    exact, problems = 0, []
    for start in range(0, len(texts), 20):
        chunk = texts[start:start + 20]
        lines = [TextLine(text, 0.9, [[20, 30 + 50 * i], [20 + 12 * len(text), 30 + 50 * i],
                                      [20 + 12 * len(text), 60 + 50 * i], [20, 60 + 50 * i]])
                 for i, text in enumerate(chunk)]
        width, height = 40 + 12 * max(map(len, chunk)), 60 + 50 * len(chunk)
        page = OCRPage(width=width, height=height, lines=lines, detected_polygons=[line.polygon for line in lines],
                       doc_angle=0, det_params={}, text_rec_score_thresh=0.0, use_textline_orientation=False,
                       return_word_box=False)
        doc = pdfium.PdfDocument(searchable_pdf([page], page_images=[np.full((height, width, 3), 255, np.uint8)],
                                                dpi=72))
        try:
            read = doc[0].get_textpage().get_text_range().split("\r\n")
        finally:
            doc.close()
        assert len(read) == len(chunk)
        for want, got in zip(chunk, read, strict=True):
            if comparable(want) == comparable(got):
                exact += 1
            else:
                problems.append(f"{want!r} read back as {got!r}")
    assert exact >= RTL_ROUND_TRIP * len(texts), f"{exact} of {len(texts)} exact; e.g.\n" + "\n".join(problems[:20])


def answer_problems(server: Server, docs: list[Doc], send: Callable[[Server, Doc], httpx.Response],
                    shape: Callable[[dict, int], bool], route: str, check: Callable[[Any, Doc], None]) -> list[str]:
    """What is wrong with each document's answer from `send`: a refusal out of the contract's `shape`,
    a 5xx, or a 2xx whose strict-JSON body `check` rejects (by raising)."""
    problems: list[str] = []
    for doc in docs:
        r = send(server, doc)
        ok, problem = verdict(r, doc, shape)
        if ok and problem is None:
            try:
                check(strict_json(r.content), doc)
            except (ValueError, KeyError, TypeError, AssertionError) as exc:
                problem = f"200 with a bad body ({exc!r}): {r.text[:300]}"
        if problem:
            problems.append(f"{doc.name}: {route}: {problem}")
    return problems


def test_paddlex_ocr(server, docs):
    def check(body: Any, doc: Doc) -> None:
        pages = body["result"]["ocrResults"]
        assert body["errorCode"] == 0 and len(pages) == doc.read, f"{len(pages)} pages for {doc.read}"
        assert all(isinstance(p["prunedResult"]["rec_texts"], list) for p in pages)

    report(answer_problems(server, docs, paddlex, paddlex_error, "POST /ocr", check), "PaddleX POST /ocr")


def test_layout_parsing(server, docs):
    """Every PDF parsed by its layout or refused clearly, each page's Markdown and blocks there."""
    def check(body: Any, doc: Doc) -> None:
        pages = body["result"]["layoutParsingResults"]
        assert body["errorCode"] == 0 and len(pages) == doc.read, f"{len(pages)} pages for {doc.read}"
        for page in pages:
            assert isinstance(page["markdown"]["text"], str)
            assert all(isinstance(b["block_content"], str) for b in page["prunedResult"]["parsing_res_list"])

    report(answer_problems(server, docs, layout_parsing, paddlex_error, "POST /layout-parsing", check),
           "PaddleX POST /layout-parsing")


def test_upload_pdf(server, docs):
    def check(body: Any, doc: Doc) -> None:
        assert body["success"] is True and len(body["results"]) == doc.read
        assert body["total_pages"] == doc.pages

    report(answer_problems(server, docs, upload_pdf, seed_error, "POST /upload_pdf", check), "/upload_pdf")


def test_export_every_format(server, docs, alto_schema):
    problems: list[str] = []
    for doc in docs:
        for fmt in FORMATS:
            r = export(server, doc, fmt)
            ok, problem = verdict(r, doc, seed_error)
            if ok and problem is None:
                try:
                    assert r.headers["content-type"].startswith(MEDIA_TYPES[fmt]), r.headers["content-type"]
                    check_format(fmt, r.content, doc, alto_schema, doc.read)
                except Exception as exc:  # any way the file fails to parse is the finding
                    problem = f"200 whose {fmt} does not parse: {exc!r}"[:800]
            if problem:
                problems.append(f"{doc.name}: POST /v1/export format={fmt}: {problem}")
    report(problems, "/v1/export")


def first_pages(corpus: list[corpus_support.CorpusFile], out: Path) -> Path:
    """One PDF of the first page of every corpus file (qpdf copies each page with its resources)."""
    with pikepdf.new() as merged, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # qpdf warns that form fields are not carried over: only their pages are read
        for f in corpus:
            with pikepdf.open(f.file) as src:
                merged.pages.append(src.pages[0])
        merged.save(out)
    return out


def submit_job(server: Server, path: Path, pages: int | None) -> httpx.Response:
    payload = {"visualize": False, "outputFormats": list(FORMATS)}
    fields = {"model": "PP-OCRv6", "optionalPayload": json.dumps(payload)}
    if pages:  # a page range past the end is refused, so only where the count is known
        fields["pageRanges"] = f"1-{min(PAGES, pages)}"
    with path.open("rb") as fh:
        return httpx.post(f"{server.base}{JOBS}", headers=AUTH, files={"file": (path.name, fh)}, data=fields,
                          timeout=120)


def test_async_jobs(server, corpus, docs, alto_schema, tmp_path):
    """The first page of every corpus PDF as one job, and each damaged or encrypted copy as its own."""
    merged = first_pages(corpus, tmp_path / "first-pages.pdf")
    whole = Doc("the first page of every corpus PDF", merged, len(corpus), "read")
    problems: list[str] = []
    jobs: dict[str, tuple[Doc, int]] = {}
    for doc in [whole, *[d for d in docs if d.copy]]:
        r = submit_job(server, doc.path, None if doc is whole else doc.pages)
        # refused at submission (its pages cannot be counted) or failed later: either is a clear answer
        ok, problem = verdict(r, doc if doc.expect == "read" else replace(doc, expect="either"), jobs_error)
        if problem:
            problems.append(f"{doc.name}: POST {JOBS}: {problem}")
        elif ok:
            jobs[strict_json(r.content)["data"]["jobId"]] = (doc, doc.pages if doc is whole else doc.read)
    deadline = time.monotonic() + 400
    for job_id, (doc, read) in jobs.items():  # one worker runs them in turn: waiting on each in order costs nothing
        data = job_state(server, job_id, deadline)
        if data["state"] == "done" and doc.expect != "refuse":
            problems += [f"{doc.name}: job result: {p}" for p in check_job_files(data, doc, read, alto_schema)]
        elif data["state"] != "failed" or doc.expect == "read" or not data.get("errorMsg"):
            problems.append(f"{doc.name}: job ended {data['state']}: {json.dumps(data)[:500]}")
    report(problems, "async jobs")


def job_state(server: Server, job_id: str, deadline: float) -> dict:
    """The job's status once it is done or failed; its state is `HTTP <status>` on an error, `timeout` past
    `deadline`."""
    while time.monotonic() < deadline:
        r = httpx.get(f"{server.base}{JOBS}/{job_id}", headers=AUTH, timeout=30)
        if r.status_code != 200:
            return {"state": f"HTTP {r.status_code}", "body": r.text[:500]}
        data = strict_json(r.content)["data"]
        if data["state"] not in ("pending", "running"):
            return data
        time.sleep(0.5)
    return {"state": "timeout", "jobId": job_id}


def check_job_files(data: dict, doc: Doc, read: int, schema: xmlschema.XMLSchema) -> list[str]:
    problems: list[str] = []
    links = data["resultUrl"]
    jsonl = httpx.get(links["jsonUrl"], timeout=60)
    try:
        lines = [strict_json(line) for line in jsonl.text.strip().split("\n")]
        assert jsonl.status_code == 200 and len(lines) == read, f"{jsonl.status_code}, {len(lines)} lines for {read}"
        assert all(isinstance(line["result"]["ocrResults"][0]["prunedResult"]["rec_texts"], list) for line in lines)
    except Exception as exc:
        problems.append(f"JSONL: {exc!r}"[:800])
    for fmt, key in JOB_LINKS.items():
        r = httpx.get(links[key], timeout=60)
        try:
            assert r.status_code == 200, f"{r.status_code}: {r.text[:300]}"
            check_format(fmt, r.content, doc, schema, read)
        except Exception as exc:
            problems.append(f"{fmt}: {exc!r}"[:800])
    return problems


def test_cli_predict(docs, tmp_path):
    """`ocrserve predict --json` over every PDF in one run: each read, or named in one `error:` line."""
    done = subprocess.run([sys.executable, "-m", "ocrserve", "predict", "--model", MODEL, "--max-pages", str(PAGES),
                           "--json", *[str(d.path) for d in docs]],
                          capture_output=True, timeout=900, cwd=tmp_path, env=dict(os.environ, OCR_MODEL=MODEL))
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr[-5000:]
    pages = strict_json(done.stdout)
    read: dict[str, int] = {}
    for page in pages:
        read[page["input"]] = read.get(page["input"], 0) + 1
        assert isinstance(page["prunedResult"]["rec_texts"], list)
    problems: list[str] = []
    failed = 0
    for doc in docs:
        errors = [line for line in stderr.splitlines() if line.startswith(f"error: {doc.path}:")]
        failed += bool(errors)
        if doc.expect == "read" and (errors or read.get(str(doc.path), 0) != doc.read):
            problems.append(f"{doc.name}: predict read {read.get(str(doc.path), 0)} of {doc.read} pages; {errors}")
        elif doc.expect == "refuse" and not errors:
            problems.append(f"{doc.name}: predict read an encrypted PDF without its password")
        elif doc.expect == "either" and not errors and str(doc.path) not in read:
            problems.append(f"{doc.name}: predict neither read it nor said why")
    assert done.returncode == (1 if failed else 0), stderr[-3000:]
    report(problems, "ocrserve predict")


def test_server_still_healthy(server):
    """Runs last: no traceback was logged, /health answers, and the memory went back near its baseline."""
    health = httpx.get(f"{server.base}/health", timeout=30)
    assert health.status_code == 200 and health.json()["status"] == "healthy", health.text
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback") - 2000:][:8000]
    rss = server.settled_rss_mib()
    assert rss < server.baseline_mib + RSS_SLACK_MIB, f"RSS {rss} MiB after the corpus, {server.baseline_mib} before"
