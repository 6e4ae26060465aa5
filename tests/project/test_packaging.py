"""Packaging: the Dockerfiles, docker-compose.yml and gunicorn.conf.py, checked without a Docker engine."""

from __future__ import annotations

import fnmatch
import re
import runpy
import shlex

import pytest
import yaml

from _support.paths import REPO

DOCKERFILES = ["Dockerfile", "Dockerfile.gpu"]


def instructions(name: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    lines = [ln for ln in (REPO / name).read_text().splitlines() if not ln.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln.strip() else "")
            for ln in (raw.strip() for raw in joined.splitlines()) if ln]


def final_stage(name: str) -> list[tuple[str, str]]:
    ins = instructions(name)
    start = max(i for i, (op, _) in enumerate(ins) if op == "FROM")
    return ins[start:]


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for op, args in stage:
        if op == "ENV":
            env.update(tok.split("=", 1) for tok in shlex.split(args) if "=" in tok)
    return env


def readme_pip_install() -> str:
    """The pip part of the README's install command (the first bash block, under "## Try it")."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Try it"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return next(part.strip() for part in re.split(r"&&|\n", block) if part.strip().startswith("pip install"))


def run_commands(name: str) -> list[str]:
    return [part.strip() for op, args in instructions(name) if op == "RUN" for part in args.split("&&")]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_copied_paths_exist_and_are_in_the_build_context(name: str) -> None:
    ignored = [p.strip() for p in (REPO / ".dockerignore").read_text().splitlines()
               if p.strip() and not p.startswith("#")]
    for op, args in instructions(name):
        if op in ("COPY", "ADD") and "--from=" not in args:
            *sources, _dest = shlex.split(args)
            for src in sources:
                assert (REPO / src).exists(), f"{name}: {op} {src}: no such path in the repository"
                assert not any(fnmatch.fnmatch(src.rstrip("/"), pat) for pat in ignored), \
                    f"{name}: {src} is excluded by .dockerignore"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_install_is_the_readme_command_and_models_are_baked_in(name: str) -> None:
    pip = readme_pip_install()
    commands = run_commands(name)
    assert pip in commands, f"{name} does not run the README's `{pip}`"
    ins = instructions(name)
    pulls = [i for i, (op, args) in enumerate(ins) if op == "RUN" and "ocrserve models pull" in args]
    assert pulls, f"{name} does not run `ocrserve models pull` at build time"
    stage_start = max(i for i, (op, _) in enumerate(ins[:pulls[0]]) if op == "FROM")
    # the models land where the running service looks for them
    model_dir = env_of(ins[stage_start:pulls[0]]).get("OCR_MODEL_DIR")
    assert model_dir == env_of(final_stage(name))["OCR_MODEL_DIR"] == "/opt/ocrserve/models"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_runtime_settings_healthcheck_and_user(name: str) -> None:
    stage = final_stage(name)
    env = env_of(stage)
    port = env["OCR_PORT"]
    assert env["OCR_HOST"] == "0.0.0.0" and port == "7861"
    assert ("EXPOSE", port) in stage
    health = [args for op, args in stage if op == "HEALTHCHECK"]
    assert len(health) == 1 and "/health" in health[0]
    assert f"'OCR_PORT', '{port}'" in health[0] or f":{port}/health" in health[0]
    users = [args.strip() for op, args in stage if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), f"{name} runs as root"
    assert ("CMD", '["ocrserve", "serve"]') in stage
    if name == "Dockerfile.gpu":
        assert env["OCR_PROVIDERS"] == "cuda,cpu"
        assert any(c.startswith("pip install") and "onnxruntime-gpu==" in c for c in run_commands(name))
        assert "pip uninstall -y onnxruntime" in run_commands(name)


def test_compose_service_builds_the_repo_on_the_dockerfile_port() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    service = compose["services"]["ocrserve"]
    context = REPO / service["build"]["context"]
    assert context.is_dir() and (context / service["build"].get("dockerfile", "Dockerfile")).is_file()
    port = env_of(final_stage("Dockerfile"))["OCR_PORT"]
    assert str(service["environment"]["OCR_PORT"]) == port
    assert any(str(p).split(":")[-1] == port for p in service["ports"])
    assert "/health" in " ".join(service["healthcheck"]["test"])
    assert compose["services"]["redis"]["profiles"] == ["quota"]


def test_gunicorn_config_reads_the_ocr_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OCR_HOST", "OCR_WORKERS", "OCR_WORK_COUNT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OCR_PORT", "9999")
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert conf["bind"] == ["0.0.0.0:9999"]
    assert conf["workers"] == 1 and conf["preload_app"] is False
    assert conf["graceful_timeout"] == 30 and conf["timeout"] == 120
    assert conf["worker_class"] in ("uvicorn_worker.UvicornWorker", "uvicorn.workers.UvicornWorker")
    module, attr = conf["wsgi_app"].split(":")
    assert module == "ocrserve.api.app" and attr == "app"
    monkeypatch.setenv("OCR_WORK_COUNT", "3")
    monkeypatch.setenv("OCR_HOST", "::")
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert conf["workers"] == 3 and conf["bind"] == ["[::]:9999"]
