"""Capability links to a job's files: signed with the job secret, expiring with the job.

The official client downloads `jsonUrl` and result images without its Authorization header, as
from the cloud's pre-signed storage links, so each link carries its own proof (see ocrserve.signed_links).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..export import FORMATS
from ..settings import Settings
from ..signed_links import LinkSigner, secret_source
from .blobs import RESULT_NAME

__all__ = ["PREFIX", "RESULT_NAME", "file_path", "job_signer", "link", "valid_name"]

PREFIX = "/files/jobs/"
#: the job's files a link may name: its JSONL, each format's file, its pages' result images
_NAME = re.compile(r"^(result(\.jsonl|" + "|".join(re.escape(f.extension) for f in FORMATS.values() if f.name != "json")
                   + r")|p\d{1,6}-[A-Za-z0-9_]{1,40}\.jpg)$")
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


def job_signer(settings: Settings) -> LinkSigner:
    configured = settings.job_secret.get_secret_value() if settings.job_secret else None
    return LinkSigner(secret_source(configured, Path(settings.job_dir).expanduser() / "secret"))


def file_path(job_id: str, name: str) -> str:
    return f"{PREFIX}{job_id}/{name}"


def link(signer: LinkSigner, base_url: str, job_id: str, name: str, expires: float) -> str:
    return base_url.rstrip("/") + signer.sign(file_path(job_id, name), int(expires))


def valid_name(job_id: str, name: str) -> bool:
    """Only names this server writes, so a signed path can never reach the input or the index."""
    return bool(_JOB_ID.match(job_id) and _NAME.match(name))
