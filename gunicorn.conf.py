"""Gunicorn settings for ocrserve: `gunicorn -c gunicorn.conf.py` (the app is named below).

Needs `pip install gunicorn uvicorn-worker`.  Gunicorn reads this file itself, not through the
ocrserve package, so it reads the OCR_* variables with os.environ; inside the package
`ocrserve.settings` stays the only reader of the environment (each worker's app uses it).
"""

import importlib.util
import os

wsgi_app = "ocrserve.api.app:app"  # built on first access, i.e. in each worker (preload_app off)

# uvicorn.workers is deprecated since uvicorn 0.30; its worker lives on in `uvicorn-worker`
worker_class = ("uvicorn_worker.UvicornWorker" if importlib.util.find_spec("uvicorn_worker")
                else "uvicorn.workers.UvicornWorker")

_host = os.environ.get("OCR_HOST") or "0.0.0.0"
if ":" in _host and not _host.startswith("["):  # IPv6 literal
    _host = f"[{_host}]"
bind = [f"{_host}:{os.environ.get('OCR_PORT') or 7861}"]
workers = int(os.environ.get("OCR_WORKERS") or os.environ.get("OCR_WORK_COUNT") or 1)

preload_app = False  # each worker loads its own models in the app's lifespan
graceful_timeout = float(os.environ.get("OCR_SHUTDOWN_GRACE") or 30)  # as `ocrserve serve`
timeout = 120  # a worker silent this long is restarted (model loading runs off the event loop)
