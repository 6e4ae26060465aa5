"""`ocrserve serve`: uvicorn over the app factory, configured from the settings object."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from . import logs, metrics_dir
from .settings import Settings
from .settings_origin import variable_name
from .version import __version__

log = logging.getLogger("ocrserve.launcher")


def _configure_logging(log_level: str) -> None:
    level = getattr(logging, log_level.upper(), logging.INFO)
    # other libraries' INFO lines stay out unless a lower level (debug) was asked for
    logs.configure(min(level, logging.WARNING), ocrserve_level=level)


env_name = variable_name  # the OCR_* variable that sets a field (`workers` -> OCR_WORKERS)


def env_value(value: Any) -> str:
    """A settings value as the environment source reads it back (lists comma-separated)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)  # numbers, strings, paths


def worker_environment(settings: Settings, fields: Iterable[str]) -> dict[str, str]:
    """OCR_* variables that give a worker process, which builds its own settings from the
    environment, `settings`' values of `fields` (the ones set on the command line).  Each wins
    over the same variable already in the environment, as the command line does over it."""
    out: dict[str, str] = {}
    for field in fields:
        value = getattr(settings, field)
        if value is not None:
            out[env_name(field)] = env_value(value)
    return out


def serve_ray(settings: Settings, host: str | None = None, port: int | None = None, log_level: str = "info") -> None:
    """The same service on Ray Serve (ocrserve.ray_deployment); a clear error when the extra is missing."""
    from .errors import ConfigError

    _configure_logging(log_level)
    try:
        from .ray_deployment import serve_on_ray
    except ImportError as exc:
        raise ConfigError(f"--ray needs Ray Serve: pip install 'ocrserve[ray]' ({exc})") from exc
    serve_on_ray(settings, host or settings.host, port or settings.port)


def announce(settings: Settings, host: str, port: int, workers: int) -> None:
    """What a person starting the service wants to see first: what serves, and where to look."""
    from .export.visualize import warn_if_no_cjk_font

    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    log.info("ocrserve %s: model set %s, %d worker(s); page http://%s:%d/ , API docs http://%s:%d/docs",
             __version__, settings.model, workers, shown, port, shown, port)
    warn_if_no_cjk_font()


def serve(settings: Settings, host: str | None = None, port: int | None = None, workers: int | None = None,
          log_level: str = "info", overrides: Iterable[str] = ()) -> None:
    """Run the HTTP service in the foreground until SIGTERM/SIGINT; ModelMissing at once, before
    anything listens, when a model file is missing (unless `settings.wait_for_models`).

    With one worker the app is built here from `settings` (so overrides from the command line
    apply); with several, each uvicorn worker process builds its own from the environment, which
    is why the model, the worker count and the `overrides` (names of settings given on the
    command line) are exported as OCR_* variables first, replacing any already set.
    """
    from .models.presence import require_model_files

    if not settings.wait_for_models:  # missing models stop the start here, naming the fix
        require_model_files(settings)
    import uvicorn

    # proxy_headers=False: the app applies OCR_TRUSTED_PROXIES itself (api/forwarded.py), where uvicorn's
    # default would believe X-Forwarded-* from any local process
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    _configure_logging(log_level)
    announce(settings, host, port, workers)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal to the handler
    # that was installed before it; a no-op one lets the process exit 0 after a clean shutdown
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    if workers == 1:
        from .api.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, proxy_headers=False,
                    log_config=logs.uvicorn_log_config(log_level),
                    timeout_graceful_shutdown=settings.shutdown_grace)  # type: ignore[arg-type]  # a float waits too
        return
    os.environ.update(worker_environment(settings, dict.fromkeys(["model", *overrides])))
    os.environ[env_name("workers")] = str(workers)
    path = metrics_dir.prepare(settings.metrics_dir or metrics_dir.default_dir(), forks=False)
    try:
        with forgetting_dead_workers(path):
            uvicorn.run("ocrserve.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                        log_level=log_level, proxy_headers=False,
                        timeout_graceful_shutdown=settings.shutdown_grace,  # type: ignore[arg-type]  # a float waits too
                        log_config=logs.uvicorn_log_config(log_level))
    finally:
        metrics_dir.remove_if_own(path)


@contextlib.contextmanager
def forgetting_dead_workers(path: Path) -> Iterator[None]:
    """uvicorn's own supervisor (it replaces a worker that dies), told to forget each worker that
    exits so that its live gauges leave the /metrics sums; uvicorn.run offers no hook for that,
    so its supervisor class is swapped for the call."""
    from uvicorn.supervisors import Multiprocess

    runner = importlib.import_module("uvicorn.main")  # the module: `uvicorn.main` is also its function

    class Supervisor(Multiprocess):
        def keep_subprocess_alive(self) -> None:
            before = {p.pid for p in self.processes if p.pid is not None}
            super().keep_subprocess_alive()
            for pid in before - {p.pid for p in self.processes}:
                metrics_dir.forget_worker(pid, path)

    runner.Multiprocess = Supervisor  # type: ignore[attr-defined]  # uvicorn.main's own name for it
    try:
        yield
    finally:
        runner.Multiprocess = Multiprocess  # type: ignore[attr-defined]
