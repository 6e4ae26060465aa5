#!/usr/bin/env bash
# The peer of bench/serve.py: rapidocr_api in a venv of its own, so that its dependencies
# (rapidocr, its OpenCV, FastAPI and uvicorn versions) never touch the project's venv.
#
#   bash bench/setup_peer.sh                 # -> bench/.venv-peer
#   PEER_VENV=/tmp/peer bash bench/setup_peer.sh
#
# rapidocr_api 0.2.0's metadata asks for `rapidocr` without a version bound, so pip resolves it
# (the newest, 3.x, at the time of writing; the project README's table says ">1.0.0,<3.0.0",
# which the metadata does not enforce).  rapidocr 3.x depends on opencv-python-headless but on no
# inference engine: onnxruntime is installed explicitly, at the version of the project's venv when
# there is one, so that both servers run the same ONNX Runtime.  Everything comes from PyPI.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
PEER_VENV="${PEER_VENV:-$HERE/.venv-peer}"
PYTHON="${PYTHON:-}"
RAPIDOCR_API_VERSION="${RAPIDOCR_API_VERSION:-0.2.0}"

if [ -z "$PYTHON" ]; then
  if [ -x "$REPO/.venv/bin/python" ]; then
    # same interpreter as the project's venv (the venv's own python resolves to its base)
    PYTHON="$("$REPO/.venv/bin/python" -c 'import sys; print(sys._base_executable)')"
  else
    PYTHON="python3"
  fi
fi

if [ -z "${ORT_VERSION:-}" ] && [ -x "$REPO/.venv/bin/python" ]; then
  ORT_VERSION="$("$REPO/.venv/bin/python" -c 'import onnxruntime; print(onnxruntime.__version__)' 2>/dev/null || true)"
fi
ORT_SPEC="onnxruntime${ORT_VERSION:+==$ORT_VERSION}"

echo "peer venv: $PEER_VENV (python: $PYTHON)"
"$PYTHON" -m venv "$PEER_VENV"
"$PEER_VENV/bin/python" -m pip install --quiet --upgrade pip
"$PEER_VENV/bin/python" -m pip install --quiet "rapidocr_api==$RAPIDOCR_API_VERSION" "$ORT_SPEC"
"$PEER_VENV/bin/python" - <<'PY'
from importlib.metadata import version
for name in ("rapidocr_api", "rapidocr", "onnxruntime", "opencv-python-headless", "opencv-python",
             "fastapi", "uvicorn", "numpy"):
    try:
        print(f"  {name}=={version(name)}")
    except Exception:
        pass
PY
test -x "$PEER_VENV/bin/rapidocr_api"
echo "ok: $PEER_VENV/bin/rapidocr_api"
