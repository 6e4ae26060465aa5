"""Keep freed inference buffers from pinning the process's memory.

With ONNX Runtime's CPU arena off, every intermediate tensor is a plain malloc.  glibc serves
large blocks from per-thread heaps and raises its mmap threshold as such blocks are freed, so a
detection of a big page leaves hundreds of MB in heaps that are free but never returned: a
service that has seen a few photos sits at its peak forever.  Fixing the threshold (a block of
at least that size is its own mapping, unmapped on free) returns those buffers at once (docs/benchmarks.md, "Memory and new shapes", has the
measurements); tests/unit/test_memory.py keeps the mechanism honest.  No-op on a C library other than glibc.

ONNX Runtime's tensors come from one shared arena (engine/arena.py), because a fresh mapping per
tensor made every new input shape pay in page faults.  The threshold still matters: decoded images and other large buffers are returned when freed, and so
are the arena's chunks when the idle release frees them (`trim_heap` takes the small remainder).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

log = logging.getLogger("ocrserve.memory")

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
    except (OSError, AttributeError):
        return None
    return libc


def set_mmap_threshold(size: int) -> bool:
    """Serve blocks of at least `size` bytes by mmap, so they go back to the OS when freed.

    True when applied; False where the C library is not glibc or refuses (0 leaves it alone).
    """
    if size <= 0:
        return False
    libc = _glibc()
    if libc is None:
        log.info("not glibc: malloc settings left as they are")
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, int(size)))


def trim_heap() -> bool:
    """Give glibc's free heap pages back to the OS now (malloc_trim); False where not glibc."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
