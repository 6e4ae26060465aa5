"""A corpus of real PDFs from Debian documentation packages, fetched once and cached by package version.

Each package is fetched with `apt-get download` and unpacked with `dpkg-deb -x`; only its PDFs are
kept, in `<repo>/.cache/pdf-corpus/<package>_<version>/` (gitignored, never committed), so a second
run with the same package versions downloads nothing.  The files taken from each package are chosen
by sorted path, never at random, so a Debian release always gives the same corpus; the choice is
written to `manifest.tsv` (package, version, path, sha256, bytes) beside the cached packages.

Run `python tests/_support/corpus.py` to fetch the corpus and print the manifest.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "pdf-corpus"
#: the Debian packages the tools come from, named when a tool is missing
TOOLS = {"apt-get": "apt", "apt-cache": "apt", "dpkg-deb": "dpkg"}

#: package -> how many of its PDFs the corpus takes (about 185 MB of packages in Debian 12, 11 MB of them PDFs
#: kept); picked for their scripts and producers: pdfTeX, XeTeX and LuaTeX, unicode-math, forms, slides
PACKAGES: dict[str, int] = {
    "texlive-latex-recommended-doc": 24,  # unicode-math, beamer slides, l3pdffield forms, polyglossia's CJK/Arabic/Thai
    "texlive-lang-cyrillic": 12,
    "texlive-lang-arabic": 12,  # Arabic and Persian (XeTeX bidi), a 685-page manual
    "texlive-lang-other": 12,  # Indic, Hebrew, Thai, Armenian and more
    "texlive-lang-cjk": 6,
    "texlive-luatex": 14,  # LuaLaTeX with OpenType math: characters outside the BMP
    "texlive-xetex": 14,  # XeLaTeX: unicode-math in plain XeTeX, Greek, bidi slides
    "r-doc-pdf": 4,  # R's reference manual: 2415 pages
    "debian-reference-ja": 1,
    "debian-reference-zh-cn": 1,
    "developers-reference-ru": 1,
}

#: files every corpus holds when their package has them (path suffixes), so each kind of document is
#: in it whatever the stride below lands on; the rest of each package's share is taken by stride
INCLUDE: dict[str, tuple[str, ...]] = {
    "texlive-latex-recommended-doc": (
        "/unicode-math/unicode-math.pdf", "/unicode-math/unimath-symbols.pdf", "/unicode-math/unimath-example.pdf",
        "/pdfmanagement-testphase/l3pdffield-textfield.pdf", "/pdfmanagement-testphase/l3pdffield-checkbox.pdf",
        "/beamer/beamerexample-conference-talk.pdf", "/polyglossia/example-japanese.pdf",
        "/polyglossia/example-arabic.pdf", "/polyglossia/example-korean.pdf", "/fontspec/fontspec.pdf",
    ),
    "texlive-lang-arabic": ("/bidi/bidi.pdf", "/arabi/test_beamer.pdf"),
    "texlive-lang-other": ("/akshar/akshar.pdf",),
    "texlive-luatex": ("/minim-math/minim-math.pdf", "/lualatex-math/lualatex-math.pdf"),
    "texlive-xetex": ("/unimath-plain-xetex/unimath-plain-xetex-doc.pdf", "/bidipresentation/sample.pdf",
                      "/philokalia/philokalia.pdf", "/ucharclasses/ucharclasses.pdf"),
    "r-doc-pdf": ("/fullrefman.pdf", "/R-intro.pdf"),
}


class CorpusUnavailable(RuntimeError):
    """The corpus cannot be fetched here (no Debian tools, or no package index); the message says why."""


@dataclass(frozen=True)
class CorpusFile:
    package: str
    version: str
    path: str  # where the package installs it
    file: Path  # the cached copy
    sha256: str
    size: int

    @property
    def name(self) -> str:
        """A short, unique label for reports: the package and the file's name."""
        return f"{self.package}:{self.path.removeprefix('/usr/share/')}"


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def check_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        packages = sorted({TOOLS[tool] for tool in missing})
        raise CorpusUnavailable(f"the PDF corpus is fetched from Debian packages with {', '.join(missing)}, "
                                f"not found here: install the Debian package(s) {', '.join(packages)}")


def candidate_versions(packages: list[str]) -> dict[str, str]:
    """The version `apt-get download` would fetch of each package the package index lists (one call: apt-cache
    reads the whole index each time, about a second)."""
    shown = _run(["apt-cache", "show", "--no-all-versions", *packages])
    versions: dict[str, str] = {}
    for record in shown.stdout.split("\n\n"):
        name, version = re.search(r"^Package: (\S+)$", record, re.M), re.search(r"^Version: (\S+)$", record, re.M)
        if name and version:
            versions.setdefault(name.group(1), version.group(1))
    return versions


def _cached_versions(package: str) -> list[Path]:
    return sorted(d for d in CACHE.glob(f"{package}_*") if (d / ".complete").is_file())


def _fetch(package: str, version: str, target: Path, keep: tuple[str, ...] = (".pdf",)) -> None:
    """Download one package, unpack it, keep its files ending in `keep` (symbolic links dropped) in `target`."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE, prefix=".fetch-") as tmp:
        work = Path(tmp)
        got = _run(["apt-get", "download", f"{package}={version}"], cwd=work)
        debs = list(work.glob("*.deb"))
        if got.returncode or len(debs) != 1:
            raise CorpusUnavailable(f"apt-get download {package}={version} failed: {got.stderr.strip()[-2000:]}")
        unpacked = work / "root"
        done = _run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)])
        if done.returncode:
            raise CorpusUnavailable(f"dpkg-deb -x {debs[0].name} failed: {done.stderr.strip()[-2000:]}")
        staging = work / "pdfs"
        for pdf in unpacked.rglob("*"):
            if pdf.name.lower().endswith(keep) and pdf.is_file() and not pdf.is_symlink():
                dest = staging / pdf.relative_to(unpacked)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(pdf, dest)
        (staging / ".complete").parent.mkdir(parents=True, exist_ok=True)
        (staging / ".complete").write_text(f"{package} {version}\n")
        try:
            staging.rename(target)  # atomic: a second session fetching at the same time keeps its own copy
        except OSError:
            if not (target / ".complete").is_file():
                raise


def package_dir(package: str, version: str | None, keep: tuple[str, ...] = (".pdf",)) -> tuple[str, Path]:
    """(version, cached folder) of `package` at `version` (None: not in the package index), fetched when not
    cached yet, with its files ending in `keep` (its PDFs; a font package's `.ttf`, `.ttc`)."""
    if version is None:
        cached = _cached_versions(package)
        if cached:  # no package index here (apt-get update never ran), but a copy from an earlier run
            return cached[-1].name.split("_", 1)[1].replace("%3a", ":"), cached[-1]
        raise CorpusUnavailable(f"apt-cache does not know the Debian package {package}: run `apt-get update` "
                                "with a Debian 12 (bookworm) main source configured")
    target = CACHE / f"{package}_{version.replace(':', '%3a')}"
    if not (target / ".complete").is_file():
        _fetch(package, version, target, keep)
    return version, target


def choose(paths: list[str], count: int, include: tuple[str, ...]) -> list[str]:
    """`count` of `paths` (sorted): the ones ending in an `include` suffix, then the rest by even stride."""
    paths = sorted(paths)
    chosen = [p for p in paths if p.endswith(include)] if include else []
    rest = [p for p in paths if p not in chosen]
    need = max(0, min(count - len(chosen), len(rest)))
    chosen += [rest[i * len(rest) // need] for i in range(need)] if need else []
    return sorted(chosen)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def distinct(by_path: dict[str, Path], taken: dict[int, set[str]]) -> list[str]:
    """The paths of `by_path` (sorted) that are not copies of each other nor of a `taken` file (size -> sha256s).

    Only files whose size another one shares can be copies, so only those are hashed (hashing every
    PDF of the packages costs seconds on each run).
    """
    sizes = {path: file.stat().st_size for path, file in by_path.items()}
    counts: dict[int, int] = {}
    for size in sizes.values():
        counts[size] = counts.get(size, 0) + 1
    kept: list[str] = []
    digests: dict[int, set[str]] = {}
    for path in sorted(by_path):
        size = sizes[path]
        if counts[size] == 1 and size not in taken:
            kept.append(path)
            continue
        digest = sha256_of(by_path[path])
        if digest not in digests.setdefault(size, set()) and digest not in taken.get(size, set()):
            digests[size].add(digest)
            kept.append(path)
    return kept


def ensure_corpus() -> list[CorpusFile]:
    """Every corpus PDF, fetched when not cached; raises CorpusUnavailable naming what is missing."""
    check_tools()
    files: list[CorpusFile] = []
    taken: dict[int, set[str]] = {}
    versions = candidate_versions(list(PACKAGES))
    for package, count in PACKAGES.items():
        version, root = package_dir(package, versions.get(package))
        by_path = {"/" + str(p.relative_to(root)): p for p in root.rglob("*.pdf")}
        for path in choose(distinct(by_path, taken), count, INCLUDE.get(package, ())):
            file = by_path[path]
            digest, size = sha256_of(file), file.stat().st_size
            taken.setdefault(size, set()).add(digest)
            files.append(CorpusFile(package, version, path, file, digest, size))
    write_manifest(files)
    return files


def write_manifest(files: list[CorpusFile]) -> Path:
    lines = ["package\tversion\tpath\tsha256\tbytes"]
    lines += [f"{f.package}\t{f.version}\t{f.path}\t{f.sha256}\t{f.size}" for f in files]
    manifest = CACHE / "manifest.tsv"
    tmp = manifest.with_name(f".manifest.{os.getpid()}")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(manifest)
    return manifest


if __name__ == "__main__":
    try:
        corpus = ensure_corpus()
    except CorpusUnavailable as exc:
        sys.exit(f"error: {exc}")
    sys.stdout.write((CACHE / "manifest.tsv").read_text(encoding="utf-8"))
    print(f"{len(corpus)} PDFs, {sum(f.size for f in corpus) / 2**20:.1f} MiB", file=sys.stderr)
