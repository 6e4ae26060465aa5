"""A job's output format files joined from its pages' parts, on their own (no engine, no HTTP): the
same bytes as the one-shot export of the same results, from a crash-cut parts file too."""

from __future__ import annotations

import io
import json
import re
import time

import pikepdf
import pytest

from _support import pdfs
from ocrserve.engine import OCROptions
from ocrserve.errors import PartsIncomplete
from ocrserve.export import export
from ocrserve.jobs import formats
from ocrserve.jobs.blobs import jsonl_line
from ocrserve.jobs.spec import JobSpec
from ocrserve.jobs.store import Job, JobStore
from ocrserve.result import OCRPage, TextLine, Word

ALL = ["pdf", "txt", "md", "hocr", "alto"]
WIDTH, HEIGHT = pdfs.WIDTH * 2, pdfs.HEIGHT * 2  # a page's pixels at the default scale


def line(text: str, x: float, y: float, source: str = "ocr", words: bool = False) -> TextLine:
    poly = [[x, y], [x + 14.5 * len(text), y], [x + 14.5 * len(text), y + 31.25], [x, y + 31.25]]
    split = None
    if words:  # word boxes as the engine gives them, each its share of the line
        split, start = [], x
        for word in text.split(" "):
            end = start + 14.5 * len(word)
            split.append(Word(word, [[start, y], [end, y], [end, y + 31.25], [start, y + 31.25]]))
            start = end + 14.5
        split = tuple(split)
    return TextLine(text=text, score=0.93, polygon=poly, words=split, source=source)


def page(index: int, lines: list[TextLine], source: str = "ocr") -> OCRPage:
    return OCRPage(width=WIDTH, height=HEIGHT, lines=lines, detected_polygons=[], doc_angle=None, det_params={},
                     text_rec_score_thresh=0.0, use_textline_orientation=False, return_word_box=False,
                     page_index=index, source=source, text_layer="usable" if source == "text_layer" else None)


def document() -> tuple[bytes, list[OCRPage]]:
    """A scan, an empty scan and a born-digital page, with the results a job would have read."""
    out = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(data)) for data in (pdfs.scanned_pdf(), pdfs.scanned_pdf(), pdfs.text_pdf())]
    for source in sources:
        out.pages.append(source.pages[0])
    buffer = io.BytesIO()
    out.save(buffer)
    results = [page(0, [line("# Heading set large", 144, 200), line("The quick brown fox jumps", 144, 260, words=True),
                        line("over the lazy dog.", 144, 300)]),
               page(1, []),
               page(2, [line(text, 144, 184 + 45 * n, "text_layer") for n, text in enumerate(pdfs.LINES)],
                    "text_layer")]
    return buffer.getvalue(), results


def stored_job(tmp_path, data: bytes, results: list[OCRPage], kind: str = "pdf") -> tuple[JobStore, Job]:
    store = JobStore.local(tmp_path)
    now = time.time()
    job = Job(id="f" * 32, owner="token:a", batch_id=None, model="pp-ocrv4-mobile", spec=JobSpec(OCROptions(), formats=tuple(ALL)),
              pages=[r.page_index or 0 for r in results], kind=kind, doc_pages=len(results), state="running",
              done_pages=len(results), error=None, base_url="http://x/", callback_url=None, bytes=0, created=now,
              started=now, finished=None, expires=now + 3600, lease_owner="w", lease_until=now + 60, callback_done=0)
    staged = store.stage()
    staged.write_bytes(data)
    store.create(job, staged)
    for result in results:
        store.blobs.append(job.id, formats.PARTS_NAME,
                           jsonl_line(formats.page_parts(result, (result.page_index or 0) + 1, ALL), "test"))
    return store, job


def unstamped(pdf: bytes) -> bytes:
    """Without the random file identifier pdfium writes on each save."""
    return re.sub(rb"/ID\s*\[<[0-9A-Fa-f]+>\s*<[0-9A-Fa-f]+>\]", b"", pdf)


def test_files_joined_from_parts_equal_the_one_shot_export(tmp_path):
    data, results = document()
    store, job = stored_job(tmp_path, data, results)
    formats.build(store.blobs, job, ALL, 2.0)
    for name in ("txt", "md", "hocr", "alto"):
        built = (store.blobs.job_dir(job.id) / formats.FILES[name]).read_bytes()
        assert built == export(results, name, original=data), name
    built_pdf = (store.blobs.job_dir(job.id) / formats.FILES["pdf"]).read_bytes()
    assert unstamped(built_pdf) == unstamped(export(results, "pdf", original=data))
    with pikepdf.open(io.BytesIO(built_pdf)) as pdf:
        assert len(pdf.pages) == 3 and pdf.check_pdf_syntax() == []
    assert not list(store.blobs.job_dir(job.id).glob(".*"))  # no temp file left by the joins
    formats.build(store.blobs, job, ALL, 2.0)  # a rebuild (after a crash while joining) gives the same files
    assert (store.blobs.job_dir(job.id) / "result.md").read_bytes() == export(results, "md")


def test_an_image_job_embeds_its_image(tmp_path):
    image = pdfs.jpeg(pdfs.page_image(pdfs.LINES))
    result = page(0, [line(text, 144, 184 + 45 * n) for n, text in enumerate(pdfs.LINES)])
    result.page_index = None
    store, job = stored_job(tmp_path, image, [result], kind="image")
    formats.build(store.blobs, job, ["pdf"], 2.0)
    built = (store.blobs.job_dir(job.id) / "result.pdf").read_bytes()
    assert built == export([result], "pdf", original=image)


def test_missing_parts_fail_the_join_instead_of_a_short_file(tmp_path):
    data, results = document()
    store, job = stored_job(tmp_path, data, results[:2])
    job = Job(**{**job.__dict__, "pages": [0, 1, 2]})  # three pages read, parts of two
    with pytest.raises(PartsIncomplete, match="2 of the 3 pages"):
        formats.build(store.blobs, job, ALL, 2.0)
    assert not (store.blobs.job_dir(job.id) / "result.txt").exists()


@pytest.mark.parametrize("threshold", [None, 0.4, {1: 0.3, 7: 0.9}])
def test_a_layout_job_s_threshold_survives_its_stored_spec(threshold):
    spec = JobSpec(OCROptions(), formats=("json",), task="layout_parsing", layout_threshold=threshold)
    stored = json.loads(json.dumps(spec.to_json()))  # as the job index keeps it: class ids become strings
    assert JobSpec.from_json(stored).layout_threshold == threshold
