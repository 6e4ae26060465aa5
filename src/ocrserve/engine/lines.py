"""The text lines of one page as they pass from stage to stage (local to one call)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .recognize import crop_line


@dataclass
class PageLines:
    """Quads in the working image, their rectified crops, and how each crop was turned."""

    boxes: np.ndarray  # (N, 4, 2) geometric tl, tr, br, bl in the upright, letterboxed image
    crops: list[np.ndarray]
    turned: list[bool]  # crop was turned 90 degrees (tall box)
    flipped: list[bool] = field(default_factory=list)  # crop was turned 180 degrees (upside-down line)
    angles: list[int] = field(default_factory=list)  # 0 / 180 once classified, else -1
    doubtful: list[int] = field(default_factory=list)  # lines the classifier leaned 180 on, unsure
    confirm: list[int] = field(default_factory=list)  # lines it turned on a mostly upright page

    def __post_init__(self) -> None:
        n = len(self.crops)
        self.flipped = self.flipped or [False] * n
        self.angles = self.angles or [-1] * n

    @classmethod
    def cut(cls, page: np.ndarray, boxes: np.ndarray) -> PageLines:
        """One upright crop per box of `page`."""
        crops, turned = zip(*[crop_line(page, b) for b in boxes]) if len(boxes) else ((), ())
        return cls(boxes, list(crops), list(turned))

    def take(self, order: list[int]) -> PageLines:
        """These lines in `order` (doubtful marks are spent by then and not carried)."""
        return PageLines(self.boxes[order].reshape(-1, 4, 2), [self.crops[i] for i in order],
                         [self.turned[i] for i in order], [self.flipped[i] for i in order],
                         [self.angles[i] for i in order])

    def __len__(self) -> int:
        return len(self.crops)
