"""Where the repository and its sample set are."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
#: what the tests read: samples, originals, ALTO schemas
DATA = TESTS / "data"
#: the peers' published client examples, run as their users run them
EXAMPLES = TESTS / "examples"


def find_samples_dir() -> Path:
    """OCR_SAMPLES_DIR, else the sample set kept in the repository (tests/data/samples)."""
    candidates = [os.environ.get("OCR_SAMPLES_DIR"), REPO / "tests" / "data" / "samples"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "manifest.jsonl").is_file():
            return Path(candidate)
    raise RuntimeError(f"sample set not found (tried {candidates}); set OCR_SAMPLES_DIR")
