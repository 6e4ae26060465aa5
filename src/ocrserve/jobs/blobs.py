"""A job's files: its input, its pages' results, their output-format parts, result images and the
built format files, in a local directory or in S3-compatible object storage.

`JobBlobs` is what the runner, the formats and the routes ask of either.  A page is written at its
position in the job (`put_page`), and counts as read only once the index records it (see
jobs.index); whatever was written for pages past that count is dropped or overwritten when the job
resumes (`resume`), so a page is in the result exactly once, whoever read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from ..unicode_text import utf8

RESULT_NAME = "result.jsonl"
INPUT_NAME = "input"
PARTS_NAME = "parts.jsonl"
CHUNK_BYTES = 1 << 20  # what a streamed read hands on at a time


def jsonl_line(value: dict[str, Any], what: str) -> bytes:
    """One JSON Lines line, compact and UTF-8, as the result and the parts store each page."""
    return utf8(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n", what=what)


class JobBlobs(Protocol):
    """Every method blocks (callers run them in a thread); a store that cannot be reached is
    StoreUnavailable, a file that is not there NotFound (reads) or FileNotFoundError (input)."""

    def put_input(self, job_id: str, staged: Path) -> None:
        """Store the staged upload as the job's input, streamed (the staged file is gone after)."""
        ...

    def input_file(self, job_id: str) -> Path:
        """The input as a local file, for readers that need a path (pdfium)."""
        ...

    def drop_input_copy(self, job_id: str) -> None:
        """Forget a local copy `input_file` made (the job's run is over here)."""
        ...

    def put(self, job_id: str, name: str, data: bytes) -> None:
        """A whole file (a result image), replaced when written again."""
        ...

    def put_page(self, job_id: str, position: int, line: bytes, parts: bytes | None) -> None:
        """The page at `position`'s result line, after its output-format parts line."""
        ...

    def resume(self, job_id: str, done: int) -> None:
        """Drop what was written for pages at or past `done` (a crash or a lost lease left it)."""
        ...

    def page_lines(self, job_id: str, count: int) -> Iterator[bytes]:
        """The first `count` pages' result lines, in order (the JSONL the client reads)."""
        ...

    def parts_written(self, job_id: str) -> int:
        """How many pages' parts lines are stored."""
        ...

    def parts_lines(self, job_id: str, count: int) -> Iterator[bytes]:
        """The first `count` pages' parts lines, in order."""
        ...

    def drop_parts(self, job_id: str) -> None:
        """Delete the parts once the format files are built from them."""
        ...

    def writing(self, job_id: str, name: str) -> AbstractContextManager[BinaryIO]:
        """A file written whole or not at all (a reader never sees half of it; a rebuild replaces it)."""
        ...

    def read(self, job_id: str, name: str) -> tuple[int, Iterator[bytes]]:
        """A stored file's size and its bytes, streamed; NotFound when it is not there."""
        ...

    def presigned_url(self, job_id: str, name: str, expires_s: int, media_type: str) -> str | None:
        """A URL the client fetches the stored file from, straight from the storage, for `expires_s`
        seconds and answered as `media_type`; None where the storage has no URLs of its own."""
        ...

    def size(self, job_id: str) -> int:
        """Bytes the job's files take."""
        ...

    def delete(self, job_id: str) -> None:
        """Every file of the job."""
        ...


def page_sizes(lines: Iterator[bytes]) -> list[dict[str, int]]:
    """Each result line's own page size (the last entry of its dataInfo.pages), in order."""
    sizes: list[dict[str, int]] = []
    for raw in lines:
        pages = json.loads(raw)["result"]["dataInfo"].get("pages") or []
        if pages:
            sizes.append(pages[-1])
    return sizes
