"""One log line format for every process of the service: a UTC ISO-8601 timestamp first.

ocrserve's own loggers (`configure`), uvicorn's error and access logs under `ocrserve serve`
(`uvicorn_log_config`, which its worker processes apply too) and gunicorn's under
gunicorn.conf.py (`timestamp_handlers`) all put the time in front, so lines from a container's
log or a journal without its own timestamps can still be ordered and matched to requests.
"""

from __future__ import annotations

import copy
import logging
from datetime import datetime, timezone
from typing import Any

from uvicorn.logging import AccessFormatter, DefaultFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: gunicorn's lines keep its process id: with several workers it says which one spoke
GUNICORN_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
UVICORN_FORMAT = "%(asctime)s %(levelprefix)s %(message)s"
UVICORN_ACCESS_FORMAT = '%(asctime)s %(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'


def iso_time(created: float) -> str:
    """`2026-01-31T12:34:56.789Z`: UTC, so that lines from machines in other zones sort together."""
    return datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class IsoTime:
    """A formatter's `%(asctime)s` as `iso_time`: mixed into logging's and uvicorn's formatters alike."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return iso_time(record.created)


class TimestampFormatter(IsoTime, logging.Formatter):
    """logging.Formatter with the UTC timestamp."""


class UvicornFormatter(IsoTime, DefaultFormatter):
    """uvicorn's formatter (its coloured level prefix) with the UTC timestamp."""


class UvicornAccessFormatter(IsoTime, AccessFormatter):
    """uvicorn's access-line formatter with the UTC timestamp."""


def configure(level: int | str = logging.WARNING, ocrserve_level: int | str | None = None) -> None:
    """The root logger writes timestamped lines to stderr at `level` (ocrserve's own at `ocrserve_level`);
    a handler installed here before is replaced, so calling it again only changes the levels."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_ocrserve", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.setFormatter(TimestampFormatter(FORMAT))
    handler._ocrserve = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    if ocrserve_level is not None:
        logging.getLogger("ocrserve").setLevel(ocrserve_level)


def uvicorn_log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's own logging config with a timestamp in front of every line, plus ocrserve's loggers:
    uvicorn applies it in each worker process it starts, where nothing else configures logging."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["default"].update({"()": f"{__name__}.UvicornFormatter", "fmt": UVICORN_FORMAT})
    config["formatters"]["access"].update({"()": f"{__name__}.UvicornAccessFormatter", "fmt": UVICORN_ACCESS_FORMAT})
    config["formatters"]["ocrserve"] = {"()": f"{__name__}.TimestampFormatter", "fmt": FORMAT}
    config["handlers"]["ocrserve"] = {"formatter": "ocrserve", "class": "logging.StreamHandler",
                                      "stream": "ext://sys.stderr"}
    config["root"] = {"handlers": ["ocrserve"], "level": "WARNING"}
    config["loggers"]["ocrserve"] = {"level": level.upper()}
    return config


def timestamp_handlers(*handlers: logging.Handler) -> None:
    """Give `handlers` the timestamped gunicorn format (gunicorn.conf.py's logger class: uvicorn's
    worker sends its error and access lines to gunicorn's handlers)."""
    for handler in handlers:
        handler.setFormatter(TimestampFormatter(GUNICORN_FORMAT))


__all__ = ["FORMAT", "TimestampFormatter", "configure", "iso_time", "timestamp_handlers", "uvicorn_log_config"]
