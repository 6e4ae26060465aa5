# Source: rapidocr_api usage page, "Python调用" -> "控制使用检测、方向分类和识别模型"
# (originals/002_3b8726a8236ebd7a.txt, lines 209-217).
# As published, this snippet uses `file_dict`, which only the first snippet ("以文件方式发送POST请求")
# defines, inside its own `with open(img_path, 'rb') as f:` block; run after that snippet, its
# file_dict would hold the first snippet's already-closed file. The document implies the first
# snippet's definition inside this snippet's own `with` block, so that one line was added as the
# first line of the block: `file_dict = {'image_file': (img_path, f, 'image/png')}` (from line 181).
# When tests/e2e/test_client_examples.py runs it, it changes only:
#   - the URL 'http://localhost:9005/ocr' -> the test server's http://127.0.0.1:<port>/ocr
#   - img_path 'tests/test_files/ch_en_num.jpg' -> a crop of the sample scenes/s01_sign_zh_en.png
#     holding just its ground-truth line "cp - copy files and directories" (use_det=False
#     recognises the whole image as one line)
# Apart from the added line, everything below the marker line is the published code, unchanged.
# --- the example as published starts below ---
import requests

url = 'http://localhost:9005/ocr'
img_path = 'tests/test_files/ch_en_num.jpg'

with open(img_path, 'rb') as f:
    file_dict = {'image_file': (img_path, f, 'image/png')}
    data = {"use_det": False, "use_cls": True, "use_rec": True}
    response = requests.post(url, files=file_dict, data=data, timeout=60)
print(response.json())
