"""The README's settings table is the one generated from the Settings model."""

from __future__ import annotations

from conftest import REPO
from ocrserve.settings import Settings
from ocrserve.settings_table import env_names, main, render, table


def test_the_readme_table_is_the_generated_one():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert render(readme) == readme, "README.md's settings table is stale: run python -m ocrserve.settings_table"
    assert main(["--readme", str(REPO / "README.md"), "--check"]) == 0


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
    assert main(["--readme", str(stale), "--check"]) == 1
    assert main(["--readme", str(stale)]) == 0 and main(["--readme", str(stale), "--check"]) == 0
