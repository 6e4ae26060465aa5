"""/docs in a real browser: every "Try it out" of a JSON operation, executed with what Swagger UI
pre-fills, returns the text of the example page (a real server on 127.0.0.1, pp-ocrv4-mobile)."""

from __future__ import annotations

import httpx
import pytest

from _support.chromium import launch
from _support.server import start_server

EXAMPLE_TEXT = "Invoice 2026-0042"  # what the pre-filled example image reads (contracts/base.py)
WAIT_MS = 180_000  # a ceiling for a busy machine, not a performance check


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with start_server(tmp_path_factory, {}) as base:
        yield base


def json_operations(base: str) -> list[str]:
    spec = httpx.get(f"{base}/openapi.json", timeout=30).json()
    return sorted(op["operationId"] for item in spec["paths"].values() for op in item.values()
                  if "example" in op.get("requestBody", {}).get("content", {}).get("application/json", {}))


def test_every_json_try_it_out_reads_the_example_page(server):
    operations = json_operations(server)
    assert {"infer", "hubOcrSystem", "seedPaddleOCR", "seedEasyOCR", "seedV1OCR"} <= set(operations)
    with launch() as browser:
        page = browser.new_page()
        page.goto(f"{server}/docs")
        for op in operations:
            block = page.locator(f"[id$='-{op}']").first
            block.locator(".opblock-summary").click()
            block.locator("button.try-out__btn").click()
            block.locator("button.execute").click()
            block.locator(".live-responses-table .response-col_status").first.wait_for(timeout=WAIT_MS)
            answer = block.locator(".live-responses-table").inner_text()
            assert "200" in answer and EXAMPLE_TEXT in answer, (op, answer[:500])


def test_the_upload_form_prefills_a_threshold_that_keeps_text(server, samples_dir):
    """The seed's /upload: the user picks the file; the pre-filled text_score must not drop every line."""
    with launch() as browser:
        page = browser.new_page()
        page.goto(f"{server}/docs")
        block = page.locator("[id$='-seedUpload']").first
        block.locator(".opblock-summary").click()
        block.locator("button.try-out__btn").click()
        block.locator("input[type=file]").set_input_files(str(samples_dir / "scenes/s01_sign_zh_en.png"))
        block.locator("button.execute").click()
        block.locator(".live-responses-table .response-col_status").first.wait_for(timeout=WAIT_MS)
        answer = block.locator(".live-responses-table").inner_text()
        assert "200" in answer and "复制文件和目录" in answer, answer[:500]
