"""One page's stage outputs -> OCRPage, every coordinate in the client's pixels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..result import OCRPage, TextLine
from .geometry import PageFrame
from .lines import PageLines
from .options import EffectiveOptions
from .recognize import Recognition
from .words import word_polygons


def page_result(image: np.ndarray, frame: PageFrame, lines: PageLines, recs: Sequence[Recognition],
                opts: EffectiveOptions, timings: dict[str, float]) -> OCRPage:
    """Lines that pass the score threshold, every detection, and the options the page was read with."""
    detected = [frame.to_client(b) for b in lines.boxes]
    kept: list[TextLine] = []
    for i, rec in enumerate(recs):
        if opts.use_rec and rec.score < opts.text_rec_score_thresh:
            continue
        words = None
        if opts.return_word_box and opts.use_rec:
            words = tuple(word_polygons(rec, lines.boxes[i], lines.turned[i], lines.flipped[i], frame.to_client))
        kept.append(TextLine(text=rec.text, score=rec.score, polygon=detected[i].tolist(),
                             textline_angle=lines.angles[i], words=words))
    return OCRPage(
        width=frame.width, height=frame.height, lines=kept,
        detected_polygons=[d.tolist() for d in detected],
        doc_angle=frame.angle if opts.use_doc_orientation_classify else None,
        det_params=opts.det.public(), text_rec_score_thresh=opts.text_rec_score_thresh,
        use_textline_orientation=opts.use_textline_orientation,
        return_word_box=opts.return_word_box, timings=timings, image=image,
    )
