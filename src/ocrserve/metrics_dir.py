"""The directory where several worker processes keep their metrics, so that /metrics sums them.

prometheus_client's multiprocess mode: each worker writes its samples to files of its own in one
directory and the worker answering /metrics reads them all.  The process that starts the workers
(gunicorn's master, or `ocrserve serve --workers N`) owns the directory: it empties it before any
worker starts, forgets a worker's live gauges when that worker exits, and removes a directory it
made itself at exit.  Nothing here imports prometheus_client at module level: it chooses its mode
once, at import, from PROMETHEUS_MULTIPROC_DIR, so a supervisor must set that variable first.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def default_dir() -> Path:
    """A directory of this supervisor's own, under the system's temp dir."""
    return Path(tempfile.gettempdir()) / f"ocrserve-metrics-{os.getpid()}"


def prepare(configured: Path | None, forks: bool) -> Path:
    """Empty (or create) the directory and export it to the workers this process will start
    (`forks`: as copies of this process, which then share its imported modules).

    Files a previous run left there would be summed into this run's counters, hence the wipe.
    """
    if forks and "prometheus_client" in sys.modules and VARIABLE not in os.environ:
        # workers forked from this process would inherit single-process metrics
        raise RuntimeError(f"prometheus_client was imported before {VARIABLE} was set; "
                           "metrics could not be summed over workers")
    path = Path(configured) if configured else default_dir()
    if path.is_dir():
        for entry in path.iterdir():
            if entry.is_file() and entry.suffix == ".db":
                entry.unlink()
    path.mkdir(parents=True, exist_ok=True)
    os.environ[VARIABLE] = str(path)
    return path


def forget_worker(pid: int, path: Path) -> None:
    """A worker exited: drop its live gauges (its counters and histograms stay in the sums)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]


def remove_if_own(path: Path) -> None:
    """At exit: remove the directory when it is the one this process made, not the operator's."""
    if path == default_dir():
        shutil.rmtree(path, ignore_errors=True)
