"""SQLite connections kept open per thread, for the stores that live in one file on one machine.

A connection opened and closed per call costs a WAL checkpoint whenever it was the file's last
one (docs/jobs.md, "Store time per page"), so each thread keeps its own.  A forked process never
touches its parent's connections (SQLite forbids carrying one across fork); it opens its own.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

#: connections inherited across a fork: never used or closed in the child (closing one there could
#: checkpoint or unlink the parent's WAL), only kept referenced so that garbage collection leaves them be
_INHERITED: list[sqlite3.Connection] = []


class ThreadConnections:
    """`get()` answers this thread's connection to `path` (autocommit, rows as `sqlite3.Row`)."""

    def __init__(self, path: Path, timeout_s: float, row_factory: bool = False) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self.row_factory = row_factory
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._generation = 0  # raised by close(): a live thread's older connection is closed by that thread
        self._pid = os.getpid()

    def get(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:
            self._forget_parent()
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None and self._local.generation != self._generation:
            self.discard()  # close() came since: closed here, by the thread that uses it
            db = None
        if db is None:
            # check_same_thread=False only so that close() may close the connection of a thread that has
            # ended; each is used, and closed while its thread lives, by the one thread that opened it
            db = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None, check_same_thread=False)
            if self.row_factory:
                db.row_factory = sqlite3.Row
            self._local.db, self._local.generation = db, self._generation
            with self._lock:
                self._open.append((threading.current_thread(), db))
        return db

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """One statement on this thread's connection, stepped to its end; a connection that failed is
        closed, so the next call starts on a fresh one."""
        try:
            return self.get().execute(sql, params).fetchall()
        except sqlite3.Error:
            self.discard()
            raise

    def discard(self) -> None:
        """Close this thread's connection after an error that may have left it unusable."""
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            with self._lock:
                self._open = [(thread, kept) for thread, kept in self._open if kept is not db]
            db.close()

    def close(self) -> None:
        """Close the connections no thread can be using: this thread's and those of threads that have
        ended.  A live thread's closes at its next `get()`, which opens a new one: closing a connection
        another thread is inside of crashes SQLite's library (a job sweep at shutdown did)."""
        me = threading.current_thread()
        with self._lock:
            self._generation += 1
            done = [(thread, db) for thread, db in self._open if thread is me or not thread.is_alive()]
            self._open = [entry for entry in self._open if entry not in done]
        for _, db in done:
            db.close()
        self._local.db = None

    def _forget_parent(self) -> None:
        # after fork only this thread runs, and the old lock may have been held by a thread that is gone
        _INHERITED.extend(db for _, db in self._open)
        self._open = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pid = os.getpid()
