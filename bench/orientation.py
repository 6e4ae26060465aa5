"""Rotated pages: does document orientation turn them upright, and what does it cost?

Every upright page and scene of the sample set is turned by 0, 90, 180 and 270 degrees
(clockwise, pixel-exact).  For each case the script reports what the 4-class document model
says, what the pipeline finally applied (after the text lines' own 180-degree vote), whether
the text then reads exactly like the upright page in the same order, and the time the
orientation stage costs.  The page-level vote threshold in engine/orient.py comes from the
`mean p180` column: upright pages stay well under it, turned pages well over.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from _common import find_samples_dir, machine_header, machine_info, markdown_table

from ocrserve import OCR
from ocrserve.engine.geometry import rotate_ccw
from ocrserve.evaluation import load_samples
from ocrserve.inputs import load_input


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, help="sample set (default: OCR_SAMPLES_DIR or ../shared/samples)")
    parser.add_argument("--model", default="pp-ocrv6-small", help="model set")
    args = parser.parse_args()
    samples = [s for s in load_samples(find_samples_dir(args.samples), ("page", "scene")) if s.rotation == 0]
    ocr = OCR(model=args.model)
    print(machine_header(machine_info()))
    rows, correct, same_text, orient_ms, total_ms = [], 0, 0, [], []
    for sample in samples:
        upright = load_input(sample.path).pages[0]
        reference = ocr.pipeline.predict(upright, ocr.pipeline.resolve_options(None)).texts
        cells = [sample.name]
        for turn in (0, 90, 180, 270):
            image = rotate_ccw(upright, (360 - turn) % 360)  # content turned `turn` degrees clockwise
            model_label = ocr.pipeline.orientation.document_angle(image)
            result = ocr.pipeline.predict(image)
            ok = result.doc_angle == turn
            correct += ok
            same_text += result.texts == reference
            orient_ms.append(result.timings.get("doc_orientation", 0.0) * 1000)
            total_ms.append(sum(result.timings.values()) * 1000)
            cells.append(f"{model_label}->{result.doc_angle}{'' if ok else ' X'}{'' if result.texts == reference else ' T'}")
        rows.append(cells)
    print(markdown_table(["sample", "0", "90", "180", "270"], rows))
    cases = 4 * len(samples)
    print(f"\nangle right: {correct}/{cases}; text and order identical to the upright page: {same_text}/{cases}")
    print(f"doc orientation: median {np.median(orient_ms):.1f} ms per page, "
          f"{100 * np.sum(orient_ms) / np.sum(total_ms):.1f}% of engine time")
    print("cells: document model's label -> angle applied; X = wrong angle, T = text differs from upright")


if __name__ == "__main__":
    main()
