# Source: README of the FastAPI PP-OCR service (the seed service), "API接口" -> "4. 文件上传接口"
# (originals/000_00403ab49c19dccb.txt, lines 201-206).
# When tests/e2e/test_client_examples.py runs it, it changes only:
#   - the URL "http://localhost:7861/upload" -> the test server's http://127.0.0.1:<port>/upload
#   - the file name "image.jpg" -> the sample image scenes/s01_sign_zh_en.png
# Everything below the marker line is the published code, unchanged.
# --- the example as published starts below ---
curl -X POST "http://localhost:7861/upload" \
     -F "file=@image.jpg" \
     -F "use_det=true" \
     -F "use_cls=true" \
     -F "use_rec=true" \
     -F "text_score=0.5"
