"""Result images as signed, expiring links (OCR_RESULT_IMAGES=url): in process, real pp-ocrv4-mobile engine."""

from __future__ import annotations

import os
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from _support.http import wait_in_process_ready
from ocrserve import load_settings
from ocrserve.api.app import create_app
from ocrserve.api.result_files import ResultFiles
from ocrserve.contracts.base import EXAMPLE_IMAGE_B64
from ocrserve.errors import NotFound
from ocrserve.signed_links import LinkSigner, load_or_create_secret

TOKEN = "tok-links-7qv2m9xd"


def test_links_verify_only_untampered_and_unexpired():
    signer = LinkSigner(lambda: b"k" * 32)
    link = signer.sign("/files/a.jpg", int(time.time()) + 60)
    query = parse_qs(urlsplit(link).query)
    expires, sig = query["expires"][0], query["sig"][0]
    assert signer.verify("/files/a.jpg", expires, sig)
    assert not signer.verify("/files/b.jpg", expires, sig)  # another file
    assert not signer.verify("/files/a.jpg", str(int(expires) + 1), sig)  # a longer life
    assert not signer.verify("/files/a.jpg", expires, sig, now=int(expires) + 1)  # expired
    assert not LinkSigner(lambda: b"x" * 32).verify("/files/a.jpg", expires, sig)  # another secret
    assert not signer.verify("/files/a.jpg", None, sig) and not signer.verify("/files/a.jpg", "soon", sig)


def test_the_generated_secret_is_made_once_and_private(tmp_path):
    path = tmp_path / "secret"
    first = load_or_create_secret(path)
    assert load_or_create_secret(path) == first and len(first) == 32
    assert (path.stat().st_mode & 0o777) == 0o600


def test_expired_files_are_swept(tmp_path):
    files = ResultFiles(tmp_path, ttl_s=10, signer=LinkSigner(lambda: b"k" * 32))
    name, _ = files.put(b"\xff\xd8\xffjpeg")
    old = time.time() - 60
    os.utime(tmp_path / name, (old, old))
    assert files.sweep(now=time.time() + 120) == 1 and not any(tmp_path.iterdir())
    with pytest.raises(NotFound):
        files.read(name, str(int(time.time()) + 60), "0" * 64)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    settings = load_settings(model="pp-ocrv4-mobile", result_images="url", api_tokens=TOKEN,
                             result_files_dir=tmp_path_factory.mktemp("results"), job_secret="s" * 32)
    with TestClient(create_app(settings)) as c:
        wait_in_process_ready(c)
        yield c


def test_paddlex_images_come_back_as_links_that_need_no_token(client):
    r = client.post("/ocr", json={"file": EXAMPLE_IMAGE_B64}, headers={"Authorization": f"token {TOKEN}"})
    page = r.json()["result"]["ocrResults"][0]
    assert page["ocrImage"].startswith("http://testserver/files/") and page["inputImage"] != page["ocrImage"]
    image = client.get(page["ocrImage"])  # no Authorization: the link is the capability
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content[:3] == b"\xff\xd8\xff"
    tampered = page["ocrImage"].replace("sig=", "sig=0")
    r = client.get(tampered)
    assert r.status_code == 404 and "expired" in r.json()["errorMsg"]
