"""Scoring OCR output against ground truth (the sample manifest's format).

Used by the accuracy tests and the benchmarks, so that the numbers in the README and the
thresholds in the tests come from one definition: character accuracy = 1 - edit distance /
ground-truth length, on NFKC text with all whitespace removed, lines concatenated in
position order (rows of ~10 px top to bottom, then left to right).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Polygon = Sequence[Sequence[float]]


def normalize_text(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def edit_distance(a: str, b: str) -> int:
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:  # pragma: no cover - rapidfuzz is in the test and bench extras
        prev = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            cur = [i]
            for j, cb in enumerate(b, 1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
            prev = cur
        return prev[-1]
    return int(Levenshtein.distance(a, b))


def char_accuracy(truth: str, predicted: str) -> float:
    t, p = normalize_text(truth), normalize_text(predicted)
    return max(0.0, 1.0 - edit_distance(t, p) / max(len(t), 1))


def upright_centre(polygon: Polygon, rotation: int, width: int, height: int) -> tuple[float, float]:
    """Centre of a polygon in the upright frame of an image whose content is turned `rotation` CW."""
    pts = np.asarray(polygon, dtype=float)
    x, y = float(pts[:, 0].mean()), float(pts[:, 1].mean())
    rotation %= 360
    if rotation == 90:
        return y, width - 1 - x
    if rotation == 180:
        return width - 1 - x, height - 1 - y
    if rotation == 270:
        return height - 1 - y, x
    return x, y


def position_ordered_text(lines: Iterable[tuple[str, Polygon]], rotation: int = 0, width: int = 0,
                          height: int = 0) -> str:
    """Concatenate lines by upright position: 10-px rows top to bottom, then x."""
    keyed = []
    for text, poly in lines:
        cx, cy = upright_centre(poly, rotation, width, height)
        keyed.append(((round(cy / 10), cx), text))
    return "".join(text for _, text in sorted(keyed, key=lambda k: k[0]))


@dataclass(frozen=True)
class Sample:
    """One ground-truth image (a PDF contributes one Sample per page)."""

    path: Path
    kind: str
    lang: str
    rotation: int
    page: int | None  # 1-based for PDF pages
    lines: list[tuple[str, Polygon]]

    @property
    def name(self) -> str:
        return self.path.name if self.page is None else f"{self.path.name}#p{self.page}"


def load_samples(samples_dir: Path, kinds: Sequence[str] = ("page", "scene", "pdf")) -> Iterator[Sample]:
    """Ground-truth rows of manifest.jsonl, PDFs split into pages."""
    with (samples_dir / "manifest.jsonl").open(encoding="utf-8") as fh:
        for row in map(json.loads, fh):
            if row["kind"] not in kinds or not row.get("lines"):
                continue
            path = samples_dir / row["path"]
            if row["kind"] == "pdf":
                for page in range(1, row["num_pages"] + 1):
                    lines = [(ln["text"], ln["polygon"]) for ln in row["lines"] if ln["page"] == page]
                    yield Sample(path, "pdf", row["lang"], row["rotation"], page, lines)
            else:
                lines = [(ln["text"], ln["polygon"]) for ln in row["lines"]]
                yield Sample(path, row["kind"], row["lang"], row["rotation"], None, lines)
