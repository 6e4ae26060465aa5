"""Cheaper modes: int8 variants built by `ocrserve models quantize`, and the fast detection profile.

Each variant (ONNX Runtime's dynamic int8, OpenVINO's NNCF int8) is built once per module from
the pulled pp-ocrv6-tiny files (the smallest set) into a temporary model dir, through the CLI as
a user would.  Accuracy floors sit a little under what was measured (docs/precision.md); no test
asserts a timing.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from ocrserve import OCR, OCROptions, load_settings
from ocrserve.cli import main
from ocrserve.engine import precision
from ocrserve.engine.backends.openvino import ir_metadata
from ocrserve.engine.config import DET_PROFILES
from ocrserve.engine.detect import resize_shape
from ocrserve.engine.precision import cpu_flags, missing_flag
from ocrserve.errors import ConfigError, ModelCorrupt, ModelMissing
from ocrserve.models import ModelStore, get_model_set, openvino_int8, resolve_models
from ocrserve.models.quantize import PLANS, read_manifest, variant_dir
from ocrserve.models.store import sha256_of
from ocrserve.tools import quantize_openvino
from ocrserve.tools.bench_rows import spec_overrides
from ocrserve.tools.evaluation import char_accuracy, load_samples, position_ordered_text

SMALL = "pp-ocrv6-tiny"
FIX = f"ocrserve models quantize {SMALL}"
# a few pages and scenes: a table, code, Chinese, a receipt, 12 px text
FEW = ("p05_en_table_smi_p12.png", "p06_zh_table_lshort_p17.png", "p08_zh_code_lshort_p40.png",
       "s03_receipt_zh.jpg", "s08_small_text_12px.png")


def link_fp32_files(model_dir: Path, set_name: str = SMALL) -> None:
    """The pulled fp32 files of a set, linked into `model_dir`'s cache layout (no download)."""
    source = ModelStore(load_settings().model_dir)
    target = ModelStore(model_dir)
    for f in get_model_set(set_name).files():
        found = source.locate(f)
        assert found is not None, "run `ocrserve models pull --all` first"
        path = target.cached_path(f)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(found.resolve(), path)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A model dir holding pp-ocrv6-tiny's fp32 files and its int8 variant, built by the CLI."""
    model_dir = tmp_path_factory.mktemp("models")
    link_fp32_files(model_dir)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OCR_MODEL_DIR", str(model_dir))
        assert main(["models", "quantize", SMALL]) == 0
        assert main(["models", "verify", f"{SMALL}-int8"]) == 0
    return model_dir


def copy_of(built: Path, tmp_path: Path) -> Path:
    """A private model dir with the same fp32 links and a copy of the int8 files, to damage."""
    link_fp32_files(tmp_path)
    shutil.copytree(built / "int8", tmp_path / "int8")
    return tmp_path


def mean_accuracy(ocr: OCR, samples_dir: Path, names: tuple[str, ...]) -> float:
    values = []
    for sample in load_samples(samples_dir):
        if sample.path.name not in names:
            continue
        result = ocr(sample.path)
        truth = position_ordered_text(sample.lines, sample.rotation, result.width, result.height)
        ours = position_ordered_text([(ln.text, ln.polygon) for ln in result.lines], sample.rotation,
                                     result.width, result.height)
        values.append(char_accuracy(truth, ours))
    assert len(values) == len(names)
    return float(np.mean(values))


# --- int8 variants ---------------------------------------------------------------------------
def test_manifest_records_sources_and_outputs(built):
    manifest = read_manifest(built, get_model_set(f"{SMALL}-int8"))
    fp32 = get_model_set(SMALL)
    sources = {"det": fp32.det.file, "rec": fp32.rec.file}
    assert set(manifest["files"]) == {role for role, plan in PLANS.items() if plan is not None}
    assert set(manifest["files"]) | set(manifest["fp32"]) == set(PLANS)
    for role, entry in manifest["files"].items():
        path = variant_dir(built, fp32) / entry["path"]
        assert entry["sha256"] == sha256_of(path) and entry["size"] == path.stat().st_size
        if role in sources:
            assert entry["source_sha256"] == sources[role].sha256
            assert path.stat().st_size < sources[role].size  # int8 weights are smaller
    assert not list(variant_dir(built, fp32).glob(".*")), "temporary files left behind"


def test_int8_set_loads_built_files_and_fp32_for_the_rest(built):
    models = resolve_models(load_settings(model=f"{SMALL}-int8", model_dir=built))
    int8_dir = variant_dir(built, get_model_set(SMALL))
    paths = {"det": models.det_path, "rec": models.rec_path, "textline": models.textline_path,
             "doc_orientation": models.doc_orientation_path}
    for role, plan in PLANS.items():
        assert (paths[role].parent == int8_dir) == (plan is not None), role
    # the variant keeps every constant of its fp32 set
    assert models.model_set.det == get_model_set(SMALL).det and models.model_set.variant == "int8"


def test_not_built_names_the_command_that_builds_it(tmp_path, samples_dir, monkeypatch, capsys):
    link_fp32_files(tmp_path)
    with pytest.raises(ModelMissing, match=f"run `{FIX}`"):
        resolve_models(load_settings(model=f"{SMALL}-int8", model_dir=tmp_path))
    monkeypatch.setenv("OCR_MODEL_DIR", str(tmp_path))
    assert main(["predict", "--model", f"{SMALL}-int8", str(samples_dir / "scenes/s01_sign_zh_en.png")]) == 1
    assert FIX in capsys.readouterr().err
    assert main(["models", "verify", f"{SMALL}-int8"]) == 1
    assert f"fix: {FIX}" in capsys.readouterr().err


def test_corrupt_int8_file_is_refused(built, tmp_path):
    model_dir = copy_of(built, tmp_path)
    mset = get_model_set(f"{SMALL}-int8")
    role, entry = next(iter(read_manifest(model_dir, mset)["files"].items()))
    path = variant_dir(model_dir, mset) / entry["path"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelCorrupt, match=FIX):
        resolve_models(load_settings(model=mset.name, model_dir=model_dir))
    # with verification off the file is not hashed (as for pulled files)
    assert resolve_models(load_settings(model=mset.name, model_dir=model_dir, verify_models=False))


def test_variant_built_from_other_files_is_refused(built, tmp_path):
    model_dir = copy_of(built, tmp_path)
    mset = get_model_set(f"{SMALL}-int8")
    manifest_path = variant_dir(model_dir, mset) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"]["rec"]["source_sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelCorrupt, match="was built from"):
        resolve_models(load_settings(model=mset.name, model_dir=model_dir))
    manifest_path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelCorrupt, match=FIX):
        resolve_models(load_settings(model=mset.name, model_dir=model_dir))


def test_unknown_base_set_is_a_config_error():
    with pytest.raises(ConfigError, match="-int8"):
        get_model_set("pp-ocrv9-int8")


def test_int8_accuracy_floor(built, samples_dir):
    """Against ground truth, and against the fp32 set on the same files: measured 2026-11-22 with
    pp-ocrv6-tiny (min 64 detection) fp32 and int8 within 0.002 of each other, both above 0.92."""
    ocr = OCR(model=f"{SMALL}-int8", model_dir=built, max_pdf_pages=0)
    assert ocr.pipeline.models.rec_path.parent.parent.name == "int8"
    int8 = mean_accuracy(ocr, samples_dir, FEW)
    fp32 = mean_accuracy(OCR(model=SMALL, model_dir=built, max_pdf_pages=0, backend="onnxruntime"), samples_dir, FEW)
    assert int8 >= 0.915
    assert int8 >= fp32 - 0.01


# --- OpenVINO int8 (NNCF) --------------------------------------------------------------------
CALIBRATION = ("bench/receipt_zh.jpg", "bench/screenshot.png")  # no ground truth: not what FEW scores


@pytest.fixture(scope="module")
def built_openvino(tmp_path_factory, samples_dir) -> Path:
    """A model dir holding pp-ocrv6-tiny's fp32 files and its NNCF int8 IRs, built by the CLI."""
    model_dir = tmp_path_factory.mktemp("models-ov")
    link_fp32_files(model_dir)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OCR_MODEL_DIR", str(model_dir))
        assert main(["models", "quantize", SMALL, "--backend", "openvino", "--calibration",
                     *(str(samples_dir / name) for name in CALIBRATION)]) == 0
    return model_dir


def test_openvino_manifest_records_sources_calibration_and_outputs(built_openvino):
    from ocrserve.engine.backends.openvino import import_openvino

    openvino = import_openvino()  # as the service imports it: without its usage telemetry

    mset = get_model_set(SMALL)
    manifest = openvino_int8.read_manifest(built_openvino, mset)
    directory = openvino_int8.variant_dir(built_openvino, mset)
    assert set(manifest["files"]) == {"det", "rec"} and set(manifest["fp32"]) == {"textline", "doc_orientation"}
    assert [f["name"] for f in manifest["calibration"]["files"]] == [Path(n).name for n in CALIBRATION]
    assert manifest["calibration"]["inputs"]["det"] == len(CALIBRATION) and manifest["calibration"]["inputs"]["rec"] > 10
    for role, source in (("det", mset.det.file), ("rec", mset.rec.file)):
        entry = manifest["files"][role]
        assert entry["source_sha256"] == source.sha256
        assert entry["sha256"] == sha256_of(directory / entry["path"])
        assert entry["weights_sha256"] == sha256_of(directory / entry["weights"])
        ops = {op.get_type_name() for op in openvino.Core().read_model(str(directory / entry["path"])).get_ops()}
        assert "FakeQuantize" in ops, f"{role}: nothing was quantised"
    assert not list(directory.glob(".*")), "temporary files left behind"


def test_openvino_int8_reads_within_a_point_of_fp32(built_openvino, samples_dir):
    mset = get_model_set(SMALL)
    overrides = openvino_int8.file_overrides(mset, built_openvino, ("det", "rec"))
    ocr = OCR(model=SMALL, model_dir=built_openvino, max_pdf_pages=0, **overrides)
    assert ocr.pipeline.detector.model.path.suffix == ".xml" and ocr.pipeline.recognizer.model.path.suffix == ".xml"
    int8 = mean_accuracy(ocr, samples_dir, FEW)
    fp32 = mean_accuracy(OCR(model=SMALL, model_dir=built_openvino, max_pdf_pages=0, backend="onnxruntime"),
                         samples_dir, FEW)
    assert int8 >= fp32 - 0.01


@pytest.mark.skipif(missing_flag("int8", cpu_flags()) is not None, reason="this CPU has no VNNI")
def test_openvino_int8_is_the_recognisers_precision(built_openvino, samples_dir, tmp_path, monkeypatch):
    """OCR_PRECISION=int8: the recogniser runs its built IR on OpenVINO, everything else stays where it was."""
    image = samples_dir / "scenes" / "s03_receipt_zh.jpg"
    with pytest.raises(ConfigError, match=f"not for {SMALL}"):  # its int8 recogniser failed the gate
        OCR(model=SMALL, model_dir=built_openvino, precision="int8")
    monkeypatch.setitem(precision.INT8_VERIFIED, SMALL, "test")  # the loader is under test here, not the gate
    ocr = OCR(model=SMALL, model_dir=built_openvino, precision="int8")
    rec = ocr.pipeline.recognizer.model
    assert rec.providers == ["OpenVINO CPU int8"]
    assert rec.path == openvino_int8.int8_paths(built_openvino, get_model_set(SMALL))["rec"]
    assert ocr.pipeline.detector.model.providers == ["CPUExecutionProvider"]
    fp32 = OCR(model=SMALL, model_dir=built_openvino, backend="onnxruntime").predict(image)[0]
    assert len(ocr.predict(image)[0].texts) == len(fp32.texts)  # the same detector found the same lines
    link_fp32_files(tmp_path)  # nothing built there
    with pytest.raises(ModelMissing, match=f"ocrserve models quantize {SMALL} --backend openvino"):
        OCR(model=SMALL, model_dir=tmp_path, precision="int8")


def test_bench_rows_name_int8_as_the_settings_do(built_openvino, monkeypatch):
    """bench/accuracy.py and bench/engine.py rows: what the settings offer through them, the rest as built files."""
    paths = openvino_int8.int8_paths(built_openvino, get_model_set(SMALL))
    not_offered = spec_overrides(SMALL, "openvino:int8", built_openvino)  # tiny's failed the gate
    assert not_offered["rec_model_path"] == paths["rec"] and "det_model_path" not in not_offered
    monkeypatch.setitem(precision.INT8_VERIFIED, SMALL, "test")
    assert spec_overrides(SMALL, "auto:int8:fp32", built_openvino) == {
        "backend": "auto", "precision": "int8", "det_precision": "fp32"}
    det_only = spec_overrides(SMALL, "openvino:fp32:int8", built_openvino)
    assert det_only["det_model_path"] == paths["det"] and "rec_model_path" not in det_only
    both = spec_overrides(SMALL, "openvino:int8:int8", built_openvino)
    assert (both["det_model_path"], both["rec_model_path"]) == (paths["det"], paths["rec"])
    with pytest.raises(ConfigError, match="runs on openvino"):
        spec_overrides(SMALL, "auto:bf16:int8", built_openvino)


def test_openvino_corrupt_or_foreign_files_are_refused(built_openvino, tmp_path):
    link_fp32_files(tmp_path)
    shutil.copytree(built_openvino / openvino_int8.VARIANT, tmp_path / openvino_int8.VARIANT)
    mset = get_model_set(SMALL)
    directory = openvino_int8.variant_dir(tmp_path, mset)
    weights = directory / openvino_int8.read_manifest(tmp_path, mset)["files"]["rec"]["weights"]
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelCorrupt, match="--backend openvino"):
        openvino_int8.int8_paths(tmp_path, mset)
    assert openvino_int8.variant_status(tmp_path, mset) == "corrupt"
    assert set(openvino_int8.int8_paths(tmp_path, mset, verify=False)) == {"det", "rec"}
    manifest_path = directory / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"]["det"]["source_sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelCorrupt, match="was built from"):
        openvino_int8.int8_paths(tmp_path, mset, verify=False)
    shutil.rmtree(directory)
    assert openvino_int8.variant_status(tmp_path, mset) == "missing"


def test_openvino_quantize_needs_calibration_images(tmp_path, monkeypatch, capsys):
    link_fp32_files(tmp_path)
    monkeypatch.setenv("OCR_MODEL_DIR", str(tmp_path))
    assert main(["models", "quantize", SMALL, "--backend", "openvino"]) != 0
    assert "--calibration" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["models", "quantize", SMALL, "--backend", "openvino", "--calibration", str(tmp_path / "empty")]) != 0
    assert "no calibration images" in capsys.readouterr().err
    assert not openvino_int8.variant_dir(tmp_path, get_model_set(SMALL)).joinpath("manifest.json").exists()


def test_openvino_ir_keeps_the_onnx_metadata(tmp_path):
    """An embedded dictionary (PP-OCRv4's `character`) survives quantisation into the IR's rt_info."""
    import onnx
    from onnx import TensorProto, helper

    weight = helper.make_tensor("w", TensorProto.FLOAT, (4, 3, 3, 3), np.random.default_rng(0).normal(size=108))
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, (1, 3, 8, 8))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, (1, 4, 8, 8))], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    helper.set_model_props(model, {"character": "a\nb\n中"})
    onnx.save(model, tmp_path / "m.onnx")
    data = [np.random.default_rng(i).random((1, 3, 8, 8), dtype=np.float32) for i in range(3)]
    quantize_openvino.quantize_file(tmp_path / "m.onnx", tmp_path / "m.xml", data, quantize_openvino.NncfPlan())
    assert ir_metadata(tmp_path / "m.xml") == {"character": "a\nb\n中"}


# --- fast detection profile ------------------------------------------------------------------
def test_fast_profile_is_a_setting(monkeypatch):
    monkeypatch.setenv("OCR_DET_PROFILE", "fast")
    assert load_settings().det_profile == "fast"
    monkeypatch.setenv("OCR_DET_PROFILE", "fastest")
    with pytest.raises(ConfigError, match="det_profile"):
        load_settings()


def test_fast_profile_shrinks_the_detector_input(samples_dir):
    fast = OCR(model=SMALL, det_profile="fast")
    accurate = OCR(model=SMALL)
    rule = DET_PROFILES["fast"]
    assert rule is not None
    det = fast.pipeline.resolve_options(None).det
    assert (det.limit_type, det.limit_side_len) == (rule.limit_type, rule.limit_side_len)
    # a request's own values still win over the profile
    det = fast.pipeline.resolve_options(OCROptions(text_det_limit_type="min", text_det_limit_side_len=736)).det
    assert (det.limit_type, det.limit_side_len) == ("min", 736)

    shapes: dict[str, list[tuple[int, ...]]] = defaultdict(list)

    def recording(label: str, run):
        def wrapped(batch: np.ndarray) -> np.ndarray:
            shapes[label].append(batch.shape)
            return run(batch)
        return wrapped

    for label, ocr in (("fast", fast), ("accurate", accurate)):
        model = ocr.pipeline.detector.model
        model.run = recording(label, model.run)  # this instance only
        result = ocr(samples_dir / "pages/p05_en_table_smi_p12.png")  # 1271x1644: 960 px long side is 0.34x the pixels
        assert result.det_params["limit_type"] == ocr.pipeline.resolve_options(None).det.limit_type
    (fast_shape,), (accurate_shape,) = shapes["fast"], shapes["accurate"]
    assert fast_shape[2] * fast_shape[3] < 0.5 * accurate_shape[2] * accurate_shape[3]
    h, w = result.height, result.width
    assert fast_shape[2:] == resize_shape(h, w, rule.limit_side_len, rule.limit_type, 4000, 2000)


def test_fast_profile_accuracy_floor(samples_dir):
    """pp-ocrv6-small, measured on these five files (2026-11-22): fast 0.962, min 736 0.960."""
    ocr = OCR(model="pp-ocrv6-small", det_profile="fast", max_pdf_pages=0)
    assert mean_accuracy(ocr, samples_dir, FEW) >= 0.95


def test_nncf_sends_no_telemetry():
    """Outside pytest, nncf reports usage to an analytics service unless switched off; ours is switched off."""
    import subprocess
    import sys

    code = ("from ocrserve.tools.quantize_openvino import import_nncf; import_nncf(); "
            "from nncf.telemetry.wrapper import NNCFTelemetryStub, telemetry; "
            "print(isinstance(telemetry, NNCFTelemetryStub))")
    env = {k: v for k, v in os.environ.items() if k not in ("NNCF_CI", "NNCF_DEV")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True"]
