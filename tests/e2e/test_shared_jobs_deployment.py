"""deploy/shared-jobs/ run on loopback: its compose file's settings, its nginx.conf and its s3.json.

No Docker engine runs on the test machines, so each service of the compose file is a local process
in place of its container: PostgreSQL from Debian's packages with the compose file's user, password
and database; SeaweedFS with the deployment's own `s3.json`; three `ocrserve serve` processes with
the `ocrserve` service's environment as the compose file writes it (only the host names mapped to
loopback ports, and each its own OCR_JOB_DIR and port); Debian's nginx with the deployment's
`nginx.conf` (its upstream's one name expanded to the three replicas, as Docker's DNS would, and its
port moved to a free one).  The official PaddleOCR client then works through nginx alone.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml

from _support.nginx import running_nginx
from _support.paddleocr_client import client_venv, run_client
from _support.postgres import running_postgres, wait_until_up
from _support.seaweedfs import running_seaweedfs
from _support.server import free_port, server_process
from _support.workers import sample

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "shared-jobs"
JOBS = "/api/v2/ocr/jobs"
REPLICAS = 3


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def one_substitution(pattern: str, replacement: str, text: str) -> str:
    """`text` with `pattern` replaced where it occurs exactly once, so a changed file fails here, clearly."""
    out, count = re.subn(pattern, replacement, text)
    assert count == 1, f"{pattern!r} occurs {count} times in the deployment's file"
    return out


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """(nginx base URL, the replicas' base URLs, the API token) for the deployment on loopback."""
    services = compose()["services"]
    replica_env = {name: str(value) for name, value in services["ocrserve"]["environment"].items()}
    bucket, _, _ = replica_env["OCR_JOB_BLOBS"].removeprefix("s3://").partition("/")
    database = services["postgres"]["environment"]
    with running_postgres() as postgres, running_seaweedfs(bucket, DEPLOY / "s3.json") as seaweed:
        wait_until_up(postgres)
        with psycopg.connect(postgres.url, autocommit=True) as conn:  # what the postgres image does at first start
            conn.execute(f"CREATE ROLE \"{database['POSTGRES_USER']}\" LOGIN PASSWORD '{database['POSTGRES_PASSWORD']}'")
            conn.execute(f"CREATE DATABASE \"{database['POSTGRES_DB']}\" OWNER \"{database['POSTGRES_USER']}\"")
        hosts = {"@postgres:5432/": f"@127.0.0.1:{postgres.port}/", "http://s3:8333": seaweed.endpoint}
        for name, value in replica_env.items():
            for host, local in hosts.items():
                value = value.replace(host, local)
            replica_env[name] = value
        assert replica_env["AWS_ENDPOINT_URL"] == seaweed.endpoint and f":{postgres.port}/" in replica_env["OCR_JOB_STORE"]
        with contextlib.ExitStack() as stack:
            replicas = [stack.enter_context(server_process(
                tmp_path_factory, {**replica_env, "OCR_JOB_DIR": str(tmp_path_factory.mktemp("jobs"))}))[0]
                for _ in range(REPLICAS)]
            site = (DEPLOY / "nginx.conf").read_text()
            site = one_substitution(r"server ocrserve:7861;", " ".join(f"server {base.removeprefix('http://')};"
                                                                      for base in replicas), site)
            port = free_port()
            site = one_substitution(r"listen 80;", f"listen 127.0.0.1:{port};", site)
            with running_nginx(tmp_path_factory.mktemp("nginx"), site, port) as base:
                yield base, replicas, replica_env["OCR_API_TOKENS"]


def test_the_official_client_works_through_nginx_and_every_replica_serves_the_job(deployment, samples_dir, tmp_path):
    base, replicas, token = deployment
    before = {replica: httpx.get(f"{replica}/metrics", timeout=10).text for replica in replicas}
    pdf = samples_dir / "pdf/smi_p8-10.pdf"
    out = run_client(client_venv(), base, f"""
        job = client.submit_ocr(file_path={str(pdf)!r},
                                options=OCROptions(visualize=True, extra_options={{"outputFormats": ["txt"]}}))
        result = client.wait_ocr_result(job.job_id)
        saved = client.save_ocr_result_resources(result, {str(tmp_path)!r})
        out = {{"job": job.job_id, "pages": [p.raw for p in result.pages], "saved": saved,
                "links": client.get_status(job.job_id).result}}
    """, token=token)
    assert len(out["pages"]) == 3 and all(page["prunedResult"]["rec_texts"] for page in out["pages"]), out
    # the links carry nginx's address (OCR_TRUSTED_PROXIES="*" and the forwarded host), and work through it
    links = out["links"]
    assert links["jsonUrl"].startswith(base) and links["txtUrl"].startswith(base), links
    txt = httpx.get(links["txtUrl"], timeout=60)
    assert txt.status_code == 200
    assert txt.text.split("\f") == ["\n".join(p["prunedResult"]["rec_texts"]) + "\n" for p in out["pages"]]
    assert out["saved"] and all(Path(path).read_bytes()[:2] == b"\xff\xd8" for path in out["saved"])

    for _ in range(3 * REPLICAS):  # nginx spreads status calls over the replicas; each answers for the job
        status = httpx.get(f"{base}{JOBS}/{out['job']}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert status.status_code == 200 and status.json()["data"]["state"] == "done", status.text
    time.sleep(0.5)
    after = {replica: httpx.get(f"{replica}/metrics", timeout=10).text for replica in replicas}
    answered = {replica: sample(after[replica], "ocrserve_requests_total", route=f"{JOBS}/{{job_id}}", method="GET")
                - sample(before[replica], "ocrserve_requests_total", route=f"{JOBS}/{{job_id}}", method="GET")
                for replica in replicas}
    assert all(count >= 1 for count in answered.values()), answered
    pages = sum(sample(after[replica], "ocrserve_job_store_seconds_count", call="progress")
                - sample(before[replica], "ocrserve_job_store_seconds_count", call="progress") for replica in replicas)
    assert pages == 3  # each page recorded once, by whichever replica ran the job


def test_an_upload_larger_than_nginx_buffers_streams_through_to_the_store(deployment, samples_dir):
    """`proxy_request_buffering off` and `client_max_body_size`: a 40 MB PDF (its size from padding
    after the document, which readers ignore) goes through nginx to a replica and is read."""
    base, _, token = deployment
    pdf = (samples_dir / "pdf/smi_p8-10.pdf").read_bytes()
    padded = pdf + b"\n%" + b"0" * (40 * 1024 * 1024) + b"\n"
    answer = httpx.post(f"{base}{JOBS}", headers={"Authorization": f"Bearer {token}"}, timeout=120,
                        files={"file": ("big.pdf", padded, "application/pdf")},
                        data={"model": "PP-OCRv6", "optionalPayload": '{"visualize": false}'})
    assert answer.status_code == 200, answer.text
    job_id = answer.json()["data"]["jobId"]
    deadline = time.monotonic() + 400
    while True:
        data = httpx.get(f"{base}{JOBS}/{job_id}", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["data"]
        if data["state"] in ("done", "failed", "cancelled"):
            break
        assert time.monotonic() < deadline, data
        time.sleep(0.5)
    assert data["state"] == "done" and data["extractProgress"]["extractedPages"] == 3, data
