"""A job as the index holds it: one row, whichever database it lives in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..kinds import DocumentKind
from .spec import JobSpec

JobState = Literal["pending", "running", "done", "failed", "cancelled", "expired"]

#: states a client can still read; expired jobs keep only their row, to say so
LIVE = ("pending", "running", "done", "failed", "cancelled")


@dataclass(frozen=True)
class Job:
    """One row of the index."""

    id: str
    owner: str
    batch_id: str | None
    model: str
    spec: JobSpec
    pages: list[int]  # 0-based document pages to read, in order
    kind: DocumentKind
    doc_pages: int
    state: JobState
    done_pages: int
    error: str | None
    base_url: str
    callback_url: str | None
    bytes: int
    created: float
    started: float | None
    finished: float | None
    expires: float
    lease_owner: str | None
    lease_until: float | None
    callback_done: int

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Job:
        """A row as either database returns it (`spec` and `pages` stored as JSON text)."""
        data = dict(row)
        data["spec"] = JobSpec.from_json(json.loads(data["spec"]))
        data["pages"] = json.loads(data["pages"])
        return cls(**data)

    def row(self) -> dict[str, Any]:
        """The columns to insert, `spec` and `pages` as JSON text."""
        return {**self.__dict__, "spec": json.dumps(self.spec.to_json()), "pages": json.dumps(self.pages)}
