"""The job store and page selection on their own (no engine, no HTTP): leases, resume, expiry."""

from __future__ import annotations

import dataclasses
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ocrserve.engine import OCROptions
from ocrserve.errors import BadInput, JobNotFound
from ocrserve.jobs.blobs import jsonl_line
from ocrserve.jobs.pages import select_pages
from ocrserve.jobs.spec import JobSpec
from ocrserve.jobs.store import STALE_UPLOAD_S, Job, JobStore


def new_job(job_id: str, owner: str = "token:a", ttl: float = 3600, pages: int = 3) -> Job:
    now = time.time()
    return Job(id=job_id, owner=owner, batch_id="b", model="pp-ocrv4-mobile", spec=JobSpec(OCROptions()), pages=list(range(pages)),
               kind="pdf", doc_pages=pages, state="pending", done_pages=0, error=None, base_url="http://x/",
               callback_url=None, bytes=10, created=now, started=None, finished=None, expires=now + ttl,
               lease_owner=None, lease_until=None, callback_done=0)


def create(store: JobStore, job: Job, data: bytes) -> None:
    staged = store.stage()
    staged.write_bytes(data)
    store.create(job, staged)


@pytest.mark.parametrize(("ranges", "pages"), [(None, [0, 1, 2, 3, 4]), ("2-3,5", [1, 2, 4]), (" 3 , 1-2 ", [0, 1, 2]),
                                               ("2,2-3", [1, 2])])
def test_page_ranges(ranges, pages):
    assert select_pages(ranges, 5, 1000) == pages


@pytest.mark.parametrize(("ranges", "why"), [("6", "past the end"), ("0", "from 1"), ("3-2", "from 1"),
                                             ("a", "not a page"), ("1,,2", "not a page")])
def test_bad_page_ranges(ranges, why):
    with pytest.raises(BadInput, match=why):
        select_pages(ranges, 5, 1000)


def test_page_cap():
    with pytest.raises(BadInput, match="OCR_JOB_MAX_PAGES"):
        select_pages(None, 11, 10)
    assert len(select_pages("1-10", 11, 10)) == 10


def test_one_claim_per_job_across_threads(tmp_path):
    store = JobStore.local(tmp_path)
    for n in range(4):
        create(store, new_job(f"{n:032x}"), b"%PDF-")
    with ThreadPoolExecutor(8) as pool:
        claimed = list(pool.map(lambda w: store.index.claim(f"w{w}", 60), range(8)))
    ids = [job.id for job in claimed if job is not None]
    assert sorted(ids) == [f"{n:032x}" for n in range(4)]  # each job once, the rest found none


def test_lapsed_lease_is_taken_over_and_the_old_worker_stops(tmp_path):
    store = JobStore.local(tmp_path)
    create(store, new_job("a" * 32), b"x")
    assert store.index.claim("w1", 0.01) is not None
    time.sleep(0.05)
    assert store.index.claim("w2", 60).lease_owner == "w2"
    assert not store.index.renew("a" * 32, "w1", 60) and not store.index.progress("a" * 32, "w1", 1, 0)
    assert store.index.renew("a" * 32, "w2", 60)


def test_resume_cuts_what_was_written_past_the_pages_the_index_counts(tmp_path):
    store = JobStore.local(tmp_path)
    create(store, new_job("b" * 32), b"x")
    for n in range(2):  # the second page's line was written, but the crash came before the index recorded it
        store.blobs.put_page("b" * 32, n, jsonl_line({"result": {"page": n}}, "test"), None)
    with store.blobs.result_path("b" * 32).open("ab") as out:
        out.write(b'{"result": {"ocrRes')  # and a third page's, mid-write
    store.blobs.resume("b" * 32, 1)
    assert store.blobs.result_path("b" * 32).read_bytes() == b'{"result":{"page":0}}\n'
    assert list(store.blobs.page_lines("b" * 32, 5)) == [b'{"result":{"page":0}}\n']


def test_owner_cancel_and_expiry(tmp_path):
    store = JobStore.local(tmp_path)
    create(store, new_job("c" * 32, ttl=0.2), b"x")
    with pytest.raises(JobNotFound):
        store.index.get("c" * 32, "token:other")
    assert store.index.cancel("c" * 32, "token:a").state == "cancelled"
    time.sleep(0.3)
    with pytest.raises(JobNotFound, match="expired"):
        store.index.get("c" * 32, "token:a")
    assert store.sweep() == 1 and not store.blobs.job_dir("c" * 32).exists()
    with pytest.raises(JobNotFound, match="expired"):
        store.index.get("c" * 32, "token:a")


def test_create_moves_the_staged_input_into_the_job(tmp_path):
    store = JobStore.local(tmp_path)
    staged = store.stage()
    staged.write_bytes(b"%PDF-1.7 document")
    store.create(new_job("d" * 32), staged)
    assert not staged.exists() and store.blobs.input_file("d" * 32).read_bytes() == b"%PDF-1.7 document"
    again = store.stage()
    with pytest.raises(FileExistsError):  # the job's directory exists: nothing is stored twice
        store.create(new_job("d" * 32), again)
    assert again.exists() and store.blobs.input_file("d" * 32).read_bytes() == b"%PDF-1.7 document"


def test_parts_of_a_page_past_the_result_are_cut_on_resume(tmp_path):
    store = JobStore.local(tmp_path)
    create(store, new_job("e" * 32), b"x")
    for n in range(3):
        store.blobs.append("e" * 32, "parts.jsonl", jsonl_line({"page": n}, "test"))
    with (store.blobs.job_dir("e" * 32) / "parts.jsonl").open("ab") as out:
        out.write(b'{"page": 3')  # a crash mid-write
    store.blobs.keep_lines("e" * 32, "parts.jsonl", 2)  # the result counts two pages read
    assert (store.blobs.job_dir("e" * 32) / "parts.jsonl").read_bytes() == b'{"page":0}\n{"page":1}\n'
    store.blobs.keep_lines("e" * 32, "parts.jsonl", 5)  # fewer lines than asked: the complete ones stay
    assert (store.blobs.job_dir("e" * 32) / "parts.jsonl").read_bytes() == b'{"page":0}\n{"page":1}\n'


def test_sweep_deletes_stale_uploads_only(tmp_path):
    store = JobStore.local(tmp_path)
    stale, fresh = store.stage(), store.stage()
    old = time.time() - STALE_UPLOAD_S - 60
    os.utime(stale, (old, old))
    store.sweep()
    assert not stale.exists() and fresh.exists()


def test_job_model_sets_are_loaded_once_capped_and_accounted():
    """Past OCR_JOB_MAX_LOADED_MODELS the least recently used idle set is closed, and its memory forgotten."""
    import asyncio

    from ocrserve import load_settings
    from ocrserve.service.ocr_service import OCRService

    service = OCRService(load_settings(model="pp-ocrv4-mobile", job_max_loaded_models=1))
    service.load()

    async def scenario():
        first, again = await asyncio.gather(service.pipeline_for("pp-ocrv4-mobile"),
                                            service.pipeline_for("pp-ocrv4-mobile"))
        assert first is again and first is not service.pipeline  # one load, the jobs' own copy
        assert list(service.memory()["job_model_sets_mib"]) == ["pp-ocrv4-mobile"]
        with service.use_pipeline(first):  # in use by a job: not unloaded under it
            await service.pipeline_for("pp-ocrv5-mobile")
            assert list(service.extra_pipelines) == ["pp-ocrv4-mobile", "pp-ocrv5-mobile"]
        await service.pipeline_for("pp-ocrv5-mobile")
        assert list(service.extra_pipelines) == ["pp-ocrv5-mobile"]
        memory = service.memory()
        assert list(memory["job_model_sets_mib"]) == ["pp-ocrv5-mobile"] and memory["rss_mib"] > 0

    try:
        asyncio.run(scenario())
    finally:
        service.close()


def test_jobs_stored_before_the_spec_are_migrated_once(tmp_path):
    """An index written before version 1 (each job's optionalPayload in `options`) is rewritten to specs
    at open, so a job queued before an upgrade runs with what it asked for; opening again changes nothing."""
    import json
    import sqlite3

    old_schema = ("CREATE TABLE jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, batch_id TEXT, model TEXT NOT NULL, "
                  "options TEXT NOT NULL, pages TEXT NOT NULL, kind TEXT NOT NULL, doc_pages INTEGER NOT NULL, "
                  "state TEXT NOT NULL, done_pages INTEGER NOT NULL DEFAULT 0, error TEXT, base_url TEXT NOT NULL, "
                  "callback_url TEXT, bytes INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, started REAL, "
                  "finished REAL, expires REAL NOT NULL, lease_owner TEXT, lease_until REAL, "
                  "callback_done INTEGER NOT NULL DEFAULT 0)")
    payload = {"textDetThresh": 0.25, "useTextlineOrientation": False, "outputFormats": ["md", "pdf"],
               "pdfText": "ocr", "visualize": True, "warnings": ["ignored unknown option(s), as PaddleX does: x"]}
    now = time.time()
    with sqlite3.connect(tmp_path / "index.sqlite3") as db:
        db.execute(old_schema)
        db.execute("INSERT INTO jobs (id, owner, model, options, pages, kind, doc_pages, state, base_url, created, "
                   "expires) VALUES ('j1', 'token:a', 'pp-ocrv4-mobile', ?, '[0, 1]', 'pdf', 2, 'pending', "
                   "'http://x/', ?, ?)", (json.dumps(payload), now, now + 3600))
    for _ in range(2):
        job = JobStore.local(tmp_path).index.load("j1")
        assert job is not None
        assert job.spec.options.text_det_thresh == 0.25 and job.spec.options.use_textline_orientation is False
        assert job.spec.formats == ("md", "pdf") and job.spec.policy == "ocr" and job.spec.visualize is True
        assert job.spec.warnings == ("ignored unknown option(s), as PaddleX does: x",)
    with sqlite3.connect(tmp_path / "index.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        stored = json.loads(db.execute("SELECT spec FROM jobs").fetchone()[0])
    assert stored["version"] == 1 and stored["options"]["text_det_thresh"] == 0.25


def test_spec_round_trips_through_the_store(tmp_path):
    store = JobStore.local(tmp_path)
    spec = JobSpec(OCROptions(text_det_box_thresh=0.4, return_word_box=True), formats=("hocr",), visualize=True,
                   policy="text", warnings=("w",))
    job = new_job("r" * 32)
    create(store, dataclasses.replace(job, spec=spec), b"%PDF-")
    loaded = store.index.load(job.id)
    assert loaded is not None and loaded.spec == spec


@pytest.mark.parametrize(("store", "blobs", "links", "why"), [
    ("mysql://db/jobs", None, "serve", "OCR_JOB_STORE must be"),
    (None, "ftp://host/jobs", "serve", "OCR_JOB_BLOBS="),
    (None, "s3://", "serve", "not an s3://bucket/prefix URL"),
    (None, None, "presigned", "OCR_JOB_LINKS=presigned needs OCR_JOB_BLOBS=s3://"),  # local files have no URL
])
def test_store_settings_that_name_no_usable_store_fail_at_start(tmp_path, store, blobs, links, why):
    from ocrserve import load_settings
    from ocrserve.errors import ConfigError
    from ocrserve.jobs.store import open_store

    with pytest.raises(ConfigError, match=why):
        open_store(load_settings(job_dir=tmp_path, job_store=store, job_blobs=blobs, job_links=links))


def test_unreachable_shared_stores_fail_at_start_naming_the_setting(tmp_path, monkeypatch):
    """Nothing listens on the port: the instance refuses to start rather than failing each job."""
    from _support.server import free_port
    from ocrserve import load_settings
    from ocrserve.errors import ConfigError
    from ocrserve.jobs.store import open_store

    port = free_port()
    with pytest.raises(ConfigError, match="OCR_JOB_STORE=postgresql://u@127.0.0.1") as refused:
        open_store(load_settings(job_dir=tmp_path, job_store=f"postgresql://u:secret-pw@127.0.0.1:{port}/jobs"))
    assert "secret-pw" not in str(refused.value)  # the password never reaches a log
    for name, value in {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "k",
                        "AWS_SECRET_ACCESS_KEY": "s", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="OCR_JOB_BLOBS=s3://bucket/jobs"):
        open_store(load_settings(job_dir=tmp_path, job_blobs="s3://bucket/jobs"))
