"""Model registry, store, settings and execution providers."""

from __future__ import annotations

import shutil
from pathlib import Path

import onnxruntime as ort
import pytest

from ocrserve import OCR, load_settings
from ocrserve.engine.runtime import OnnxModel, RuntimeConfig, select_providers
from ocrserve.errors import ConfigError, ModelCorrupt, ModelMissing, ProviderUnavailable
from ocrserve.models import MODEL_SETS, ModelStore, get_model_set, resolve_models
from ocrserve.models.registry import V4_DET


def test_registry_pins_every_file():
    for mset in MODEL_SETS.values():
        for f in mset.files():
            assert len(f.sha256) == 64 and f.size > 0 and f.version.count(".") >= 2
    assert {"pp-ocrv4-mobile", "pp-ocrv5-mobile", "pp-ocrv6-small", "pp-ocrv6-tiny"} <= set(MODEL_SETS)


def test_unknown_model_set_lists_the_valid_names():
    with pytest.raises(ConfigError, match="pp-ocrv6-small"):
        get_model_set("pp-ocrv9")


def test_missing_model_names_the_fix(tmp_path):
    settings = load_settings(model="pp-ocrv6-tiny", model_dir=tmp_path)
    with pytest.raises(ModelMissing, match="ocrserve models pull pp-ocrv6-tiny"):
        resolve_models(settings)


def test_corrupt_model_is_detected(tmp_path):
    source = load_settings().model_dir
    real = ModelStore(source).locate(get_model_set("pp-ocrv6-tiny").det.file)
    assert real is not None, "run `ocrserve models pull --all` first"
    store = ModelStore(tmp_path)
    for f in get_model_set("pp-ocrv6-tiny").files():
        found = ModelStore(source).locate(f)
        target = store.cached_path(f)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(found, target)
    det = store.cached_path(get_model_set("pp-ocrv6-tiny").det.file)
    data = bytearray(det.read_bytes())
    data[len(data) // 2] ^= 0xFF
    det.write_bytes(bytes(data))
    assert store.status(get_model_set("pp-ocrv6-tiny").det.file) == "corrupt"
    with pytest.raises(ModelCorrupt, match="ocrserve models pull"):
        resolve_models(load_settings(model="pp-ocrv6-tiny", model_dir=tmp_path))


def test_user_paths_override_the_registry(tmp_path, samples_dir):
    v4_det = ModelStore(tmp_path).installed_path(V4_DET) or ModelStore(load_settings().model_dir).locate(V4_DET)
    copied = tmp_path / "my_det.onnx"
    shutil.copy(v4_det, copied)
    ocr = OCR(model="pp-ocrv6-small", det_model_path=copied)
    assert ocr.pipeline.models.det_path == copied
    assert ocr(samples_dir / "scenes/s01_sign_zh_en.png").texts[0] == "复制文件和目录"
    with pytest.raises(ModelMissing, match="does not exist"):
        resolve_models(load_settings(det_model_path=tmp_path / "nope.onnx"))


def test_settings_from_env_yaml_and_rapidocr_names(monkeypatch, tmp_path):
    config = tmp_path / "ocr.yaml"
    config.write_text("model: pp-ocrv6-tiny\nrec_batch_size: 12\n", encoding="utf-8")
    monkeypatch.setenv("OCR_CONFIG_FILE", str(config))
    monkeypatch.setenv("OCR_REC_BATCH_SIZE", "8")  # environment beats the file
    monkeypatch.setenv("det_model_path", "/models/det.onnx")  # RapidOCR-API's unprefixed name
    monkeypatch.setenv("OCR_USE_GPU", "true")
    monkeypatch.setenv("OCR_API_TOKENS", "secret-token")
    s = load_settings()
    assert s.model == "pp-ocrv6-tiny" and s.rec_batch_size == 8
    assert s.det_model_path == Path("/models/det.onnx")
    assert s.effective_providers()[0] == "cuda"
    assert "secret-token" not in str(s.public_dict())
    monkeypatch.setenv("OCR_REC_BATCH_SIZE", "zero")
    with pytest.raises(ConfigError, match="rec_batch_size"):
        load_settings()


def test_hip_index_selects_rocm(monkeypatch):
    monkeypatch.setenv("OCR_HIP_INDEX", "1")
    assert load_settings().effective_providers()[0] == "rocm"


def test_missing_accelerator_is_an_error_unless_fallback_allowed():
    # DirectML exists only in Windows builds of onnxruntime, so it is absent on every test machine
    assert "DmlExecutionProvider" not in ort.get_available_providers()
    with pytest.raises(ProviderUnavailable, match="OCR_ALLOW_CPU_FALLBACK"):
        select_providers(RuntimeConfig(providers=("directml", "cpu")))
    chosen = select_providers(RuntimeConfig(providers=("directml", "cpu"), allow_cpu_fallback=True))
    assert [name for name, _ in chosen] == ["CPUExecutionProvider"]
    det = ModelStore(load_settings().model_dir).locate(get_model_set("pp-ocrv6-tiny").det.file)
    model = OnnxModel(det, RuntimeConfig(providers=("directml", "cpu"), allow_cpu_fallback=True), "det")
    assert model.providers == ["CPUExecutionProvider"]


def test_seed_rapidocr_config_file_applies(monkeypatch, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("Global:\n  text_score: 0.7\nDet:\n  model_path: models/det.onnx\n  box_thresh: 0.55\n"
                      "Rec:\n  rec_batch_num: 4\n", encoding="utf-8")
    monkeypatch.setenv("OCR_MODEL_CONFIG_PATH", str(config))
    monkeypatch.setenv("OCR_BOX_THRESH", "0.6")  # the environment still wins
    s = load_settings()
    assert s.text_score == 0.7 and s.rec_batch_size == 4 and s.box_thresh == 0.6
    assert s.det_model_path == tmp_path / "models" / "det.onnx"


def test_config_files_are_fields_with_their_effective_values(monkeypatch, tmp_path):
    rapid = tmp_path / "rapidocr.yaml"
    rapid.write_text("Global:\n  text_score: 0.7\nRec:\n  rec_batch_num: 4\n", encoding="utf-8")
    own = tmp_path / "ocr.yaml"
    own.write_text(f"model: pp-ocrv6-tiny\nmodel_config_path: {rapid}\nconfig_file: /elsewhere.yaml\n",
                   encoding="utf-8")
    for name in ("OCR_CONFIG_FILE", "OCR_MODEL_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    assert load_settings().config_file is None and load_settings().model_config_path is None

    monkeypatch.setenv("OCR_CONFIG_FILE", str(own))  # only through the environment
    s = load_settings()
    shown = s.public_dict()
    assert shown["config_file"] == str(own) and s.model == "pp-ocrv6-tiny"
    # the RapidOCR file named in our YAML applies, and is what the field shows
    assert shown["model_config_path"] == str(rapid) and s.text_score == 0.7 and s.rec_batch_size == 4

    other = tmp_path / "other-rapidocr.yaml"
    other.write_text("Global:\n  text_score: 0.3\n", encoding="utf-8")
    monkeypatch.setenv("OCR_MODEL_CONFIG_PATH", str(other))  # the environment beats the YAML
    s = load_settings()
    assert s.model_config_path == other and s.text_score == 0.3 and s.rec_batch_size == 6
    s = load_settings(model_config_path=rapid)  # and a keyword beats both
    assert s.model_config_path == rapid and s.text_score == 0.7

    monkeypatch.delenv("OCR_CONFIG_FILE")
    monkeypatch.delenv("OCR_MODEL_CONFIG_PATH")
    s = load_settings(config_file=own)  # a keyword names the file too
    assert s.config_file == own and s.model == "pp-ocrv6-tiny" and s.text_score == 0.7
    monkeypatch.setenv("OCR_CONFIG_FILE", "")
    assert load_settings().config_file is None


def test_dead_det_batch_size_only_warns(monkeypatch, caplog):
    assert "det_batch_size" not in load_settings().public_dict()
    monkeypatch.setenv("OCR_DET_BATCH_SIZE", "1")  # what happens anyway: quiet
    with caplog.at_level("WARNING", logger="ocrserve"):
        load_settings()
    assert not [r for r in caplog.records if "DET_BATCH_SIZE" in r.getMessage()]
    monkeypatch.setenv("OCR_DET_BATCH_SIZE", "8")
    caplog.clear()
    with caplog.at_level("WARNING", logger="ocrserve"):
        s = load_settings()
    warned = [r for r in caplog.records if "OCR_DET_BATCH_SIZE" in r.getMessage()]
    assert len(warned) == 1 and warned[0].levelname == "WARNING"
    assert "no effect" in warned[0].getMessage() and "OCR_DET_CONCURRENCY" in warned[0].getMessage()
    assert s.det_concurrency == 1


def test_visualize_unset_means_each_contracts_default(monkeypatch):
    monkeypatch.delenv("OCR_VISUALIZE", raising=False)
    assert load_settings().visualize is None
    monkeypatch.setenv("OCR_VISUALIZE", "false")
    assert load_settings().visualize is False


def test_cors_origins_and_open_paths(monkeypatch):
    monkeypatch.delenv("OCR_CORS_ORIGINS", raising=False)
    s = load_settings()
    assert s.cors_origins == []
    assert {"/live", "/redoc", "/docs/assets/*", "/docs", "/health"} <= set(s.auth_open_paths)
    monkeypatch.setenv("OCR_CORS_ORIGINS", " https://app.example/, http://localhost:3000 ")
    assert load_settings().cors_origins == ["https://app.example", "http://localhost:3000"]
    monkeypatch.setenv("OCR_CORS_ORIGINS", "*")
    assert load_settings().cors_origins == ["*"]
    monkeypatch.setenv("OCR_CORS_ORIGINS", "app.example")
    with pytest.raises(ConfigError, match="cors_origins"):
        load_settings()
    monkeypatch.setenv("OCR_CORS_ORIGINS", "https://app.example/path")
    with pytest.raises(ConfigError, match="cors_origins"):
        load_settings()
