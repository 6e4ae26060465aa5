"""The job index in an SQLite file (WAL) under OCR_JOB_DIR: the processes of one machine share it.

Each thread keeps its own connection (`ThreadConnections`; a forked worker opens its own), and
SQLite's file locks order the writers.  The schema's version is `PRAGMA user_version`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..sqlite_connections import ThreadConnections
from .index import SqlJobIndex, schema
from .spec import JobSpec

#: `PRAGMA user_version` of the index this code writes; `migrate` brings an older one up to it
SCHEMA_VERSION = 1


class SqliteJobIndex(SqlJobIndex):
    def __init__(self, path: Path, timeout_s: float = 10.0) -> None:
        self.path = path
        self._connections = ThreadConnections(path, timeout_s, row_factory=True)
        try:  # at startup, so an unusable directory fails there and not on a request
            path.parent.mkdir(parents=True, exist_ok=True)
            self._connections.get().execute("PRAGMA journal_mode=WAL")
            self.migrate()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the job store OCR_JOB_DIR={path.parent}: {exc}") from exc

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Mapping[str, Any]]:
        return [dict(row) for row in self._connections.rows(sql, params)]

    def migrate(self) -> int:
        """Bring the index up to SCHEMA_VERSION, once, whichever process opens it first; the version.

        Version 0 stored each job's `optionalPayload` (the HTTP request's options) in `options`; version 1
        stores its spec in `spec`, so a job queued before an upgrade runs as it was asked.
        """
        db = self._connections.get()
        db.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then find it done
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
            if version < 1 and "options" in columns:
                for job_id, stored in db.execute("SELECT id, options FROM jobs").fetchall():
                    spec = JobSpec.from_payload(json.loads(stored))
                    db.execute("UPDATE jobs SET options = ? WHERE id = ?", (json.dumps(spec.to_json()), job_id))
                db.execute("ALTER TABLE jobs RENAME COLUMN options TO spec")
            for statement in schema(real="REAL", big="INTEGER"):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                self._connections.discard()
            raise
        return SCHEMA_VERSION

    def close(self) -> None:
        self._connections.close()
