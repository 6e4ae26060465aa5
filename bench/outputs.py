"""Fingerprints of every output of every sample, to show a restructuring changed no byte.

Prints one JSON object: `<sample>:<format>` -> the first 16 hex digits of the output's sha256, for
each export format and the pages' PaddleX dicts (a searchable PDF without its dates and ID). Run it
on two checkouts and compare:

    PYTHONPATH=../before/src python bench/outputs.py > before.json
    python bench/outputs.py > after.json
    python -c "import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); print(sorted(k for k in a if a[k]!=b.get(k)))" before.json after.json

ONNX Runtime fp32 by default, so that the fingerprints do not depend on the CPU's bf16 support.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import warnings
from pathlib import Path

from _common import find_samples_dir

from ocrserve import OCR
from ocrserve.export import FORMATS, export

VOLATILE = (b"/CreationDate", b"/ModDate", b"/ID")  # PDF lines that differ between any two runs
#: the file identifier, which differs between any two runs, also where it shares the trailer's line
FILE_ID = re.compile(rb"/ID\s*\[\s*<[0-9A-Fa-f]*>\s*<[0-9A-Fa-f]*>\s*\]")


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, default=None)
    parser.add_argument("--model", default="pp-ocrv6-small")
    parser.add_argument("--backend", default="onnxruntime")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    samples = find_samples_dir(args.samples)
    ocr = OCR(model=args.model, backend=args.backend)
    out: dict[str, str] = {}
    for path in sorted(p for p in samples.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".pdf")):
        name = str(path.relative_to(samples))
        pages = ocr.predict(path)
        for fmt in sorted(FORMATS):
            data = export(pages, fmt, original=path.read_bytes(), name=path.name)
            if fmt == "pdf":
                data = b"\n".join(line for line in data.split(b"\n") if not line.lstrip().startswith(VOLATILE))
                data = FILE_ID.sub(b"/ID[]", data)
            out[f"{name}:{fmt}"] = fingerprint(data)
        out[f"{name}:dict"] = fingerprint(json.dumps([p.to_dict() for p in pages], ensure_ascii=False).encode())
    json.dump(out, sys.stdout, indent=0, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
