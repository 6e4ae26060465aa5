"""Shared fixtures: where the samples are, and one loaded OCR per model set for the session.

Before anything else the session moves every place ocrserve (and the tools the tests run) would
write under the user's home into one temporary directory, and checks at the end that nothing under
the real home changed: a test suite must never touch a user's job store, quotas, caches or models.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from _support.chromium import launch
from _support.engines import ocr_for
from _support.home_guard import HomeSnapshot, isolate_from_home
from _support.paths import find_samples_dir
from _support.postgres import running_postgres, wait_until_up
from _support.seaweedfs import running_seaweedfs
from _support.shared_store import BUCKET
from ocrserve import OCR

SESSION_DIR = Path(tempfile.mkdtemp(prefix="ocrserve-tests-"))
isolate_from_home(SESSION_DIR)
_HOME_BEFORE = HomeSnapshot.take()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    changed = _HOME_BEFORE.changes(HomeSnapshot.take())
    shutil.rmtree(SESSION_DIR, ignore_errors=True)
    if changed:
        shown = "\n  ".join(changed[:40])
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"FAILED: the tests changed {len(changed)} path(s) under {Path.home()}:\n  {shown}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return find_samples_dir()


@pytest.fixture(scope="session")
def ocr_v4() -> OCR:
    return ocr_for("pp-ocrv4-mobile")


@pytest.fixture(scope="session")
def ocr_default() -> OCR:
    return ocr_for("pp-ocrv6-small")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the page's tests, one per module."""
    with launch() as chromium:
        yield chromium


# --- a shared job store, for the modules that run instances against one ----------------------------
@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of Debian's packages in a temporary directory, on loopback."""
    with running_postgres() as server:
        wait_until_up(server)
        yield server


@pytest.fixture(scope="module")
def seaweed():
    """A SeaweedFS server (its S3 gateway) in a temporary directory, with the job store's bucket."""
    with running_seaweedfs(BUCKET) as server:
        yield server
