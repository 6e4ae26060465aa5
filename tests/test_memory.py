"""glibc's mmap threshold: freed inference-sized buffers go back to the OS (ocrserve.memory).

Each case runs in a fresh interpreter, since the setting is process-wide (Linux with glibc, as
every machine this project runs on).  The pattern is what a
detection does: a big block freed (glibc then raises its adaptive threshold above the size of the
next blocks), then many large blocks interleaved with small long-lived ones, all large ones freed.
"""

from __future__ import annotations

import subprocess
import sys

PATTERN = """
import sys, numpy as np
from ocrserve.memory import set_mmap_threshold
applied = set_mmap_threshold(int(sys.argv[1]))
def rss(): return int(open("/proc/self/statm").read().split()[1]) * 4096
big = np.ones(8 << 20, np.uint8); del big
base = rss()
blocks, keep = [], []
for _ in range(50):
    blocks.append(np.ones(4 << 20, np.uint8)); keep.append(bytearray(2000))
del blocks
print(applied, (rss() - base) >> 20)
"""


def resident_after_free(threshold: int) -> tuple[bool, int]:
    out = subprocess.run([sys.executable, "-c", PATTERN, str(threshold)], capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0] == "True", int(out[1])


def test_fixed_threshold_returns_freed_buffers():
    applied, kept_mb = resident_after_free(256 * 1024)
    assert applied
    assert kept_mb < 20  # of 200 MB allocated and freed


def test_adaptive_default_keeps_them_resident():
    """The problem the setting solves, so that a glibc change that removes it is noticed."""
    applied, kept_mb = resident_after_free(0)
    assert not applied
    assert kept_mb > 150
