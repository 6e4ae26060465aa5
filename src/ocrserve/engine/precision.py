"""Which inference backend and numeric precision each stage runs in, and why.

`choose` is a pure function of what the operator asked (`OCR_BACKEND`, `OCR_PRECISION`,
`OCR_DET_PRECISION`), the model set, this CPU's ISA flags and the installed backends, so tests
inject flags and backends instead of needing a CPU that has them.

Each stage gets its own (backend, precision): OpenVINO fp32 measured no faster than ONNX Runtime
and costs compile time and memory, so a stage runs on OpenVINO only where a precision needs it.
`OCR_PRECISION` sets the recogniser's precision (73% of a page's time) and the detector's unless
`OCR_DET_PRECISION` says (int8 is the recogniser's only: the detector then stays fp32); the
orientation classifiers always run fp32 (~2% of a page, and a flipped decision costs a whole line
or page).  An explicit `OCR_BACKEND` puts every stage on it; `auto` puts bf16 and int8 stages on
OpenVINO and fp32 ones on ONNX Runtime.

`auto` precision takes the fastest row of `VERIFIED` for the model set that this CPU and
installation can run, else ONNX Runtime fp32 everywhere (today's default, unchanged).  A row is listed only after
`python bench/accuracy.py` showed it within `GATE_POINTS` of fp32 on every sample kind; the
numbers, the date and the command are in docs/precision.md.  int8 is never `auto`'s: its files
are built here from the operator's own calibration images, which no gate run has seen.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from .backends import BACKENDS

log = logging.getLogger("ocrserve.precision")

BACKEND_NAMES = tuple(BACKENDS)
PRECISIONS = ("fp32", "bf16", "int8")
DET_PRECISIONS = ("fp32", "bf16")  # int8 detection lost 0.25 points on PDF pages (docs/precision.md)
STAGES = ("det", "rec", "textline_cls", "doc_orientation")
GATE_POINTS = 0.2  # a row may be chosen by `auto` only this close to fp32 on every sample kind

#: precision -> ISA flags (as /proc/cpuinfo spells them) any one of which the CPU must have
REQUIRED_FLAGS: dict[str, tuple[str, ...]] = {
    "fp32": (),
    "bf16": ("avx512_bf16", "amx_bf16"),
    "int8": ("avx512_vnni", "avx_vnni", "amx_int8"),  # measured with VNNI; without it int8 is unmeasured
}
#: precisions each backend can run on CPU, the Python module it needs, how to install it: its registry entry's
BACKEND_PRECISIONS: dict[str, tuple[str, ...]] = {name: entry.precisions for name, entry in BACKENDS.items()}
BACKEND_MODULES: dict[str, str] = {name: entry.package for name, entry in BACKENDS.items()}
INSTALL_HINT: dict[str, str] = {name: entry.install_hint for name, entry in BACKENDS.items() if entry.install_hint}
#: why running a precision without its flags is refused
EMULATED: dict[str, str] = {
    "bf16": "emulated bf16 would be slower than fp32",
    "int8": "int8 was measured only with VNNI instructions",
}


Placement = tuple[str, str]  # (backend, precision) of one stage
ORT_FP32: Placement = ("onnxruntime", "fp32")


@dataclass(frozen=True)
class VerifiedRow:
    """A combination that passed the accuracy gate for one model set (docs/precision.md)."""

    model_set: str
    det: Placement
    rec: Placement
    time_ratio: float  # engine time / ONNX Runtime fp32 in the same bench run (lower is faster)
    verified: str  # date of the accuracy run
    cls: Placement = ORT_FP32  # both orientation classifiers
    # CPU flags (any one) the row's time was measured with, beyond what its precisions need: a row
    # that is faster only with them is not chosen without them
    faster_with: tuple[str, ...] = ()

    def faster_here(self, flags: frozenset[str]) -> bool:
        return not self.faster_with or any(flag in flags for flag in self.faster_with)

    def placements(self) -> dict[str, Placement]:
        return {"det": self.det, "rec": self.rec, "textline_cls": self.cls, "doc_orientation": self.cls}

    def precisions(self) -> dict[str, str]:
        return {stage: precision for stage, (_, precision) in self.placements().items()}


OV_BF16: Placement = ("openvino", "bf16")
OV_FP32: Placement = ("openvino", "fp32")

# Rows whose accuracy held, with their measured time (docs/precision.md has the tables and commands).
# bf16 detection is listed for pp-ocrv6-tiny only: on v5 and v4 it lost 0.6 and 2.8 points (PDF pages, scenes).
# OpenVINO fp32 rows read every sample exactly as ONNX Runtime: listed where they were faster (CPUs without bf16).
VERIFIED: tuple[VerifiedRow, ...] = (
    # against ONNX Runtime with a recognition call per core, OpenVINO bf16 (one call at a time) was 1.25x the
    # time with AVX512_BF16 alone (AMD EPYC, 2026-12-07) and 0.60x with AMX (Xeon, 2026-12-02, one call each)
    VerifiedRow("pp-ocrv6-small", det=ORT_FP32, rec=OV_BF16, time_ratio=0.60, verified="2026-12-01",
                faster_with=("amx_bf16",)),
    VerifiedRow("pp-ocrv6-tiny", det=OV_BF16, rec=OV_BF16, time_ratio=0.83, verified="2026-12-01"),
    VerifiedRow("pp-ocrv6-tiny", det=ORT_FP32, rec=OV_BF16, time_ratio=0.90, verified="2026-12-01"),
    VerifiedRow("pp-ocrv5-mobile", det=ORT_FP32, rec=OV_BF16, time_ratio=0.59, verified="2026-12-01"),
    VerifiedRow("pp-ocrv4-mobile", det=ORT_FP32, rec=OV_BF16, time_ratio=0.48, verified="2026-12-01"),
    VerifiedRow("pp-ocrv5-mobile", det=OV_FP32, rec=OV_FP32, cls=OV_FP32, time_ratio=0.61, verified="2026-12-01"),
    VerifiedRow("pp-ocrv4-mobile", det=OV_FP32, rec=OV_FP32, cls=OV_FP32, time_ratio=0.52, verified="2026-12-01"),
)


#: model sets whose NNCF int8 recogniser passed the gate, with the date (docs/precision.md); others refuse int8
INT8_VERIFIED: dict[str, str] = {"pp-ocrv6-small": "2026-12-01"}


@dataclass(frozen=True)
class Choice:
    """Where every model of one engine runs, with the sentence that explains it."""

    placements: dict[str, Placement] = field(default_factory=lambda: dict.fromkeys(STAGES, ORT_FP32))
    reason: str = ""

    @property
    def precisions(self) -> dict[str, str]:
        return {stage: precision for stage, (_, precision) in self.placements.items()}

    @property
    def backends(self) -> dict[str, str]:
        return {stage: backend for stage, (backend, _) in self.placements.items()}

    def summary(self) -> str:
        """`onnxruntime fp32`, or per stage (`det onnxruntime fp32, rec openvino bf16, ...`) when they differ."""
        values = set(self.placements.values())
        if len(values) == 1:
            return " ".join(values.pop())
        return ", ".join(f"{s} {b} {p}" for s, (b, p) in self.placements.items())


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The ISA flags of the first CPU listed (empty where /proc/cpuinfo is absent: not Linux x86)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def installed_backends() -> frozenset[str]:
    """Backends whose Python package can be imported here (found, not imported: that costs time)."""
    return frozenset(name for name, module in BACKEND_MODULES.items() if importlib.util.find_spec(module))


def missing_flag(precision: str, flags: frozenset[str]) -> str | None:
    """None when this CPU runs `precision` natively, else the flag(s) it lacks, for the error."""
    needed = REQUIRED_FLAGS[precision]
    if not needed or any(flag in flags for flag in needed):
        return None
    return " or ".join(needed)


def _check(placements: dict[str, Placement], flags: frozenset[str], installed: frozenset[str]) -> None:
    """Raise ConfigError for an explicit request this host or installation cannot honour."""
    for stage, (backend, precision) in placements.items():
        if backend not in installed:
            hint = INSTALL_HINT.get(backend, f"install {BACKEND_MODULES[backend]}")
            raise ConfigError(f"the {backend} backend is needed ({stage} {precision}) but the "
                              f"{BACKEND_MODULES[backend]} package is not installed: {hint}")
        if precision not in BACKEND_PRECISIONS[backend]:
            raise ConfigError(f"{precision} is not available on the {backend} backend (it runs "
                              f"{', '.join(BACKEND_PRECISIONS[backend])}); set OCR_BACKEND=openvino or auto, or "
                              f"OCR_PRECISION=fp32 ({stage})")
        lacking = missing_flag(precision, flags)
        if lacking:
            raise ConfigError(f"{precision} needs a CPU with {lacking}, which this CPU does not report in "
                              f"/proc/cpuinfo ({EMULATED[precision]}); set OCR_PRECISION=fp32 or auto")


def fastest_backend(precision: str) -> str:
    """Where a precision runs best: bf16 only on OpenVINO; fp32 on ONNX Runtime (OpenVINO fp32 was no faster)."""
    return "onnxruntime" if precision in BACKEND_PRECISIONS["onnxruntime"] else "openvino"


def _explicit(model_set: str, backend: str, precision: str, det_precision: str, flags: frozenset[str],
              installed: frozenset[str]) -> Choice:
    rec = "fp32" if precision == "auto" else precision
    if rec == "int8" and model_set not in INT8_VERIFIED:
        raise ConfigError(f"int8 is offered only where its recogniser passed the accuracy gate "
                          f"({', '.join(INT8_VERIFIED)}), not for {model_set} (docs/precision.md); "
                          "set OCR_PRECISION=auto or bf16")
    # the detector follows OCR_PRECISION where that precision is offered for detection
    det = (rec if rec in DET_PRECISIONS else "fp32") if det_precision == "auto" else det_precision
    wanted = {"det": det, "rec": rec, "textline_cls": "fp32", "doc_orientation": "fp32"}
    placements = {stage: (fastest_backend(p) if backend == "auto" else backend, p) for stage, p in wanted.items()}
    _check(placements, flags, installed)
    return Choice(placements, "as configured (OCR_BACKEND / OCR_PRECISION / OCR_DET_PRECISION)")


def choose(model_set: str, backend: str = "auto", precision: str = "auto", det_precision: str = "auto", *,
           flags: frozenset[str] | None = None, installed: frozenset[str] | None = None,
           verified: tuple[VerifiedRow, ...] = VERIFIED, registry_files: bool = True,
           cpu_only: bool = True) -> Choice:
    """The backend and per-stage precisions for one engine (ConfigError for an impossible request).

    `registry_files`: the set's own files are used (rows were verified on those, not on an
    operator's own `*_model_path`).  `cpu_only`: no accelerator provider was asked for (rows are
    CPU measurements; a GPU keeps ONNX Runtime and its providers).
    """
    flags = cpu_flags() if flags is None else flags
    installed = installed_backends() if installed is None else installed
    if backend not in ("auto", *BACKEND_NAMES):
        raise ConfigError(f"unknown backend {backend!r}; known: auto, {', '.join(BACKEND_NAMES)}")
    if precision not in ("auto", *PRECISIONS):
        raise ConfigError(f"unknown precision {precision!r}; known: auto, {', '.join(PRECISIONS)}")
    if det_precision not in ("auto", *DET_PRECISIONS):
        raise ConfigError(f"detector precision {det_precision!r} is not offered; known: auto, "
                          f"{', '.join(DET_PRECISIONS)} (int8 detection failed the accuracy gate, docs/precision.md)")
    explicit_precision = precision != "auto" or det_precision != "auto"
    if explicit_precision or backend == "onnxruntime":
        return _explicit(model_set, backend, precision, det_precision, flags, installed)
    # auto precision (and auto or openvino backend): the fastest verified row this host can run
    fallback = Choice(dict.fromkeys(STAGES, ORT_FP32 if backend == "auto" else (backend, "fp32")))
    if not cpu_only:
        return _with_reason(fallback, "accelerator providers configured: verified rows are CPU-only")
    if not registry_files:
        return _with_reason(fallback, "custom model files: no verified rows for them")
    rows = [r for r in verified if r.model_set == model_set
            and (backend == "auto" or {b for b, _ in r.placements().values()} == {backend})]
    usable = [r for r in rows if r.faster_here(flags) and all(b in installed and missing_flag(p, flags) is None
                                                              for b, p in r.placements().values())]
    if usable:
        best = min(usable, key=lambda r: r.time_ratio)
        if best.time_ratio < 1.0 or backend != "auto":
            choice = Choice(best.placements())
            needs = {f for p in set(best.precisions().values()) for f in REQUIRED_FLAGS[p] if f in flags}
            cpu = f"; CPU has {', '.join(sorted(needs))}" if needs else ""
            return _with_reason(choice, f"verified {best.verified} for {model_set} within {GATE_POINTS} points of "
                                        f"fp32 on every sample kind, {best.time_ratio:.2f}x its engine time{cpu}")
    if backend != "auto":
        _check(fallback.placements, flags, installed)
    unusable = sorted({_need(r, flags, installed) for r in rows if r not in usable})
    why = ("verified rows need " + "; ".join(unusable)) if unusable else f"no faster row verified for {model_set}"
    return _with_reason(fallback, why)


def _need(row: VerifiedRow, flags: frozenset[str], installed: frozenset[str]) -> str:
    absent = sorted({b for b, _ in row.placements().values()} - installed)
    if absent:
        return "the " + ", ".join(f"{b} package ({INSTALL_HINT.get(b, '')})" for b in absent)
    lacking = {missing_flag(p, flags) for p in row.precisions().values()} - {None}
    if not row.faster_here(flags):
        lacking.add(" or ".join(row.faster_with) + " to be faster")
    return "a CPU with " + ", ".join(sorted(str(x) for x in lacking))


def parse_spec(spec: str) -> dict[str, str]:
    """`auto:bf16:fp32` (backend, precision, detector precision) -> settings overrides, for benches; settings
    by field name may follow after commas: `onnxruntime:fp32,rec_workers=1`."""
    placement, *others = spec.split(",")
    parts = placement.split(":")
    if not 1 <= len(parts) <= 3 or not all("=" in other for other in others):
        raise ValueError(f"{spec!r}: expected BACKEND[:PRECISION[:DET_PRECISION]][,SETTING=VALUE...]")
    keys = ("backend", "precision", "det_precision")
    return {**dict(zip(keys, parts)), **dict(other.split("=", 1) for other in others)}


def _with_reason(choice: Choice, reason: str) -> Choice:
    return Choice(dict(choice.placements), reason)


__all__ = ["Choice", "GATE_POINTS", "INT8_VERIFIED", "VERIFIED", "VerifiedRow", "choose", "cpu_flags", "installed_backends",
           "missing_flag", "parse_spec"]
