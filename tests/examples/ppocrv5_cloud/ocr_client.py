# Source: PP-OCRv5 cloud API (AI Studio) page, "3. Service Call Example (python)"
# (originals/003_8f4676c94174cd3b.txt, lines 37-90). It sends "Authorization: token <TOKEN>".
# When tests/e2e/test_client_examples.py runs it, it changes only:
#   - API_URL "<your url>" -> the token-protected test server's http://127.0.0.1:<port>/ocr
#   - TOKEN "<access token>" -> the token the test server is started with (OCR_API_TOKENS)
#   - file_path "<local file path>" -> the sample image scenes/s01_sign_zh_en.png
#   - the placeholder <file type> -> 1 (an image, as the comment on that line says)
# Everything below the marker line is the published code, unchanged.
# --- the example as published starts below ---
# Please make sure the requests library is installed
# pip install requests
import os
import base64
import requests

# Please visit https://aistudio.baidu.com/paddleocr/task to obtain the API_URL and TOKEN in the API call example.
API_URL = "<your url>"
TOKEN = "<access token>"

file_path = "<local file path>"
input_filename = os.path.splitext(os.path.basename(file_path))[0]

with open(file_path, "rb") as file:
    file_bytes = file.read()
    file_data = base64.b64encode(file_bytes).decode("ascii")

headers = {
    "Authorization": f"token {TOKEN}",
    "Content-Type": "application/json"
}

required_payload = {
    "file": file_data,
    "fileType": <file type>,  # For PDF documents, set `fileType` to 0; for images, set `fileType` to 1
}

optional_payload = {
    "useDocOrientationClassify": False,
    "useDocUnwarping": False,
    "useTextlineOrientation": False,
}

payload = {**required_payload, **optional_payload}

response = requests.post(API_URL, json=payload, headers=headers)

assert response.status_code == 200
result = response.json()["result"]

os.makedirs("output", exist_ok=True)

for i, res in enumerate(result["ocrResults"]):
    print(res["prunedResult"])
    image_url = res["ocrImage"]
    img_response = requests.get(image_url)
    if img_response.status_code == 200:
        # Save image to local
        filename = f"output/{input_filename}_{i}.jpg"
        with open(filename, "wb") as f:
            f.write(img_response.content)
        print(f"Image saved to: {filename}")
    else:
        print(f"Failed to download image, status code: {img_response.status_code}")
