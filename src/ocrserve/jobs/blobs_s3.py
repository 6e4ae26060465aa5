"""A job's files in S3-compatible object storage (OCR_JOB_BLOBS=s3://bucket/prefix), through boto3.

The endpoint and credentials come from the standard AWS variables (`AWS_ENDPOINT_URL`,
`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`) or boto3's other sources.
Objects are immutable, so each page's result and parts are objects of their own, keyed by the
page's position (`<job>/pages/000000.json`): a page read again overwrites its own object with the
same bytes, and the JSONL the client reads is the counted pages' objects streamed in order.
Uploads and downloads stream (`upload_fileobj`, the body read a chunk at a time); pdfium's copy of
the input is a local file under OCR_JOB_DIR, dropped when the job's run here ends.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, NoReturn
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..errors import ConfigError, NotFound, StoreUnavailable
from .blobs import CHUNK_BYTES, INPUT_NAME

#: a local copy of a job's input is named so that the store's sweep deletes one a killed process left
INPUT_COPY_PREFIX = ".input-"
MISSING = {"404", "NoSuchKey", "NotFound"}
DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys
PRESIGN_MAX_S = 7 * 24 * 3600  # SigV4 presigned URLs are refused past a week


def parse_url(url: str) -> tuple[str, str]:
    """`s3://bucket/prefix` -> (bucket, "prefix/") ("" without a prefix)."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ConfigError(f"OCR_JOB_BLOBS={url!r} is not an s3://bucket/prefix URL")
    prefix = parsed.path.strip("/")
    return parsed.netloc, prefix + "/" if prefix else ""


def _client(endpoint: str | None = None) -> Any:
    """An S3 client from the standard AWS settings (`endpoint` instead of theirs when given); path-style
    addressing for a custom endpoint, which S3-compatible stores (SeaweedFS, MinIO, Ceph) answer where
    a bucket subdomain would not resolve."""
    custom = bool(endpoint or os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3"))
    config = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"},
                    s3={"addressing_style": "path" if custom else "auto"}, signature_version="s3v4")
    # a session of its own: boto3's default one keeps the credentials it first resolved, so a store opened
    # after the AWS variables changed (another store in the same process) would sign with stale ones
    return boto3.session.Session().client("s3", config=config, endpoint_url=endpoint)


class S3JobBlobs:
    def __init__(self, url: str, local_dir: Path, links_endpoint: str | None = None) -> None:
        self.bucket, self.prefix = parse_url(url)
        self.url = url
        self.local_dir = Path(local_dir).expanduser()
        self.local_dir.mkdir(parents=True, exist_ok=True)
        self.s3 = _client()
        # presigning is local computation: a client of the endpoint the clients reach signs for that host
        self.presigner = _client(links_endpoint) if links_endpoint else self.s3
        try:  # at startup, so a wrong bucket or key fails there and not on a request
            self._call(self.s3.head_bucket, Bucket=self.bucket)
        except (StoreUnavailable, NotFound) as exc:
            raise ConfigError(f"cannot use the job blobs OCR_JOB_BLOBS={url}: {exc}") from None

    def _failed(self, exc: Exception) -> NoReturn:
        if isinstance(exc, ClientError) and str(exc.response.get("Error", {}).get("Code")) in MISSING:
            raise NotFound("no such job file, or its link has expired") from exc
        raise StoreUnavailable(f"the job blobs at {self.url} cannot be used: {exc}") from exc

    def _call(self, method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except (BotoCoreError, ClientError) as exc:
            self._failed(exc)

    def _key(self, job_id: str, name: str) -> str:
        return f"{self.prefix}{job_id}/{name}"

    @staticmethod
    def _position(kind: str, position: int) -> str:
        return f"{kind}/{position:06d}.json"

    def put_input(self, job_id: str, staged: Path) -> None:
        with staged.open("rb") as data:
            self._call(self.s3.upload_fileobj, Fileobj=data, Bucket=self.bucket, Key=self._key(job_id, INPUT_NAME))
        staged.unlink()

    def _copy_path(self, job_id: str) -> Path:
        return self.local_dir / f"{INPUT_COPY_PREFIX}{job_id}"

    def input_file(self, job_id: str) -> Path:
        path = self._copy_path(job_id)
        if not path.exists():
            tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}")
            try:
                with tmp.open("wb") as out:
                    self._call(self.s3.download_fileobj, Bucket=self.bucket, Key=self._key(job_id, INPUT_NAME),
                               Fileobj=out)
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        return path

    def drop_input_copy(self, job_id: str) -> None:
        self._copy_path(job_id).unlink(missing_ok=True)

    def put(self, job_id: str, name: str, data: bytes) -> None:
        self._call(self.s3.put_object, Bucket=self.bucket, Key=self._key(job_id, name), Body=data)

    def put_page(self, job_id: str, position: int, line: bytes, parts: bytes | None) -> None:
        if parts is not None:
            self.put(job_id, self._position("parts", position), parts)
        self.put(job_id, self._position("pages", position), line)

    def resume(self, job_id: str, done: int) -> None:
        """Objects past `done` are overwritten as their pages are read again, and never read before."""

    def _get(self, key: str) -> Any:
        return self._call(self.s3.get_object, Bucket=self.bucket, Key=key)

    def _objects(self, job_id: str, kind: str, count: int) -> Iterator[bytes]:
        for position in range(count):
            yield self._get(self._key(job_id, self._position(kind, position)))["Body"].read()

    def page_lines(self, job_id: str, count: int) -> Iterator[bytes]:
        return self._objects(job_id, "pages", count)

    def _keys(self, prefix: str) -> Iterator[dict[str, Any]]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        try:
            for page in pages:
                yield from page.get("Contents", [])
        except (BotoCoreError, ClientError) as exc:
            self._failed(exc)

    def parts_written(self, job_id: str) -> int:
        return sum(1 for _ in self._keys(self._key(job_id, "parts/")))

    def parts_lines(self, job_id: str, count: int) -> Iterator[bytes]:
        return self._objects(job_id, "parts", count)

    def drop_parts(self, job_id: str) -> None:
        self._delete(self._key(job_id, "parts/"))

    @contextmanager
    def writing(self, job_id: str, name: str) -> Iterator[BinaryIO]:
        """Spooled to a local temp file, then uploaded as one object (an object appears whole or not at all)."""
        with tempfile.TemporaryFile(dir=self.local_dir) as out:
            yield out
            out.seek(0)
            self._call(self.s3.upload_fileobj, Fileobj=out, Bucket=self.bucket, Key=self._key(job_id, name))

    def read(self, job_id: str, name: str) -> tuple[int, Iterator[bytes]]:
        answer = self._get(self._key(job_id, name))
        return int(answer["ContentLength"]), self._body(answer["Body"])

    def presigned_url(self, job_id: str, name: str, expires_s: int, media_type: str) -> str | None:
        params = {"Bucket": self.bucket, "Key": self._key(job_id, name), "ResponseContentType": media_type}
        url: str = self._call(self.presigner.generate_presigned_url, ClientMethod="get_object", Params=params,
                              ExpiresIn=max(1, min(expires_s, PRESIGN_MAX_S)))
        return url

    def _body(self, body: Any) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        except (BotoCoreError, ClientError) as exc:
            self._failed(exc)
        finally:
            body.close()

    def size(self, job_id: str) -> int:
        return sum(int(obj["Size"]) for obj in self._keys(self._key(job_id, "")))

    def _delete(self, prefix: str) -> None:
        keys = [{"Key": obj["Key"]} for obj in self._keys(prefix)]
        for start in range(0, len(keys), DELETE_BATCH):
            self._call(self.s3.delete_objects, Bucket=self.bucket,
                       Delete={"Objects": keys[start:start + DELETE_BATCH], "Quiet": True})

    def delete(self, job_id: str) -> None:
        self._delete(self._key(job_id, ""))
        self.drop_input_copy(job_id)
