"""A job's `outputFormats`: the document as a searchable PDF, text, Markdown, hOCR or ALTO beside the JSONL.

Each page's part of every text format, and what the PDF needs of the page (`records`), are written
as the page is read, as one line of the job's parts file, before the page's JSONL line: whatever a
crash interrupts, every page the JSONL counts as read has its parts, and a resumed job cuts the
parts of a page it reads again.  Once the last page is read the files are joined from the parts,
one page at a time, the PDF laid over the stored input (pages read from their own text layer pass
through untouched); built again from the same parts if the process dies meanwhile.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from ..contracts.jobs import OUTPUT_FORMATS
from ..errors import PartsIncomplete
from ..export import FORMATS, PAGED, export
from ..export.searchable_pdf import PdfOverlay
from ..result import OCRPage
from ..unicode_text import utf8
from .records import from_record, to_record
from .result_links import RESULT_NAME
from .store import Job, JobStore

PARTS_NAME = "parts.jsonl"
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


def build(store: JobStore, job: Job, formats: Sequence[str], pdf_scale: float) -> None:
    """Join the parts into each format's file; blocking (the job thread runs it), and safe to run again."""
    parts = store.job_dir(job.id) / PARTS_NAME
    lines = _count_lines(parts)
    if lines != len(job.pages):
        raise PartsIncomplete(f"the output formats have the parts of {lines} of the {len(job.pages)} pages read; "
                              "submit the document again")
    for name in formats:
        if name in PAGED:
            with _replacing(store.job_dir(job.id) / FILES[name]) as out:
                for piece in PAGED[name].document((part[name] for part in _parts(parts)), len(job.pages), ""):
                    out.write(utf8(piece, what=f"job {job.id}'s {name}"))
    if "pdf" in formats:
        with _replacing(store.job_dir(job.id) / FILES["pdf"]) as out:
            _pdf(store, job, parts, pdf_scale, out)


def _pdf(store: JobStore, job: Job, parts: Path, pdf_scale: float, out: BinaryIO) -> None:
    pages = (from_record(part["pdf"]) for part in _parts(parts))
    if job.kind != "pdf":  # an image: one page, embedded as it is
        out.write(export(list(pages), "pdf", original=store.input_path(job.id).read_bytes()))
        return
    overlay = PdfOverlay(store.input_path(job.id), pdf_scale)
    try:
        for index, result in zip(job.pages, pages):
            overlay.add(result, index)
        overlay.save(out)
    finally:
        overlay.close()


def _parts(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as lines:
        for line in lines:
            yield json.loads(line)


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.endswith(b"\n"))


@contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """A file written whole or not at all: a reader never sees half of it, a rebuild replaces it."""
    tmp = path.with_name(f".{path.name}.part")
    try:
        with tmp.open("wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
