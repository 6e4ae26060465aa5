"""The system tools some tests run, found or named: a missing one fails its test with the package to install."""

from __future__ import annotations

import shutil

import pytest

INSTALLER = "tests/system-packages.sh installs it"


def need_tool(name: str, package: str) -> str:
    """The path of command `name`, or a failure naming the Debian `package` that provides it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not installed; this test runs it: apt-get install -y {package} ({INSTALLER})")
    return path
