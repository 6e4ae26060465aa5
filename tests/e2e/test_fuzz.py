"""Property-based fuzzing of every operation in our own /openapi.json against a live `ocrserve serve`.

Schemathesis reads the schema the server publishes and generates requests for each operation:
valid and invalid bodies (negative mode: wrong types, missing fields, out-of-range numbers), every
media type an operation declares (POST /ocr takes JSON, multipart and urlencoded bodies, all
three declared through `openapi_extra`), plus its coverage phase's boundary values.  The only
property checked is that the server never answers 5xx (schemathesis' `not_a_server_error`):
documented 4xx answers (400/408/413/415/422) are fine, a 500 is a bug.

Bounded for a small shared machine: `MAX_EXAMPLES` generated cases per operation (plus the
coverage phase's deterministic cases), no shrinking, no example database, and a wall-clock
budget per operation after which its remaining cases are skipped rather than sent (the second
test prints what was sent and fails if an operation got nothing).  Positive cases carry a real
small image (a PDF for /upload_pdf) in place of the generated file string, so the engine runs
with the generated options.  The server gets a 1 MB file limit (oversize bodies are cut off
early), a 1 s URL timeout and an empty URL allowlist (generated URLs to private or loopback
addresses are refused by the guard; others fail fast).

schemathesis 4.32.5's lazy schema (`schemathesis.pytest.from_fixture`) reads `node._nodeid`,
which pytest 9.2 no longer has; the autouse fixture below puts it back for these tests.
"""

from __future__ import annotations

import base64
import io
import time
from collections import Counter, defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from PIL import Image
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from _support.server import start_server

MAX_EXAMPLES = 15
OPERATION_BUDGET_S = 15.0  # per operation and media type; later cases are not sent (~2-3 min in all)
REQUEST_TIMEOUT_S = 30

# what the fuzz test saw, per operation label ("POST /ocr"): statuses, media types, start, slowest call
STATUSES: dict[str, Counter] = defaultdict(Counter)
MEDIA_TYPES: dict[str, set[str]] = defaultdict(set)
STARTED: dict[str, float] = {}
SLOWEST: dict[str, float] = defaultdict(float)
SKIPPED: Counter = Counter()


@pytest.fixture(scope="module")
def real_files(samples_dir) -> dict[str, bytes]:
    """A small real image and a one-page PDF of it, swapped into positive cases' file fields."""
    png = (samples_dir / "scenes/s08_small_text_12px.png").read_bytes()
    buf = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(buf, format="PDF")
    return {"png": png, "pdf": buf.getvalue()}


def with_real_file(case, files: dict[str, bytes]) -> None:
    """Put a real image (or PDF for /upload_pdf) where a positive case carries its file.

    Generated strings are never images, so without this every case would stop at decoding; with
    it, positive cases run the engine with whatever options were generated (thresholds at 0 or 1,
    a 1-pixel side limit, word boxes, visualize ...).
    """
    body = case.body
    if not isinstance(body, dict):
        return
    b64 = base64.b64encode(files["png"]).decode()
    multipart = (case.media_type or "").startswith("multipart/")
    if case.path == "/upload_pdf" and "file" in body:
        body["file"] = files["pdf"]
    elif case.path == "/upload" and "file" in body:
        body["file"] = files["png"]
    elif case.path == "/ocr" and multipart and "image_file" in body:
        body["image_file"] = files["png"]
    elif isinstance(body.get("images"), list) and body["images"]:
        body["images"] = [b64] * min(len(body["images"]), 2)
    else:
        for key in ("file", "image", "image_data"):
            if isinstance(body.get(key), str):
                body[key] = b64
                break


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    # generated textDetLimitSideLen values (huge, with limit type "min") would blow a 640x200 image up
    # to the default 4000 px clamp; a lower clamp keeps each real OCR short
    env = {"OCR_MAX_FILE_SIZE": "1MB", "OCR_URL_TIMEOUT": "1", "OCR_URL_ALLOWLIST": "", "OCR_MAX_PDF_PAGES": "2",
           "OCR_DET_MAX_SIDE_LIMIT": "1280"}
    with start_server(tmp_path_factory, env) as base:
        yield base


@pytest.fixture(scope="module")
def api_schema(fuzz_server):
    return schemathesis.openapi.from_url(f"{fuzz_server}/openapi.json", timeout=30)


@pytest.fixture(autouse=True)
def _nodeid_for_schemathesis(request):
    """pytest 9.2 keeps a node's id in `_id` and dropped `_nodeid`, which schemathesis' lazy-schema
    wrapper (4.32.5) still reads and writes to label each operation; give it the attribute back."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, fuzz_server, real_files):
    label = f"{case.method.upper()} {case.path}"
    # the budget runs per operation and body type, so /ocr's JSON cases are sent even when its
    # multipart and form cases were slow (a loaded machine)
    started = STARTED.setdefault(f"{label} {case.media_type}", time.monotonic())
    if time.monotonic() - started > OPERATION_BUDGET_S:
        SKIPPED[label] += 1
        return  # over this operation's budget: the case is not sent (the summary test counts them)
    if case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE:
        with_real_file(case, real_files)
    t0 = time.monotonic()
    response = case.call(base_url=fuzz_server, timeout=REQUEST_TIMEOUT_S)
    SLOWEST[label] = max(SLOWEST[label], time.monotonic() - t0)
    STATUSES[label][response.status_code] += 1
    if case.media_type:
        MEDIA_TYPES[label].add(case.media_type)
    case.validate_response(response, checks=[not_a_server_error])


def test_fuzz_reached_every_operation_and_media_type(fuzz_server):
    """Runs after the fuzz test: it sent requests to every operation, and /ocr got all three bodies."""
    if not STATUSES:
        pytest.skip("test_no_server_errors did not run")
    spec = schemathesis.openapi.from_url(f"{fuzz_server}/openapi.json", timeout=30).raw_schema
    labels = {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item}
    summary = "\n".join(
        f"{label}: sent {sum(STATUSES.get(label, {}).values())}, statuses {dict(sorted(STATUSES.get(label, {}).items()))}, "
        f"not sent (budget) {SKIPPED.get(label, 0)}, slowest {SLOWEST.get(label, 0):.2f} s, "
        f"media types {sorted(MEDIA_TYPES.get(label, ()))}" for label in sorted(labels))
    print("\nfuzz statuses per operation:\n" + summary)
    assert all(sum(STATUSES.get(label, {}).values()) > 0 for label in labels), summary
    ocr_media = {"application/json", "multipart/form-data", "application/x-www-form-urlencoded"}
    assert MEDIA_TYPES.get("POST /ocr", set()) >= ocr_media, summary
    assert not [s for counts in STATUSES.values() for s in counts if s >= 500], summary
