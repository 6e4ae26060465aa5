# Source: README of the FastAPI PP-OCR service (the seed service), "使用示例" -> "Python示例"
# (originals/000_00403ab49c19dccb.txt, lines 262-284).
# When tests/e2e/test_client_examples.py runs it, it changes only:
#   - the URL "http://localhost:7861/v1/ocr" -> the test server's http://127.0.0.1:<port>/v1/ocr
#   - the file name "image.jpg" -> the sample image scenes/s01_sign_zh_en.png
# Everything below the marker line is the published code, unchanged.
# --- the example as published starts below ---
import requests
import base64

# 读取图片并编码
with open("image.jpg", "rb") as f:
    image_base64 = base64.b64encode(f.read()).decode('utf-8')

# 发送OCR请求
payload = {
    "image": image_base64,
    "use_det": True,
    "use_cls": True,
    "use_rec": True,
    "text_score": 0.5
}

response = requests.post("http://localhost:7861/v1/ocr", json=payload)
result = response.json()

# 处理结果
if result["success"]:
    for item in result["results"]:
        print(f"文本: {item['text']}, 置信度: {item['confidence']:.3f}")
