"""Headless Chromium from Debian's package, driven by Playwright's Python API (no browser download)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

# what this closed network needs: no sandbox (root in CI), nothing fetched from outside
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    """The system Chromium; a failure naming the install command when it is missing."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None and Path("/usr/bin/chromium").is_file():
        path = "/usr/bin/chromium"
    if path is None:
        pytest.fail("Chromium is not installed; browser tests run in it (apt-get install -y chromium; "
                    "tests/system-packages.sh installs it)")
    return path


@contextmanager
def launch() -> Iterator[Any]:
    """A started Chromium browser, closed (with Playwright) on exit."""
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed (it is in the test extra: pip install -e '.[test]')")
    pw = sync_playwright().start()
    try:
        try:
            browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        except Exception as exc:
            pytest.fail(f"Chromium at {path} did not start under Playwright: {exc}")
        try:
            yield browser
        finally:
            browser.close()
    finally:
        pw.stop()


@contextmanager
def open_page(browser: Any, url: str, wait_ms: int) -> Iterator[Any]:
    """A tab on `url` in a context of its own, its console errors and uncaught exceptions kept in `tab.errors`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(wait_ms)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.goto(url)
    tab.errors = errors
    try:
        yield tab
    finally:
        context.close()

