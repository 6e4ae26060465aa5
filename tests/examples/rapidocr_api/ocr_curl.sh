# Source: rapidocr_api usage page, "调用" -> "Curl调用" (originals/002_3b8726a8236ebd7a.txt, line 168).
# When tests/e2e/test_client_examples.py runs it, it changes only:
#   - the URL "http://0.0.0.0:9005/ocr" -> the test server's http://127.0.0.1:<port>/ocr
#   - the file name "1.png" -> the sample image scenes/s01_sign_zh_en.png
# Everything below the marker line is the published code, unchanged.
# --- the example as published starts below ---
curl -F image_file=@1.png http://0.0.0.0:9005/ocr
