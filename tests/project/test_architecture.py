"""The package's layers hold: each imports only those below it, and no modules form a circle.

The contracts are in pyproject.toml (`[tool.importlinter]`), the layers drawn in
docs/architecture.md; this runs them with the suite, so an import that runs back up fails CI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from _support.paths import REPO


def test_imports_keep_to_the_layers_and_form_no_circle(tmp_path):
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "lint-imports is missing: pip install -e '.[test]' (import-linter)"
    done = subprocess.run([lint, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout, done.stdout[-2000:]


def test_the_contracts_name_every_module_of_the_package():
    """A new top-level module or package has a layer: a layers contract passes over what it does not name."""
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    named = {name.strip().removeprefix("ocrserve.") for layer in layers for name in layer.split(":")}
    package = REPO / "src" / "ocrserve"
    present = {p.stem for p in package.glob("*.py") if p.name != "__init__.py"}
    present |= {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert present - named == set(), f"modules without a layer in pyproject.toml: {sorted(present - named)}"


def test_test_modules_share_helpers_only_through_support():
    """No test module imports another test module or conftest: what they share lives in tests/_support."""
    import ast

    offenders = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        if "examples" in path.parts or "data" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{path.relative_to(REPO)}: {name}" for name in names
                          if name.split(".")[0] in ("conftest", "tests") or name.split(".")[0].startswith("test_")]
    assert offenders == []


def test_the_package_type_checks(tmp_path):
    """mypy in strict mode over the whole package, as pyproject.toml configures it (its cache in a
    temporary directory)."""
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_test_modules_have_unique_names():
    """The test folders are not packages, so pytest imports each module by its file name: two of one name
    in different folders would fail to collect (the second is taken for the first)."""
    from collections import Counter

    names = Counter(path.name for path in (REPO / "tests").rglob("test_*.py")
                    if "examples" not in path.parts and "data" not in path.parts)
    assert [name for name, count in names.items() if count > 1] == []
