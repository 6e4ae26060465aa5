"""The OpenVINO backend on the real model files against ONNX Runtime's sessions (the openvino extra)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ocrserve import OCR
from ocrserve.engine.backends import BACKENDS, load_model
from ocrserve.engine.backends.openvino import import_openvino
from ocrserve.engine.precision import cpu_flags, missing_flag
from ocrserve.engine.runtime import OnnxModel, RuntimeConfig
from ocrserve.models.resolve import resolve_models
from ocrserve.settings import load_settings

import_openvino()  # the README's test command installs the extra: without it this module fails

HAS_BF16 = missing_flag("bf16", cpu_flags()) is None


@pytest.fixture(scope="module")
def models():
    return resolve_models(load_settings(model="pp-ocrv6-small"))


@pytest.fixture(scope="module")
def lines() -> np.ndarray:
    """Six 48x320 recogniser inputs with text-like strokes (deterministic)."""
    rng = np.random.default_rng(7)
    batch = np.full((6, 3, 48, 320), 0.9, np.float32)
    for i in range(6):
        for x in range(8, 300, 14):
            batch[i, :, 12:36, x:x + rng.integers(3, 9)] = -0.9
    return batch


def openvino_cfg(precision: str) -> RuntimeConfig:
    return RuntimeConfig(placements=(("rec", "openvino", precision), ("det", "openvino", precision)))


def test_registry_names_both_backends():
    assert set(BACKENDS) == {"onnxruntime", "openvino"}


def test_openvino_fp32_matches_onnxruntime(models, lines):
    ort_model = OnnxModel(models.rec_path, RuntimeConfig(), "rec")
    ov_model = load_model(models.rec_path, openvino_cfg("fp32"), "rec")
    assert ov_model.providers == ["OpenVINO CPU fp32"]
    expected, got = ort_model.run(lines), ov_model.run(lines)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=2e-3)
    assert (got.argmax(-1) == expected.argmax(-1)).mean() > 0.999
    assert ov_model.metadata() == ort_model.metadata()  # the dictionary travels in the ONNX metadata


def test_one_compiled_model_serves_many_threads(models, lines):
    model = load_model(models.rec_path, openvino_cfg("fp32"), "rec")
    inputs = [lines[i:i + 1 + i % 3] for i in range(6)] * 3  # different batch sizes at once
    with ThreadPoolExecutor(4) as pool:
        outputs = list(pool.map(model.run, inputs))
    for batch, out in zip(inputs, outputs):
        np.testing.assert_array_equal(out, model.run(batch))


@pytest.mark.skipif(not HAS_BF16, reason="this CPU has neither AVX512_BF16 nor AMX")
def test_bf16_recogniser_reads_as_fp32_does(models, lines):
    fp32 = OnnxModel(models.rec_path, RuntimeConfig(), "rec").run(lines)
    bf16 = load_model(models.rec_path, openvino_cfg("bf16"), "rec").run(lines)
    assert (bf16.argmax(-1) == fp32.argmax(-1)).mean() > 0.98


def test_the_pipeline_reads_a_sample_on_openvino(samples_dir):
    image = samples_dir / "bench" / "receipt_zh.jpg"
    reference = OCR(model="pp-ocrv6-small", backend="onnxruntime").predict(image)[0]
    ocr = OCR(model="pp-ocrv6-small", backend="openvino", precision="fp32")
    assert ocr.pipeline.providers == ["OpenVINO CPU fp32"]
    assert ocr.predict(image)[0].texts == reference.texts
    if HAS_BF16:  # the mixed placement: detector and classifiers on ONNX Runtime, recogniser on OpenVINO bf16
        mixed = OCR(model="pp-ocrv6-small", precision="bf16", det_precision="fp32")
        assert mixed.pipeline.providers == ["CPUExecutionProvider"]
        assert mixed.pipeline.recognizer.model.providers == ["OpenVINO CPU bf16"]
        assert len(mixed.predict(image)[0].texts) == len(reference.texts)


IDLE_SCRIPT = """
import sys, time, cv2
from ocrserve.memory import set_mmap_threshold
set_mmap_threshold(1 << 20)
from ocrserve.engine import build_pipeline
from ocrserve.engine.backends.openvino import IDLE
from ocrserve.settings import load_settings
def rss(): return int(open("/proc/self/statm").read().split()[1]) * 4096 >> 20
idle = float(sys.argv[2])
pipeline = build_pipeline(load_settings(model="pp-ocrv6-tiny", backend="openvino", precision="fp32",
                                        arena_idle_release_s=idle))
pipeline.warm_up()
time.sleep(idle + 1)
base, releases = rss(), IDLE.releases
pipeline.predict(cv2.imread(sys.argv[1]))
after_page = rss()
time.sleep(idle + 1)
print(after_page - base, rss() - base, IDLE.releases - releases)
"""


def openvino_growth(page, idle_s: float) -> tuple[int, int, int]:
    """MiB above the warm baseline right after one page on OpenVINO and a while later, and releases made."""
    out = subprocess.run([sys.executable, "-c", IDLE_SCRIPT, str(page), str(idle_s)], capture_output=True,
                         text=True, check=True).stdout.split()
    return int(out[0]), int(out[1]), int(out[2])


def test_idle_openvino_models_give_their_page_buffers_back(samples_dir):
    """OpenVINO keeps a page's buffers (~300 MB for a 150 dpi page) until released on OCR_ARENA_IDLE_RELEASE_S."""
    page = samples_dir / "pages/p01_en_prose_tasn1_p5.png"
    after_page, later, releases = openvino_growth(page, 0.5)
    assert after_page > 150 and releases == 1
    assert later < after_page / 2
    after_page, later, releases = openvino_growth(page, 0)  # release off: the high-water mark stays
    assert releases == 0 and later > after_page * 0.8


SHAPES_SCRIPT = """
import sys, numpy as np
from ocrserve.engine.backends import load_model
from ocrserve.engine.runtime import RuntimeConfig
from ocrserve.models.resolve import resolve_models
from ocrserve.settings import load_settings
def rss(): return int(open("/proc/self/statm").read().split()[1]) * 4096 >> 20
cfg = RuntimeConfig(placements=(("rec", "openvino", "fp32"),), openvino_shape_cache=int(sys.argv[1]))
model = load_model(resolve_models(load_settings(model="pp-ocrv6-tiny")).rec_path, cfg, "rec")
model.run(np.zeros((1, 3, 48, 320), np.float32))
base, rng = rss(), np.random.default_rng(0)
for _ in range(200):  # every recognition batch has its own (crops, padded width)
    model.run(rng.random((int(rng.integers(1, 7)), 3, 48, int(rng.integers(40, 100)) * 8), dtype=np.float32))
print(rss() - base)
"""


def growth_over_shapes(capacity: int) -> int:
    out = subprocess.run([sys.executable, "-c", SHAPES_SCRIPT, str(capacity)], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.split()[-1])


def test_kernels_kept_for_new_shapes_are_bounded():
    """OpenVINO's own cache (5000 shapes) grows with every new batch shape; OCR_OPENVINO_SHAPE_CACHE bounds it."""
    unbounded, bounded = growth_over_shapes(5000), growth_over_shapes(10)
    assert unbounded - bounded > 100, (unbounded, bounded)
