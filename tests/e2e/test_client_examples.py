"""The originals' own published client examples, run as their users run them, against a real `ocrserve serve`.

Each example lives under tests/examples/<source>/ exactly as its document prints it, below a header comment
that names the document and says what is changed when it runs: only the server URL and the file it reads
(and, where the document leaves them as placeholders, the token and the file type).
`test_examples_are_the_published_code` holds every file to the lines of the original it cites.

Each example reads the sample scenes/s01_sign_zh_en.png (two ground-truth lines, "复制文件和目录" and
"cp - copy files and directories"); the tests check that those lines are in what the example printed or
wrote, and that every field the original documents show is in the response with its documented type.

Servers (pp-ocrv4-mobile, module-scoped): one plain server, whose `OCR_CORS_ORIGINS` is the origin of the
page that the browser example runs in (another loopback port, so Chromium sends a CORS preflight), and one
started with `OCR_API_TOKENS` for the PP-OCRv5 cloud example, which sends `Authorization: token <TOKEN>`.

Tools: python (this interpreter, with requests), curl, node with axios from tests/examples/node
(`npm ci --prefix tests/examples/node`), and chromium driven by playwright (no browser download:
the system's chromium). A missing tool is a failure that says what to install, never a skip.
"""

from __future__ import annotations

import ast
import base64
import binascii
import functools
import http.server
import io
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from PIL import Image

from _support.chromium import launch
from _support.paths import DATA, EXAMPLES
from _support.server import start_server
from _support.tools import need_tool

NODE_DIR = EXAMPLES / "node"
MARK = "--- the example as published starts below ---"
SAMPLE = "scenes/s01_sign_zh_en.png"
TOKEN = "example-token-3f9c2a7d"
RUN_TIMEOUT = 180
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def originals_dir() -> Path:
    """The original documents the examples were copied from, kept in the repository (tests/data/originals)."""
    return DATA / "originals"


# --- helpers ----------------------------------------------------------------------------------
def split_example(path: Path) -> tuple[str, str]:
    """(header comment, published code) of an example file."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    marks = [i for i, line in enumerate(lines) if MARK in line]
    assert len(marks) == 1, f"{path}: not one marker line {MARK!r}"
    return "".join(lines[:marks[0] + 1]), "".join(lines[marks[0] + 1:])


def prepare(rel: str, out_dir: Path, replacements: dict[str, str]) -> Path:
    """Copy tests/examples/<rel> into out_dir with only `replacements` (URL, file name, ...) applied to its
    published code; each replaced string must be in the code exactly as the header says."""
    head, body = split_example(EXAMPLES / rel)
    for old, new in replacements.items():
        assert old in body, f"{rel}: {old!r} is not in the published code"
        body = body.replace(old, new)
    target = out_dir / Path(rel).name
    target.write_text(head + body, encoding="utf-8")
    return target


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8",
                          errors="replace", timeout=RUN_TIMEOUT)
    return proc


def report(proc: subprocess.CompletedProcess) -> str:
    def tail(text: str) -> str:  # long lines (base64 in an exception message) cut to their ends
        return "\n".join(line if len(line) <= 400 else f"{line[:200]} ... {line[-120:]}"
                         for line in text.splitlines()[-60:])
    return f"rc={proc.returncode}\n--- stdout ---\n{tail(proc.stdout)}\n--- stderr ---\n{tail(proc.stderr)}"


@functools.cache
def manifest(samples: Path) -> dict[str, dict]:
    rows = (json.loads(line) for line in (samples / "manifest.jsonl").read_text(encoding="utf-8").splitlines())
    return {row["path"]: row for row in rows}


def ground_truth(samples: Path, name: str = SAMPLE) -> list[str]:
    return [line["text"] for line in manifest(samples)[name]["lines"]]


def squash(text: str) -> str:
    return " ".join(text.split())


def assert_lines_in(lines: list[str], text: str, what: str) -> None:
    missing = [line for line in lines if squash(line) not in squash(text)]
    assert not missing, f"ground-truth lines {missing} not in {what}:\n{text[-3000:]}"


def is_jpeg(data: bytes) -> bool:
    if not data.startswith(b"\xff\xd8\xff"):
        return False
    with Image.open(io.BytesIO(data)) as im:
        return im.format == "JPEG" and im.size[0] > 0 and im.size[1] > 0


def assert_b64_jpeg(value, what: str) -> None:
    assert isinstance(value, str) and value, f"{what} is not a non-empty string: {str(value)[:80]!r}"
    try:
        data = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise AssertionError(f"{what} is not base64: {exc}") from exc
    assert is_jpeg(data), f"{what} does not decode to a JPEG (starts {data[:8]!r})"


def assert_uuid(value, what: str = "logId") -> None:
    assert isinstance(value, str) and UUID_RE.fullmatch(value), f"{what} is not a UUID string with dashes: {value!r}"


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def assert_quad(poly, what: str, number=is_num) -> None:
    assert isinstance(poly, list) and len(poly) == 4, f"{what} is not 4 points: {poly!r}"
    for point in poly:
        assert isinstance(point, list) and len(point) == 2 and all(number(c) for c in point), \
            f"{what}: point {point!r} is not [x, y] of {number.__name__}"


def printed_dicts(stdout: str) -> list[dict]:
    """The dicts an example printed with print(dict) (Python repr, one per line)."""
    found = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            value = ast.literal_eval(line)
            assert isinstance(value, dict)
            found.append(value)
    return found


# --- documented shapes --------------------------------------------------------------------------
def check_pruned_result(pruned: dict, what: str = "prunedResult") -> None:
    """prunedResult as PaddleX 3.x documents `res` (originals/001, lines 705-746), less `input_path`."""
    assert isinstance(pruned, dict), what
    assert "input_path" not in pruned, f"{what}: input_path is removed from prunedResult (001 line 1007)"
    if "page_index" in pruned:  # 001 keeps it (None for an image), 003 says it is removed
        assert pruned["page_index"] is None, f"{what}: page_index of an image is None"
    ms = pruned["model_settings"]
    assert isinstance(ms, dict) and isinstance(ms["use_doc_preprocessor"], bool) \
        and isinstance(ms["use_textline_orientation"], bool), f"{what}.model_settings: {ms!r}"
    if ms["use_doc_preprocessor"]:  # "仅当use_doc_preprocessor=True时存在"
        dp = pruned["doc_preprocessor_res"]
        assert isinstance(dp, dict), f"{what}.doc_preprocessor_res: {dp!r}"
        if "input_path" in dp:
            assert dp["input_path"] is None or isinstance(dp["input_path"], str)
        assert isinstance(dp["model_settings"]["use_doc_orientation_classify"], bool)
        assert isinstance(dp["model_settings"]["use_doc_unwarping"], bool)
        assert is_int(dp["angle"]), f"{what}.doc_preprocessor_res.angle is not an int: {dp['angle']!r}"
    else:
        assert "doc_preprocessor_res" not in pruned, f"{what}: doc_preprocessor_res without the preprocessor"
    assert isinstance(pruned["dt_polys"], list)
    for i, poly in enumerate(pruned["dt_polys"]):
        assert_quad(poly, f"{what}.dt_polys[{i}]", is_int)
    if "dt_scores" in pruned:  # listed in 001's field list, absent from its printed example
        assert all(is_num(s) for s in pruned["dt_scores"])
    tdp = pruned["text_det_params"]
    assert is_int(tdp["limit_side_len"]) and isinstance(tdp["limit_type"], str), f"{what}.text_det_params: {tdp!r}"
    assert all(is_num(tdp[k]) for k in ("thresh", "box_thresh", "unclip_ratio")), f"{what}.text_det_params: {tdp!r}"
    assert pruned["text_type"] == "general", f"{what}.text_type: {pruned['text_type']!r}"
    angles = pruned["textline_orientation_angles"]
    assert isinstance(angles, list) and all(is_int(a) for a in angles), f"{what}.textline_orientation_angles"
    assert len(angles) == len(pruned["dt_polys"]), f"{what}: one textline_orientation_angles entry per dt_polys box"
    if not ms["use_textline_orientation"]:  # "未启用时返回[-1,-1,-1]"
        assert all(a == -1 for a in angles), f"{what}.textline_orientation_angles without the classifier: {angles}"
    assert is_num(pruned["text_rec_score_thresh"])
    texts, scores, polys, boxes = (pruned[k] for k in ("rec_texts", "rec_scores", "rec_polys", "rec_boxes"))
    assert all(isinstance(t, str) for t in texts), f"{what}.rec_texts: {texts!r}"
    assert all(is_num(s) and 0 <= s <= 1 for s in scores), f"{what}.rec_scores: {scores!r}"
    for i, poly in enumerate(polys):
        assert_quad(poly, f"{what}.rec_polys[{i}]", is_int)
    for i, box in enumerate(boxes):
        assert isinstance(box, list) and len(box) == 4 and all(is_int(c) for c in box), f"{what}.rec_boxes[{i}]"
        assert box[0] <= box[2] and box[1] <= box[3], f"{what}.rec_boxes[{i}] is not [x_min, y_min, x_max, y_max]"
    assert len(texts) == len(scores) == len(polys) == len(boxes), f"{what}: rec_* lists differ in length"


def check_paddlex_envelope(body: dict, what: str) -> dict:
    """001/003: {logId: UUID string, errorCode: 0, errorMsg: "Success", result: {ocrResults, dataInfo}}."""
    assert_uuid(body.get("logId"), f"{what}: logId")
    assert is_int(body["errorCode"]) and body["errorCode"] == 0, f"{what}: errorCode {body['errorCode']!r}"
    assert body["errorMsg"] == "Success", f"{what}: errorMsg {body['errorMsg']!r}"
    result = body["result"]
    assert isinstance(result, dict) and isinstance(result["dataInfo"], dict), f"{what}: result/dataInfo"
    assert isinstance(result["ocrResults"], list) and len(result["ocrResults"]) == 1, \
        f"{what}: ocrResults has one element for an image"
    return result


def check_paddlex_error(body: dict, status: int, what: str) -> None:
    """001/003: a failed request answers {logId, errorCode: <HTTP status>, errorMsg: string}."""
    assert_uuid(body.get("logId"), f"{what}: logId")
    assert is_int(body["errorCode"]) and body["errorCode"] == status, f"{what}: errorCode {body['errorCode']!r}"
    assert isinstance(body["errorMsg"], str) and body["errorMsg"], f"{what}: errorMsg {body['errorMsg']!r}"


def check_rapidocr_answer(answer, what: str) -> list[str]:
    """002: {"0": {"rec_txt", "dt_boxes": 4 [x, y] points, "score"}, "1": ...}; the texts in order."""
    assert isinstance(answer, dict), f"{what}: not an object: {answer!r}"
    assert list(answer) == [str(i) for i in range(len(answer))], f"{what}: keys are not \"0\", \"1\", ...: {list(answer)}"
    texts = []
    for key, item in answer.items():
        assert isinstance(item, dict) and set(item) >= {"rec_txt", "dt_boxes", "score"}, f"{what}[{key}]: {item!r}"
        assert isinstance(item["rec_txt"], str), f"{what}[{key}].rec_txt"
        assert_quad(item["dt_boxes"], f"{what}[{key}].dt_boxes")
        # The page prints "0.8176" (a string, as rapidocr_api v0.1.x sent it; v0.2.x sends a float and
        # docs/API.md serves a float): a client reads it with float(), which both forms satisfy.
        score = item["score"]
        assert (isinstance(score, str) or is_num(score)) and 0 <= float(score) <= 1, f"{what}[{key}].score: {score!r}"
        texts.append(item["rec_txt"])
    return texts


def check_seed_lines(results, what: str) -> list[str]:
    """000: [{text: string, confidence: number, bbox: [[x1, y1], [x2, y2], [x3, y3], [x4, y4]]}]."""
    assert isinstance(results, list), f"{what}: {results!r}"
    for i, item in enumerate(results):
        assert isinstance(item["text"], str), f"{what}[{i}].text"
        assert is_num(item["confidence"]) and 0 <= item["confidence"] <= 1, f"{what}[{i}].confidence"
        assert_quad(item["bbox"], f"{what}[{i}].bbox")
    return [item["text"] for item in results]


def check_image_size(size, width: int, height: int, what: str) -> None:
    assert isinstance(size, dict) and is_int(size["width"]) and is_int(size["height"]), f"{what}: {size!r}"
    assert (size["width"], size["height"]) == (width, height), f"{what}: {size!r} for a {width}x{height} image"


def check_seed_response(body: dict, samples: Path, what: str) -> None:
    """000 (/paddleocr, /easyocr, /v1/ocr, /upload): {success, results, processing_time, image_size}."""
    assert body["success"] is True, f"{what}: success {body.get('success')!r}"
    texts = check_seed_lines(body["results"], f"{what}.results")
    assert_lines_in(ground_truth(samples), "\n".join(texts), f"{what}.results[].text")
    assert is_num(body["processing_time"]) and body["processing_time"] >= 0, f"{what}.processing_time"
    row = manifest(samples)[SAMPLE]
    check_image_size(body["image_size"], row["width"], row["height"], f"{what}.image_size")


# --- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def page_site(tmp_path_factory):
    """A static site on another loopback port: the origin the browser example's page is served from."""
    root = tmp_path_factory.mktemp("page")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, page_site):
    origin, _ = page_site
    with start_server(tmp_path_factory, {"OCR_CORS_ORIGINS": origin}) as base:
        yield base


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    # the cloud answers result images as links (PaddleX's return_img_urls), which its client downloads
    with start_server(tmp_path_factory, {"OCR_API_TOKENS": TOKEN, "OCR_RESULT_IMAGES": "url"}) as base:
        yield base


@pytest.fixture(scope="module")
def node_env() -> dict[str, str]:
    """node, and axios as pinned by tests/examples/node/package-lock.json (npm ci when not installed yet)."""
    node = need_tool("node", "nodejs npm")
    if not (NODE_DIR / "node_modules" / "axios" / "package.json").is_file():
        npm = need_tool("npm", "npm")
        proc = run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(NODE_DIR)], cwd=NODE_DIR)
        assert proc.returncode == 0, "npm ci --prefix tests/examples/node failed:\n" + report(proc)
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["axios"]
    installed = json.loads((NODE_DIR / "node_modules" / "axios" / "package.json").read_text())["version"]
    assert installed == pinned, f"axios {installed} installed, {pinned} pinned: run npm ci --prefix tests/examples/node"
    return dict(os.environ, NODE_PATH=str(NODE_DIR / "node_modules"), NODE=node)


@pytest.fixture()
def workdir(tmp_path) -> Path:
    (tmp_path / "run").mkdir()
    return tmp_path / "run"


# --- the examples are the published code ---------------------------------------------------------
CITED = re.compile(r"\(originals/(\d{3}_[0-9a-f]+\.txt), lines? (\d+)(?:-(\d+))?\)")
ADDED_LINES = {"rapidocr_api/ocr_use_det.py": ["    file_dict = {'image_file': (img_path, f, 'image/png')}"]}


def example_files() -> list[str]:
    files = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*")
                   if p.is_file() and "node_modules" not in p.parts and p.parent != NODE_DIR)
    return files


def _dedent(lines: list[str]) -> list[str]:
    lines = [line.rstrip() for line in lines]
    indent = min((len(line) - len(line.lstrip()) for line in lines if line), default=0)
    return [line[indent:] for line in lines]


@pytest.mark.parametrize("rel", example_files())
def test_examples_are_the_published_code(rel):
    """Every example file is the lines of the original its header cites (dedented), nothing added but
    the one line its header declares."""
    head, body = split_example(EXAMPLES / rel)
    cited = CITED.search(" ".join(line.lstrip("#/ ") for line in head.splitlines()))
    assert cited, f"{rel}: the header does not cite its original (originals/NNN_x.txt, lines a-b)"
    doc, first, last = cited.group(1), int(cited.group(2)), int(cited.group(3) or cited.group(2))
    first_line = [line for line in head.splitlines() if line != "<?php"][0]  # PHP: the header is a PHP block
    assert first_line.startswith(("# Source: ", "// Source: ")), f"{rel}: the header's first line names no source"
    original = (originals_dir() / doc).read_text(encoding="utf-8").splitlines()[first - 1:last]
    original[0] = re.sub(r"^<pre><code[^>]*>", "", original[0])
    code = body.splitlines()
    for added in ADDED_LINES.get(rel, []):
        assert code.count(added) == 1, f"{rel}: the added line {added!r} is not there once"
        code.remove(added)
    assert _dedent(code) == _dedent(original), f"{rel} differs from {doc} lines {first}-{last}"


# --- PaddleX 3.x (originals/001) ---------------------------------------------------------------
def test_paddlex3_python_example(server, samples_dir, workdir):
    """001's Python client: prints each page's prunedResult and decodes `ocrImage` of every page to
    ocr_<i>.jpg, unconditionally (so the server must return it by default)."""
    script = prepare("paddlex3/ocr_client.py", workdir, {
        "http://localhost:8080/ocr": f"{server}/ocr", "./demo.jpg": str(samples_dir / SAMPLE)})
    proc = run([sys.executable, str(script)], cwd=workdir)
    assert proc.returncode == 0, report(proc)
    pruned = printed_dicts(proc.stdout)
    assert len(pruned) == 1, report(proc)
    check_pruned_result(pruned[0])
    assert_lines_in(ground_truth(samples_dir), "\n".join(pruned[0]["rec_texts"]), "the printed rec_texts")
    assert "Output image saved at ocr_0.jpg" in proc.stdout, report(proc)
    assert is_jpeg((workdir / "ocr_0.jpg").read_bytes()), "ocr_0.jpg is not a JPEG"
    assert not (workdir / "ocr_1.jpg").exists()


def test_paddlex3_response_fields(server, samples_dir):
    """The same request as 001's client; every documented field of the answer, with its type."""
    payload = {"file": base64.b64encode((samples_dir / SAMPLE).read_bytes()).decode("ascii"), "fileType": 1}
    response = requests.post(f"{server}/ocr", json=payload, timeout=RUN_TIMEOUT)
    assert response.status_code == 200, response.text[:500]
    result = check_paddlex_envelope(response.json(), "/ocr")
    page = result["ocrResults"][0]
    check_pruned_result(page["prunedResult"])
    assert_lines_in(ground_truth(samples_dir), "\n".join(page["prunedResult"]["rec_texts"]), "rec_texts")
    assert_b64_jpeg(page.get("ocrImage"), "ocrImage")  # string | null; the documented client decodes it
    for key in ("docPreprocessingImage", "inputImage"):  # string | null
        if page.get(key) is not None:
            assert_b64_jpeg(page[key], key)


def test_paddlex3_error_shape(server):
    """001: a failed request answers {logId, errorCode: <status>, errorMsg} with that HTTP status."""
    response = requests.post(f"{server}/ocr", json={"file": "not base64 of anything!", "fileType": 1},
                             timeout=RUN_TIMEOUT)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    check_paddlex_error(response.json(), response.status_code, "/ocr error")


# --- PaddleX 3.0-beta (originals/004) ------------------------------------------------------------
def check_beta_result(result, samples: Path, what: str) -> None:
    """004: result {texts: [{poly: [[x, y], ...], text, score}], image: base64 JPEG}."""
    assert isinstance(result["texts"], list), what
    for i, item in enumerate(result["texts"]):
        assert isinstance(item["poly"], list) and len(item["poly"]) >= 4, f"{what}.texts[{i}].poly"
        assert all(isinstance(p, list) and len(p) == 2 and all(is_num(c) for c in p) for p in item["poly"])
        assert isinstance(item["text"], str) and is_num(item["score"]), f"{what}.texts[{i}]"
    assert_lines_in(ground_truth(samples), "\n".join(t["text"] for t in result["texts"]), f"{what}.texts")
    assert_b64_jpeg(result["image"], f"{what}.image")


def test_paddlex3_beta_python_example(server, samples_dir, workdir):
    script = prepare("paddlex3_beta/ocr_client.py", workdir, {
        "http://localhost:8080/ocr": f"{server}/ocr", "./demo.jpg": str(samples_dir / SAMPLE)})
    proc = run([sys.executable, str(script)], cwd=workdir)
    assert proc.returncode == 0, report(proc)
    assert "Output image saved at ./out.jpg" in proc.stdout and "Detected texts:" in proc.stdout, report(proc)
    assert_lines_in(ground_truth(samples_dir), proc.stdout, "the printed texts")
    assert is_jpeg((workdir / "out.jpg").read_bytes()), "out.jpg is not a JPEG"


def test_paddlex3_beta_node_axios_example(server, samples_dir, workdir, node_env):
    """004's Node.js client sends JSON.stringify(...) as a string, which axios declares as
    application/x-www-form-urlencoded; its .catch only logs, so success is read from what it printed."""
    script = prepare("paddlex3_beta/ocr_client.js", workdir, {
        "http://localhost:8080/ocr": f"{server}/ocr", "./demo.jpg": str(samples_dir / SAMPLE)})
    proc = run([node_env["NODE"], str(script)], cwd=workdir, env=node_env)
    assert proc.returncode == 0, report(proc)
    assert "Detected texts:" in proc.stdout and "Output image saved at ./out.jpg" in proc.stdout, report(proc)
    assert_lines_in(ground_truth(samples_dir), proc.stdout, "the printed texts")
    assert is_jpeg((workdir / "out.jpg").read_bytes()), "out.jpg is not a JPEG"


def test_paddlex3_beta_go_example(server, samples_dir, workdir):
    """004's Go client posts the JSON with no Content-Type header; it prints each text as a Go map."""
    go = need_tool("go", "golang-go")
    script = prepare("paddlex3_beta/ocr_client.go", workdir, {
        '"http://localhost:8080/ocr"': f'"{server}/ocr"', '"./demo.jpg"': f'"{samples_dir / SAMPLE}"'})
    env = dict(os.environ, GOCACHE=str(workdir.parent / "gocache"), GOPATH=str(workdir.parent / "gopath"),
               GOFLAGS="-mod=mod", GO111MODULE="auto", GOTOOLCHAIN="local")
    proc = run([go, "run", str(script)], cwd=workdir, env=env)
    assert proc.returncode == 0, report(proc)
    # the published code prints "Image saved at %s.jpg" of "./out.jpg", but writes ./out.jpg
    assert "Image saved at ./out.jpg.jpg" in proc.stdout and "Detected texts:" in proc.stdout, report(proc)
    assert_lines_in(ground_truth(samples_dir), proc.stdout, "the printed texts")
    assert is_jpeg((workdir / "out.jpg").read_bytes()), "out.jpg is not a JPEG"


def test_paddlex3_beta_php_example(server, samples_dir, workdir):
    """004's PHP client (curl extension): CURLOPT_POSTFIELDS with a JSON string, declared as
    application/x-www-form-urlencoded; print_r of the texts."""
    php = need_tool("php", "php-cli php-curl")
    script = prepare("paddlex3_beta/ocr_client.php", workdir, {
        '"http://localhost:8080/ocr"': f'"{server}/ocr"', '"./demo.jpg"': f'"{samples_dir / SAMPLE}"'})
    proc = run([php, str(script)], cwd=workdir)
    assert proc.returncode == 0, report(proc)
    assert "Output image saved at ./out.jpg" in proc.stdout and "Detected texts:" in proc.stdout, report(proc)
    assert_lines_in(ground_truth(samples_dir), proc.stdout, "the printed texts")
    assert is_jpeg((workdir / "out.jpg").read_bytes()), "out.jpg is not a JPEG"


def test_paddlex3_beta_response_fields(server, samples_dir):
    image = base64.b64encode((samples_dir / SAMPLE).read_bytes()).decode("ascii")
    response = requests.post(f"{server}/ocr", json={"image": image}, timeout=RUN_TIMEOUT)
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert is_int(body["errorCode"]) and body["errorCode"] == 0 and body["errorMsg"] == "Success", body
    if "logId" in body:  # not in the 3.0-beta table; where we send it, it is the 3.x UUID
        assert_uuid(body["logId"])
    check_beta_result(body["result"], samples_dir, "result")


# --- PP-OCRv5 cloud API (originals/003) -----------------------------------------------------------
def cloud_example(token_server, samples_dir, workdir, token: str) -> Path:
    return prepare("ppocrv5_cloud/ocr_client.py", workdir, {
        '"<your url>"': f'"{token_server}/ocr"', '"<access token>"': f'"{token}"',
        '"<local file path>"': f'"{samples_dir / SAMPLE}"', "<file type>": "1"})


def test_ppocrv5_cloud_example_prints_result(token_server, samples_dir, workdir):
    """003's client with the server's token (`Authorization: token <TOKEN>`): the request is accepted and
    each page's prunedResult printed, with the three switches it sends off."""
    proc = run([sys.executable, str(cloud_example(token_server, samples_dir, workdir, TOKEN))], cwd=workdir)
    pruned = printed_dicts(proc.stdout)
    assert len(pruned) == 1, report(proc)
    check_pruned_result(pruned[0])
    assert pruned[0]["model_settings"] == {"use_doc_preprocessor": False, "use_textline_orientation": False}
    assert_lines_in(ground_truth(samples_dir), "\n".join(pruned[0]["rec_texts"]), "the printed rec_texts")


def test_ppocrv5_cloud_example_saves_image(token_server, samples_dir, workdir):
    """003's client then fetches `res["ocrImage"]` with requests.get and saves output/<name>_<i>.jpg."""
    proc = run([sys.executable, str(cloud_example(token_server, samples_dir, workdir, TOKEN))], cwd=workdir)
    assert proc.returncode == 0, report(proc)
    saved = workdir / "output" / f"{Path(SAMPLE).stem}_0.jpg"
    assert f"Image saved to: output/{saved.name}" in proc.stdout, report(proc)
    assert is_jpeg(saved.read_bytes()), f"{saved.name} is not a JPEG"


def test_ppocrv5_cloud_response_fields(token_server, samples_dir):
    payload = {"file": base64.b64encode((samples_dir / SAMPLE).read_bytes()).decode("ascii"), "fileType": 1,
               "useDocOrientationClassify": False, "useDocUnwarping": False, "useTextlineOrientation": False}
    headers = {"Authorization": f"token {TOKEN}", "Content-Type": "application/json"}
    response = requests.post(f"{token_server}/ocr", json=payload, headers=headers, timeout=RUN_TIMEOUT)
    assert response.status_code == 200, response.text[:500]
    result = check_paddlex_envelope(response.json(), "/ocr with a token")
    page = result["ocrResults"][0]
    check_pruned_result(page["prunedResult"])
    # string | null; images are returned unless `visualize` (not sent by this client) turns them off
    assert isinstance(page.get("ocrImage"), str) and page["ocrImage"], f"ocrImage: {str(page.get('ocrImage'))[:80]!r}"
    for key in ("docPreprocessingImage", "inputImage"):
        assert page.get(key) is None or (isinstance(page[key], str) and page[key]), key


def test_ppocrv5_cloud_wrong_token(token_server, samples_dir, workdir):
    """003: an invalid token is 403 ("Invalid Token"); the client stops at its status assertion."""
    proc = run([sys.executable, str(cloud_example(token_server, samples_dir, workdir, "not-" + TOKEN))], cwd=workdir)
    assert proc.returncode != 0 and "assert response.status_code == 200" in proc.stderr, report(proc)
    payload = {"file": base64.b64encode((samples_dir / SAMPLE).read_bytes()).decode("ascii"), "fileType": 1}
    for headers in ({"Authorization": f"token not-{TOKEN}"}, {}):
        response = requests.post(f"{token_server}/ocr", json=payload, headers=headers, timeout=RUN_TIMEOUT)
        assert response.status_code == 403, (headers, response.status_code, response.text[:300])
        check_paddlex_error(response.json(), 403, f"/ocr with {headers or 'no token'}")


# --- rapidocr_api (originals/002) -----------------------------------------------------------------
def test_rapidocr_curl_example(server, samples_dir, workdir):
    need_tool("curl", "curl")
    script = prepare("rapidocr_api/ocr_curl.sh", workdir, {
        "http://0.0.0.0:9005/ocr": f"{server}/ocr", "@1.png": f"@{samples_dir / SAMPLE}"})
    proc = run(["bash", str(script)], cwd=workdir)
    assert proc.returncode == 0, report(proc)
    texts = check_rapidocr_answer(json.loads(proc.stdout), "curl answer")
    assert_lines_in(ground_truth(samples_dir), "\n".join(texts), "rec_txt")


@pytest.mark.parametrize("rel", ["rapidocr_api/ocr_file.py", "rapidocr_api/ocr_base64.py"])
def test_rapidocr_python_examples(server, samples_dir, workdir, rel):
    script = prepare(rel, workdir, {
        "'http://localhost:9005/ocr'": f"'{server}/ocr'", "'tests/test_files/ch_en_num.jpg'": f"'{samples_dir / SAMPLE}'"})
    proc = run([sys.executable, str(script)], cwd=workdir)
    assert proc.returncode == 0, report(proc)
    answers = printed_dicts(proc.stdout)
    assert len(answers) == 1, report(proc)
    texts = check_rapidocr_answer(answers[0], "printed answer")
    assert_lines_in(ground_truth(samples_dir), "\n".join(texts), "rec_txt")


def test_rapidocr_python_use_det_example(server, samples_dir, workdir):
    """002's third snippet (use_det=False: the whole image is one line), given a crop of the sample's
    ground-truth line "cp - copy files and directories" (its polygon plus 8 px)."""
    line = manifest(samples_dir)[SAMPLE]["lines"][1]
    xs, ys = [p[0] for p in line["polygon"]], [p[1] for p in line["polygon"]]
    crop = workdir / "s01_line2.png"
    with Image.open(samples_dir / SAMPLE) as im:
        im.convert("RGB").crop((int(min(xs)) - 8, int(min(ys)) - 8, int(max(xs)) + 8, int(max(ys)) + 8)).save(crop)
    script = prepare("rapidocr_api/ocr_use_det.py", workdir, {
        "'http://localhost:9005/ocr'": f"'{server}/ocr'", "'tests/test_files/ch_en_num.jpg'": f"'{crop}'"})
    proc = run([sys.executable, str(script)], cwd=workdir)
    assert proc.returncode == 0, report(proc)
    answers = printed_dicts(proc.stdout)
    assert len(answers) == 1, report(proc)
    texts = check_rapidocr_answer(answers[0], "printed answer")
    assert texts == [line["text"]], f"use_det=False on the line's crop gave {texts}, not {[line['text']]}"


# --- the seed service (originals/000) -------------------------------------------------------------
def test_seed_python_v1_ocr_example(server, samples_dir, workdir):
    """000's Python client: prints `文本: <text>, 置信度: <confidence:.3f>` per line."""
    script = prepare("seed/v1_ocr.py", workdir, {
        "http://localhost:7861/v1/ocr": f"{server}/v1/ocr", '"image.jpg"': f'"{samples_dir / SAMPLE}"'})
    proc = run([sys.executable, str(script)], cwd=workdir)
    assert proc.returncode == 0, report(proc)
    printed = re.findall(r"^文本: (.*), 置信度: (\d\.\d{3})$", proc.stdout, flags=re.M)
    assert printed, report(proc)
    assert_lines_in(ground_truth(samples_dir), "\n".join(text for text, _ in printed), "the printed 文本")


def test_seed_v1_ocr_response_fields(server, samples_dir):
    payload = {"image": base64.b64encode((samples_dir / SAMPLE).read_bytes()).decode("utf-8"),
               "use_det": True, "use_cls": True, "use_rec": True, "text_score": 0.5}
    response = requests.post(f"{server}/v1/ocr", json=payload, timeout=RUN_TIMEOUT)
    assert response.status_code == 200, response.text[:500]
    check_seed_response(response.json(), samples_dir, "/v1/ocr")


def test_seed_curl_upload_example(server, samples_dir, workdir):
    need_tool("curl", "curl")
    script = prepare("seed/upload_curl.sh", workdir, {
        "http://localhost:7861/upload": f"{server}/upload", "file=@image.jpg": f"file=@{samples_dir / SAMPLE}"})
    proc = run(["bash", str(script)], cwd=workdir)
    assert proc.returncode == 0, report(proc)
    check_seed_response(json.loads(proc.stdout), samples_dir, "/upload")


def test_seed_curl_health_example(server, workdir):
    """000's /health: {status, model, model_version ("v4"), gpu_support, providers, environment (a string),
    supported_languages}."""
    need_tool("curl", "curl")
    script = prepare("seed/health_curl.sh", workdir, {"http://localhost:7861/health": f"{server}/health"})
    proc = run(["bash", str(script)], cwd=workdir)
    assert proc.returncode == 0, report(proc)
    health = json.loads(proc.stdout)
    assert health["status"] == "healthy", health
    assert isinstance(health["model"], str) and health["model"], health
    assert health["model_version"] == "v4", f"model_version of pp-ocrv4-mobile: {health['model_version']!r}"
    assert isinstance(health["gpu_support"], bool), health
    assert isinstance(health["providers"], list) and health["providers"] \
        and all(isinstance(p, str) for p in health["providers"]), health
    assert isinstance(health["environment"], str) and health["environment"], \
        f"environment is documented as a string (\"production\"): {health['environment']!r}"
    assert isinstance(health["supported_languages"], list) and health["supported_languages"] \
        and all(isinstance(lang, str) for lang in health["supported_languages"]), health


def test_seed_upload_pdf_shape(server, samples_dir, workdir):
    """000's /upload_pdf: one item per PAGE {page, index, result: [{text, confidence, bbox}], bbox_image:
    [x, y, width, height], processing_time, image_size}; a two-page PDF of two ground-truth scenes."""
    names = [SAMPLE, "scenes/s09_large_text_60px.png"]
    pdf = workdir / "two_pages.pdf"
    pages = [Image.open(samples_dir / name).convert("RGB") for name in names]
    pages[0].save(pdf, "PDF", resolution=144, save_all=True, append_images=pages[1:])  # rendered at 144 dpi: 1:1
    with pdf.open("rb") as f:
        response = requests.post(f"{server}/upload_pdf", files={"file": ("two_pages.pdf", f, "application/pdf")},
                                 timeout=RUN_TIMEOUT)
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert body["success"] is True, body
    items = body["results"]
    assert isinstance(items, list) and len(items) == len(names), \
        f"{len(items)} items for a {len(names)}-page PDF (one per page is documented): {str(items)[:300]}"
    for number, (item, name) in enumerate(zip(items, names), start=1):
        what = f"/upload_pdf results[{number - 1}]"
        assert set(item) >= {"page", "index", "result", "bbox_image", "processing_time", "image_size"}, \
            f"{what} keys: {sorted(item)}"
        assert is_int(item["page"]) and item["page"] == number, f"{what}.page: {item['page']!r}"
        assert is_int(item["index"]), f"{what}.index: {item['index']!r}"
        texts = check_seed_lines(item["result"], f"{what}.result")
        assert_lines_in(ground_truth(samples_dir, name), "\n".join(texts), f"{what}.result[].text")
        box = item["bbox_image"]
        assert isinstance(box, list) and len(box) == 4 and all(is_num(v) for v in box), f"{what}.bbox_image: {box!r}"
        assert is_num(item["processing_time"]) and item["processing_time"] >= 0, f"{what}.processing_time"
        row = manifest(samples_dir)[name]
        check_image_size(item["image_size"], row["width"], row["height"], f"{what}.image_size")


def test_seed_browser_example_cors(server, samples_dir, page_site):
    """000's browser JavaScript (performOCR + fileToBase64 via FileReader) in headless Chromium, on a page
    from another origin: fetch's JSON POST needs the CORS preflight, allowed by OCR_CORS_ORIGINS."""
    origin, root = page_site
    prepare("seed/perform_ocr.js", root, {"http://localhost:7861/v1/ocr": f"{server}/v1/ocr"})
    (root / "index.html").write_text('<!doctype html><meta charset="utf-8"><title>seed OCR example</title>'
                                     '<input type="file" id="image"><script src="perform_ocr.js"></script>',
                                     encoding="utf-8")
    with launch() as browser:
        page = browser.new_page()
        console: list[str] = []
        page.on("console", lambda msg: console.append(msg.text))
        page.goto(f"{origin}/index.html")
        page.set_input_files("#image", str(samples_dir / SAMPLE))
        try:
            body = page.evaluate("async () => await performOCR(document.querySelector('#image').files[0])")
        except Exception as exc:  # fetch rejects when the preflight or the answer lacks CORS headers
            raise AssertionError(f"performOCR failed in Chromium: {exc}\nconsole: {console}") from exc
    check_seed_response(body, samples_dir, "performOCR result")
    preflight = requests.options(f"{server}/v1/ocr", timeout=30, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code in (200, 204), (preflight.status_code, preflight.text[:300])
    assert preflight.headers.get("access-control-allow-origin") in (origin, "*"), dict(preflight.headers)
