"""The job store: an index (jobs.index: SQLite under OCR_JOB_DIR, or PostgreSQL) and the jobs' files
(jobs.blobs: a local directory, or S3-compatible storage), chosen by OCR_JOB_STORE and OCR_JOB_BLOBS.

What spans both lives here: a job is stored input first, then its row (a row always has its
input); expiry marks rows then deletes their files.  An input on its way in is a temp file in
this process's own OCR_JOB_DIR (`.upload-*`) until its job is created; one left by a killed
process is swept once stale, as is a local copy of an S3 input.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..settings import Settings
from .blobs import JobBlobs
from .blobs_local import LocalJobBlobs
from .index import JobIndex
from .index_sqlite import SqliteJobIndex
from .job import LIVE, Job, JobState

__all__ = ["LIVE", "STALE_UPLOAD_S", "Job", "JobState", "JobStore", "open_store"]

UPLOAD_PREFIX = ".upload-"
#: temp files of this process in OCR_JOB_DIR: uploads on their way in, local copies of S3 inputs
LOCAL_TEMP_PREFIXES = (UPLOAD_PREFIX, ".input-")
#: a temp file that has not changed for this long belongs to a process that died
STALE_UPLOAD_S = 3600.0
INDEX_NAME = "index.sqlite3"


@dataclass
class JobStore:
    """`root`: this process's OCR_JOB_DIR (uploads are staged there); `index` and `blobs`: where
    jobs and their files live (default: today's single-machine layout in `root`)."""

    root: Path
    index: JobIndex
    blobs: JobBlobs

    @classmethod
    def local(cls, root: Path) -> JobStore:
        """An SQLite index and the files in one directory, shared by one machine's processes."""
        root = Path(root).expanduser()
        return cls(root, SqliteJobIndex(root / INDEX_NAME), LocalJobBlobs(root))

    def stage(self) -> Path:
        """A new empty temp file for an input on its way in (`create` stores it with its job)."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f"{UPLOAD_PREFIX}{secrets.token_hex(8)}"
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return path

    def create(self, job: Job, staged: Path) -> None:
        """The input first (the staged file, moved or uploaded), then the row: a row always has its input."""
        self.blobs.put_input(job.id, staged)
        try:
            self.index.insert(job)
        except BaseException:
            self.blobs.delete(job.id)
            raise

    def settle_bytes(self, job_id: str) -> None:
        """Count what the job's files hold now (its output files included) against OCR_JOB_MAX_BYTES."""
        self.index.set_bytes(job_id, self.blobs.size(job_id))

    def sweep(self, now: float | None = None) -> int:
        """Delete the files of expired jobs (their rows stay a while, so status can say why), and this
        process's stale temp files; the number of jobs expired."""
        now = time.time() if now is None else now
        expired = self.index.expire(now)
        for job_id in expired:
            self.blobs.delete(job_id)
        for prefix in LOCAL_TEMP_PREFIXES:
            for temp in self.root.glob(prefix + "*"):
                try:
                    if temp.stat().st_mtime < now - STALE_UPLOAD_S:
                        temp.unlink()
                except FileNotFoundError:  # finished or deleted meanwhile by its own process
                    pass
        return len(expired)

    def close(self) -> None:
        self.index.close()


def open_index(settings: Settings) -> JobIndex:
    """OCR_JOB_STORE's index: SQLite under OCR_JOB_DIR (unset or `sqlite`), or a PostgreSQL URL."""
    url = settings.job_store.get_secret_value() if settings.job_store else "sqlite"
    if url == "sqlite":
        return SqliteJobIndex(Path(settings.job_dir).expanduser() / INDEX_NAME)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from .index_postgres import PostgresJobIndex
        except ImportError as exc:
            raise ConfigError(f"OCR_JOB_STORE is a PostgreSQL URL but psycopg is not installed ({exc}): "
                              "pip install 'ocrserve[postgres]'") from None
        return PostgresJobIndex(url)
    raise ConfigError("OCR_JOB_STORE must be `sqlite` or a postgresql:// URL")


def open_blobs(settings: Settings) -> JobBlobs:
    """OCR_JOB_BLOBS's files: a local directory (default OCR_JOB_DIR), or s3://bucket/prefix."""
    where = settings.job_blobs or str(settings.job_dir)
    if where.startswith("s3://"):
        try:
            from .blobs_s3 import S3JobBlobs
        except ImportError as exc:
            raise ConfigError(f"OCR_JOB_BLOBS is an s3:// URL but boto3 is not installed ({exc}): "
                              "pip install 'ocrserve[s3]'") from None
        return S3JobBlobs(where, Path(settings.job_dir), settings.job_links_endpoint)
    if "://" in where:
        raise ConfigError(f"OCR_JOB_BLOBS={where!r} must be a local directory or an s3://bucket/prefix URL")
    if settings.job_links == "presigned":
        raise ConfigError("OCR_JOB_LINKS=presigned needs OCR_JOB_BLOBS=s3://bucket/prefix: files in a local "
                          "directory have no URLs of their own")
    return LocalJobBlobs(Path(where))


def open_store(settings: Settings) -> JobStore:
    index = open_index(settings)
    try:
        return JobStore(Path(settings.job_dir).expanduser(), index, open_blobs(settings))
    except BaseException:
        index.close()
        raise
