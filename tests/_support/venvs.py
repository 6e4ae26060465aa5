"""Published tools in virtualenvs of their own (their pins would fight ours), built once under the
repository's ignored `.cache/` (`test-venvs/` for the tests, `bench-venvs/` for the benchmarks), never
the user's home; when one cannot be built, the tests that use it fail, they do not skip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _support.paths import REPO

VENVS = REPO / ".cache" / "test-venvs"


class ToolVenvError(RuntimeError):
    """A tool's virtualenv could not be built or does not pass its probe; the message has pip's errors."""


def build_tool_venv(venv: Path, requirements: list[str], probe: str) -> Path:
    """The interpreter of `venv`, created with `requirements` unless `probe` (Python code) already passes.

    Kept free of pytest, so that the benchmarks build their peers' environments the same way."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", probe]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    built = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements],
                           capture_output=True, text=True)
    checked = subprocess.run(check, capture_output=True, text=True)
    if built.returncode or checked.returncode:
        raise ToolVenvError(f"cannot set up {' '.join(requirements)} in {venv}:\n"
                            f"{built.stderr[-3000:]}{checked.stderr[-3000:]}")
    return python


def tool_venv(venv: Path, requirements: list[str], probe: str) -> Path:
    """`build_tool_venv` for a test: a venv that cannot be built fails the test."""
    import pytest  # here, not at the top: the benchmarks import this module without pytest installed

    try:
        return build_tool_venv(venv, requirements, probe)
    except ToolVenvError as exc:
        pytest.fail(str(exc))
