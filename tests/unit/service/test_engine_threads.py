"""How many pages the service reads at once (service/ocr_service.py engine_threads), with the core count injected."""

from __future__ import annotations

import os

import pytest

from ocrserve.service.ocr_service import engine_threads
from ocrserve.settings import load_settings


@pytest.mark.parametrize(("cores", "pages"), [(1, 1), (2, 1), (3, 3), (4, 4), (16, 4)])
def test_default_pages_in_flight_follow_the_cores(monkeypatch, cores, pages):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert engine_threads(load_settings()) == pages


def test_the_setting_wins(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert engine_threads(load_settings(inference_threads=3)) == 3
