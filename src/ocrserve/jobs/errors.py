"""The job store's failures, each a kind of an existing error so one status table maps them."""

from __future__ import annotations

from ..errors import BadInput, NotFound, OCRServeError, Overloaded


class JobNotFound(NotFound):
    """No job of this token has that id (never created, another token's, or expired and deleted)."""

    kind = "job_not_found"


class ModelNotServed(BadInput):
    """The `model` names a model this server does not serve (the message lists those it does)."""

    kind = "model_not_served"


class StoreFull(Overloaded):
    """The job queue or the job store's disk budget is full; retry once jobs finish or expire."""

    kind = "job_store_full"


class PartsIncomplete(OCRServeError):
    """A job's output format parts do not cover every page read, so its files cannot be joined."""

    kind = "job_parts_incomplete"


class ModelNotPulled(ModelNotServed):
    """The `model` is mapped to a model set whose files are not on disk (the message names the pull command)."""

    kind = "model_not_pulled"
