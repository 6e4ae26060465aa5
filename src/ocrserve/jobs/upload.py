"""A job's document on its way in: streamed to a temp file in the job store, never held in memory.

A multipart `file` part, or the body behind a `fileUrl`, is written to a file in OCR_JOB_DIR as it
arrives and counted against OCR_JOB_MAX_FILE_SIZE; `JobStore.create` moves it into its job's
directory, or streams it to S3.  On any failure (too large, a malformed body, a client that left) the file is deleted
here; the caller deletes it when the submission fails after it arrived (`Incoming.discard`).
The body comes as chunks, whatever framework read them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, cast

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from ..errors import BadInput, InputTooLarge
from ..urlfetch import FetchPolicy, fetch_url
from .documents import HEAD_BYTES
from .store import JobStore

FILE_FIELD = "file"
MAX_FIELDS = 20
FIELD_MAX_BYTES = 1024 * 1024  # a text field (optionalPayload, ...): far more than any real one needs
FLUSH_BYTES = 1024 * 1024  # written to disk in a thread a megabyte at a time, so the event loop never waits on it
DRAIN_BYTES = 8 * 1024 * 1024  # read past a refused upload, so the client reads the 413 instead of a reset
SETTING = "OCR_JOB_MAX_FILE_SIZE"


def too_large(limit: int) -> InputTooLarge:
    return InputTooLarge(f"the document is over the job upload limit of {limit} bytes ({SETTING})")


@dataclass
class Incoming:
    """The temp file an input is written to, and what is known of it so far."""

    path: Path
    size: int = 0
    head: bytes = b""  # the first bytes, to tell a PDF from an image
    complete: bool = False

    def discard(self) -> None:
        """Delete the file unless it was moved into its job (then this does nothing)."""
        self.path.unlink(missing_ok=True)


@dataclass
class _Writer:
    """Chunks into the temp file, within the limit, flushed in a thread a megabyte at a time."""

    incoming: Incoming
    file: BinaryIO
    limit: int
    buffer: bytearray = field(default_factory=bytearray)

    async def write(self, chunk: bytes) -> None:
        self.incoming.size += len(chunk)
        if self.incoming.size > self.limit:
            raise too_large(self.limit)
        if len(self.incoming.head) < HEAD_BYTES:
            self.incoming.head += chunk[: HEAD_BYTES - len(self.incoming.head)]
        self.buffer += chunk
        if len(self.buffer) >= FLUSH_BYTES:
            await self.flush()

    async def flush(self) -> None:
        data, self.buffer = bytes(self.buffer), bytearray()
        await asyncio.to_thread(self.file.write, data)

    async def finish(self) -> None:
        await self.flush()
        await asyncio.to_thread(_sync, self.file)
        self.incoming.complete = True


def _sync(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())


class _Events:
    """python-multipart's callbacks, queued so that each chunk's events are handled (awaited) after it."""

    def __init__(self) -> None:
        self.queue: list[tuple[str, Any]] = []
        self.headers: dict[bytes, bytes] = {}
        self.name, self.value = b"", b""

    def callbacks(self) -> dict[str, Any]:
        return {"on_part_begin": self._begin, "on_header_field": self._field, "on_header_value": self._value,
                "on_header_end": self._header_end, "on_headers_finished": self._headers_done,
                "on_part_data": self._data, "on_part_end": self._end}

    def take(self) -> list[tuple[str, Any]]:
        events, self.queue = self.queue, []
        return events

    def _begin(self) -> None:
        self.headers = {}

    def _field(self, data: bytes, start: int, end: int) -> None:
        self.name += data[start:end]

    def _value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def _header_end(self) -> None:
        self.headers[self.name.lower()] = self.value
        self.name, self.value = b"", b""

    def _headers_done(self) -> None:
        self.queue.append(("part", parse_options_header(self.headers.get(b"content-disposition", b""))[1]))

    def _data(self, data: bytes, start: int, end: int) -> None:
        self.queue.append(("data", data[start:end]))

    def _end(self) -> None:
        self.queue.append(("end", None))


async def receive_form(chunks: AsyncIterator[bytes], content_type: str, store: JobStore,
                       limit: int) -> tuple[dict[str, str], Incoming | None]:
    """A multipart body: its text fields, and its `file` part written to a temp file (None without one)."""
    boundary = parse_options_header(content_type)[1].get(b"boundary")
    if not boundary:
        raise BadInput("the multipart body's Content-Type names no boundary")
    events = _Events()
    parser = MultipartParser(boundary, cast(Any, events.callbacks()))  # its TypedDict of callbacks, built by name
    fields: dict[str, str] = {}
    incoming: Incoming | None = None
    writer: _Writer | None = None
    current: str | None = None  # the text field being read; FILE_FIELD for the file; None to skip a part
    text = bytearray()
    try:
        async for chunk in chunks:
            parser.write(chunk)
            for kind, value in events.take():
                if kind == "part":
                    name = value.get(b"name", b"").decode("utf-8", "replace")
                    if name == FILE_FIELD:
                        if incoming is not None:
                            raise BadInput(f"send one `{FILE_FIELD}` part, not several")
                        incoming = Incoming(store.stage())
                        writer = _Writer(incoming, incoming.path.open("wb"), limit)
                        current = FILE_FIELD
                    elif b"filename" in value or len(fields) >= MAX_FIELDS:
                        current = None  # another file, or past the fields anyone sends: not read
                    else:
                        current, text = name, bytearray()
                elif kind == "data" and current == FILE_FIELD and writer is not None:
                    await writer.write(value)
                elif kind == "data" and current is not None:
                    text += value
                    if len(text) > FIELD_MAX_BYTES:
                        raise InputTooLarge(f"form field {current!r} is over {FIELD_MAX_BYTES} bytes")
                elif kind == "end":
                    if current == FILE_FIELD and writer is not None:
                        await writer.finish()
                    elif current is not None:
                        fields[current] = text.decode("utf-8", "replace")
                    current = None
        parser.finalize()
        if incoming is not None and not incoming.complete:
            raise BadInput("the multipart body ended inside its file part")
    except MultipartParseError as exc:
        _discard(writer, incoming)
        raise BadInput(f"the multipart body is malformed: {exc}") from None
    except InputTooLarge:
        _discard(writer, incoming)
        await _drain(chunks)
        raise
    except BaseException:
        _discard(writer, incoming)
        raise
    if writer is not None:
        writer.file.close()
    return fields, incoming


async def fetch_into(url: str, policy: FetchPolicy, store: JobStore, limit: int) -> Incoming:
    """The body behind `fileUrl`, through the URL guard, written to a temp file as it arrives."""
    incoming = Incoming(store.stage())
    writer = _Writer(incoming, incoming.path.open("wb"), limit)
    try:
        await fetch_url(url, replace(policy, max_bytes=limit), sink=writer.write)
        await writer.finish()
    except InputTooLarge as exc:
        _discard(writer, incoming)
        raise InputTooLarge(f"{exc} ({SETTING})") from None
    except BaseException:
        _discard(writer, incoming)
        raise
    writer.file.close()
    return incoming


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read (and drop) a bounded part of what is left, so the 413 reaches the client."""
    dropped = 0
    try:
        async for chunk in chunks:
            dropped += len(chunk)
            if dropped > DRAIN_BYTES:
                return
    except Exception:  # the client is gone or the body is done: nothing left to drain
        return


def _discard(writer: _Writer | None, incoming: Incoming | None) -> None:
    if writer is not None:
        writer.file.close()
    if incoming is not None:
        incoming.discard()
