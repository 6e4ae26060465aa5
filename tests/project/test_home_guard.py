"""The session's guard over the user's home: it sees a file added, changed or removed (on a stand-in home)."""

from __future__ import annotations

import os
from pathlib import Path

from _support.home_guard import HomeSnapshot


def test_the_snapshot_sees_every_kind_of_change(tmp_path):
    (tmp_path / ".local" / "share").mkdir(parents=True)
    kept, changed, removed = (tmp_path / name for name in ("kept.txt", "changed.txt", "removed.txt"))
    for path in (kept, changed, removed):
        path.write_text("x")
    (tmp_path / ".pyenv").mkdir()
    before = HomeSnapshot.take(tmp_path)
    assert before.changes(HomeSnapshot.take(tmp_path)) == []

    (tmp_path / ".local" / "share" / "jobs.sqlite3").write_text("job")
    changed.write_text("xy")
    removed.unlink()
    (tmp_path / ".pyenv" / "toolchain-cache").write_text("ignored")  # toolchains are read, not guarded
    changes = before.changes(HomeSnapshot.take(tmp_path))
    assert f"added {tmp_path / '.local' / 'share' / 'jobs.sqlite3'}" in changes
    assert f"modified {changed}" in changes
    assert f"removed {removed}" in changes
    assert not any(str(kept) in c or ".pyenv" + os.sep in c for c in changes)


def test_the_session_writes_nothing_under_the_home():
    """Every per-user place ocrserve writes to is a temporary one for this session."""
    from ocrserve.settings import load_settings

    home = Path.home().resolve()
    settings = load_settings()
    for path in (settings.model_dir, settings.job_dir, settings.quota_db, settings.result_files_dir):
        assert home not in Path(path).resolve().parents, path


def test_reading_a_page_leaves_nothing_in_a_fresh_home(tmp_path, samples_dir):
    """No library under the engine keeps a device id or usage count in the home (ONNX Runtime's and
    OpenVINO's telemetry would, unless ocrserve turns them off)."""
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ORT_"))}
    env.update(HOME=str(home), OCR_MODEL_DIR=os.environ["OCR_MODEL_DIR"])
    script = ("import sys; from ocrserve import OCR; from ocrserve.engine.backends.openvino import core; core(); "
              "print(OCR(model='pp-ocrv6-tiny')(sys.argv[1]).text)")
    done = subprocess.run([sys.executable, "-c", script, str(samples_dir / "bench" / "screenshot.png")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Network" in done.stdout, done.stderr
    assert [p for p in home.rglob("*")] == []
