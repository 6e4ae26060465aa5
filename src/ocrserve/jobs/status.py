"""A job row -> the status the client reads (`state`, `extractProgress`, `resultUrl`, `errorMsg`)."""

from __future__ import annotations

from datetime import datetime, timezone

from ..contracts.jobs import OUTPUT_FORMATS, JobData, Progress, ResultUrl
from ..signed_links import LinkSigner
from .formats import FILES
from .job import Job
from .result_links import link

#: our states -> the four the client knows; a cancelled job is a failed one, with why in errorMsg
STATES = {"pending": "pending", "running": "running", "done": "done", "failed": "failed", "cancelled": "failed"}


def iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds") if ts is not None else None


def job_data(job: Job, signer: LinkSigner, base_url: str) -> JobData:
    """`base_url`: the server as the asking client reached it (links outlive the process that made them)."""
    result = None
    if job.state == "done":
        names = ["json", *job.spec.formats]  # the JSONL first: the one link every job has
        result = ResultUrl(**{OUTPUT_FORMATS[name]: link(signer, base_url, job.id, FILES[name], job.expires)
                              for name in names})
    return JobData(jobId=job.id, state=STATES[job.state], batchId=job.batch_id,  # type: ignore[arg-type]
                   extractProgress=Progress(totalPages=len(job.pages), extractedPages=job.done_pages,
                                            startTime=iso(job.started), endTime=iso(job.finished)),
                   resultUrl=result, errorMsg=job.error if job.state in ("failed", "cancelled") else None,
                   warnings=list(job.spec.warnings) or None)
