"""The job index in PostgreSQL (OCR_JOB_STORE=postgresql://...): every replica of the service shares it.

psycopg 3 (LGPL-3.0, used unmodified as a library) through a small connection pool; each statement
is its own transaction.  A claim locks the row it takes with `FOR UPDATE SKIP LOCKED`, so replicas
claiming at once each get a different job without waiting on each other.  The schema is versioned
in `schema_version`; `migrate` runs at start (and as `ocrserve jobs migrate`) under an advisory
lock, so replicas starting together migrate once.  A database that cannot be reached is
StoreUnavailable (503); the pool drops broken connections, so a restarted server is used again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import ConfigError, StoreUnavailable
from .index import SqlJobIndex, schema

#: each version's statements, applied in order to a database below it
MIGRATIONS: dict[int, list[str]] = {1: schema(real="DOUBLE PRECISION", big="BIGINT")}
SCHEMA_VERSION = max(MIGRATIONS)
#: the advisory lock that orders migrations (any constant; "ocrj" in ASCII)
MIGRATION_LOCK = 0x6F63726A
CONNECT_TIMEOUT_S = 5.0
POOL_SIZE = 4


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    return f"postgresql://{info.get('user', '')}@{info.get('host', '')}:{info.get('port', '')}/{info.get('dbname', '')}"


class PostgresJobIndex(SqlJobIndex):
    CLAIM_LOCK = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, migrate: bool = True) -> None:
        self.where = safe_url(url)
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise ConfigError(f"OCR_JOB_STORE is not a PostgreSQL URL: {exc}") from None
        self.pool: ConnectionPool[psycopg.Connection[DictRow]] = ConnectionPool(
            url, connection_class=psycopg.Connection[DictRow], min_size=1, max_size=POOL_SIZE,
            timeout=CONNECT_TIMEOUT_S, open=False, check=ConnectionPool.check_connection, name="ocrserve-jobs",
            kwargs={"row_factory": dict_row, "connect_timeout": int(CONNECT_TIMEOUT_S)})
        self.pool.open(wait=False)
        if migrate:
            try:
                self.migrate()
            except StoreUnavailable as exc:  # at startup, so a wrong URL fails there and not on a request
                self.close()
                raise ConfigError(f"cannot open the job store OCR_JOB_STORE={self.where}: {exc}") from None

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[DictRow]]:
        try:
            with self.pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise StoreUnavailable(f"the job index at {self.where} cannot be reached: "
                                   f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
                                   ) from exc

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Mapping[str, Any]]:
        with self._connection() as conn:
            cursor = conn.execute(sql.replace("?", "%s"), params)
            return list(cursor.fetchall()) if cursor.description else []

    def migrate(self) -> int:
        """Bring the database up to SCHEMA_VERSION, whichever replica comes first; the version."""
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))  # the others wait, then find it done
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, "
                         "applied TIMESTAMPTZ NOT NULL DEFAULT now())")
            row = conn.execute("SELECT coalesce(max(version), 0) AS v FROM schema_version").fetchone()
            current = int(row["v"]) if row else 0
            if current > SCHEMA_VERSION:
                raise ConfigError(f"the job index at {self.where} has schema version {current}, newer than this "
                                  f"ocrserve's {SCHEMA_VERSION}: upgrade ocrserve")
            for version in sorted(v for v in MIGRATIONS if v > current):
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        return SCHEMA_VERSION

    def close(self) -> None:
        self.pool.close()
