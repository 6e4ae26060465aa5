"""ONNX Runtime sessions: provider choice, thread counts, and one thread-safe `run` per model.

`RuntimeConfig` is what every model of an engine shares, for whichever backend loads it
(engine/backends: ONNX Runtime here, OpenVINO beside it; `backends.load_model` picks by name).

Providers come from a registry (name -> ORT provider id + options builder), not an if-chain.
A requested accelerator that the installed onnxruntime build lacks is an error unless the
settings allow falling back to CPU; either way the effective providers are logged and kept.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from ..errors import InferenceError, ModelCorrupt, ProviderUnavailable
from .arena import IDLE_RELEASE, probe_input, use_shared_arena

log = logging.getLogger("ocrserve.runtime")


@dataclass(frozen=True)
class ProviderEntry:
    ort_name: str
    options: Callable[[int], dict[str, Any]]


PROVIDERS: dict[str, ProviderEntry] = {
    "cpu": ProviderEntry("CPUExecutionProvider", lambda dev: {}),
    "cuda": ProviderEntry("CUDAExecutionProvider", lambda dev: {"device_id": dev}),
    "tensorrt": ProviderEntry(
        "TensorrtExecutionProvider",
        lambda dev: {"device_id": dev, "trt_engine_cache_enable": True, "trt_fp16_enable": False},
    ),
    "rocm": ProviderEntry("ROCMExecutionProvider", lambda dev: {"device_id": dev}),
    "openvino": ProviderEntry("OpenVINOExecutionProvider", lambda dev: {}),
    "directml": ProviderEntry("DmlExecutionProvider", lambda dev: {"device_id": dev}),
}


@dataclass(frozen=True)
class RuntimeConfig:
    """What every session of one Pipeline shares."""

    providers: tuple[str, ...] = ("cpu",)
    device_id: int = 0
    rocm_device_id: int | None = None
    allow_cpu_fallback: bool = False
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    cpu_mem_arena: bool = True  # the process's one shared arena (arena.py)
    arena_idle_release_s: float = 2.0
    arena_region_mb: int = 512  # 0: ONNX Runtime's 2 MiB, doubling (arena.py)
    openvino_shape_cache: int = 100  # OpenVINO's CPU_RUNTIME_CACHE_CAPACITY (backends/openvino.py)
    spinning: bool = True
    # calls this model runs at once, each on one core (the recogniser's workers); 1: one call on every core
    parallel_calls: int = 1
    # engine/precision.py: (stage, backend, precision) per model (absent: onnxruntime fp32), and why
    placements: tuple[tuple[str, str, str], ...] = ()
    backend_reason: str = ""
    compile_cache_dir: Path | None = None  # OpenVINO's compiled blobs (None: compiled at every start)

    def backend_of(self, stage: str) -> str:
        return next((b for s, b, _ in self.placements if s == stage), "onnxruntime")

    def precision_of(self, stage: str) -> str:
        return next((p for s, _, p in self.placements if s == stage), "fp32")


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, where the platform has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def select_providers(cfg: RuntimeConfig) -> list[tuple[str, dict[str, Any]]]:
    """Map our provider names onto what this onnxruntime build offers, or raise."""
    available = set(ort.get_available_providers())
    chosen: list[tuple[str, dict[str, Any]]] = []
    missing: list[str] = []
    for name in cfg.providers:
        entry = PROVIDERS.get(name)
        if entry is None:
            raise ProviderUnavailable(f"unknown execution provider {name!r}; known: {sorted(PROVIDERS)}")
        if entry.ort_name not in available:
            missing.append(name)
            continue
        device = cfg.rocm_device_id if name == "rocm" and cfg.rocm_device_id is not None else cfg.device_id
        chosen.append((entry.ort_name, entry.options(device)))
    if missing and not cfg.allow_cpu_fallback:
        raise ProviderUnavailable(
            f"execution provider(s) {missing} requested but this onnxruntime build offers only "
            f"{sorted(available)}; install the matching onnxruntime package "
            "(onnxruntime-gpu, onnxruntime-rocm, onnxruntime-openvino, onnxruntime-directml) "
            "or set OCR_ALLOW_CPU_FALLBACK=true"
        )
    if missing:
        log.warning("providers %s unavailable, falling back to CPU (OCR_ALLOW_CPU_FALLBACK)", missing)
    if not any(name == "CPUExecutionProvider" for name, _ in chosen):
        chosen.append(("CPUExecutionProvider", {}))
    return chosen


class OnnxModel:
    """One loaded ONNX model.  `run` is safe to call from many threads at once (ORT guarantees it)."""

    def __init__(self, path: Path, cfg: RuntimeConfig, stage: str,
                 session: ort.InferenceSession | None = None) -> None:
        self.path = Path(path)
        self.stage = stage
        self.shared_arena = session is None and cfg.cpu_mem_arena
        self.session = session if session is not None else self._load(cfg)
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.input_name = self.input_names[0]
        self.first_output = self.session.get_outputs()[0].name  # `run` computes only what it returns
        self.providers = list(self.session.get_providers())
        if self.shared_arena:
            IDLE_RELEASE.configure(cfg.arena_idle_release_s)
            IDLE_RELEASE.watch(self)
        log.info("%s: %s on %s", stage, self.path.name, ", ".join(self.providers))

    def _load(self, cfg: RuntimeConfig) -> ort.InferenceSession:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # several calls at once, each on its own core: a call runs on its caller's thread alone
        opts.intra_op_num_threads = 1 if cfg.parallel_calls > 1 else cfg.intra_op_threads
        opts.inter_op_num_threads = cfg.inter_op_threads
        opts.log_severity_level = 3
        if self.shared_arena:
            use_shared_arena(opts, cfg.arena_region_mb * 2**20)
        else:
            opts.enable_cpu_mem_arena = False
        if not cfg.spinning:  # idle pool threads sleep instead of burning a core another stage needs
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        providers = select_providers(cfg)
        try:
            return ort.InferenceSession(
                str(self.path), sess_options=opts,
                providers=[p for p, _ in providers], provider_options=[o for _, o in providers],
            )
        except Exception as exc:  # ORT raises its own Fail/InvalidProtobuf types
            raise ModelCorrupt(f"ONNX Runtime cannot load {self.path}: {exc}") from exc

    def metadata(self) -> dict[str, str]:
        return dict(self.session.get_modelmeta().custom_metadata_map)

    def run(self, batch: np.ndarray) -> np.ndarray:
        """First output for one input batch; ORT errors become InferenceError for this stage."""
        return self._run(batch, [self.first_output])[0]

    def run_outputs(self, batch: np.ndarray) -> list[np.ndarray]:
        """Every output, in the model's order (a detector with one head per stride has several)."""
        return self._run(batch, None)

    def run_named(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """Every output for a graph of several inputs, each fed by its name (a detector with its NMS inside)."""
        if set(feeds) != set(self.input_names):
            raise InferenceError(self.stage, f"{self.path.name} takes inputs {self.input_names}, "
                                             f"was fed {sorted(feeds)}")
        return self._feed(dict(feeds), None)

    def _run(self, batch: np.ndarray, names: list[str] | None) -> list[np.ndarray]:
        return self._feed({self.input_name: batch}, names)

    def _feed(self, feeds: dict[str, np.ndarray], names: list[str] | None) -> list[np.ndarray]:
        try:
            with IDLE_RELEASE.running() if self.shared_arena else nullcontext():
                out: list[np.ndarray] = self.session.run(names, feeds)
                return out
        except Exception as exc:
            raise InferenceError(self.stage, f"{type(exc).__name__}: {exc}") from exc

    def run_probe(self, run_options: ort.RunOptions) -> None:
        """A run on the smallest input this model takes (the arena release rides on it)."""
        self.session.run(None, {self.input_name: probe_input(self.session)}, run_options)

    def __repr__(self) -> str:
        return f"OnnxModel({self.stage}: {self.path.name})"
