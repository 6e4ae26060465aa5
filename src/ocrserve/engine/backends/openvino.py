"""OpenVINO: the runtime itself reading our ONNX files (fp32 or bf16) or the int8 IRs built from them.

One `CompiledModel` per file is shared by every thread; each thread keeps its own infer request
(a request holds its input and output tensors, so two threads must never share one).  The
precision is always set explicitly: on CPUs with AMX OpenVINO would otherwise pick bf16 itself,
and an fp32 row must mean fp32.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ConfigError, InferenceError, ModelCorrupt
from ..arena import IdleRelease
from ..runtime import RuntimeConfig

log = logging.getLogger("ocrserve.runtime")

#: our precision names -> OpenVINO's element types for INFERENCE_PRECISION_HINT (int8: what is not quantised)
HINTS = {"fp32": "f32", "bf16": "bf16", "int8": "f32"}
IR_METADATA = ("ocrserve", "onnx_metadata")  # where an IR built here keeps its ONNX file's metadata

_core: Any = None
_core_lock = threading.Lock()


def import_openvino() -> Any:
    """`openvino`, without its usage telemetry: importing it otherwise sends an event to an analytics
    service unless told no (no consent file counts as yes) and writes a client id under ~/intel, and a
    self-hosted service must reach only what its operator points it at."""
    # None in sys.modules makes the import fail, and OpenVINO falls back to its own stub
    sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
    import openvino

    return openvino


def core() -> Any:
    """The process's one `openvino.Core` (it owns the CPU plugin and its thread pool)."""
    global _core
    with _core_lock:
        if _core is None:
            _core = import_openvino().Core()
        return _core


def compile_config(cfg: RuntimeConfig, precision: str) -> dict[str, Any]:
    """Properties for `compile_model`: precision, latency (one request uses every core) or one stream per
    parallel call, shape cache, threads."""
    props: dict[str, Any] = {"INFERENCE_PRECISION_HINT": HINTS[precision], "PERFORMANCE_HINT": "LATENCY",
                             # kernels kept for shapes seen: nearly every page and batch is a new shape
                             "CPU_RUNTIME_CACHE_CAPACITY": cfg.openvino_shape_cache}
    if cfg.parallel_calls > 1:  # a stream of one thread per call that runs at once (the recogniser's workers)
        props.pop("PERFORMANCE_HINT")
        props.update(NUM_STREAMS=cfg.parallel_calls, INFERENCE_NUM_THREADS=cfg.parallel_calls)
    elif cfg.intra_op_threads:
        props["INFERENCE_NUM_THREADS"] = cfg.intra_op_threads
    if cfg.compile_cache_dir is not None and _writable(cfg.compile_cache_dir):
        props["CACHE_DIR"] = str(cfg.compile_cache_dir)  # a compiled blob per file and precision: faster restarts
    return props


def _writable(directory: Path) -> bool:
    """A read-only model directory (an image's baked-in files) just compiles at every start."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(directory, os.W_OK)


class OpenVinoModel:
    """One compiled model; `run` works from several threads (a request per thread), but the recogniser
    calls it from one at a time (BackendEntry.parallel_calls; docs/workers.md)."""

    def __init__(self, path: Path, cfg: RuntimeConfig, stage: str, precision: str) -> None:
        self.path = Path(path)
        self.stage = stage
        self.precision = precision
        try:
            self.compiled = core().compile_model(str(self.path), "CPU", compile_config(cfg, precision))
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses of its own
            raise ModelCorrupt(f"OpenVINO cannot load {self.path}: {exc}") from exc
        self.providers = [f"OpenVINO CPU {precision}"]
        self._local = threading.local()
        self._metadata: dict[str, str] | None = None
        self._runs = 0
        self._runs_lock = threading.Lock()  # a release waits for no run; a run waits for a release
        IDLE.configure(cfg.arena_idle_release_s)
        _RELEASER.models.add(self)
        IDLE.watch(_RELEASER)
        log.info("%s: %s on OpenVINO CPU, %s", stage, self.path.name, precision)

    def _request(self) -> Any:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        return request

    def run(self, batch: np.ndarray) -> np.ndarray:
        """First output for one input batch, copied out of the request's own buffer."""
        return self._infer(batch, 1)[0]

    def run_outputs(self, batch: np.ndarray) -> list[np.ndarray]:
        """Every output, in the model's order (a detector with one head per stride has several)."""
        return self._infer(batch, None)

    def run_named(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """Every output for a graph of several inputs, each fed by its name (a detector with its NMS inside)."""
        names = sorted(name for port in self.compiled.inputs for name in port.get_names())
        if not set(feeds) <= set(names) or len(feeds) != len(self.compiled.inputs):
            raise InferenceError(self.stage, f"{self.path.name} takes inputs {names}, was fed {sorted(feeds)}")
        return self._infer({name: np.ascontiguousarray(value) for name, value in feeds.items()}, None)

    def _infer(self, batch: np.ndarray | dict[str, np.ndarray], count: int | None) -> list[np.ndarray]:
        """The outputs (the first `count`, or all) for one batch fed to the first input, or for inputs by name."""
        with self._runs_lock:
            self._runs += 1
        try:
            with IDLE.running():
                request = self._request()
                feeds = batch if isinstance(batch, dict) else {0: np.ascontiguousarray(batch, dtype=np.float32)}
                request.infer(feeds)
                wanted = len(self.compiled.outputs) if count is None else count
                return [np.array(request.get_output_tensor(i).data, copy=True) for i in range(wanted)]
        except Exception as exc:
            raise InferenceError(self.stage, f"{type(exc).__name__}: {exc}") from exc
        finally:
            with self._runs_lock:
                self._runs -= 1

    def release_memory(self) -> bool:
        """Give back the buffers of the largest input seen (a page keeps ~250 MB otherwise); False while busy."""
        with self._runs_lock:
            if self._runs:
                return False
            self.compiled.release_memory()
            return True

    def metadata(self) -> dict[str, str]:
        """The model's metadata, read once: from an IR's rt_info, or the ONNX file (OpenVINO drops it there)."""
        if self._metadata is None:
            self._metadata = ir_metadata(self.path) if self.path.suffix == ".xml" else onnx_metadata(self.path)
        return self._metadata

    def __repr__(self) -> str:
        return f"OpenVinoModel({self.stage}: {self.path.name}, {self.precision})"


class _Releaser:
    """Every live OpenVINO model, released together once idle (arena.IdleRelease calls one probe per release)."""

    def __init__(self) -> None:
        self.models: weakref.WeakSet[OpenVinoModel] = weakref.WeakSet()

    def run_probe(self, run_options: Any) -> None:
        for model in list(self.models):
            model.release_memory()

    def __repr__(self) -> str:
        return f"OpenVINO models ({len(self.models)})"


#: OpenVINO's own idle keeper, on the settings' OCR_ARENA_IDLE_RELEASE_S like ONNX Runtime's arena
IDLE = IdleRelease()
_RELEASER = _Releaser()


def onnx_metadata(path: Path) -> dict[str, str]:
    """An ONNX file's metadata_props, through ONNX Runtime without optimising the graph."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    return dict(session.get_modelmeta().custom_metadata_map)


def ir_metadata(path: Path) -> dict[str, str]:
    """The ONNX metadata that `models quantize --backend openvino` copied into an IR's rt_info."""
    model = core().read_model(str(path))
    if not model.has_rt_info(list(IR_METADATA)):
        return {}
    return {str(key): str(value) for key, value in model.get_rt_info(list(IR_METADATA)).value.items()}


def int8_file(path: Path, cfg: RuntimeConfig) -> Path:
    """The NNCF int8 IR built from the fp32 file `path` (models/openvino_int8.py), sha256-checked."""
    from ...models.openvino_int8 import built_for

    if cfg.compile_cache_dir is None:
        raise ConfigError("int8 on OpenVINO needs the model dir its files were built into (OCR_MODEL_DIR)")
    # engine/config.py keeps the compile cache at <model_dir>/openvino-cache: the built files sit beside it
    return built_for(path, cfg.compile_cache_dir.parent)


def load(path: Path, cfg: RuntimeConfig, stage: str, precision: str) -> OpenVinoModel:
    if precision == "int8":
        path = int8_file(path, cfg)
    return OpenVinoModel(path, cfg, stage, precision)
