"""What pyproject.toml ships as package data (read with a pattern: Python 3.10 has no tomllib)."""

from __future__ import annotations

import re
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def package_data_patterns() -> list[str]:
    """The globs of `[tool.setuptools.package-data] ocrserve = [...]`."""
    table = re.search(r'^\[tool\.setuptools\.package-data\]\s*ocrserve\s*=\s*\[(.*?)\]',
                      PYPROJECT.read_text(encoding="utf-8"), re.M | re.S)
    assert table, "pyproject.toml has no [tool.setuptools.package-data] ocrserve = [...]"
    return re.findall(r'"([^"]+)"', table[1])
