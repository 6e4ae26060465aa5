"""Parity with RapidOCR 1.4.4 on the same PP-OCRv4 files and parameters.

RapidOCR is the reference implementation of PP-OCR pre/post-processing on ONNX Runtime; the
same model files must give the same lines: the same text on at least 98% of lines, and box
corners within 3 px.  Document orientation is off (RapidOCR has none); detection uses RapidOCR's
resize rule (736/min; ocrserve's default is PaddleX's min 64, see models/registry.py); everything
else is each library's default for these files (thresh 0.3, box 0.5, unclip 1.6, text_score 0.5,
text-line classifier on).  Lines come in PaddleX's order (`OCR_LINE_ORDER=paddlex`), the order
RapidOCR returns them in; the matching below pairs lines by position anyway.
"""

from __future__ import annotations

import numpy as np
import pytest

# the reference must be present: the README's test command installs it (pip install --no-deps
# rapidocr_onnxruntime==1.4.4); a missing reference is a failure, never a skip
import rapidocr_onnxruntime as rapidocr

from ocrserve import OCR, OCROptions
from ocrserve.tools.evaluation import load_samples

OPTIONS = OCROptions(use_doc_orientation_classify=False, use_textline_orientation=True, text_score=0.5,
                     text_det_limit_side_len=736, text_det_limit_type="min")  # RapidOCR's resize rule


@pytest.fixture(scope="module")
def reference():
    return rapidocr.RapidOCR()


@pytest.fixture(scope="module")
def ocr_v4_paddlex_order():
    # parity is an fp32 ONNX Runtime property, whatever OCR_BACKEND / OCR_PRECISION choose on this CPU
    return OCR(model="pp-ocrv4-mobile", line_order="paddlex", backend="onnxruntime", precision="fp32")


def _match(ours, theirs):
    """Pair each reference line with our line whose corners are nearest (mean corner distance)."""
    pairs = []
    for box, text, _score in theirs:
        ref = np.asarray(box, dtype=float)
        best = min(ours, key=lambda line: float(np.abs(np.asarray(line.polygon) - ref).mean()), default=None)
        pairs.append((ref, text, best))
    return pairs


def test_same_lines_as_rapidocr(reference, ocr_v4_paddlex_order, samples_dir):
    ocr_v4 = ocr_v4_paddlex_order
    samples = [s for s in load_samples(samples_dir, kinds=("page", "scene"))]
    total = same_text = close_boxes = 0
    worst: list[str] = []
    for sample in samples:
        theirs, _ = reference(str(sample.path))
        theirs = theirs or []
        ours = ocr_v4.predict(sample.path, OPTIONS)[0].lines
        assert abs(len(ours) - len(theirs)) <= max(1, len(theirs) // 50), (sample.name, len(ours), len(theirs))
        for ref, text, line in _match(ours, theirs):
            total += 1
            if line is None:
                continue
            corner_error = float(np.abs(np.asarray(line.polygon) - ref).max())
            close_boxes += corner_error <= 3.0
            same_text += line.text == text
            if line.text != text or corner_error > 3.0:
                worst.append(f"{sample.name}: {text!r} vs {line.text!r} ({corner_error:.1f}px)")
    print(f"parity: {same_text}/{total} same text, {close_boxes}/{total} corners within 3 px")
    assert total > 300  # the sample pages and scenes hold ~450 lines
    assert same_text / total >= 0.98, worst[:20]
    assert close_boxes / total >= 0.98, worst[:20]
