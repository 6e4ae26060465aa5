"""API tokens and daily page quotas.

HTTP behaviour runs in process (TestClient) with the pp-ocrv4-mobile set on tiny synthetic
inputs; the quota stores are tested directly, SQLite always and Redis against a real
`redis-server` started on a free loopback port (a missing binary fails, naming the package).
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import multiprocessing
import sqlite3
import subprocess
import time
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from _support.http import wait_in_process_ready
from _support.server import free_port
from _support.tools import need_tool
from ocrserve import load_settings
from ocrserve.api.app import create_app
from ocrserve.errors import ConfigError, QuotaUnavailable
from ocrserve.service.quota import RedisQuotaStore, SQLiteQuotaStore, seconds_until_utc_midnight, utc_day

TOKEN_A = "tok-alpha-5bq8w2xr"
TOKEN_B = "tok-bravo-3nz7k1pd"
WRONG = "tok-wrong-9vx4m6tc"
MODEL = "pp-ocrv4-mobile"


# --- inputs and helpers ----------------------------------------------------------------------
def page(text: str = "Hello 123") -> Image.Image:
    img = Image.new("RGB", (320, 80), "white")
    ImageDraw.Draw(img).text((20, 30), text, fill="black")
    return img


def png_bytes() -> bytes:
    buf = io.BytesIO()
    page().save(buf, format="PNG")
    return buf.getvalue()


def pdf_bytes(pages: int) -> bytes:
    buf = io.BytesIO()
    first, *rest = [page(f"page {n}") for n in range(1, pages + 1)]
    first.save(buf, format="PDF", save_all=True, append_images=rest, resolution=72)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def auth(token: str, scheme: str = "token") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def expected_retry_after() -> float:
    """Seconds to the next UTC midnight, computed independently of ocrserve.service.quota."""
    now = datetime.now(timezone.utc)
    return (datetime.combine(now.date() + timedelta(days=1), dtime(), tzinfo=timezone.utc) - now).total_seconds()


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def paddlex_error(r, status: int) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"logId", "errorCode", "errorMsg"} and body["errorCode"] == status
    assert body["logId"] == r.headers["x-request-id"]


def rapidocr_error(r, status: int) -> None:
    assert r.status_code == status, r.text
    assert set(r.json()) == {"detail", "requestId"}


def seed_error(r, status: int) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is False and body["error"] and "request_id" in body


def hub_error(r, status: int) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == "101" and body["msg"] and body["results"] == []


# --- auth ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client():
    app = create_app(load_settings(model=MODEL, api_tokens=f"{TOKEN_A}, {TOKEN_B}"))
    with TestClient(app) as c:
        wait_in_process_ready(c)
        yield c


FORBIDDEN_HEADERS = [{}, auth(WRONG), auth(WRONG, "Bearer"), {"Authorization": f"Basic {TOKEN_A}"},
                     auth(TOKEN_A + "x"), auth(TOKEN_A[:-1]), {"Authorization": "token"}]


@pytest.mark.parametrize("headers", FORBIDDEN_HEADERS, ids=["none", "wrong", "wrong-bearer", "basic", "longer",
                                                             "shorter", "empty"])
def test_missing_or_wrong_token_is_403_in_each_contracts_shape(client, headers):
    image = png_bytes()
    paddlex_error(client.post("/ocr", json={"file": b64(image)}, headers=headers), 403)
    rapidocr_error(client.post("/ocr", files={"image_file": ("p.png", image)}, headers=headers), 403)
    seed_error(client.post("/upload", files={"file": ("p.png", image)}, headers=headers), 403)
    seed_error(client.post("/paddleocr", json={"image": b64(image)}, headers=headers), 403)
    hub_error(client.post("/predict/ocr_system", json={"images": [b64(image)]}, headers=headers), 403)


def test_both_header_styles_are_accepted(client):
    image = png_bytes()
    r = client.post("/ocr", json={"file": b64(image)}, headers=auth(TOKEN_A, "token"))
    assert r.status_code == 200 and r.json()["errorCode"] == 0
    r = client.post("/ocr", files={"image_file": ("p.png", image)}, headers=auth(TOKEN_B, "Bearer"))
    assert r.status_code == 200 and isinstance(r.json(), dict)
    r = client.post("/upload", files={"file": ("p.png", image)}, headers=auth(TOKEN_A, "bearer"))
    assert r.status_code == 200 and r.json()["success"] is True
    r = client.post("/predict/ocr_system", json={"images": [b64(image)]}, headers=auth(TOKEN_B, "Token"))
    assert r.status_code == 200 and r.json()["status"] == "000"


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics", "/", "/docs", "/openapi.json"])
def test_operations_stay_open(client, path):
    assert client.get(path).status_code == 200


def test_open_paths_are_configurable():
    app = create_app(load_settings(model=MODEL, api_tokens=TOKEN_A, auth_open_paths="/health"))
    client = TestClient(app)  # no lifespan: the engine is not needed to decide on access
    assert client.get("/health").status_code != 403  # 503: not loaded, but let in
    paddlex_error(client.get("/metrics"), 403)
    assert client.get("/metrics", headers=auth(TOKEN_A)).status_code == 200


def test_tokens_file(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# ocrserve tokens\n\n{TOKEN_A}\n   \n# {WRONG}\n  {TOKEN_B}  \n")
    client = TestClient(create_app(load_settings(model=MODEL, api_tokens_file=tokens)))
    for token in (TOKEN_A, TOKEN_B):  # 422: let in, then the empty body is refused
        assert client.post("/ocr", json={}, headers=auth(token)).status_code == 422
    paddlex_error(client.post("/ocr", json={}, headers=auth(WRONG)), 403)
    paddlex_error(client.post("/ocr", json={}, headers=auth("# ocrserve tokens")), 403)


@pytest.mark.parametrize("content", [None, "# only a comment\n\n"], ids=["missing", "empty"])
def test_a_tokens_file_without_tokens_stops_the_start(tmp_path, content):
    tokens = tmp_path / "tokens"
    if content is not None:
        tokens.write_text(content)
    with pytest.raises(ConfigError, match="OCR_API_TOKENS_FILE"):
        create_app(load_settings(model=MODEL, api_tokens_file=tokens))


def test_auth_is_off_without_tokens():
    client = TestClient(create_app(load_settings(model=MODEL)))
    assert client.post("/ocr", json={}).status_code == 422


def test_tokens_never_reach_the_logs(client, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="ocrserve")  # `serve` sets the package's level; other tests ran it
    image = png_bytes()
    create_app(load_settings(model=MODEL, api_tokens=f"{TOKEN_A},{TOKEN_B}", daily_page_limit=5,
                             quota_db=tmp_path / "q.sqlite3"))
    assert client.post("/ocr", json={"file": b64(image)}, headers=auth(TOKEN_A)).status_code == 200
    for headers in (auth(WRONG), auth(TOKEN_B, "Bearer"), {}):
        client.post("/ocr", files={"image_file": ("p.png", image)}, headers=headers)
    logged = caplog.text + "".join(repr(r.args) + repr(r.__dict__) for r in caplog.records)
    assert "403 forbidden" in caplog.text  # the refusals were logged ...
    assert token_id(TOKEN_A)[:8] in caplog.text  # ... and the token by its short id only
    for secret in (TOKEN_A, TOKEN_B, WRONG):
        assert secret not in logged


# --- quotas over HTTP -------------------------------------------------------------------------
def test_quota_checks_before_and_charges_after_and_survives_a_restart(tmp_path):
    db = tmp_path / "quota.sqlite3"
    settings = load_settings(model=MODEL, api_tokens=f"{TOKEN_A},{TOKEN_B}", daily_page_limit=2, quota_db=db)
    image, pdf = png_bytes(), pdf_bytes(3)
    with TestClient(create_app(settings)) as client:
        wait_in_process_ready(client)
        assert client.post("/ocr", json={"file": b64(image)}, headers=auth(TOKEN_A)).status_code == 200
        # 1 of 2 used: the 3-page PDF is admitted, served in full and charged in full (4 of 2)
        r = client.post("/ocr", json={"file": b64(pdf), "fileType": 0}, headers=auth(TOKEN_A))
        assert r.status_code == 200 and r.json()["result"]["dataInfo"]["numPages"] == 3
        r = client.post("/ocr", json={"file": b64(image)}, headers=auth(TOKEN_A))
        paddlex_error(r, 429)
        assert abs(int(r.headers["retry-after"]) - expected_retry_after()) <= 5
        seed_error(client.post("/upload", files={"file": ("p.png", image)}, headers=auth(TOKEN_A)), 429)
        rapidocr_error(client.post("/ocr", files={"image_file": ("p.png", image)}, headers=auth(TOKEN_A)), 429)
        # the other token has its own count; the hub route charges one page per image
        assert client.post("/ocr", files={"image_file": ("p.png", image)}, headers=auth(TOKEN_B)).status_code == 200
        assert client.post("/predict/ocr_system", json={"images": [b64(image)]}, headers=auth(TOKEN_B)).status_code == 200
        hub_error(client.post("/predict/ocr_system", json={"images": [b64(image)]}, headers=auth(TOKEN_B)), 429)

    with sqlite3.connect(db) as conn:
        counts = dict(conn.execute("SELECT token_id, pages FROM quota_usage WHERE day = ?", (utc_day(),)))
    assert counts == {token_id(TOKEN_A): 4, token_id(TOKEN_B): 2}  # the refused requests cost nothing
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert TOKEN_A.encode() not in stored and TOKEN_B.encode() not in stored

    restarted = TestClient(create_app(settings))  # a new process would see the same file
    paddlex_error(restarted.post("/ocr", json={"file": b64(image)}, headers=auth(TOKEN_A)), 429)


def test_quota_needs_tokens(tmp_path):
    with pytest.raises(ConfigError, match="OCR_DAILY_PAGE_LIMIT"):
        create_app(load_settings(model=MODEL, daily_page_limit=10, quota_db=tmp_path / "q.sqlite3"))


def test_quota_is_off_by_default_and_creates_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = load_settings(model=MODEL, api_tokens=TOKEN_A)
    assert settings.quota_db == tmp_path / "ocrserve" / "quota.sqlite3"
    app = create_app(settings)
    assert app.state.quota is None and not any(tmp_path.iterdir())


def test_seconds_until_utc_midnight():
    assert seconds_until_utc_midnight(datetime(2026, 11, 22, 23, 59, 59, 500000, tzinfo=timezone.utc)) == 1
    assert seconds_until_utc_midnight(datetime(2026, 11, 22, 0, 0, tzinfo=timezone.utc)) == 86400
    assert seconds_until_utc_midnight(datetime(2026, 11, 22, 23, 0, tzinfo=timezone(timedelta(hours=-5)))) == 20 * 3600
    assert utc_day(datetime(2026, 11, 22, 23, 0, tzinfo=timezone(timedelta(hours=-5)))) == "2026-11-23"


# --- the stores --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def redis_url():
    binary = need_tool("redis-server", "redis-server")
    import redis

    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "redis-server exited"
            try:
                if redis.Redis.from_url(url).ping():
                    break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not answer"
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def make_store(backend: str, where: str) -> SQLiteQuotaStore | RedisQuotaStore:
    return SQLiteQuotaStore(Path(where)) if backend == "sqlite" else RedisQuotaStore(where)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path) -> tuple[str, str]:
    """(backend, location): plain strings, so that spawned processes can open the same store."""
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "quota.sqlite3")
    url = request.getfixturevalue("redis_url")
    import redis

    redis.Redis.from_url(url).flushdb()
    return "redis", url


def _today_and_tomorrow() -> tuple[str, str]:
    """Days that have not ended: Redis keys expire at their day's end, so a fixed past date would vanish."""
    now = datetime.now(timezone.utc)
    return utc_day(now), utc_day(now + timedelta(days=1))


def test_store_counts_per_token_and_day(backend):
    store = make_store(*backend)
    a, b = token_id(TOKEN_A), token_id(TOKEN_B)
    today, tomorrow = _today_and_tomorrow()
    assert store.used(a, today) == 0
    assert store.add(a, today, 1) == 1
    assert store.add(a, today, 3) == 4
    assert store.add(b, today, 2) == 2
    assert store.add(a, tomorrow, 5) == 5
    assert (store.used(a, today), store.used(b, today), store.used(a, tomorrow)) == (4, 2, 5)


def test_store_counts_survive_a_new_instance(backend):
    make_store(*backend).add(token_id(TOKEN_A), utc_day(), 7)
    assert make_store(*backend).used(token_id(TOKEN_A), utc_day()) == 7


def _add_many(backend: str, where: str, token: str, day: str, times: int, start: Any) -> None:
    store = make_store(backend, where)
    start.wait(timeout=120)
    for _ in range(times):
        store.add(token, day, 1)


def test_concurrent_increments_from_processes_are_not_lost(backend):
    make_store(*backend)  # the schema exists before the race
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(4)
    day = _today_and_tomorrow()[1]  # a day that cannot end while the processes run
    procs = [ctx.Process(target=_add_many, args=(*backend, token_id(TOKEN_A), day, 50, start)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert make_store(*backend).used(token_id(TOKEN_A), day) == 200


def test_redis_counts_expire_at_utc_midnight(redis_url):
    store = RedisQuotaStore(redis_url)
    store.add(token_id(TOKEN_A), utc_day(), 1)
    ttl = store.client.ttl(f"ocrserve:quota:{utc_day()}:{token_id(TOKEN_A)}")
    assert abs(ttl - expected_retry_after()) <= 5
    assert not any(TOKEN_A.encode() in key for key in store.client.keys("*"))


def test_a_count_for_an_ended_day_is_kept_not_dropped_by_its_own_expiry(backend):
    # a request counted just after midnight for the day that just ended: Redis must not expire it at once
    store = make_store(*backend)
    assert store.add(token_id(TOKEN_A), "2026-01-01", 2) == 2
    assert store.add(token_id(TOKEN_A), "2026-01-01", 3) == 5
    assert store.used(token_id(TOKEN_A), "2026-01-01") == 5


def test_store_failures_are_quota_unavailable(tmp_path):
    with pytest.raises(QuotaUnavailable):
        RedisQuotaStore(f"redis://127.0.0.1:{free_port()}/0", timeout_s=1).used("x", utc_day())
    with pytest.raises(ConfigError, match="OCR_QUOTA_REDIS_URL"):
        RedisQuotaStore("http://not-redis")
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="OCR_QUOTA_DB"):
        SQLiteQuotaStore(tmp_path / "file" / "quota.sqlite3")  # its parent is a file
