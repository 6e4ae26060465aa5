"""Shared fixtures: where the samples are, and one loaded OCR per model set for the session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocrserve import OCR

REPO = Path(__file__).resolve().parents[1]


def find_samples_dir() -> Path:
    """OCR_SAMPLES_DIR, else the sample set kept in the repository (tests/data/samples)."""
    candidates = [os.environ.get("OCR_SAMPLES_DIR"), REPO / "tests" / "data" / "samples"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "manifest.jsonl").is_file():
            return Path(candidate)
    raise RuntimeError(f"sample set not found (tried {candidates}); set OCR_SAMPLES_DIR")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return find_samples_dir()


_OCR_CACHE: dict[str, OCR] = {}


def ocr_for(model: str) -> OCR:
    """One OCR per model set per test session (loading costs ~0.3 s and ~100 MB each)."""
    if model not in _OCR_CACHE:
        _OCR_CACHE[model] = OCR(model=model, max_pdf_pages=0)
    return _OCR_CACHE[model]


@pytest.fixture(scope="session")
def ocr_v4() -> OCR:
    return ocr_for("pp-ocrv4-mobile")


@pytest.fixture(scope="session")
def ocr_default() -> OCR:
    return ocr_for("pp-ocrv6-small")
