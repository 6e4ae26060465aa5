"""A job's files in a local directory, one folder per job (OCR_JOB_BLOBS unset: under OCR_JOB_DIR).

The folder holds `input`, `result.jsonl` and `parts.jsonl` (a line per page, each appended with
one `write` and an fsync), the result images `p<N>-<key>.jpg` and the built `result.<ext>` files.
Resuming cuts both JSONL files after the pages the index counts as read, a partial last line
included.  Processes of one machine share it; several machines only on a shared filesystem.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from ..errors import ConfigError, NotFound
from .blobs import CHUNK_BYTES, INPUT_NAME, PARTS_NAME, RESULT_NAME


class LocalJobBlobs:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()
        try:  # at startup, so an unusable directory fails there and not on a request
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot use the job files directory {self.root}: {exc}") from exc

    def job_dir(self, job_id: str) -> Path:
        return self.root / job_id

    def input_file(self, job_id: str) -> Path:
        return self.job_dir(job_id) / INPUT_NAME

    def result_path(self, job_id: str) -> Path:
        return self.job_dir(job_id) / RESULT_NAME

    def put_input(self, job_id: str, staged: Path) -> None:
        """Moved, not copied, when the staging folder is on the same filesystem; FileExistsError when
        the job's folder exists already (nothing is stored twice)."""
        directory = self.job_dir(job_id)
        directory.mkdir(mode=0o700)
        try:
            shutil.move(staged, self.input_file(job_id))
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise

    def drop_input_copy(self, job_id: str) -> None:
        """The input is read where it is stored: no copy was made."""

    def put(self, job_id: str, name: str, data: bytes) -> None:
        path = self.job_dir(job_id) / name
        tmp = path.with_name(f".{name}.part")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def append(self, job_id: str, name: str, line: bytes) -> None:
        """Append one line durably to the job's file `name`."""
        fd = os.open(self.job_dir(job_id) / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def put_page(self, job_id: str, position: int, line: bytes, parts: bytes | None) -> None:
        """Appended: `resume` left each file with exactly `position` lines."""
        if parts is not None:
            self.append(job_id, PARTS_NAME, parts)
        self.append(job_id, RESULT_NAME, line)

    def keep_lines(self, job_id: str, name: str, count: int) -> None:
        """Cut file `name` after its first `count` complete lines (what a crash wrote past them goes)."""
        path = self.job_dir(job_id) / name
        if not path.exists():
            return
        with path.open("r+b") as out:
            end = 0
            for _ in range(count):
                line = out.readline()
                if not line.endswith(b"\n"):
                    break
                end += len(line)
            out.truncate(end)

    def resume(self, job_id: str, done: int) -> None:
        for name in (RESULT_NAME, PARTS_NAME):
            self.keep_lines(job_id, name, done)

    def _lines(self, job_id: str, name: str, count: int) -> Iterator[bytes]:
        path = self.job_dir(job_id) / name
        if not path.exists():
            return
        with path.open("rb") as lines:
            yield from (line for line in islice(lines, count) if line.endswith(b"\n"))

    def page_lines(self, job_id: str, count: int) -> Iterator[bytes]:
        return self._lines(job_id, RESULT_NAME, count)

    def parts_written(self, job_id: str) -> int:
        path = self.job_dir(job_id) / PARTS_NAME
        if not path.exists():
            return 0
        with path.open("rb") as lines:
            return sum(1 for line in lines if line.endswith(b"\n"))

    def parts_lines(self, job_id: str, count: int) -> Iterator[bytes]:
        return self._lines(job_id, PARTS_NAME, count)

    def drop_parts(self, job_id: str) -> None:
        (self.job_dir(job_id) / PARTS_NAME).unlink(missing_ok=True)

    @contextmanager
    def writing(self, job_id: str, name: str) -> Iterator[BinaryIO]:
        path = self.job_dir(job_id) / name
        tmp = path.with_name(f".{path.name}.part")
        try:
            with tmp.open("wb") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def presigned_url(self, job_id: str, name: str, expires_s: int, media_type: str) -> str | None:
        return None  # a directory has no URLs: the instance serves its files

    def read(self, job_id: str, name: str) -> tuple[int, Iterator[bytes]]:
        path = self.job_dir(job_id) / name
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise NotFound("no such job file, or its link has expired") from None
        return size, self._chunks(path)

    @staticmethod
    def _chunks(path: Path) -> Iterator[bytes]:
        with path.open("rb") as data:
            while chunk := data.read(CHUNK_BYTES):
                yield chunk

    def size(self, job_id: str) -> int:
        directory = self.job_dir(job_id)
        return sum(p.stat().st_size for p in directory.iterdir() if p.is_file()) if directory.is_dir() else 0

    def delete(self, job_id: str) -> None:
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)
