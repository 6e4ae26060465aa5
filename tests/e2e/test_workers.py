"""Several worker processes for real: gunicorn (gunicorn.conf.py and the seed service's command form)
and `ocrserve serve --workers 2` on loopback, /metrics summed over workers, /health naming the
worker, and a worker SIGKILLed under load replaced while the others keep answering."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from _support.workers import REPO, Workers, docker_env, gunicorn_conf, gunicorn_seed_form, sample, serve_workers
from ocrserve.service.quota import SQLiteQuotaStore, utc_day

TOKEN = "workers-test-token"
TOKEN_ID = hashlib.sha256(TOKEN.encode()).hexdigest()  # how the quota store names a token
IMAGE = "scenes/s01_sign_zh_en.png"
CONCURRENCY = 4


@pytest.fixture(scope="module")
def image(samples_dir: Path) -> bytes:
    return (samples_dir / IMAGE).read_bytes()


@pytest.fixture(scope="module")
def gunicorn2(tmp_path_factory):
    """`gunicorn -c gunicorn.conf.py` with OCR_WORK_COUNT=2 (the seed's name), tokens and a daily quota on."""
    tmp = tmp_path_factory.mktemp("gunicorn2")
    env = {"OCR_API_TOKENS": TOKEN, "OCR_DAILY_PAGE_LIMIT": "100000", "OCR_QUOTA_DB": str(tmp / "quota.sqlite3")}
    with gunicorn_conf(tmp, 2, env) as server:
        server.ids = server.healthy_workers(2)
        yield server


def ocr(server: Workers, image: bytes) -> int:
    """One rapidocr_api request on a fresh connection (a pooled one could belong to a dead worker)."""
    response = httpx.post(f"{server.base}/ocr", files={"image_file": ("sign.png", image, "image/png")},
                          headers={"Authorization": f"token {TOKEN}", "Connection": "close"}, timeout=300)
    return response.status_code


def health_until_both_served(server: Workers) -> tuple[int, dict[int, int]]:
    """GET /health until each of the two workers has answered at least 3 times: (requests, per worker)."""
    per_worker: dict[int, int] = {}
    sent = 0
    while len(per_worker) < 2 or min(per_worker.values()) < 3:
        assert sent < 1000, f"one worker answered everything: {per_worker}"
        body = server.health()
        sent += 1
        per_worker[body["worker_id"]] = per_worker.get(body["worker_id"], 0) + 1
    return sent, per_worker


def test_gunicorn_conf_serves_with_two_workers_and_health_names_them(gunicorn2):
    assert len(gunicorn2.ids) == 2 and os.getpid() not in gunicorn2.ids
    body = gunicorn2.health()
    assert body["workers"] == 2 and body["worker_id"] in gunicorn2.ids and body["runtime"]["workers"] == 2


def test_metrics_sum_requests_over_both_workers(gunicorn2, image):
    before = gunicorn2.metrics()
    sent, per_worker = health_until_both_served(gunicorn2)
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        statuses = list(pool.map(lambda _: ocr(gunicorn2, image), range(6)))
    assert statuses == [200] * 6
    after = gunicorn2.metrics_once(lambda text: sample(text, "ocrserve_requests_total", route="/health")
                                   - sample(before, "ocrserve_requests_total", route="/health") >= sent
                                   and sample(text, "ocrserve_inflight_requests") <= 1)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert set(per_worker) == gunicorn2.ids
    assert delta("ocrserve_requests_total", route="/health", method="GET") == sent
    assert delta("ocrserve_request_duration_seconds_count", route="/health") == sent
    assert delta("ocrserve_requests_total", route="/ocr", method="POST", status="200") == 6
    assert delta("ocrserve_pages_total", contract="rapidocr") == 6
    assert delta("ocrserve_stage_duration_seconds_count", stage="rec") == 6
    assert delta("ocrserve_queue_wait_seconds_count") == 6
    assert delta("ocrserve_rec_batch_crops_count") >= 6 and delta("ocrserve_rec_batch_padded_width_count") >= 6
    # live gauges: the scrape itself is the only request in flight, on whichever worker took it
    assert sample(after, "ocrserve_inflight_requests") == 1
    assert "ocrserve_queue_depth" in after


@dataclass
class Load:
    """OCR requests from CONCURRENCY threads until told to stop: (start time, status or error) each."""

    server: Workers
    image: bytes
    stop: threading.Event = field(default_factory=threading.Event)
    results: list[tuple[float, int | str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                outcome: int | str = ocr(self.server, self.image)
            except httpx.TransportError as exc:
                outcome = type(exc).__name__
            with self.lock:
                self.results.append((started, outcome))

    def ok(self) -> int:
        with self.lock:
            return sum(1 for _, outcome in self.results if outcome == 200)


def test_a_worker_killed_under_load_is_replaced_and_only_its_requests_fail(gunicorn2, image):
    used_before = SQLiteQuotaStore(gunicorn2.tmp / "quota.sqlite3").used(TOKEN_ID, utc_day())
    metrics_before = gunicorn2.metrics()
    load = Load(gunicorn2, image)
    threads = [threading.Thread(target=load.run) for _ in range(CONCURRENCY)]
    for t in threads:
        t.start()
    try:
        while load.ok() < 2 * CONCURRENCY:  # both workers busy
            assert all(t.is_alive() for t in threads)
            time.sleep(0.2)
        victim = gunicorn2.health()["worker_id"]
        metrics_at_kill = gunicorn2.metrics()
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        # the master starts a replacement; wait until it has loaded and answered
        survivors = gunicorn2.ids - {victim}
        replaced = gunicorn2.healthy_workers(2) - survivors
        after_replacement = load.ok()
        while load.ok() < after_replacement + 2 * CONCURRENCY:  # and keeps serving under load
            time.sleep(0.2)
    finally:
        load.stop.set()
        for t in threads:
            t.join(timeout=300)
    gunicorn2.ids = survivors | replaced

    failed = [(started, outcome) for started, outcome in load.results if outcome != 200]
    later = [outcome for started, outcome in load.results if started > killed_at]
    assert victim not in replaced and len(replaced) == 1
    assert all(started < killed_at for started, _ in failed), failed  # none sent after the kill failed
    assert len(failed) <= CONCURRENCY, failed  # at most the requests the victim held
    assert later and all(outcome == 200 for outcome in later)
    ok = load.ok()

    metrics = gunicorn2.metrics_once(lambda text: sample(text, "ocrserve_inflight_requests") <= 1)
    # the dead worker's counts stay in the sums; only what it held can be missing or extra
    for name, labels in [("ocrserve_requests_total", {"route": "/ocr", "status": "200"}),
                         ("ocrserve_pages_total", {"contract": "rapidocr"})]:
        assert sample(metrics, name, **labels) >= sample(metrics_at_kill, name, **labels)
        counted = sample(metrics, name, **labels) - sample(metrics_before, name, **labels)
        assert abs(counted - ok) <= CONCURRENCY, (name, counted, ok)
    # its live gauges left with it: only this scrape is in flight, nothing queued
    assert sample(metrics, "ocrserve_inflight_requests") == 1
    deadline = time.monotonic() + 30
    while sample(gunicorn2.metrics(), "ocrserve_queue_depth") != 0:
        assert time.monotonic() < deadline, "queue depth never went back to 0"
        time.sleep(0.3)
    # quotas are charged once per answered page: the killed requests cost at most what they held
    charged = SQLiteQuotaStore(gunicorn2.tmp / "quota.sqlite3").used(TOKEN_ID, utc_day()) - used_before
    assert abs(charged - ok) <= CONCURRENCY, (charged, ok)


@pytest.mark.parametrize("worker_class, where", [("uvicorn.workers.UvicornWorker", "repository"),
                                                ("uvicorn_worker.UvicornWorker", "image")])
def test_the_seed_command_form_serves_and_sums_metrics(tmp_path, worker_class, where, image):
    """In the repository gunicorn reads ./gunicorn.conf.py as its default; in the Docker image
    GUNICORN_CMD_ARGS names the file (here: the Dockerfile's value, run from elsewhere)."""
    if where == "repository":
        cwd, env = REPO, {}
    else:
        cwd, env = tmp_path, {"GUNICORN_CMD_ARGS": docker_env("GUNICORN_CMD_ARGS")}
    with gunicorn_seed_form(tmp_path, 2, worker_class, cwd, env) as server:
        ids = server.healthy_workers(2)
        body = server.health()
        assert body["workers"] == 2 and body["worker_id"] in ids
        assert ocr(server, image) == 200
        before = server.metrics()
        sent, per_worker = health_until_both_served(server)
        after = server.metrics_once(lambda text: counted(before, text, "/health") >= sent)
        assert set(per_worker) == ids
        assert counted(before, after, "/health") == sent
    assert f"Using worker: {worker_class}" in server.log.read_text()


def test_serve_workers_sums_metrics_and_replaces_a_killed_worker(tmp_path):
    with serve_workers(tmp_path, 2) as server:
        ids = server.healthy_workers(2)
        assert server.health()["workers"] == 2
        before = server.metrics()
        sent, per_worker = health_until_both_served(server)
        assert set(per_worker) == ids
        at_kill = server.metrics_once(lambda text: counted(before, text, "/health") >= sent)
        assert counted(before, at_kill, "/health") == sent
        victim = next(iter(ids))
        os.kill(victim, signal.SIGKILL)
        replaced = server.healthy_workers(2) - (ids - {victim})
        assert victim not in replaced
        metrics = server.metrics_once(lambda text: sample(text, "ocrserve_inflight_requests") <= 1)
        assert counted(at_kill, metrics, "/health") >= 0  # the dead worker's counts are still summed
        assert sample(metrics, "ocrserve_inflight_requests") == 1


def counted(before: str, after: str, route: str) -> float:
    """Requests to `route` counted between two scrapes."""
    return sample(after, "ocrserve_requests_total", route=route) - sample(before, "ocrserve_requests_total", route=route)
