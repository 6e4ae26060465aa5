"""The peer's side of bench/structure.py: run by the interpreter of the peer's own virtualenv, never imported.

    <venv>/bin/python bench/_peer_pymupdf4llm.py JOBS.json

JOBS.json is a list of {"pdf": path, "pages": [0-based indices], "out": folder}; the pages asked for
are written as `<out>/page-<k>.md` (k from 0, in their order) and the seconds `to_markdown` took as `<out>/seconds.txt`, so that the bench process
reads only files and never imports the peer (it is AGPL-licensed, and must stay out of ocrserve's
environment).  Options: the peer's defaults, except that running headers and footers are left out
(`header=False, footer=False`), the same goal as ocrserve's Markdown, and the page range read
(`pages=`) from the whole file, as ocrserve reads it.
"""

import json
import sys
import time
from pathlib import Path

import pymupdf4llm


def main() -> None:
    jobs = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    for job in jobs:
        out = Path(job["out"])
        out.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        chunks = pymupdf4llm.to_markdown(job["pdf"], pages=job.get("pages"), page_chunks=True, header=False,
                                         footer=False)
        seconds = time.perf_counter() - start
        for k, chunk in enumerate(chunks):
            (out / f"page-{k}.md").write_text(chunk["text"], encoding="utf-8")
        (out / "seconds.txt").write_text(f"{seconds}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
