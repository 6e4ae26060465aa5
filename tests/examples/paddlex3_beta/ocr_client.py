# Source: PaddleX 3.0-beta general OCR pipeline tutorial (English), section 3, "Multi-Language
# Service Invocation Examples" -> Python (originals/004_365c25cf5dce7b3f.txt, lines 360-381).
# When tests/e2e/test_client_examples.py runs it, it changes only:
#   - the URL "http://localhost:8080/ocr" -> the test server's http://127.0.0.1:<port>/ocr
#   - the file name "./demo.jpg" -> the sample image scenes/s01_sign_zh_en.png
# Everything below the marker line is the published code, unchanged.
# --- the example as published starts below ---
import base64
import requests

API_URL = "http://localhost:8080/ocr"
image_path = "./demo.jpg"
output_image_path = "./out.jpg"

with open(image_path, "rb") as file:
    image_bytes = file.read()
    image_data = base64.b64encode(image_bytes).decode("ascii")

payload = {"image": image_data}

response = requests.post(API_URL, json=payload)

assert response.status_code == 200
result = response.json()["result"]
with open(output_image_path, "wb") as file:
    file.write(base64.b64decode(result["image"]))
print(f"Output image saved at {output_image_path}")
print("\nDetected texts:")
print(result["texts"])
