"""Jobs shared by several instances: a PostgreSQL index and S3-compatible blobs (SeaweedFS).

Real servers only: PostgreSQL from Debian's packages and SeaweedFS from PyPI, each in a temporary
directory on loopback; `ocrserve serve` processes with separate OCR_JOB_DIRs that share
OCR_JOB_STORE, OCR_JOB_BLOBS and the link secret.  The official PaddleOCR client submits to one
instance and reads from the other; an instance killed mid-job is taken over by the other.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from _support.paddleocr_client import client_venv, run_client
from _support.postgres import Postgres, wait_until_up
from _support.seaweedfs import SeaweedFS, running_seaweedfs
from _support.server import server_process, start_server
from _support.shared_store import AUTH, BUCKET, JOBS, PREFIX, ended, instance_env, submit, wait_for
from ocrserve import load_settings
from ocrserve.engine import OCROptions
from ocrserve.jobs.blobs import jsonl_line
from ocrserve.jobs.index_postgres import PostgresJobIndex
from ocrserve.jobs.job import Job
from ocrserve.jobs.spec import JobSpec
from ocrserve.jobs.store import JobStore, open_store


@pytest.fixture
def database(postgres: Postgres, request) -> str:
    """A database of its own for one test, so counts and claims see only its jobs."""
    name = "t_" + re.sub(r"\W", "_", request.node.name)[:50].lower()
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="module")
def pair(tmp_path_factory, postgres, seaweed):
    """Two instances sharing the store; each has its own OCR_JOB_DIR."""
    env = {"OCR_JOB_LEASE_S": "5"}
    with start_server(tmp_path_factory, instance_env(tmp_path_factory, postgres.url, seaweed, **env)) as a, \
            start_server(tmp_path_factory, instance_env(tmp_path_factory, postgres.url, seaweed, **env)) as b:
        yield a, b


# --- the store on its own, against the real servers ---------------------------------------------
def new_job(job_id: str, ttl: float = 3600, pages: int = 3) -> Job:
    now = time.time()
    return Job(id=job_id, owner="token:a", batch_id=None, model="pp-ocrv4-mobile", spec=JobSpec(OCROptions()),
               pages=list(range(pages)), kind="pdf", doc_pages=pages, state="pending", done_pages=0, error=None,
               base_url="http://x/", callback_url=None, bytes=10, created=now, started=None, finished=None,
               expires=now + ttl, lease_owner=None, lease_until=None, callback_done=0)


def shared_store(database: str, seaweed: SeaweedFS, local: Path, monkeypatch) -> JobStore:
    for name, value in seaweed.env().items():
        monkeypatch.setenv(name, value)
    return open_store(load_settings(job_dir=local, job_store=database, job_blobs=f"s3://{BUCKET}/{local.name}"))


def test_concurrent_starters_migrate_once_and_the_cli_reports_the_version(database):
    errors: list[BaseException] = []

    def start() -> None:
        try:
            PostgresJobIndex(database).close()
        except BaseException as exc:  # noqa: BLE001 (collected for the assertion)
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    done = subprocess.run([sys.executable, "-m", "ocrserve", "jobs", "migrate"], capture_output=True, text=True,
                          env={**os.environ, "OCR_JOB_STORE": database}, timeout=120)
    assert done.returncode == 0 and "schema version 1" in done.stdout, done.stderr


def test_claims_skip_locked_rows_and_a_lapsed_lease_is_taken_over(database, seaweed, tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    store = shared_store(database, seaweed, tmp_path / "claims", monkeypatch)
    try:
        for n in range(4):
            staged = store.stage()
            staged.write_bytes(b"%PDF-")
            store.create(new_job(f"{n:032x}"), staged)
        with ThreadPoolExecutor(8) as pool:
            claimed = list(pool.map(lambda w: store.index.claim(f"w{w}", 0.5), range(8)))
        assert sorted(job.id for job in claimed if job) == [f"{n:032x}" for n in range(4)]  # each job once
        owner = next(job for job in claimed if job and job.id == "0" * 32).lease_owner
        time.sleep(0.6)
        taken = store.index.claim("w-new", 60)
        assert taken is not None and taken.id == "0" * 32 and taken.lease_owner == "w-new"
        assert not store.index.progress(taken.id, owner, 1, 0) and store.index.progress(taken.id, "w-new", 1, 0)
        assert not store.index.progress(taken.id, "w-new", 1, 0)  # a page is counted once
    finally:
        store.close()


def test_ttl_cleanup_deletes_the_blobs_and_marks_the_rows(database, seaweed, tmp_path, monkeypatch):
    store = shared_store(database, seaweed, tmp_path / "ttl", monkeypatch)
    try:
        staged = store.stage()
        staged.write_bytes(b"%PDF-1.7 input")
        store.create(new_job("e" * 32, ttl=0.5), staged)
        assert not staged.exists()  # streamed to the bucket, not kept here
        store.blobs.put_page("e" * 32, 0, jsonl_line({"page": 0}, "test"), jsonl_line({"txt": "a"}, "test"))
        store.blobs.put("e" * 32, "p1-ocrImage.jpg", b"\xff\xd8jpeg")
        prefix = f"ttl/{'e' * 32}/"
        assert len(seaweed.keys(BUCKET, prefix)) == 4
        assert store.blobs.size("e" * 32) > 0 and store.blobs.parts_written("e" * 32) == 1
        time.sleep(0.6)
        assert store.sweep() == 1
        assert seaweed.keys(BUCKET, prefix) == []
        loaded = store.index.load("e" * 32)
        assert loaded is not None and loaded.state == "expired"
    finally:
        store.close()


# --- instances sharing the store ----------------------------------------------------------------
def test_official_client_submits_to_one_instance_and_reads_from_the_other(pair, seaweed, samples_dir):
    a, b = pair
    pdf = samples_dir / "pdf/smi_p8-10.pdf"
    out = run_client(client_venv(), a, f"""
        from paddleocr import PaddleOCRClient
        other = PaddleOCRClient(token=sys.argv[2], base_url={b!r}, poll_timeout=500)
        job = client.submit_ocr(file_path={str(pdf)!r},
                                options=OCROptions(visualize=False, extra_options={{"outputFormats": ["txt"]}}))
        result = other.wait_ocr_result(job.job_id)
        out = {{"job": job.job_id, "pages": [p.raw for p in result.pages], "links": other.get_status(job.job_id).result}}
    """)
    assert len(out["pages"]) == 3 and all(page["prunedResult"]["rec_texts"] for page in out["pages"])
    assert out["links"]["jsonUrl"].startswith(b) and out["links"]["txtUrl"].startswith(b)
    txt = httpx.get(out["links"]["txtUrl"].replace(b, a), timeout=60)  # either instance serves a link
    assert txt.status_code == 200
    assert txt.text.split("\f") == ["\n".join(p["prunedResult"]["rec_texts"]) + "\n" for p in out["pages"]]
    keys = seaweed.keys(BUCKET, f"{PREFIX}/{out['job']}/")
    assert sorted(k.rsplit("/", 2)[-2] + "/" + k.rsplit("/", 1)[-1] for k in keys if "/pages/" in k) == [
        "pages/000000.json", "pages/000001.json", "pages/000002.json"]
    assert not any("/parts/" in k for k in keys)  # the parts go once the files are built

    image = samples_dir / "bench/screenshot.png"  # result images: written by one instance, served by the other
    answer = submit(b, image, {"visualize": True})
    assert answer.status_code == 200, answer.text
    data = wait_for(a, answer.json()["data"]["jobId"], ended)
    assert data["state"] == "done", data
    line = json.loads(httpx.get(data["resultUrl"]["jsonUrl"], timeout=60).text.strip())
    links = [v for k, v in line["result"]["ocrResults"][0].items() if k != "prunedResult"
             and isinstance(v, str) and "/files/jobs/" in v]
    assert links and all(v.startswith(a) for v in links)
    for link in links:
        got = httpx.get(link.replace(a, b), timeout=60)
        assert got.status_code == 200 and got.content[:2] == b"\xff\xd8"
        assert int(got.headers["content-length"]) == len(got.content)


def test_presigned_links_redirect_to_the_bucket_and_the_jsonl_is_served(tmp_path_factory, tmp_path, database,
                                                                       seaweed, samples_dir):
    """OCR_JOB_LINKS=presigned: a format file and a result image are a 307 to a presigned URL of the
    object, answered by SeaweedFS with the file's type, and the official client saves the images
    through it; the JSONL, built from the pages, is served by the instance."""
    env = instance_env(tmp_path_factory, database, seaweed, "presigned", OCR_JOB_LINKS="presigned")
    with start_server(tmp_path_factory, env) as base:
        out = run_client(client_venv(), base, f"""
            job = client.submit_ocr(file_path={str(samples_dir / "bench/screenshot.png")!r},
                                    options=OCROptions(visualize=True, extra_options={{"outputFormats": ["txt"]}}))
            result = client.wait_ocr_result(job.job_id)
            saved = client.save_ocr_result_resources(result, {str(tmp_path)!r})
            out = {{"pages": [p.raw for p in result.pages], "saved": saved, "links": client.get_status(job.job_id).result}}
        """)
        links = out["links"]
        assert httpx.get(links["jsonUrl"], timeout=60).status_code == 200  # not a redirect
        redirects = {url: httpx.get(url, timeout=60) for url in (links["txtUrl"], out["pages"][0]["ocrImage"])}
        tampered = httpx.get(links["txtUrl"].replace("sig=", "sig=0"), timeout=60)
    assert tampered.status_code == 404  # the link's own signature is checked before any redirect
    assert out["saved"] and all(Path(path).read_bytes()[:2] == b"\xff\xd8" for path in out["saved"])
    for url, redirect in redirects.items():
        assert redirect.status_code == 307, (url, redirect.text)
        assert redirect.headers["location"].startswith(f"{seaweed.endpoint}/{BUCKET}/presigned/")
    txt, jpeg = (httpx.get(r.headers["location"], timeout=60) for r in redirects.values())  # the instance is gone
    assert txt.status_code == 200 and txt.headers["content-type"].startswith("text/plain")
    assert txt.text == "\n".join(out["pages"][0]["prunedResult"]["rec_texts"]) + "\n"
    assert jpeg.status_code == 200 and jpeg.headers["content-type"] == "image/jpeg" and jpeg.content[:2] == b"\xff\xd8"


def test_cancel_at_the_other_instance(pair, samples_dir):
    a, b = pair
    answer = submit(a, samples_dir / "pdf/scanned_lshort_p50-51.pdf")
    assert answer.status_code == 200, answer.text
    job_id = answer.json()["data"]["jobId"]
    cancelled = httpx.delete(f"{b}{JOBS}/{job_id}", headers=AUTH, timeout=30).json()["data"]
    assert cancelled["state"] == "failed" and "cancelled" in cancelled["errorMsg"]
    err = run_client(client_venv(), a, f"""
        client.wait_ocr_result({job_id!r})
        out = {{}}
    """)
    assert err["error"] == "JobFailedError" and "cancelled" in err["message"]


def test_index_down_is_503_for_jobs_while_sync_ocr_serves_and_a_restart_loses_nothing(pair, postgres, samples_dir):
    a, b = pair
    image = samples_dir / "bench/screenshot.png"
    acknowledged = submit(a, image)
    assert acknowledged.status_code == 200, acknowledged.text
    job_id = acknowledged.json()["data"]["jobId"]
    postgres.stop("immediate")  # as a crash: only what PostgreSQL made durable survives
    try:
        refused = submit(b, image)
        body = refused.json()
        assert refused.status_code == 503 and body["code"] == 503, refused.text
        assert "job index" in body["msg"] and "cannot be reached" in body["msg"]
        assert int(refused.headers["Retry-After"]) > 0
        sync = httpx.post(f"{a}/ocr", headers=AUTH, timeout=120,
                          json={"file": base64.b64encode(image.read_bytes()).decode(), "fileType": 1})
        assert sync.status_code == 200 and sync.json()["result"]["ocrResults"], sync.text
        status = httpx.get(f"{b}{JOBS}/{job_id}", headers=AUTH, timeout=30)
        assert status.status_code == 503
    finally:
        postgres.start()
    wait_until_up(postgres)
    data = wait_for(b, job_id, ended)
    assert data["state"] == "done", data
    again = submit(b, image)
    assert again.status_code == 200, again.text


def test_sigkill_of_the_instance_running_a_job_the_other_finishes_it_identically(tmp_path_factory, database, postgres,
                                                                               seaweed, samples_dir):
    """A pair of its own, on a database and prefix of its own, so the module's pair never claims the job."""
    pdf = samples_dir / "pdf/smi_p8-10.pdf"
    payload = {"outputFormats": ["txt", "pdf"]}
    env = {"OCR_JOB_LEASE_S": "3", "OCR_PDF_TEXT": "ocr"}  # every page through the engine, none from its text layer
    with server_process(tmp_path_factory, instance_env(tmp_path_factory, database, seaweed, "killed", **env)) as (x, px, lx), \
            server_process(tmp_path_factory, instance_env(tmp_path_factory, database, seaweed, "killed", **env)) as (y, py, ly):
        answer = submit(x, pdf, payload)
        assert answer.status_code == 200, answer.text
        job_id = answer.json()["data"]["jobId"]
        seen = wait_for(y, job_id, lambda d: d["extractProgress"]["extractedPages"] >= 1)
        with psycopg.connect(database) as conn:
            owner = conn.execute("SELECT lease_owner FROM jobs WHERE id = %s", (job_id,)).fetchone()[0]
        running, survivor, survivor_log = (px, y, ly) if owner.startswith(f"{px.pid}-") else (py, x, lx)
        assert owner.startswith(f"{running.pid}-"), (owner, px.pid, py.pid)
        running.send_signal(signal.SIGKILL)
        running.wait(timeout=10)
        assert seen["state"] == "running" and seen["extractProgress"]["extractedPages"] < 3, seen  # killed mid-job

        resumed = wait_for(survivor, job_id, ended)
        assert resumed["state"] == "done" and resumed["extractProgress"]["extractedPages"] == 3, resumed
        whole_id = submit(survivor, pdf, payload).json()["data"]["jobId"]  # the same document, never interrupted
        whole = wait_for(survivor, whole_id, ended)
        assert whole["state"] == "done", whole
        got = {key: httpx.get(url, timeout=60).content for key, url in resumed["resultUrl"].items()}
        want = {key: httpx.get(url, timeout=60).content for key, url in whole["resultUrl"].items()}
        assert f"job {job_id[:8]}: claimed by" in survivor_log.read_text()  # taken over, not restarted
    keys = seaweed.keys(BUCKET, f"killed/{job_id}/pages/")
    assert [k.rsplit("/", 1)[-1] for k in sorted(keys)] == ["000000.json", "000001.json", "000002.json"]
    lines = got["jsonUrl"].decode().strip().split("\n")
    assert len(lines) == 3
    pages = [json.loads(line)["result"]["ocrResults"][0]["prunedResult"]["rec_texts"] for line in lines]
    assert all(pages) and len({tuple(p) for p in pages}) == 3  # three different pages, none twice
    assert got["jsonUrl"] == want["jsonUrl"] and got["txtUrl"] == want["txtUrl"]
    unstamped = [re.sub(rb"/ID\s*\[<[0-9A-Fa-f]+>\s*<[0-9A-Fa-f]+>\]", b"", pdf_bytes)
                 for pdf_bytes in (got["pdfUrl"], want["pdfUrl"])]
    assert unstamped[0] == unstamped[1]  # the same PDF but for the random file identifier pdfium writes


def test_blobs_down_is_503_for_new_jobs_and_a_running_job_finishes_once_they_are_back(tmp_path_factory, database,
                                                                                  samples_dir):
    """The S3 store stopped while a job runs: new jobs get 503 naming it, synchronous OCR and status
    calls go on, the running job is not failed, and once the store is back it finishes with every
    page once.  A SeaweedFS of its own, restarted on the same data."""
    pdf = samples_dir / "pdf/smi_p8-10.pdf"
    image = samples_dir / "bench/screenshot.png"
    with running_seaweedfs(BUCKET) as own:
        env = instance_env(tmp_path_factory, database, own, "outage", OCR_JOB_LEASE_S="3", OCR_PDF_TEXT="ocr")
        with start_server(tmp_path_factory, env) as base:
            answer = submit(base, pdf)
            assert answer.status_code == 200, answer.text
            job_id = answer.json()["data"]["jobId"]
            wait_for(base, job_id, lambda d: d["extractProgress"]["extractedPages"] >= 1)
            own.stop()
            try:
                refused = submit(base, image)
                assert refused.status_code == 503 and "job blobs" in refused.json()["msg"], refused.text
                sync = httpx.post(f"{base}/ocr", headers=AUTH, timeout=120,
                                  json={"file": base64.b64encode(image.read_bytes()).decode(), "fileType": 1})
                assert sync.status_code == 200 and sync.json()["result"]["ocrResults"], sync.text
                time.sleep(8)  # past the lease: the job's next page cannot be written meanwhile
                status = httpx.get(f"{base}{JOBS}/{job_id}", headers=AUTH, timeout=30)
                assert status.status_code == 200 and status.json()["data"]["state"] in ("running", "pending"), status.text
            finally:
                own.start()
            data = wait_for(base, job_id, ended)
            assert data["state"] == "done" and data["extractProgress"]["extractedPages"] == 3, data
            lines = httpx.get(data["resultUrl"]["jsonUrl"], timeout=60).text.strip().split("\n")
        keys = own.keys(BUCKET, f"outage/{job_id}/pages/")
    assert [k.rsplit("/", 1)[-1] for k in sorted(keys)] == ["000000.json", "000001.json", "000002.json"]
    pages = [json.loads(line)["result"]["ocrResults"][0]["prunedResult"]["rec_texts"] for line in lines]
    assert len(pages) == 3 and all(pages) and len({tuple(p) for p in pages}) == 3  # every page once
