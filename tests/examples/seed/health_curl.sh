# Source: README of the FastAPI PP-OCR service (the seed service), "监控和日志" -> "健康检查"
# (originals/000_00403ab49c19dccb.txt, line 354).
# When tests/e2e/test_client_examples.py runs it, it changes only:
#   - the URL "http://localhost:7861/health" -> the test server's http://127.0.0.1:<port>/health
# Everything below the marker line is the published code, unchanged.
# --- the example as published starts below ---
curl http://localhost:7861/health
