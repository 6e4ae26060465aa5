"""Per-token daily page counts: an SQLite file on one machine, Redis across several, and the policy.

A store only counts; `Quota` holds the policy (the limit; check before the work, charge after it),
and the HTTP layer's `ocrserve.api.quota_checks` runs it for each request.  Both stores key the counts by
a token *id* (a sha256 hex digest, see `ocrserve.api.auth`; `short_id` is what a log shows of one),
never by the token, and by the UTC day, so a count resets at UTC midnight for every client at once,
whatever its time zone.

The interface is synchronous on purpose: it is easy to call from any thread or process (the
tests hammer it from four processes), and `Quota` runs it off the event loop with
`asyncio.to_thread`, since an SQLite write can wait on another process's lock and a Redis call
on the network.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigError, QuotaExceeded, QuotaUnavailable
from ..settings import Settings
from ..sqlite_connections import ThreadConnections

#: `INSERT ... RETURNING` (one atomic statement for increment-and-read) needs SQLite 3.35
SQLITE_MIN_VERSION = (3, 35, 0)


def utc_day(now: datetime | None = None) -> str:
    """The UTC calendar day, ISO formatted (`2026-11-22`): the period a quota counts over."""
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc).date().isoformat()


def day_end(day: str) -> datetime:
    """The UTC midnight that ends `day`."""
    return datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(), tzinfo=timezone.utc)


# how long a count for a day that has already ended is kept: an increment that lands just after
# midnight for the day that just ended must not be dropped by the very EXPIREAT that carries it
ENDED_DAY_GRACE_S = 3600


def expiry(day: str, now: datetime | None = None) -> int:
    """Unix time a Redis count for `day` expires: the day's end, or a grace period for an ended day."""
    now = now or datetime.now(timezone.utc)
    end = day_end(day)
    return int((end if end > now else now + timedelta(seconds=ENDED_DAY_GRACE_S)).timestamp())


def seconds_until_utc_midnight(now: datetime | None = None) -> int:
    """Whole seconds (rounded up, at least 1) until the quota resets: the 429's Retry-After."""
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    remaining = (day_end(utc_day(now)) - now).total_seconds()
    return max(1, int(-(-remaining // 1)))


class QuotaStore(Protocol):
    """Pages counted per (token id, UTC day); shared by every process that opens the same store."""

    def used(self, token_id: str, day: str) -> int:
        """Pages counted so far for the token on `day` (0 when none)."""
        ...

    def add(self, token_id: str, day: str, pages: int) -> int:
        """Atomically add `pages` and return the new total: concurrent adds are never lost."""
        ...


class SQLiteQuotaStore:
    """Counts in one SQLite file (WAL mode), shared by the worker processes of one machine.

    Each call opens its own short connection: that is safe across threads and forked workers
    without any locking of ours, costs well under a millisecond next to a page's OCR, and lets
    SQLite's own file locks (waiting up to `timeout_s`) serialise writers of all processes.
    WAL mode lets readers go on while one process writes.  WAL needs a local filesystem (not
    NFS); to share counts between machines use `RedisQuotaStore`.
    """

    _SCHEMA = ("CREATE TABLE IF NOT EXISTS quota_usage (token_id TEXT NOT NULL, day TEXT NOT NULL, "
               "pages INTEGER NOT NULL, PRIMARY KEY (token_id, day)) WITHOUT ROWID")
    _ADD = ("INSERT INTO quota_usage (token_id, day, pages) VALUES (?, ?, ?) "
            "ON CONFLICT(token_id, day) DO UPDATE SET pages = pages + excluded.pages RETURNING pages")
    _USED = "SELECT pages FROM quota_usage WHERE token_id = ? AND day = ?"

    def __init__(self, path: Path, timeout_s: float = 10.0) -> None:
        if sqlite3.sqlite_version_info < SQLITE_MIN_VERSION:
            raise ConfigError(f"quotas in SQLite need SQLite >= 3.35 (this Python has {sqlite3.sqlite_version}); "
                              "use a newer Python build or OCR_QUOTA_REDIS_URL")
        self.path = Path(path).expanduser()
        # autocommit connections: the one upsert statement is its own transaction
        self._connections = ThreadConnections(self.path, timeout_s)
        try:  # at startup, so a path that cannot be written fails there and not on a request
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = self._connections.get()
            db.execute("PRAGMA journal_mode=WAL")  # persistent: stored in the file
            db.execute(self._SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the quota database OCR_QUOTA_DB={self.path}: {exc}") from exc

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._connections.rows(sql, params)
        except sqlite3.Error as exc:
            raise QuotaUnavailable(f"the quota database cannot be used: {exc}") from exc

    def used(self, token_id: str, day: str) -> int:
        rows = self._query(self._USED, (token_id, day))
        return int(rows[0][0]) if rows else 0

    def add(self, token_id: str, day: str, pages: int) -> int:
        return int(self._query(self._ADD, (token_id, day, pages))[0][0])


class RedisQuotaStore:
    """Counts in Redis, for replicas on several machines: one key per (day, token id).

    `INCRBY` and `EXPIREAT` (the day's end, or `expiry`'s grace for a day already ended) go in one
    MULTI/EXEC transaction, so the increment is atomic and a key never lives without an expiry.  The URL is parsed at startup
    (a malformed one is a ConfigError); the server is first contacted by a request, and while it
    cannot be reached requests get 503 (QuotaUnavailable).
    """

    def __init__(self, url: str, prefix: str = "ocrserve:quota", timeout_s: float = 5.0) -> None:
        try:
            import redis
        except ImportError as exc:
            raise ConfigError("OCR_QUOTA_REDIS_URL needs the redis client: pip install 'ocrserve[redis]'") from exc
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        try:
            self.client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        except ValueError as exc:  # the message may quote the URL, which can hold a password
            raise ConfigError("OCR_QUOTA_REDIS_URL is not a valid redis:// or rediss:// URL") from exc
        self.prefix = prefix

    def _key(self, token_id: str, day: str) -> str:
        return f"{self.prefix}:{day}:{token_id}"

    def used(self, token_id: str, day: str) -> int:
        try:
            value = self.client.get(self._key(token_id, day))
        except self._errors as exc:
            raise QuotaUnavailable(f"the quota store (Redis) cannot be reached: {exc}") from exc
        return int(value) if value is not None else 0

    def add(self, token_id: str, day: str, pages: int) -> int:
        key = self._key(token_id, day)
        try:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.incrby(key, pages)
                pipe.expireat(key, expiry(day))
                total, _ = pipe.execute()
        except self._errors as exc:
            raise QuotaUnavailable(f"the quota store (Redis) cannot be reached: {exc}") from exc
        return int(total)


def open_store(settings: Settings) -> QuotaStore:
    """Redis when `OCR_QUOTA_REDIS_URL` is set, else the SQLite file `OCR_QUOTA_DB`."""
    if settings.quota_redis_url is not None and settings.quota_redis_url.get_secret_value().strip():
        return RedisQuotaStore(settings.quota_redis_url.get_secret_value().strip())
    return SQLiteQuotaStore(settings.quota_db)


log = logging.getLogger("ocrserve.service.quota")


def short_id(token_id: str) -> str:
    """What logs may show of a token: 8 hex characters of its sha256, not reversible."""
    return token_id[:8]


@dataclass(frozen=True)
class Quota:
    """The daily limit and the store that counts against it."""

    store: QuotaStore
    limit: int

    async def check(self, token_id: str) -> None:
        """Raise QuotaExceeded when the token has no page left today."""
        used = await asyncio.to_thread(self.store.used, token_id, utc_day())
        if used >= self.limit:
            log.info("token %s: daily quota used (%d of %d pages)", short_id(token_id), used, self.limit)
            raise QuotaExceeded(f"the daily quota of {self.limit} pages is used ({used} today); "
                                "it resets at 00:00 UTC", retry_after=seconds_until_utc_midnight())

    async def charge(self, token_id: str, pages: int) -> None:
        """Add the pages processed for the token; a store failure is logged, not raised."""
        if pages <= 0:
            return
        try:
            total = await asyncio.to_thread(self.store.add, token_id, utc_day(), pages)
        except QuotaUnavailable as exc:
            log.error("token %s: %d pages not counted: %s", short_id(token_id), pages, exc)
            return
        log.debug("token %s: %d pages charged, %d of %d today", short_id(token_id), pages, total, self.limit)
