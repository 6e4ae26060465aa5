"""PDF pages: text layer against OCR, per page, and the searchable PDF's build time and size.

For every page of the sample PDFs: the text layer's read time and its character accuracy against
the ground truth, the OCR time (render + engine) and its accuracy, their ratio; then for the
scanned sample and a few page images, the time to build a searchable PDF and its size over the
page images it embeds.  Usage: `python bench/pdf.py [--samples DIR] [--repeat N] [--json out.json]`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pypdfium2 as pdfium
from _common import find_samples_dir, machine_header, machine_info, markdown_table, median, write_json

from ocrserve import OCR
from ocrserve.export import export
from ocrserve.inputs.pdf import PdfPages
from ocrserve.inputs.textlayer import layer_result
from ocrserve.tools.evaluation import char_accuracy, load_samples, position_ordered_text


def ordered(lines) -> str:
    return position_ordered_text([(line.text, line.polygon) for line in lines])


def time_layer(ocr: OCR, data: bytes, index: int, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        with PdfPages(data, ocr.limits) as pages:
            layer = pages.text_layer(index)
            w, h = pages.page_size(index)
        result = layer_result(layer, w, h)
        times.append(time.perf_counter() - started)
    return median(times), result, layer.check.status


def time_ocr(ocr: OCR, data: bytes, index: int, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        with PdfPages(data, ocr.limits) as pages:
            image = pages.page(index)
        result = ocr.pipeline.predict(image)
        times.append(time.perf_counter() - started)
    return median(times), result


def image_bytes(pdf: bytes) -> int:
    """Bytes of the image streams a PDF embeds (what the page images alone would weigh)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        total = 0
        for page in doc:
            for obj in page.get_objects(filter=(pdfium.raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
                total += len(obj.get_data(decode_simple=False))
        return total
    finally:
        doc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="runs per page (the median is reported)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    samples = find_samples_dir(args.samples)
    info = machine_info()
    print(machine_header(info))
    ocr = OCR()
    ocr.pipeline.warm_up()

    rows, payload = [], {"machine": info, "pages": [], "pdf": []}
    for sample in load_samples(samples, ("pdf",)):
        data = sample.path.read_bytes()
        truth = position_ordered_text(sample.lines)
        t_layer, layer, status = time_layer(ocr, data, sample.page - 1, args.repeat)
        t_ocr, result = time_ocr(ocr, data, sample.page - 1, max(1, args.repeat // 3))
        acc_layer = char_accuracy(truth, ordered(layer.lines)) if status == "usable" else None
        acc_ocr = char_accuracy(truth, ordered(result.lines))
        rows.append([sample.name, status, f"{t_layer * 1000:.1f}", f"{t_ocr:.2f}",
                     f"{t_ocr / t_layer:.0f}x" if status == "usable" else "-",
                     f"{acc_layer:.4f}" if acc_layer is not None else "-", f"{acc_ocr:.4f}"])
        payload["pages"].append({"page": sample.name, "layer": status, "layer_s": t_layer, "ocr_s": t_ocr,
                                 "layer_accuracy": acc_layer, "ocr_accuracy": acc_ocr})
    print(markdown_table(["page", "text layer", "layer ms", "OCR s", "OCR / layer", "layer acc.", "OCR acc."],
                         rows))
    print()

    pdf_rows = []
    inputs = [samples / "pdf/scanned_lshort_p50-51.pdf", samples / "pages/p01_en_prose_tasn1_p5.png",
              samples / "pages/p06_zh_table_lshort_p17.png", samples / "scenes/s03_receipt_zh.jpg"]
    for path in inputs:
        data = path.read_bytes()
        results = ocr.predict(data)
        started = time.perf_counter()
        pdf = export(results, "pdf", original=data)
        built = time.perf_counter() - started
        images = image_bytes(pdf)
        pages = len(results)
        over = len(pdf) - images
        pdf_rows.append([path.name, pages, f"{built / pages * 1000:.0f}", f"{len(pdf) / pages / 1024:.0f}",
                         f"{images / pages / 1024:.0f}", f"{over / pages / 1024:.1f}", f"{over / images:.1%}"])
        payload["pdf"].append({"input": path.name, "pages": pages, "build_s": built, "bytes": len(pdf),
                               "image_bytes": images})
    print(markdown_table(["input", "pages", "build ms/page", "PDF KiB/page", "images KiB/page",
                          "overhead KiB/page", "overhead"], pdf_rows))
    if args.json:
        write_json(args.json, payload)


if __name__ == "__main__":
    main()
