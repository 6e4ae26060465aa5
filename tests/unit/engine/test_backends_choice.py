"""Backend and precision selection with the CPU's flags and the installed backends injected, so these
pass on every CPU (engine/precision.py)."""

from __future__ import annotations

import pytest

from ocrserve.engine import precision
from ocrserve.engine.config import EngineConfig
from ocrserve.engine.precision import VerifiedRow, choose, cpu_flags
from ocrserve.errors import ConfigError
from ocrserve.models import MODEL_SETS
from ocrserve.settings import load_settings

ZEN5 = frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"})
SAPPHIRE_RAPIDS = frozenset({"avx2", "avx512f", "amx_bf16", "amx_tile"})
XEON_NO_BF16 = frozenset({"avx2", "avx512f", "avx512_vnni"})
BOTH = frozenset({"onnxruntime", "openvino"})
ORT_ONLY = frozenset({"onnxruntime"})
ZEN2 = frozenset({"avx2"})  # neither bf16 nor VNNI
ORT, OV, OV_BF16 = ("onnxruntime", "fp32"), ("openvino", "fp32"), ("openvino", "bf16")
OV_INT8 = ("openvino", "int8")
ROWS = (
    VerifiedRow("pp-ocrv6-small", det=ORT, rec=OV_BF16, time_ratio=0.8, verified="2026-12-01"),
    VerifiedRow("pp-ocrv6-small", det=OV, rec=OV, cls=OV, time_ratio=0.98, verified="2026-12-01"),
)


def test_auto_takes_the_fastest_verified_row_this_cpu_runs():
    for flags in (ZEN5, SAPPHIRE_RAPIDS):
        choice = choose("pp-ocrv6-small", flags=flags, installed=BOTH, verified=ROWS)
        assert choice.placements == {"det": ORT, "rec": OV_BF16, "textline_cls": ORT, "doc_orientation": ORT}
        assert "verified 2026-12-01" in choice.reason and "bf16" in choice.reason


def test_a_row_faster_only_with_amx_is_not_chosen_without_it():
    amx_only = (VerifiedRow("pp-ocrv6-small", det=ORT, rec=OV_BF16, time_ratio=0.6, verified="2026-12-01",
                            faster_with=("amx_bf16",)),)
    assert choose("pp-ocrv6-small", flags=SAPPHIRE_RAPIDS, installed=BOTH, verified=amx_only).placements["rec"] == OV_BF16
    on_zen5 = choose("pp-ocrv6-small", flags=ZEN5, installed=BOTH, verified=amx_only)
    assert set(on_zen5.placements.values()) == {ORT}
    assert "amx_bf16 to be faster" in on_zen5.reason


def test_auto_without_bf16_takes_the_fastest_fp32_row():
    choice = choose("pp-ocrv6-small", flags=XEON_NO_BF16, installed=BOTH, verified=ROWS)
    assert set(choice.placements.values()) == {OV}


def test_auto_keeps_onnxruntime_fp32_when_nothing_faster_is_verified_or_installed():
    for kwargs in ({"installed": ORT_ONLY, "verified": ROWS},
                   {"installed": BOTH, "verified": ()},
                   {"installed": BOTH, "verified": ROWS[:1], "flags": XEON_NO_BF16}):
        choice = choose("pp-ocrv6-small", **{"flags": ZEN5, **kwargs})
        assert set(choice.placements.values()) == {ORT}
        assert choice.reason
    assert "openvino" in choose("pp-ocrv6-small", flags=ZEN5, installed=ORT_ONLY, verified=ROWS).reason
    assert "avx512_bf16" in choose("pp-ocrv6-small", flags=XEON_NO_BF16, installed=BOTH, verified=ROWS[:1]).reason
    # another model set, the operator's own files, a GPU: rows do not apply
    assert choose("pp-ocrv4-mobile", flags=ZEN5, installed=BOTH, verified=ROWS).backends["rec"] == "onnxruntime"
    assert choose("pp-ocrv6-small", flags=ZEN5, installed=BOTH, verified=ROWS,
                  registry_files=False).backends["rec"] == "onnxruntime"
    assert choose("pp-ocrv6-small", flags=ZEN5, installed=BOTH, verified=ROWS, cpu_only=False).backends["rec"] == "onnxruntime"


def test_bf16_on_a_cpu_without_it_is_an_error_naming_the_flag():
    with pytest.raises(ConfigError, match="avx512_bf16 or amx_bf16"):
        choose("pp-ocrv6-small", "openvino", "bf16", flags=XEON_NO_BF16, installed=BOTH)
    with pytest.raises(ConfigError, match="avx512_bf16"):
        choose("pp-ocrv6-small", precision="fp32", det_precision="bf16", flags=XEON_NO_BF16, installed=BOTH)


def test_explicit_requests_are_honoured_or_refused():
    choice = choose("pp-ocrv6-small", "openvino", "bf16", "fp32", flags=ZEN5, installed=BOTH)
    assert choice.placements == {"det": OV, "rec": OV_BF16, "textline_cls": OV, "doc_orientation": OV}
    # backend auto: bf16 stages on OpenVINO, fp32 ones on ONNX Runtime; classifiers stay fp32
    choice = choose("pp-ocrv6-small", precision="bf16", det_precision="fp32", flags=ZEN5, installed=BOTH)
    assert choice.placements == {"det": ORT, "rec": OV_BF16, "textline_cls": ORT, "doc_orientation": ORT}
    assert choose("pp-ocrv6-small", precision="bf16", flags=ZEN5, installed=BOTH).placements["det"] == OV_BF16
    assert set(choose("pp-ocrv6-small", "onnxruntime", flags=ZEN5, installed=BOTH,
                      verified=ROWS).placements.values()) == {ORT}
    with pytest.raises(ConfigError, match="not available on the onnxruntime backend"):
        choose("pp-ocrv6-small", "onnxruntime", "bf16", flags=ZEN5, installed=BOTH)
    with pytest.raises(ConfigError, match=r"ocrserve\[openvino\]"):
        choose("pp-ocrv6-small", "openvino", flags=ZEN5, installed=ORT_ONLY)
    with pytest.raises(ConfigError, match=r"ocrserve\[openvino\]"):
        choose("pp-ocrv6-small", precision="bf16", flags=ZEN5, installed=ORT_ONLY)


def test_int8_is_the_recognisers_only_and_needs_vnni():
    choice = choose("pp-ocrv6-small", precision="int8", flags=XEON_NO_BF16, installed=BOTH)
    assert choice.placements == {"det": ORT, "rec": OV_INT8, "textline_cls": ORT, "doc_orientation": ORT}
    choice = choose("pp-ocrv6-small", "openvino", "int8", flags=ZEN5, installed=BOTH)
    assert choice.placements == {"det": OV, "rec": OV_INT8, "textline_cls": OV, "doc_orientation": OV}
    assert choose("pp-ocrv6-small", precision="int8", det_precision="bf16", flags=ZEN5,
                  installed=BOTH).placements["det"] == OV_BF16
    with pytest.raises(ConfigError, match="int8 detection failed the accuracy gate"):
        choose("pp-ocrv6-small", precision="int8", det_precision="int8", flags=ZEN5, installed=BOTH)
    with pytest.raises(ConfigError, match="avx512_vnni"):
        choose("pp-ocrv6-small", precision="int8", flags=ZEN2, installed=BOTH)
    with pytest.raises(ConfigError, match="not available on the onnxruntime backend"):
        choose("pp-ocrv6-small", "onnxruntime", "int8", flags=ZEN5, installed=BOTH)
    with pytest.raises(ConfigError, match=r"ocrserve\[openvino\]"):
        choose("pp-ocrv6-small", precision="int8", flags=ZEN5, installed=ORT_ONLY)
    with pytest.raises(ConfigError, match="not for pp-ocrv4-mobile"):  # its int8 recogniser was not gated
        choose("pp-ocrv4-mobile", precision="int8", flags=ZEN5, installed=BOTH)


def test_auto_never_picks_int8():
    """int8 files are built from the operator's calibration images, which no gate run has seen."""
    assert all("int8" not in row.precisions().values() for row in precision.VERIFIED)
    for name in ("pp-ocrv6-small", "pp-ocrv6-tiny", "pp-ocrv5-mobile", "pp-ocrv4-mobile"):
        assert "int8" not in choose(name, flags=ZEN5 | {"amx_int8"}, installed=BOTH).precisions.values()


def test_each_model_set_gets_the_row_its_gate_passed():
    """docs/precision.md: every set's recogniser passed in bf16, the detector only pp-ocrv6-tiny's; without
    bf16, v4 and v5 run on OpenVINO fp32 (read identically, faster) and v6 stays on ONNX Runtime.
    pp-ocrv6-small's bf16 recogniser is faster than ONNX Runtime's per-core calls only with AMX."""
    for name in MODEL_SETS:
        with_amx = choose(name, flags=ZEN5 | SAPPHIRE_RAPIDS, installed=BOTH).placements["rec"]
        assert with_amx == OV_BF16, name
        assert choose(name, flags=ZEN5, installed=BOTH).placements["rec"] == (
            ORT if name == "pp-ocrv6-small" else OV_BF16), name
        without_bf16 = set(choose(name, flags=XEON_NO_BF16, installed=BOTH).placements.values())
        assert without_bf16 == ({OV} if name in ("pp-ocrv4-mobile", "pp-ocrv5-mobile") else {ORT}), name
        assert set(choose(name, flags=ZEN5, installed=ORT_ONLY).placements.values()) == {ORT}, name
    detectors = {name: choose(name, flags=ZEN5 | SAPPHIRE_RAPIDS, installed=BOTH).placements["det"]
                 for name in MODEL_SETS}
    assert detectors == {"pp-ocrv6-small": ORT, "pp-ocrv6-tiny": OV_BF16, "pp-ocrv5-mobile": ORT,
                         "pp-ocrv4-mobile": ORT}


def test_every_verified_row_is_well_formed():
    for row in precision.VERIFIED:
        assert row.time_ratio > 0 and row.verified
        for backend, value in row.placements().values():
            assert value in precision.BACKEND_PRECISIONS[backend]


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx512f avx512_bf16\n\n"
                    "processor\t: 1\nflags\t\t: fpu\n", encoding="utf-8")
    assert cpu_flags(info) == frozenset({"fpu", "avx512f", "avx512_bf16"})
    assert cpu_flags(tmp_path / "absent") == frozenset()


def test_settings_reach_the_engine_config(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: XEON_NO_BF16)
    default = EngineConfig.from_settings(load_settings()).runtime
    assert {default.precision_of(s) for s in precision.STAGES} == {"fp32"}  # no bf16 on this "CPU"
    with pytest.raises(ConfigError, match="avx512_bf16"):
        EngineConfig.from_settings(load_settings(backend="openvino", precision="bf16"))
    monkeypatch.setattr(precision, "cpu_flags", lambda: ZEN5)
    monkeypatch.setattr(precision, "installed_backends", lambda: BOTH)
    runtime = EngineConfig.from_settings(load_settings(backend="openvino", precision="bf16",
                                                       det_precision="fp32")).runtime
    assert runtime.backend_of("det") == "openvino" and runtime.precision_of("det") == "fp32"
    assert runtime.backend_of("rec") == "openvino" and runtime.precision_of("rec") == "bf16"
    assert runtime.backend_reason
