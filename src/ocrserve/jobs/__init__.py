"""Async OCR jobs (PaddleOCR's official `/api/v2/ocr/jobs` API): store, runner, links, callbacks."""
