"""Where an OCR request's time goes: pyinstrument over the engine on the bench images.

    python bench/profile.py                          # pp-ocrv6-small, the five serve-bench images
    python bench/profile.py --model pp-ocrv4-mobile --html out/profile.html

The service's c16 throughput equals the in-process engine's (bench/serve.py), so the engine is
where time goes; this prints the call tree of `Pipeline.predict` (after one warm-up per image)
with the per-stage totals the pipeline itself records.  Needs the `bench` extra (pyinstrument).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from _common import find_samples_dir, machine_header, machine_info, markdown_table
from serve import load_images

from ocrserve import OCR
from ocrserve.inputs import Limits, load_bytes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="pp-ocrv6-small")
    parser.add_argument("--html", type=Path, default=None, help="also write pyinstrument's HTML report here")
    args = parser.parse_args(argv)
    from pyinstrument import Profiler

    ocr = OCR(model=args.model)
    pages = {im.name: load_bytes(im.data, Limits()).pages[0] for im in load_images(find_samples_dir())}
    for page in pages.values():
        ocr.pipeline.predict(page)
    stages: dict[str, float] = defaultdict(float)
    profiler = Profiler(interval=0.005)
    profiler.start()
    for page in pages.values():
        for stage, seconds in ocr.pipeline.predict(page).timings.items():
            stages[stage] += seconds
    profiler.stop()
    total = sum(stages.values())
    print(f"## Engine profile: {args.model}, {len(pages)} images, one at a time\n")
    print(machine_header(machine_info()))
    print(f"- images: {', '.join(pages)}\n")
    print(markdown_table(["stage", "seconds", "share"],
                         [[k, f"{v:.2f}", f"{100 * v / total:.0f}%"] for k, v in sorted(stages.items(), key=lambda kv: -kv[1])]))
    print("\n```")
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    print("```")
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(profiler.output_html(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
