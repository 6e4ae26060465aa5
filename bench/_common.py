"""What every benchmark script shares: where the samples are, what machine ran it, how tables look.

Benchmark numbers only mean something next to the machine and load they were taken on, so every
script prints the same header (CPU, cores, onnxruntime version, date, load average) and writes
the same facts into its JSON.  The tables are markdown so that docs/benchmarks.md can quote a
run's output verbatim.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def find_samples_dir(explicit: Path | None = None) -> Path:
    """`--samples`, else OCR_SAMPLES_DIR, else the sample set kept in the repository.

    Same lookup order as the tests' conftest, so that the tests and the benchmarks read the
    same files unless told otherwise.
    """
    candidates = [explicit, os.environ.get("OCR_SAMPLES_DIR"), REPO / "tests" / "data" / "samples"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "manifest.jsonl").is_file():
            return Path(candidate)
    tried = [str(c) for c in candidates if c]
    raise SystemExit(f"sample set not found (tried {tried}); pass --samples DIR or set OCR_SAMPLES_DIR")


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (what a reader compares machines by)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    """1/5/15-minute load: other work on a small machine skews latency, so every run records it."""
    try:
        with open("/proc/loadavg", encoding="utf-8") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "n/a"


def machine_info() -> dict[str, Any]:
    """Facts that decide whether two runs' numbers can be compared."""
    import onnxruntime

    import ocrserve

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "onnxruntime": onnxruntime.__version__,
        "ort_providers": onnxruntime.get_available_providers(),
        "ocrserve": ocrserve.__version__,
        "python": platform.python_version(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_start": load_average(),
    }


def machine_header(info: dict[str, Any]) -> str:
    """Markdown lines naming the machine, printed above every table."""
    return "\n".join([
        f"- machine: {info['cpu']}, {info['cores']} logical cores ({info['usable_cores']} usable)",
        f"- onnxruntime {info['onnxruntime']} ({', '.join(info['ort_providers'])}), "
        f"ocrserve {info['ocrserve']}, Python {info['python']}",
        f"- date: {info['date']}; load average at start (1/5/15 min): {info['loadavg_start']}",
    ])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub markdown table; `align` is one letter per column (l/r), default left then right.

    Columns are padded to equal width so that the table also reads well in a terminal.
    """
    align = align or "l" + "r" * (len(headers) - 1)
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align)]
        return "| " + " | ".join(parts) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if a == "r" else (":" + "-" * (w + 1))
                          for w, a in zip(widths, align)) + "|"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def median(values: Sequence[float]) -> float:
    """Median, not mean: one repeat disturbed by other work on the machine should not move it."""
    return float(statistics.median(values))


def fmt_ms(seconds: float | None) -> str:
    """Milliseconds for a table cell; None (stage not measured by that engine) prints as an em dash."""
    return "—" if seconds is None else f"{seconds * 1000:.0f}"


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Raw numbers next to the table, for plots and for diffing two runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
