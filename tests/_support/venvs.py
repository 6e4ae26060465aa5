"""Published tools in virtualenvs of their own (their pins would fight ours), built once under the
repository's ignored `.cache/test-venvs/`, never the user's home; when one cannot be built, the tests
that use it fail, they do not skip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from _support.paths import REPO

VENVS = REPO / ".cache" / "test-venvs"


def tool_venv(venv: Path, requirements: list[str], probe: str) -> Path:
    """The interpreter of `venv`, created with `requirements` unless `probe` (Python code) already passes."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", probe]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    built = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements],
                           capture_output=True, text=True)
    checked = subprocess.run(check, capture_output=True, text=True)
    if built.returncode or checked.returncode:
        pytest.fail(f"cannot set up {' '.join(requirements)} in {venv}:\n{built.stderr[-3000:]}{checked.stderr[-3000:]}")
    return python
