"""`ocrserve serve`: uvicorn over the app factory, configured from the settings object."""

from __future__ import annotations

import logging
import signal

from .settings import Settings


def _configure_logging(log_level: str) -> None:
    logging.basicConfig(level=getattr(logging, log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def serve_ray(settings: Settings, host: str | None = None, port: int | None = None, log_level: str = "info") -> None:
    """The same service on Ray Serve (ocrserve.scale); a clear error when the extra is missing."""
    from .errors import ConfigError

    _configure_logging(log_level)
    try:
        from .scale import serve_on_ray
    except ImportError as exc:
        raise ConfigError(f"--ray needs Ray Serve: pip install 'ocrserve[ray]' ({exc})") from exc
    serve_on_ray(settings, host or settings.host, port or settings.port)


def serve(settings: Settings, host: str | None = None, port: int | None = None, workers: int | None = None,
          log_level: str = "info") -> None:
    """Run the HTTP service in the foreground until SIGTERM/SIGINT.

    With one worker the app is built here from `settings` (so overrides from the command line
    apply); with several, each uvicorn worker process builds its own from the environment, which
    is why command-line values are exported as OCR_* variables first.
    """
    import os

    import uvicorn

    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    _configure_logging(log_level)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal to the handler
    # that was installed before it; a no-op one lets the process exit 0 after a clean shutdown
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    if workers == 1:
        from .api.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level,
                    timeout_graceful_shutdown=settings.shutdown_grace)
        return
    os.environ.setdefault("OCR_MODEL", settings.model)
    uvicorn.run("ocrserve.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, timeout_graceful_shutdown=settings.shutdown_grace)
