"""One exception type per kind of failure.

Faces (HTTP, CLI, Python) map these types to their own contract in one place each; the engine
never returns an empty result to hide a failure, it raises one of these instead.
"""

from __future__ import annotations


class OCRServeError(Exception):
    """Base of every error ocrserve raises on purpose."""

    #: short machine-readable kind, stable across versions (used in logs and error bodies)
    kind: str = "internal"


class ConfigError(OCRServeError):
    """The settings ask for something impossible (unknown model set, bad value)."""

    kind = "config"


class ModelMissing(OCRServeError):
    """A model file of the chosen set is not installed; the message names the command that fixes it."""

    kind = "model_missing"


class ModelUnreadable(ModelMissing):
    """A model file is there but this process may not read it (written owner-only by another user)."""

    kind = "model_unreadable"


class ModelFetchError(ModelMissing):
    """A model file could not be downloaded (no network, HTTP error); the message names the URL and the
    alternatives (OCR_MODEL_MIRROR, `ocrserve models import`)."""

    kind = "model_fetch"


class ModelCorrupt(OCRServeError):
    """A model file exists but its sha256 differs from the registry's, or ONNX Runtime cannot load it."""

    kind = "model_corrupt"


class ProviderUnavailable(OCRServeError):
    """An execution provider was asked for but the installed onnxruntime build does not offer it."""

    kind = "provider_unavailable"


class BadInput(OCRServeError):
    """The input cannot be used: undecodable bytes, wrong type, invalid option value."""

    kind = "bad_input"


class UnsupportedInput(BadInput):
    """The input is well-formed but of a kind we do not read (e.g. an unknown file type)."""

    kind = "unsupported_input"


class InputTooLarge(BadInput):
    """The input exceeds a configured limit (bytes, pixels, pages)."""

    kind = "too_large"


class InferenceError(OCRServeError):
    """A model stage failed at run time (ONNX Runtime error, unexpected output shape)."""

    kind = "inference"

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"{stage} stage failed: {message}")
        self.stage = stage


class Overloaded(OCRServeError):
    """Too much work is queued; the client should retry later (Retry-After)."""

    kind = "overloaded"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeadlineExceeded(OCRServeError):
    """The request ran past its deadline; its remaining work was dropped."""

    kind = "timeout"


class FetchTimeout(BadInput):
    """A URL input did not answer within the configured time."""

    kind = "fetch_timeout"


class Forbidden(OCRServeError):
    """The request carries no API token, or one that is not configured (auth is on)."""

    kind = "forbidden"


class QuotaExceeded(OCRServeError):
    """The token has used its daily page quota; it resets at the next UTC midnight (Retry-After)."""

    kind = "quota_exceeded"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QuotaUnavailable(OCRServeError):
    """The quota store (SQLite file or Redis) cannot be read or written.

    Requests are refused rather than served uncounted: with quotas on, an unreachable store
    must not turn into unlimited use.
    """

    kind = "quota_unavailable"


class ClientGone(OCRServeError):
    """The client disconnected before its answer was ready; its remaining work was dropped."""

    kind = "client_gone"


class NotFound(OCRServeError):
    """The resource named by the request does not exist (or its link has expired)."""

    kind = "not_found"


# --- jobs: each a kind of an error above, so the one status table maps them -------------
class JobNotFound(NotFound):
    """No job of this token has that id (never created, another token's, or expired and deleted)."""

    kind = "job_not_found"


class ModelNotServed(BadInput):
    """The `model` names a model this server does not serve (the message lists those it does)."""

    kind = "model_not_served"


class StoreFull(Overloaded):
    """The job queue or the job store's disk budget is full; retry once jobs finish or expire."""

    kind = "job_store_full"


class StoreUnavailable(OCRServeError):
    """The shared job store (its PostgreSQL index or its S3 blobs) cannot be reached; retry later.

    Job submissions and reads are refused while it is down; synchronous OCR does not use it.
    """

    kind = "job_store_unavailable"

    def __init__(self, message: str, retry_after: int = 10) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PartsIncomplete(OCRServeError):
    """A job's output format parts do not cover every page read, so its files cannot be joined."""

    kind = "job_parts_incomplete"


class ModelNotPulled(ModelNotServed):
    """The `model` is mapped to a model set whose files are not on disk (the message names the pull command)."""

    kind = "model_not_pulled"
