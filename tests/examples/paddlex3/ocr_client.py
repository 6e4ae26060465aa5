# Source: PaddleX 3.x general OCR pipeline tutorial (Chinese), section 3 serving,
# "多语言调用服务示例" -> Python (originals/001_636e2d00ac0ae315.txt, lines 1030-1051).
# When tests/e2e/test_client_examples.py runs it, it changes only:
#   - the URL "http://localhost:8080/ocr" -> the test server's http://127.0.0.1:<port>/ocr
#   - the file name "./demo.jpg" -> the sample image scenes/s01_sign_zh_en.png
# Everything below the marker line is the published code, unchanged.
# --- the example as published starts below ---
import base64
import requests

API_URL = "http://localhost:8080/ocr"
file_path = "./demo.jpg"

with open(file_path, "rb") as file:
    file_bytes = file.read()
    file_data = base64.b64encode(file_bytes).decode("ascii")

payload = {"file": file_data, "fileType": 1}

response = requests.post(API_URL, json=payload)

assert response.status_code == 200
result = response.json()["result"]
for i, res in enumerate(result["ocrResults"]):
    print(res["prunedResult"])
    ocr_img_path = f"ocr_{i}.jpg"
    with open(ocr_img_path, "wb") as f:
        f.write(base64.b64decode(res["ocrImage"]))
    print(f"Output image saved at {ocr_img_path}")
