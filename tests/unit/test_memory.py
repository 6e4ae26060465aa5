"""Memory given back: glibc's mmap threshold (ocrserve.memory) and the idle arena release (engine/arena.py).

Each case runs in a fresh interpreter, since the setting is process-wide (Linux with glibc, as
every machine this project runs on).  The pattern is what a
detection does: a big block freed (glibc then raises its adaptive threshold above the size of the
next blocks), then many large blocks interleaved with small long-lived ones, all large ones freed.
"""

from __future__ import annotations

import subprocess
import sys

from _support.paths import REPO

MEMORY_MODULE = REPO / "src" / "ocrserve" / "memory.py"

# memory.py is loaded from its file, without the rest of the package: how much a process has
# already allocated changes whether glibc's adaptive threshold shows, and the pattern must show it
PATTERN = """
import importlib.util, sys, numpy as np
spec = importlib.util.spec_from_file_location("ocrserve_memory", sys.argv[2])
memory = importlib.util.module_from_spec(spec); spec.loader.exec_module(memory)
applied = memory.set_mmap_threshold(int(sys.argv[1]))
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
    out = subprocess.run([sys.executable, "-c", PATTERN, str(threshold), str(MEMORY_MODULE)], capture_output=True,
                         text=True, check=True).stdout.split()
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


# --- the shared ONNX Runtime arena (ocrserve.engine.arena) --------------------------------------
ARENA = """
import sys, time, cv2
from ocrserve.memory import set_mmap_threshold
set_mmap_threshold(1 << 20)
from ocrserve.engine.arena import IDLE_RELEASE
from ocrserve.engine import build_pipeline
from ocrserve.settings import load_settings
def rss(): return int(open("/proc/self/statm").read().split()[1]) * 4096 >> 20
idle = float(sys.argv[2])
# ONNX Runtime on every stage: the arena is its own (auto may put stages on OpenVINO)
pipeline = build_pipeline(load_settings(model="pp-ocrv6-tiny", backend="onnxruntime", arena_idle_release_s=idle))
pipeline.warm_up()
time.sleep(idle + 1)
base, releases = rss(), IDLE_RELEASE.releases
pipeline.predict(cv2.imread(sys.argv[1]))
after_page = rss()
time.sleep(idle + 1)
print(after_page - base, rss() - base, IDLE_RELEASE.releases - releases)
"""


def arena_growth(page, idle_s: float) -> tuple[int, int, int]:
    """MiB above the warm baseline right after one page and a while later, and releases made."""
    out = subprocess.run([sys.executable, "-c", ARENA, str(page), str(idle_s)], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), int(out[1]), int(out[2])


def test_idle_arena_is_given_back(samples_dir):
    """A 150 dpi page grows the arena by hundreds of MB; once idle, the service is back at baseline."""
    after_page, later, releases = arena_growth(samples_dir / "pages/p01_en_prose_tasn1_p5.png", 0.5)
    assert after_page > 100
    assert later < 30 and releases == 1


def test_arena_kept_when_release_is_off(samples_dir):
    """OCR_ARENA_IDLE_RELEASE_S=0 keeps the high-water mark (the cost the release exists for)."""
    after_page, later, releases = arena_growth(samples_dir / "pages/p01_en_prose_tasn1_p5.png", 0)
    assert after_page > 100 and later > 100 and releases == 0


def test_shared_arena_reads_exactly_as_plain_mallocs(samples_dir):
    """Where buffers come from must not change a single reading."""
    import cv2

    from ocrserve.engine import build_pipeline
    from ocrserve.settings import load_settings

    page = cv2.imread(str(samples_dir / "scenes/s03_receipt_zh.jpg"))
    results = [build_pipeline(load_settings(model="pp-ocrv6-tiny", backend="onnxruntime",
                                          cpu_mem_arena=arena)).predict(page)
               for arena in (True, False)]
    assert [(ln.text, ln.score, ln.polygon) for ln in results[0].lines] == \
           [(ln.text, ln.score, ln.polygon) for ln in results[1].lines]
    assert len(results[0].lines) > 5


REGION = """
import sys, time, cv2
from ocrserve.memory import set_mmap_threshold
set_mmap_threshold(1 << 20)
from ocrserve.engine.arena import IDLE_RELEASE
from ocrserve.engine import build_pipeline
from ocrserve.settings import load_settings
def status(key): return next(int(l.split()[1]) >> 10 for l in open("/proc/self/status") if l.startswith(key))
pipeline = build_pipeline(load_settings(model="pp-ocrv6-small", backend="onnxruntime", arena_idle_release_s=0.5,
                                        arena_region_mb=int(sys.argv[2])))
pipeline.warm_up()
open("/proc/self/clear_refs", "w").write("5")  # the peak (VmHWM) restarts from here
base = status("VmRSS")
pipeline.predict(cv2.imread(sys.argv[1]))
peak = status("VmHWM")
time.sleep(1.5)
print(peak - base, status("VmRSS") - base)
"""


def detection_peak(page, region_mb: int) -> tuple[int, int]:
    """MiB above the warm baseline at the peak of one page and once idle, with regions of `region_mb`."""
    out = subprocess.run([sys.executable, "-c", REGION, str(page), str(region_mb)], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), int(out[1])


def test_one_large_region_lowers_the_peak_and_is_given_back(samples_dir):
    """A 12 MP photo is detected at 2000 px: its tensors in one region peak lower than spread over doubling ones."""
    photo = samples_dir / "bench/photo_sparse.jpg"
    doubling_peak, doubling_idle = detection_peak(photo, 0)
    region_peak, region_idle = detection_peak(photo, 512)
    assert doubling_peak - region_peak > 100, (doubling_peak, region_peak)
    assert region_idle < 40 and doubling_idle < 40, (region_idle, doubling_idle)
