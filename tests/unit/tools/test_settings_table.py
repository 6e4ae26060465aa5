"""The README's settings table is the one generated from the Settings model."""

from __future__ import annotations

import subprocess
import sys

from _support.paths import REPO
from ocrserve.settings import Settings
from ocrserve.tools.settings_table import env_names, main, render, table


def test_the_readme_table_is_the_generated_one():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert render(readme) == readme, \
        "README.md's settings table is stale: run python -m ocrserve.tools.settings_table --write README.md"
    assert main(["--check", str(REPO / "README.md")]) == 0


def test_every_setting_has_a_row_with_its_other_names():
    rows = table().splitlines()[2:]
    assert len(rows) == len(Settings.model_fields)
    assert env_names("workers", Settings.model_fields["workers"]) == ["OCR_WORKERS", "OCR_WORK_COUNT"]
    assert env_names("det_model_path", Settings.model_fields["det_model_path"]) == ["OCR_DET_MODEL_PATH",
                                                                                  "det_model_path"]
    assert all(Settings.model_fields[name].description for name in Settings.model_fields)


def test_check_fails_on_a_stale_readme(tmp_path):
    stale = tmp_path / "README.md"
    stale.write_text("# x\n<!-- settings:begin -->\n| old |\n<!-- settings:end -->\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert main(["--write", str(stale)]) == 0 and main(["--check", str(stale)]) == 0


def test_it_prints_the_table_from_any_directory_and_writes_only_a_named_file(tmp_path):
    """Run outside the repository it printed nothing useful and crashed; inside, it rewrote README.md unasked."""
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- settings:begin -->\n| old |\n<!-- settings:end -->\n", encoding="utf-8")
    before = readme.stat().st_mtime_ns, readme.read_text(encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "ocrserve.tools.settings_table"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == table()
    assert (readme.stat().st_mtime_ns, readme.read_text(encoding="utf-8")) == before
    missing = subprocess.run([sys.executable, "-m", "ocrserve.tools.settings_table", "--check", "nowhere.md"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "nowhere.md" in missing.stderr and "Traceback" not in missing.stderr
