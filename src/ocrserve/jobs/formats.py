"""A job's `outputFormats`: the document as a searchable PDF, text, Markdown, hOCR or ALTO beside the JSONL.

Each page's part of every text format, and what the PDF needs of the page (`records`), are written
as the page is read, as the page's parts line, before its result line (jobs.blobs): every page the
index counts as read has its parts, and a resumed job drops or overwrites the parts of a page it
reads again.  Once the last page is read the files are joined from the parts,
one page at a time, the PDF laid over the stored input (pages read from their own text layer pass
through untouched); built again from the same parts if the process dies meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from ..contracts.jobs import OUTPUT_FORMATS
from ..errors import PartsIncomplete
from ..export import FORMATS, PAGED, export
from ..export.searchable_pdf import PdfOverlay
from ..result import OCRPage
from ..unicode_text import utf8
from .blobs import PARTS_NAME, RESULT_NAME, JobBlobs
from .job import Job
from .records import from_record, to_record

__all__ = ["FILES", "PARTS_NAME", "RESULT_NAME", "build", "built", "page_parts"]

#: what each format is called in the job's directory and on its link
FILES = {name: ("result" + FORMATS[name].extension if name != "json" else RESULT_NAME) for name in OUTPUT_FORMATS}


def built(formats: Sequence[str]) -> list[str]:
    """The formats that are files of their own (json is the JSONL itself)."""
    return [name for name in formats if name != "json"]


def page_parts(result: OCRPage, number: int, formats: Sequence[str]) -> dict[str, Any]:
    """One page's line of the parts file: each text format's part, and the page's record for the PDF.

    `number` is the page's own number in the document (1-based), which hOCR and ALTO record.
    """
    parts: dict[str, Any] = {name: PAGED[name].page(result, number) for name in formats if name in PAGED}
    if "pdf" in formats:
        parts["pdf"] = to_record(result)
    return parts


def build(blobs: JobBlobs, job: Job, formats: Sequence[str], pdf_scale: float) -> None:
    """Join the parts into each format's file; blocking (the job thread runs it), and safe to run again."""
    stored = blobs.parts_written(job.id)
    if stored < len(job.pages):
        raise PartsIncomplete(f"the output formats have the parts of {stored} of the {len(job.pages)} pages read; "
                              "submit the document again")

    def parts() -> Iterator[dict[str, Any]]:
        return (json.loads(line) for line in blobs.parts_lines(job.id, len(job.pages)))

    for name in formats:
        if name in PAGED:
            with blobs.writing(job.id, FILES[name]) as out:
                for piece in PAGED[name].document((part[name] for part in parts()), len(job.pages), ""):
                    out.write(utf8(piece, what=f"job {job.id}'s {name}"))
    if "pdf" in formats:
        with blobs.writing(job.id, FILES["pdf"]) as out:
            _pdf(blobs.input_file(job.id), job, (from_record(part["pdf"]) for part in parts()), pdf_scale, out)


def _pdf(original: Path, job: Job, pages: Iterator[OCRPage], pdf_scale: float, out: BinaryIO) -> None:
    if job.kind != "pdf":  # an image: one page, embedded as it is
        out.write(export(list(pages), "pdf", original=original.read_bytes()))
        return
    overlay = PdfOverlay(original, pdf_scale)
    try:
        for index, result in zip(job.pages, pages):
            overlay.add(result, index)
        overlay.save(out)
    finally:
        overlay.close()
