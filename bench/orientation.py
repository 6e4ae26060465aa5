"""Rotated pages: does document orientation turn them upright, and what does it cost?

Every upright page and scene of the sample set is turned by 0, 90, 180 and 270 degrees
(clockwise, pixel-exact).  For each case the script reports what the 4-class document model
says, what the pipeline finally applied (after the text lines' own 180-degree vote), whether
the text then reads exactly like the upright page in the same order, and the time the
orientation stage costs.  The page-level vote threshold in engine/orient.py comes from the
`mean p180` column: upright pages stay well under it, turned pages well over.

    python bench/orientation.py                 # the 72 turned cases
    python bench/orientation.py --sparse        # sparse pages at 0/90/180/270: confusion matrix
    python bench/orientation.py --line-turns    # every line the classifier turns: read both ways

`--sparse` turns the generated sparse pages (bench/layout_samples.py: a header and two lines, a
page number alone, a form of short fields) and the scanned PDF's first page.  `--line-turns`
lists each line the text-line classifier turns 180 degrees on the samples, with the reading
(confidence, accuracy against the best ground-truth line) turned and unturned: the measurement
behind TURN_MARGIN in engine/orient.py.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import find_samples_dir, machine_header, machine_info, markdown_table
from layout_samples import LAYOUT_KINDS
from layout_samples import build as build_layout_samples

from ocrserve import OCR
from ocrserve.engine.geometry import PageFrame, rotate_ccw
from ocrserve.inputs import load_input
from ocrserve.tools.evaluation import char_accuracy, load_samples, normalize_text

TURNS = (0, 90, 180, 270)


def sparse_cases(samples_dir: Path, layout_dir: Path) -> list[tuple[str, np.ndarray]]:
    """The generated sparse pages and the scanned PDF's first page (a known false 270 before)."""
    cases = [(s.path.name, load_input(s.path).pages[0]) for s in load_samples(layout_dir, ("sparse",))]
    cases.append(("scanned_lshort_p50-51.pdf#p1", load_input(samples_dir / "pdf" / "scanned_lshort_p50-51.pdf").pages[0]))
    return cases


def sparse_matrix(ocr: OCR, cases: list[tuple[str, np.ndarray]]) -> None:
    """Rows: how far the page was turned; columns: the angle the engine applied."""
    matrix = np.zeros((4, 4), dtype=int)
    model_matrix = np.zeros((4, 4), dtype=int)
    wrong, seconds = [], []
    for name, upright in cases:
        for turn in TURNS:
            image = rotate_ccw(upright, (360 - turn) % 360)
            model_matrix[TURNS.index(turn), TURNS.index(ocr.pipeline.orientation.document_angle(image))] += 1
            start = time.perf_counter()
            angle = ocr.pipeline.predict(image).doc_angle
            seconds.append(time.perf_counter() - start)
            matrix[TURNS.index(turn), TURNS.index(angle)] += 1
            if angle != turn:
                wrong.append(f"{name} turned {turn}: {angle}")
    for title, m in (("document model alone", model_matrix), ("engine (applied angle)", matrix)):
        print(f"\n{title}: rows = true turn, columns = angle\n")
        print(markdown_table(["turn", *map(str, TURNS)], [[str(t), *map(str, row)] for t, row in zip(TURNS, m)]))
    upright_wrong = int(matrix[0].sum() - matrix[0, 0])
    print(f"\nupright pages turned: {upright_wrong}/{matrix[0].sum()}; right angle: {np.trace(matrix)}/{matrix.sum()}; "
          f"median predict {np.median(seconds):.2f} s")
    for line in wrong:
        print("  wrong:", line)


def line_turns(ocr: OCR, samples: list) -> None:
    """Every line the classifier turns, read both ways and scored against its best ground-truth line."""
    pipe, opts = ocr.pipeline, ocr.pipeline.resolve_options(None)
    thresh = pipe.orientation.textline.spec.thresh
    rows = []
    pages = {}
    for sample in samples:
        if sample.path not in pages:
            pages[sample.path] = load_input(sample.path).pages
        image = pages[sample.path][(sample.page or 1) - 1]
        frame, detected = pipe._document_turn(image, PageFrame.of(image), opts, {})  # the engine's own policy
        frame, _, lines = detected or pipe._detect(image, frame, opts, {})
        if not len(lines):
            continue
        lines, frame = pipe.orientation.classify_lines(lines, frame, opts)  # the page vote and the turns
        turned = [i for i, f in enumerate(lines.flipped) if f]
        if not turned:
            continue
        as_turned = pipe._read([lines.crops[i] for i in turned])
        unturned = pipe._read([np.ascontiguousarray(lines.crops[i][::-1, ::-1]) for i in turned])
        truths = [normalize_text(t) for t, _ in sample.lines]
        for a, b in zip(as_turned, unturned):
            acc_a = max(char_accuracy(t, a.text) for t in truths)
            acc_b = max(char_accuracy(t, b.text) for t in truths)
            rows.append([sample.name, a.text[:30], f"{a.score:.3f}", f"{acc_a:.2f}", b.text[:30], f"{b.score:.3f}",
                         f"{acc_b:.2f}", "turned" if acc_a > acc_b else "unturned" if acc_b > acc_a else "same"])
    print(f"\nlines the classifier turns (p180 > {thresh}), read both ways:\n")
    print(markdown_table(["sample", "turned reading", "score", "acc", "unturned reading", "score", "acc", "right"],
                         rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, help="sample set (default: OCR_SAMPLES_DIR or tests/data/samples)")
    parser.add_argument("--model", default="pp-ocrv6-small", help="model set")
    parser.add_argument("--sparse", action="store_true", help="sparse pages at 0/90/180/270 only")
    parser.add_argument("--line-turns", action="store_true", help="the lines the text-line classifier turns only")
    args = parser.parse_args()
    samples_dir = find_samples_dir(args.samples)
    ocr = OCR(model=args.model, max_pdf_pages=0)
    print(machine_header(machine_info()))
    if args.sparse or args.line_turns:
        with tempfile.TemporaryDirectory(prefix="ocr-layout-") as tmp:
            layout = build_layout_samples(samples_dir, Path(tmp))
            if args.sparse:
                sparse_matrix(ocr, sparse_cases(samples_dir, layout))
            if args.line_turns:
                line_turns(ocr, list(load_samples(samples_dir)) + list(load_samples(layout, LAYOUT_KINDS)))
        return
    samples = [s for s in load_samples(samples_dir, ("page", "scene")) if s.rotation == 0]
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
