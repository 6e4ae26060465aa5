# Source: rapidocr_api usage page, "Python调用" -> "以文件方式发送POST请求"
# (originals/002_3b8726a8236ebd7a.txt, lines 176-185).
# When tests/e2e/test_client_examples.py runs it, it changes only:
#   - the URL 'http://localhost:9005/ocr' -> the test server's http://127.0.0.1:<port>/ocr
#   - img_path 'tests/test_files/ch_en_num.jpg' -> the sample image scenes/s01_sign_zh_en.png
# Everything below the marker line is the published code, unchanged.
# --- the example as published starts below ---
import requests

url = 'http://localhost:9005/ocr'
img_path = 'tests/test_files/ch_en_num.jpg'

with open(img_path, 'rb') as f:
    file_dict = {'image_file': (img_path, f, 'image/png')}
    response = requests.post(url, files=file_dict, timeout=60)

print(response.json())
