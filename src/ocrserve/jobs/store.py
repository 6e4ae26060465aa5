"""Jobs on disk: an SQLite index (WAL) and one directory per job (input, JSONL result, images,
output format files).

Every worker process of a machine opens the same store.  The JSONL result is the truth about which
pages are done: a line is written with one `write` and an fsync, and a job taken over after a crash
first cuts any partial last line, then counts lines, so no page is lost or written twice.  A claim
is a lease (`lease_owner`, `lease_until`) set in one UPDATE, so two processes never run one job.
An input on its way in is a temp file in the store's root (`.upload-*`), moved into its job's
directory when the job is created; one left by a killed process is swept once stale.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError, JobNotFound
from ..kinds import DocumentKind
from ..unicode_text import utf8
from .spec import JobSpec

JobState = Literal["pending", "running", "done", "failed", "cancelled", "expired"]

#: states a client can still read; expired jobs keep only their row, to say so
LIVE = ("pending", "running", "done", "failed", "cancelled")
TOMBSTONE_KEEP_S = 7 * 86400
UPLOAD_PREFIX = ".upload-"
#: an upload whose file has not grown for this long belongs to a process that died
STALE_UPLOAD_S = 3600.0

#: `PRAGMA user_version` of the index this code writes; `_migrate` brings an older one up to it
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, batch_id TEXT, model TEXT NOT NULL, spec TEXT NOT NULL,
  pages TEXT NOT NULL, kind TEXT NOT NULL, doc_pages INTEGER NOT NULL, state TEXT NOT NULL,
  done_pages INTEGER NOT NULL DEFAULT 0, error TEXT, base_url TEXT NOT NULL, callback_url TEXT,
  bytes INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, started REAL, finished REAL, expires REAL NOT NULL,
  lease_owner TEXT, lease_until REAL, callback_done INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (owner, batch_id);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created);
"""


def _migrate(db: sqlite3.Connection) -> None:
    """Bring the index up to SCHEMA_VERSION, once, whichever process opens it first.

    Version 0 stored each job's `optionalPayload` (the HTTP request's options) in `options`; version 1
    stores its spec in `spec`, so a job queued before an upgrade runs as it was asked.
    """
    db.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then find it done
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
        if version < 1 and "options" in columns:
            for job_id, stored in db.execute("SELECT id, options FROM jobs").fetchall():
                spec = JobSpec.from_payload(json.loads(stored))
                db.execute("UPDATE jobs SET options = ? WHERE id = ?", (json.dumps(spec.to_json()), job_id))
            db.execute("ALTER TABLE jobs RENAME COLUMN options TO spec")
        for statement in filter(str.strip, _SCHEMA.split(";")):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


@dataclass(frozen=True)
class Job:
    """One row of the index."""

    id: str
    owner: str
    batch_id: str | None
    model: str
    spec: JobSpec
    pages: list[int]  # 0-based document pages to read, in order
    kind: DocumentKind
    doc_pages: int
    state: JobState
    done_pages: int
    error: str | None
    base_url: str
    callback_url: str | None
    bytes: int
    created: float
    started: float | None
    finished: float | None
    expires: float
    lease_owner: str | None
    lease_until: float | None
    callback_done: int

    @classmethod
    def of(cls, row: sqlite3.Row) -> Job:
        data = dict(row)
        data["spec"] = JobSpec.from_json(json.loads(data["spec"]))
        data["pages"] = json.loads(data["pages"])
        return cls(**data)


class JobStore:
    """The index and the files of every job; each call opens its own short connection (safe across
    threads and forked workers; SQLite's file locks order the writers)."""

    def __init__(self, root: Path, timeout_s: float = 10.0) -> None:
        self.root = Path(root).expanduser()
        self.timeout_s = timeout_s
        try:  # at startup, so an unusable directory fails there and not on a request
            self.root.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as db:
                db.execute("PRAGMA journal_mode=WAL")
                _migrate(db)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the job store OCR_JOB_DIR={self.root}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.root / "index.sqlite3", timeout=self.timeout_s, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with closing(self._connect()) as db:
            return db.execute(sql, params).fetchall()

    # --- files --------------------------------------------------------------------------------
    def job_dir(self, job_id: str) -> Path:
        return self.root / job_id

    def input_path(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "input"

    def result_path(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "result.jsonl"

    def keep_lines(self, job_id: str, name: str, count: int) -> None:
        """Cut file `name` after its first `count` complete lines (what a crash wrote past them goes)."""
        path = self.job_dir(job_id) / name
        if not path.exists():
            return
        with path.open("r+b") as out:
            end = 0
            for _ in range(count):
                line = out.readline()
                if not line.endswith(b"\n"):
                    break
                end += len(line)
            out.truncate(end)

    def done_lines(self, job_id: str) -> int:
        """Complete lines of the result, after cutting a partial last line left by a crash."""
        path = self.result_path(job_id)
        if not path.exists():
            return 0
        with path.open("r+b") as out:
            data = out.read()
            end = data.rfind(b"\n") + 1
            if end != len(data):
                out.truncate(end)
        return data[:end].count(b"\n")

    def page_sizes(self, job_id: str) -> list[dict[str, int]]:
        """Each result line's own page size (the last entry of its dataInfo.pages), in order."""
        sizes: list[dict[str, int]] = []
        if not self.result_path(job_id).exists():
            return sizes
        with self.result_path(job_id).open("rb") as lines:
            for raw in lines:
                pages = json.loads(raw)["result"]["dataInfo"].get("pages") or []
                if pages:
                    sizes.append(pages[-1])
        return sizes

    def append_line(self, job_id: str, line: dict[str, Any], name: str = "result.jsonl") -> int:
        """Append one line durably to the job's file `name` (the result by default); the bytes written."""
        raw = utf8(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n", what=f"job {job_id}'s {name}")
        fd = os.open(self.job_dir(job_id) / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, raw)
            os.fsync(fd)
        finally:
            os.close(fd)
        return len(raw)

    def write_file(self, job_id: str, name: str, data: bytes) -> None:
        path = self.job_dir(job_id) / name
        tmp = path.with_name(f".{name}.part")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def stage(self) -> Path:
        """A new empty temp file in the store for an input on its way in (`create` moves it into its job)."""
        path = self.root / f"{UPLOAD_PREFIX}{secrets.token_hex(8)}"
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return path

    def files_size(self, job_id: str) -> int:
        directory = self.job_dir(job_id)
        return sum(p.stat().st_size for p in directory.iterdir() if p.is_file()) if directory.is_dir() else 0

    # --- index --------------------------------------------------------------------------------
    def create(self, job: Job, staged: Path) -> None:
        """The input first (the staged file, moved), then the row: a row always has its input."""
        directory = self.job_dir(job.id)
        directory.mkdir(mode=0o700)
        try:
            os.replace(staged, self.input_path(job.id))
            row = {**job.__dict__, "spec": json.dumps(job.spec.to_json()), "pages": json.dumps(job.pages)}
            columns = ", ".join(row)
            with closing(self._connect()) as db:
                db.execute(f"INSERT INTO jobs ({columns}) VALUES ({', '.join('?' * len(row))})",
                           tuple(row.values()))
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise

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
        return int(self._rows("SELECT count(*) FROM jobs WHERE state = 'pending'")[0][0])

    def bytes_used(self) -> int:
        return int(self._rows("SELECT coalesce(sum(bytes), 0) FROM jobs WHERE state != 'expired'")[0][0])

    def claim(self, worker: str, lease_s: float, now: float | None = None) -> Job | None:
        """Take the oldest pending job, or a running one whose lease ran out (its worker died)."""
        now = time.time() if now is None else now
        rows = self._rows(
            "UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?, started = coalesce(started, ?) "
            "WHERE id = (SELECT id FROM jobs WHERE (state = 'pending' OR (state = 'running' AND lease_until < ?)) "
            "AND expires > ? ORDER BY created LIMIT 1) RETURNING *", (worker, now + lease_s, now, now, now))
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

    def settle_bytes(self, job_id: str) -> None:
        """Count what the job's directory holds now (its output files included) against OCR_JOB_MAX_BYTES."""
        self._rows("UPDATE jobs SET bytes = ? WHERE id = ? AND state != 'expired'", (self.files_size(job_id), job_id))

    def progress(self, job_id: str, worker: str, done: int, added_bytes: int) -> bool:
        rows = self._rows("UPDATE jobs SET done_pages = ?, bytes = bytes + ? WHERE id = ? AND lease_owner = ? "
                          "AND state = 'running' RETURNING id", (done, added_bytes, job_id, worker))
        return bool(rows)

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

    def sweep(self, now: float | None = None) -> int:
        """Delete the files of expired jobs (their rows stay a while, so status can say why)."""
        now = time.time() if now is None else now
        rows = self._rows("UPDATE jobs SET state = 'expired', bytes = 0, lease_owner = NULL WHERE expires <= ? "
                          "AND state != 'expired' RETURNING id", (now,))
        for row in rows:
            shutil.rmtree(self.job_dir(row["id"]), ignore_errors=True)
        self._rows("DELETE FROM jobs WHERE state = 'expired' AND expires < ?", (now - TOMBSTONE_KEEP_S,))
        for upload in self.root.glob(UPLOAD_PREFIX + "*"):
            try:
                if upload.stat().st_mtime < now - STALE_UPLOAD_S:
                    upload.unlink()
            except FileNotFoundError:  # finished or deleted meanwhile by its own process
                pass
        return len(rows)
