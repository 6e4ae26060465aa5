"""PaddleOCR's official job client (`paddleocr`, unchanged) in a virtualenv of its own, and a way to
run a piece of client code against a server.

The client needs paddlex (not paddlepaddle) and pins the GUI build of OpenCV, which would fight
ours, so it lives in its own virtualenv, built once (`OCR_TEST_PADDLEOCR_VENV`, default under the
repository's ignored `.cache/`, never the user's home); when it cannot be built, the tests that
use it fail, they do not skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

from _support.venvs import VENVS, tool_venv

DEFAULT_TOKEN = "tok-jobs-a"


CLIENT_VERSION = "3.7.0"


def client_venv() -> Path:
    """The official client's virtualenv (`OCR_TEST_PADDLEOCR_VENV`), created (once) when absent."""
    venv = Path(os.environ.get("OCR_TEST_PADDLEOCR_VENV") or VENVS / f"paddleocr-{CLIENT_VERSION}")
    return tool_venv(venv, [f"paddleocr=={CLIENT_VERSION}"],
                     f"import paddleocr; assert paddleocr.__version__ == {CLIENT_VERSION!r}")


def run_client(python: Path, base: str, body: str, token: str = DEFAULT_TOKEN, timeout: float = 600) -> dict:
    """Run `body` in the client's interpreter with `client` and the paddleocr names at hand; it sets
    `out` (JSON-serialisable), or the exception's type and message come back."""
    script = textwrap.dedent("""
        import json, sys
        from paddleocr import PaddleOCRClient, OCROptions
        import paddleocr
        client = PaddleOCRClient(token=sys.argv[2], base_url=sys.argv[1], poll_timeout=500)
        try:
        {body}
        except paddleocr.PaddleOCRAPIError as exc:
            out = {{"error": type(exc).__name__, "message": str(exc),
                    "status": getattr(exc, "status_code", None)}}
        print("RESULT " + json.dumps(out))
    """).format(body=textwrap.indent(textwrap.dedent(body), "    "))
    done = subprocess.run([str(python), "-c", script, base, token], capture_output=True, text=True,
                          timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))

