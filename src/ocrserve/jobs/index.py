"""The job index: job records, their per-page progress and their leases, in SQLite or PostgreSQL.

`JobIndex` is what the runner, the submission, the status and the routes ask of an index; both
databases answer it with the same SQL (`SqlJobIndex`), each through its own connections.  A claim
is a lease (`lease_owner`, `lease_until`) set in one UPDATE, so two workers never run one job; a
page counts as read once `progress` records it under the worker's lease.  Leases are compared with
the workers' clocks (`time.time()`), so machines that share an index keep theirs in sync (NTP).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from ..errors import JobNotFound
from .job import Job, JobState

#: an expired job's row is kept this long after expiry, so that its status can say it expired
TOMBSTONE_KEEP_S = 7 * 86400

#: the jobs table, in SQL both databases read (their own types for the numbers, see `schema`)
JOBS_TABLE = """
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, batch_id TEXT, model TEXT NOT NULL, spec TEXT NOT NULL,
  pages TEXT NOT NULL, kind TEXT NOT NULL, doc_pages INTEGER NOT NULL, state TEXT NOT NULL,
  done_pages INTEGER NOT NULL DEFAULT 0, error TEXT, base_url TEXT NOT NULL, callback_url TEXT,
  bytes {big} NOT NULL DEFAULT 0, created {real} NOT NULL, started {real}, finished {real}, expires {real} NOT NULL,
  lease_owner TEXT, lease_until {real}, callback_done INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (owner, batch_id);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created);
"""


def schema(real: str, big: str) -> list[str]:
    """The jobs table's statements with a database's names for floats and 64-bit integers."""
    return [s for s in JOBS_TABLE.format(real=real, big=big).split(";") if s.strip()]


class JobIndex(Protocol):
    """Job records and leases; every method blocks (callers run them in a thread) and raises
    StoreUnavailable when the database cannot be reached."""

    def insert(self, job: Job) -> None: ...
    def get(self, job_id: str, owner: str) -> Job: ...
    def load(self, job_id: str) -> Job | None: ...
    def batch(self, batch_id: str, owner: str) -> list[Job]: ...
    def queued(self) -> int: ...
    def bytes_used(self) -> int: ...
    def claim(self, worker: str, lease_s: float, now: float | None = None) -> Job | None: ...
    def renew(self, job_id: str, worker: str, lease_s: float) -> bool: ...
    def release(self, job_id: str, worker: str) -> None: ...
    def progress(self, job_id: str, worker: str, done: int, added_bytes: int) -> bool: ...
    def set_bytes(self, job_id: str, size: int) -> None: ...
    def finish(self, job_id: str, worker: str | None, state: JobState, error: str | None = None) -> bool: ...
    def cancel(self, job_id: str, owner: str) -> Job: ...
    def mark_callback_done(self, job_id: str) -> None: ...
    def expire(self, now: float) -> list[str]: ...
    def migrate(self) -> int: ...
    def close(self) -> None: ...


class SqlJobIndex:
    """The SQL of every `JobIndex` method, written once with `?` placeholders; a database supplies
    `_rows` (one statement in its own transaction) and its own `claim` where it locks differently."""

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Mapping[str, Any]]:
        raise NotImplementedError

    def insert(self, job: Job) -> None:
        row = job.row()
        self._rows(f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))

    def get(self, job_id: str, owner: str) -> Job:
        """The owner's job; another owner's is as absent as one never made."""
        rows = self._rows("SELECT * FROM jobs WHERE id = ? AND owner = ?", (job_id, owner))
        if not rows:
            raise JobNotFound(f"no job {job_id!r} for this token")
        job = Job.of(rows[0])
        if job.state == "expired" or job.expires <= time.time():
            raise JobNotFound(f"job {job_id!r} has expired (results are kept for OCR_JOB_TTL after submission) "
                              "and its results were deleted")
        return job

    def load(self, job_id: str) -> Job | None:
        rows = self._rows("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return Job.of(rows[0]) if rows else None

    def batch(self, batch_id: str, owner: str) -> list[Job]:
        rows = self._rows("SELECT * FROM jobs WHERE owner = ? AND batch_id = ? AND state != 'expired' "
                          "ORDER BY created", (owner, batch_id))
        return [Job.of(r) for r in rows]

    def queued(self) -> int:
        return int(self._rows("SELECT count(*) AS n FROM jobs WHERE state = 'pending'")[0]["n"])

    def bytes_used(self) -> int:
        return int(self._rows("SELECT coalesce(sum(bytes), 0) AS n FROM jobs WHERE state != 'expired'")[0]["n"])

    #: the oldest runnable job: pending, or running with a lapsed lease (its worker died)
    CLAIM = ("UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?, started = coalesce(started, ?) "
             "WHERE id = (SELECT id FROM jobs WHERE (state = 'pending' OR (state = 'running' AND lease_until < ?)) "
             "AND expires > ? ORDER BY created LIMIT 1{lock}) RETURNING *")
    CLAIM_LOCK = ""

    def claim(self, worker: str, lease_s: float, now: float | None = None) -> Job | None:
        """Take the oldest pending job, or a running one whose lease ran out (its worker died)."""
        now = time.time() if now is None else now
        rows = self._rows(self.CLAIM.format(lock=self.CLAIM_LOCK), (worker, now + lease_s, now, now, now))
        return Job.of(rows[0]) if rows else None

    def renew(self, job_id: str, worker: str, lease_s: float) -> bool:
        """Extend the lease; False when the job is no longer this worker's (cancelled, taken over)."""
        rows = self._rows("UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'running' "
                          "RETURNING id", (time.time() + lease_s, job_id, worker))
        return bool(rows)

    def release(self, job_id: str, worker: str) -> None:
        """Give a running job back (its lease lapses now): a clean shutdown's job resumes without waiting."""
        self._rows("UPDATE jobs SET lease_until = 0 WHERE id = ? AND lease_owner = ? AND state = 'running'",
                   (job_id, worker))

    def progress(self, job_id: str, worker: str, done: int, added_bytes: int) -> bool:
        """Record `done` pages read, and their bytes, only under the worker's lease and only forward,
        so a page is counted once whoever wrote it; False when the job is no longer this worker's."""
        rows = self._rows("UPDATE jobs SET done_pages = ?, bytes = bytes + ? WHERE id = ? AND lease_owner = ? "
                          "AND state = 'running' AND done_pages < ? RETURNING id",
                          (done, added_bytes, job_id, worker, done))
        return bool(rows)

    def set_bytes(self, job_id: str, size: int) -> None:
        """Count what the job's files hold now (its output files included) against OCR_JOB_MAX_BYTES."""
        self._rows("UPDATE jobs SET bytes = ? WHERE id = ? AND state != 'expired'", (size, job_id))

    def finish(self, job_id: str, worker: str | None, state: JobState, error: str | None = None) -> bool:
        """End a job (done or failed); `worker` None ends it whoever holds it."""
        sql = ("UPDATE jobs SET state = ?, error = ?, finished = ?, lease_owner = NULL, lease_until = NULL "
               "WHERE id = ? AND state IN ('pending', 'running')")
        params: tuple[Any, ...] = (state, error, time.time(), job_id)
        if worker is not None:
            sql, params = sql + " AND lease_owner = ?", params + (worker,)
        return bool(self._rows(sql + " RETURNING id", params))

    def cancel(self, job_id: str, owner: str) -> Job:
        """Stop a job that has not ended (its worker notices before the next page)."""
        self.get(job_id, owner)  # 404 unless it is this owner's
        self._rows("UPDATE jobs SET state = 'cancelled', error = 'cancelled by a DELETE request', finished = ?, "
                   "lease_owner = NULL WHERE id = ? AND state IN ('pending', 'running')", (time.time(), job_id))
        return self.get(job_id, owner)

    def mark_callback_done(self, job_id: str) -> None:
        self._rows("UPDATE jobs SET callback_done = 1 WHERE id = ?", (job_id,))

    def expire(self, now: float) -> list[str]:
        """Mark the jobs past their TTL expired (their files are the caller's to delete) and return
        their ids, each to one caller; rows expired a week ago go."""
        rows = self._rows("UPDATE jobs SET state = 'expired', bytes = 0, lease_owner = NULL WHERE expires <= ? "
                          "AND state != 'expired' RETURNING id", (now,))
        self._rows("DELETE FROM jobs WHERE state = 'expired' AND expires < ?", (now - TOMBSTONE_KEEP_S,))
        return [str(row["id"]) for row in rows]
