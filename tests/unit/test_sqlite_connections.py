"""ThreadConnections: one kept connection per thread and per process, all closed by close()."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from ocrserve.jobs.index_sqlite import SqliteJobIndex
from ocrserve.sqlite_connections import ThreadConnections


def test_a_thread_keeps_its_connection_and_another_thread_gets_its_own(tmp_path: Path) -> None:
    connections = ThreadConnections(tmp_path / "db.sqlite", timeout_s=5.0)
    first = connections.get()
    assert connections.get() is first
    seen: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: seen.append(connections.get()))
    thread.start()
    thread.join()
    assert seen and seen[0] is not first
    connections.close()
    for db in (first, seen[0]):
        with pytest.raises(sqlite3.ProgrammingError):
            db.execute("SELECT 1")
    assert connections.get() is not first  # a new one after close()
    connections.close()


def test_close_leaves_a_live_thread_s_connection_to_that_thread(tmp_path: Path) -> None:
    """Closing a connection another thread may be inside of crashes SQLite: close() only marks it, and the
    thread closes it at its next get(), which opens a new one."""
    connections = ThreadConnections(tmp_path / "db.sqlite", timeout_s=5.0)
    opened, closed_elsewhere, go_on = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def worker() -> None:
        first = connections.get()
        opened.set()
        closed_elsewhere.wait(10)
        seen["still works"] = first.execute("SELECT 1").fetchone()[0]  # not closed under it
        second = connections.get()
        seen["new"] = second is not first
        try:
            first.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            seen["old closed"] = True
        go_on.wait(10)

    thread = threading.Thread(target=worker)
    thread.start()
    assert opened.wait(10)
    connections.close()
    closed_elsewhere.set()
    go_on.set()
    thread.join(10)
    assert seen == {"still works": 1, "new": True, "old closed": True}
    connections.close()  # the thread has ended: its second connection is closed here
    assert connections._open == []


def test_a_discarded_connection_is_replaced(tmp_path: Path) -> None:
    connections = ThreadConnections(tmp_path / "db.sqlite", timeout_s=5.0)
    first = connections.get()
    connections.discard()
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")
    assert connections.get() is not first
    connections.close()


def test_a_forked_child_opens_its_own_and_leaves_the_parents_alone(tmp_path: Path) -> None:
    connections = ThreadConnections(tmp_path / "db.sqlite", timeout_s=5.0)
    parent = connections.get()
    parent.execute("PRAGMA journal_mode=WAL")
    parent.execute("CREATE TABLE t (n INTEGER)")
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 only if it got a fresh connection that works
        try:
            child = connections.get()
            child.execute("INSERT INTO t VALUES (1)")
            os._exit(0 if child is not parent else 3)
        except BaseException:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert parent.execute("SELECT count(*) FROM t").fetchone()[0] == 1  # the parent's connection still works
    connections.close()


def test_the_job_index_writes_through_kept_connections_and_closes_them(tmp_path: Path) -> None:
    index = SqliteJobIndex(tmp_path / "jobs.sqlite")
    assert index.queued() == 0
    kept = index._connections.get()
    assert index.queued() == 0 and index._connections.get() is kept
    index.close()
    with pytest.raises(sqlite3.ProgrammingError):
        kept.execute("SELECT 1")
