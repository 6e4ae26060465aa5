"""One CPU memory arena for every ONNX Runtime session of the process, given back when idle.

Why an arena: real traffic brings a new input shape on almost every call (each page has its own
size, each recognition chunk its own width).  Without ONNX Runtime's arena every intermediate
tensor is a fresh malloc, which the kernel must fault in and zero; with one, a new shape reuses
memory already mapped.  ONNX Runtime's memory pattern (a cached allocation plan per shape) is off:
with a new shape per call its blocks come in new sizes and fragment the arena for no speed.

Why shared: one arena per session grows to each model's own peak, and the detector's and the
recogniser's peaks add up; sessions that share one reuse the same chunks.

The measurements behind each choice, and their command, are in docs/benchmarks.md ("Memory and
new shapes").

Why released when idle: an arena keeps its high-water mark forever.  Once no session has run for
`idle_s`, a tiny run with ONNX Runtime's shrink option frees every chunk not in use and glibc
trims its heaps, so an idle service is back near its baseline; under load nothing is released
and no call pays for faults.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import numpy as np
import onnxruntime as ort

from ..memory import trim_heap

log = logging.getLogger("ocrserve.arena")

_SHRINK = ("memory.enable_memory_arena_shrinkage", "cpu:0")
#: OrtArenaCfg; arena_extend_strategy 0 = next power of two (SameAsRequested fragmented to 2.2 GB peak)
ARENA_CONFIG = {"max_mem": 0, "arena_extend_strategy": 0, "initial_chunk_size_bytes": -1,
                "max_dead_bytes_per_chunk": -1}

_registered = False
_register_lock = threading.Lock()


def use_shared_arena(opts: ort.SessionOptions, region_bytes: int = 0) -> None:
    """Make a session allocate from the process's one CPU arena (registered on first use).

    `region_bytes` (0: ONNX Runtime's 2 MiB): the region the arena grows by first after a release.
    From a small region the arena grows by regions of doubling size and one large page's tensors
    spread over several of them, each touched in full over time; one region that holds the whole
    working set keeps them where freed blocks coalesce and are reused.  Its untouched pages are
    address space, not memory.  The first session's value is the process's.
    """
    global _registered
    with _register_lock:
        if not _registered:
            values = dict(ARENA_CONFIG)
            if region_bytes > 0:
                values["initial_growth_chunk_size_bytes"] = int(region_bytes)
            cfg = ort.OrtArenaCfg(values)
            info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
            ort.create_and_register_allocator(info, cfg)
            _registered = True
    opts.enable_cpu_mem_arena = True
    opts.enable_mem_pattern = False  # a whole-run block per new shape fragments the arena (module doc)
    opts.add_session_config_entry("session.use_env_allocators", "1")


class Probe(Protocol):
    """A session that can run a tiny input with given run options (the release rides on it)."""

    def run_probe(self, run_options: ort.RunOptions) -> None: ...


def probe_input(session: ort.InferenceSession) -> np.ndarray:
    """The smallest input a vision model takes: its fixed dims, 1 for the batch, 32 for free sizes."""
    shape = session.get_inputs()[0].shape
    dims = [d if isinstance(d, int) and d > 0 else (1 if axis == 0 else 32) for axis, d in enumerate(shape)]
    return np.zeros(dims, dtype=np.float32)


class IdleRelease:
    """Counts runs on the shared arena; `idle_s` after the last one ends, frees the unused chunks."""

    def __init__(self) -> None:
        self.idle_s = 0.0
        self.releases = 0  # read by tests
        self._active = 0
        self._last_end = 0.0
        self._dirty = False
        self._probes: weakref.WeakValueDictionary[int, Probe] = weakref.WeakValueDictionary()  # in watch order
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def configure(self, idle_s: float) -> None:
        with self._cond:
            self.idle_s = idle_s
            self._cond.notify_all()

    def watch(self, probe: Probe) -> None:
        with self._cond:
            self._probes[id(probe)] = probe
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="ocr-arena-release", daemon=True)
                self._thread.start()

    @contextmanager
    def running(self) -> Iterator[None]:
        with self._cond:
            self._active += 1
            self._dirty = True
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._last_end = time.monotonic()
                self._cond.notify_all()

    def _due_in(self) -> float | None:
        """Seconds until a release is due; None when there is nothing to wait for."""
        if self.idle_s <= 0 or not self._dirty or self._active:
            return None
        return self._last_end + self.idle_s - time.monotonic()

    def _loop(self) -> None:
        while True:
            with self._cond:
                due = self._due_in()
                while due is None or due > 0:
                    self._cond.wait(due)
                    due = self._due_in()
                self._dirty = False
                probes = list(self._probes.values())
            self.release(probes)

    def release(self, probes: list[Probe] | None = None) -> bool:
        """Free the arena's idle chunks now (True when a probe ran); safe while others run."""
        options = ort.RunOptions()
        options.add_run_config_entry(*_SHRINK)
        for probe in probes if probes is not None else list(self._probes.values()):
            try:
                probe.run_probe(options)
            except Exception as exc:  # noqa: BLE001 - any ORT failure: try the next session
                log.warning("arena release through %r failed: %s", probe, exc)
                continue
            trim_heap()
            self.releases += 1
            log.debug("arena released through %r (release %d)", probe, self.releases)
            return True
        return False


#: the process's one keeper (the arena it watches is process-wide too)
IDLE_RELEASE = IdleRelease()
