"""Which inference backend and numeric precision each stage runs in, and why.

`choose` is a pure function of what the operator asked (`OCR_BACKEND`, `OCR_PRECISION`,
`OCR_DET_PRECISION`), the model set, this CPU's ISA flags and the installed backends, so tests
inject flags and backends instead of needing a CPU that has them.

`auto` takes the fastest row of `VERIFIED` for the model set that this CPU and installation can
run, else ONNX Runtime fp32 (today's default, unchanged).  A row is listed only after
`python bench/accuracy.py` showed it within `GATE_POINTS` of fp32 on every sample kind; the
numbers, the date and the command are in docs/precision.md.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError

log = logging.getLogger("ocrserve.precision")

BACKEND_NAMES = ("onnxruntime", "openvino")
PRECISIONS = ("fp32", "bf16")
STAGES = ("det", "rec", "textline_cls", "doc_orientation")
GATE_POINTS = 0.2  # a row may be chosen by `auto` only this close to fp32 on every sample kind

#: precision -> ISA flags (as /proc/cpuinfo spells them) any one of which the CPU must have
REQUIRED_FLAGS: dict[str, tuple[str, ...]] = {
    "fp32": (),
    "bf16": ("avx512_bf16", "amx_bf16"),
}
#: precisions each backend can run on CPU (ONNX Runtime's CPU kernels have no bf16 Conv)
BACKEND_PRECISIONS: dict[str, tuple[str, ...]] = {
    "onnxruntime": ("fp32",),
    "openvino": ("fp32", "bf16"),
}
#: the Python module that must be importable for a backend
BACKEND_MODULES: dict[str, str] = {"onnxruntime": "onnxruntime", "openvino": "openvino"}
INSTALL_HINT: dict[str, str] = {"openvino": "pip install 'ocrserve[openvino]'"}


@dataclass(frozen=True)
class VerifiedRow:
    """A combination that passed the accuracy gate for one model set (docs/precision.md)."""

    model_set: str
    backend: str
    det: str  # the detector's precision
    rec: str  # the recogniser's
    cls: str  # both orientation classifiers' (~2% of a page; a flipped decision costs a whole line or page)
    time_ratio: float  # engine time / ONNX Runtime fp32 in the same bench run (lower is faster)
    verified: str  # date of the accuracy run

    def precisions(self) -> dict[str, str]:
        return {"det": self.det, "rec": self.rec, "textline_cls": self.cls, "doc_orientation": self.cls}


# Rows whose accuracy held (docs/precision.md has the tables).  bf16 detection is not listed:
# it moved the probability map enough to lose lines on PDF pages.
VERIFIED: tuple[VerifiedRow, ...] = (
)


@dataclass(frozen=True)
class Choice:
    """What every model of one engine runs on, with the sentence that explains it."""

    backend: str
    precisions: dict[str, str] = field(default_factory=lambda: dict.fromkeys(STAGES, "fp32"))
    reason: str = ""

    def precision_of(self, stage: str) -> str:
        return self.precisions.get(stage, "fp32")

    def summary(self) -> str:
        """`openvino: det fp32, rec bf16, ...`, compact when every stage agrees."""
        values = set(self.precisions.values())
        if len(values) == 1:
            return f"{self.backend} {values.pop()}"
        return f"{self.backend} " + ", ".join(f"{s} {p}" for s, p in self.precisions.items())


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


def _check(backend: str, precisions: dict[str, str], flags: frozenset[str], installed: frozenset[str]) -> None:
    """Raise ConfigError for an explicit request this host or backend cannot honour."""
    if backend not in installed:
        hint = INSTALL_HINT.get(backend, f"install {BACKEND_MODULES[backend]}")
        raise ConfigError(f"OCR_BACKEND={backend} but the {BACKEND_MODULES[backend]} package is not installed: {hint}")
    for stage, precision in precisions.items():
        if precision not in BACKEND_PRECISIONS[backend]:
            raise ConfigError(f"{precision} is not available on the {backend} backend (it runs "
                              f"{', '.join(BACKEND_PRECISIONS[backend])}); set OCR_BACKEND=openvino or "
                              f"OCR_PRECISION=fp32 ({stage})")
        lacking = missing_flag(precision, flags)
        if lacking:
            raise ConfigError(f"{precision} needs a CPU with {lacking}, which this CPU does not report in "
                              "/proc/cpuinfo (emulated bf16 would be slower than fp32); set OCR_PRECISION=fp32 "
                              "or auto")


def _explicit(backend: str, precision: str, det_precision: str, flags: frozenset[str],
              installed: frozenset[str]) -> Choice:
    rec = "fp32" if precision == "auto" else precision
    det = rec if det_precision == "auto" else det_precision
    precisions = {stage: (det if stage == "det" else rec) for stage in STAGES}
    if backend == "auto":  # a precision was named: the fastest installed backend that runs it
        backend = next((b for b in ("openvino", "onnxruntime")
                        if b in installed and set(precisions.values()) <= set(BACKEND_PRECISIONS[b])),
                       "openvino" if set(precisions.values()) - {"fp32"} else "onnxruntime")
    _check(backend, precisions, flags, installed)
    return Choice(backend, precisions, "as configured (OCR_BACKEND / OCR_PRECISION / OCR_DET_PRECISION)")


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
    for value in (precision, det_precision):
        if value not in ("auto", *PRECISIONS):
            raise ConfigError(f"unknown precision {value!r}; known: auto, {', '.join(PRECISIONS)}")
    explicit_precision = precision != "auto" or det_precision != "auto"
    if backend != "auto" and (explicit_precision or backend == "onnxruntime"):
        return _explicit(backend, precision, det_precision, flags, installed)
    if backend == "auto" and explicit_precision:
        return _explicit(backend, precision, det_precision, flags, installed)
    # auto precision (and auto or openvino backend): the fastest verified row this host can run
    fallback = Choice("onnxruntime" if backend == "auto" else backend, reason="")
    if not cpu_only:
        return _with_reason(fallback, "accelerator providers configured: verified rows are CPU-only")
    if not registry_files:
        return _with_reason(fallback, "custom model files: no verified rows for them")
    rows = [r for r in verified if r.model_set == model_set and (backend == "auto" or r.backend == backend)]
    usable = [r for r in rows if r.backend in installed
              and all(missing_flag(p, flags) is None for p in r.precisions().values())]
    if usable:
        best = min(usable, key=lambda r: r.time_ratio)
        if best.time_ratio < 1.0 or backend != "auto":
            choice = Choice(best.backend, best.precisions())
            needs = {f for p in set(best.precisions().values()) for f in REQUIRED_FLAGS[p] if f in flags}
            cpu = f"; CPU has {', '.join(sorted(needs))}" if needs else ""
            return _with_reason(choice, f"verified {best.verified} for {model_set} within {GATE_POINTS} points of "
                                        f"fp32 on every sample kind, {best.time_ratio:.2f}x its engine time{cpu}")
    if backend != "auto":
        _check(backend, fallback.precisions, flags, installed)
    why = ("no faster row verified for " + model_set if not rows else
           "verified rows need " + "; ".join(
               sorted({_need(r, flags, installed) for r in rows if r not in usable})))
    return _with_reason(fallback, why)


def _need(row: VerifiedRow, flags: frozenset[str], installed: frozenset[str]) -> str:
    if row.backend not in installed:
        return f"the {row.backend} package ({INSTALL_HINT.get(row.backend, '')})"
    lacking = {missing_flag(p, flags) for p in row.precisions().values()} - {None}
    return "a CPU with " + ", ".join(sorted(str(x) for x in lacking))


def parse_spec(spec: str) -> dict[str, str]:
    """`openvino:bf16:fp32` (backend, precision, detector precision) -> settings overrides, for benches."""
    parts = spec.split(":")
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"{spec!r}: expected BACKEND[:PRECISION[:DET_PRECISION]]")
    keys = ("backend", "precision", "det_precision")
    return dict(zip(keys, parts))


def _with_reason(choice: Choice, reason: str) -> Choice:
    return Choice(choice.backend, dict(choice.precisions), reason)


__all__ = ["Choice", "GATE_POINTS", "VERIFIED", "VerifiedRow", "choose", "cpu_flags", "installed_backends",
           "missing_flag", "parse_spec"]
