"""Gunicorn settings for ocrserve: `gunicorn -c gunicorn.conf.py` (the app is named below).

Needs `pip install "ocrserve[serve]"` (gunicorn, uvicorn-worker).  Gunicorn also reads this file,
as its default, when started in this directory, so the seed service's form
`gunicorn -w 4 -k uvicorn.workers.UvicornWorker --bind 0.0.0.0:7850 ocrserve.api.app:app` gets the
hooks below too; its command-line values win over these.

The values come from ocrserve's settings object (OCR_HOST, OCR_PORT, OCR_WORKERS / OCR_WORK_COUNT,
OCR_SHUTDOWN_GRACE, or OCR_CONFIG_FILE), validated here in the master, so that a bad value stops
the start with a message naming its variable instead of failing in every worker.  The hooks keep
/metrics summed over the workers (ocrserve.metrics_dir) and /health's worker count true.
"""

import importlib.util
import logging
import logging.handlers
import math
import os

from gunicorn.glogging import Logger

from ocrserve import logs, metrics_dir
from ocrserve.errors import ModelMissing
from ocrserve.models.presence import require_model_files
from ocrserve.settings import load_settings

_settings = load_settings()
if not _settings.wait_for_models:  # missing model files stop the master at once, naming the fix
    try:
        require_model_files(_settings)
    except ModelMissing as exc:
        raise SystemExit(f"error: {exc}") from None

wsgi_app = "ocrserve.api.app:app"  # built on first access, i.e. in each worker (preload_app off)

# uvicorn.workers is deprecated since uvicorn 0.30; its worker lives on in `uvicorn-worker`
worker_class = ("uvicorn_worker.UvicornWorker" if importlib.util.find_spec("uvicorn_worker")
                else "uvicorn.workers.UvicornWorker")

_host = f"[{_settings.host}]" if ":" in _settings.host else _settings.host  # an IPv6 literal
bind = [f"{_host}:{_settings.port}"]
workers = _settings.workers

# the app believes X-Forwarded-* from OCR_TRUSTED_PROXIES only (api/forwarded.py); uvicorn's own copy,
# which would trust 127.0.0.1 by default, is told to trust nobody
forwarded_allow_ips = ""



class TimestampedLogger(Logger):
    """gunicorn's logger, its lines (and uvicorn's, which the worker sends to its handlers) and
    ocrserve's own each starting with a UTC ISO-8601 timestamp (ocrserve.logs)."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            # a syslog daemon stamps its own lines, in the format gunicorn gave them
            logs.timestamp_handlers(*(h for h in log.handlers if not isinstance(h, logging.handlers.SysLogHandler)))
        logs.configure(logging.WARNING, ocrserve_level=self.loglevel)


logger_class = TimestampedLogger

preload_app = False  # each worker loads its own models in the app's lifespan
graceful_timeout = math.ceil(_settings.shutdown_grace)  # gunicorn takes whole seconds only
timeout = 120  # a worker silent this long is restarted (model loading runs off the event loop)


# the master's own path (its pid), the same when gunicorn re-reads this file on SIGHUP
_metrics_path = _settings.metrics_dir or metrics_dir.default_dir()


def on_starting(server):
    """Master, once, before any worker: a fresh metrics directory that the workers inherit."""
    metrics_dir.prepare(_metrics_path, forks=True)


def post_fork(server, worker):
    """In the new worker, before it imports the app: the count it serves with (-w included)."""
    os.environ["OCR_WORKERS"] = str(server.num_workers)


def child_exit(server, worker):
    """Master: a worker exited (or was killed), so its live gauges leave the sums."""
    metrics_dir.forget_worker(worker.pid, _metrics_path)


def on_exit(server):
    metrics_dir.remove_if_own(_metrics_path)
