# Source: rapidocr_api usage page, "Python调用" -> "以base64方式发送POST请求"
# (originals/002_3b8726a8236ebd7a.txt, lines 191-203).
# When tests/e2e/test_client_examples.py runs it, it changes only:
#   - the URL 'http://localhost:9005/ocr' -> the test server's http://127.0.0.1:<port>/ocr
#   - img_path 'tests/test_files/ch_en_num.jpg' -> the sample image scenes/s01_sign_zh_en.png
# Everything below the marker line is the published code, unchanged.
# --- the example as published starts below ---
import base64
import requests

url = 'http://localhost:9005/ocr'
img_path = 'tests/test_files/ch_en_num.jpg'

with open(img_path, 'rb') as fa:
    img_str = base64.b64encode(fa.read())

payload = {'image_data': img_str}
response = requests.post(url, data=payload, timeout=60)

print(response.json())
