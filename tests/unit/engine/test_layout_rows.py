"""A PP-DocLayout layout model (a graph with its NMS inside: rows of class, score and box out) as one
registry entry, through ONNX Runtime.

No real PP-DocLayout export is run here (none is on PyPI, and the model hubs are out of reach): the graph
is a stand-in with the export's inputs and outputs that returns given rows (`_support/doclayout_graph.py`),
so these tests check our side of the boundary (feeds, rows to regions, labels, the Markdown), not the
real detector.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from _support.doclayout_graph import ShapeRow, write_rows_graph
from ocrserve.engine.backends import load_model
from ocrserve.engine.backends.openvino import import_openvino
from ocrserve.engine.layout import LayoutDetector
from ocrserve.engine.runtime import OnnxModel, RuntimeConfig
from ocrserve.errors import ConfigError, InferenceError, ModelCorrupt
from ocrserve.export.structure import parse_page
from ocrserve.models.registry import (
    CDLA_LABELS,
    LAYOUT_FEEDS,
    NO_MEAN,
    PP_DOCLAYOUT_LABELS,
    UNIT_STD,
    LayoutSpec,
    ModelFile,
)
from ocrserve.result import LayoutRegion, OCRPage, TextLine

PAGE_W, PAGE_H = 1000, 1400
FED_H, FED_W = 640, 640
LABEL = {name: i for i, name in enumerate(PP_DOCLAYOUT_LABELS)}
#: what the page holds, on the page: label, score, box
DRAWN = [
    ("header", 0.80, (100, 20, 500, 50)),
    ("doc_title", 0.95, (100, 80, 900, 140)),
    ("paragraph_title", 0.90, (100, 200, 500, 240)),
    ("text", 0.88, (100, 260, 480, 700)),
    ("text", 0.87, (520, 260, 1050, 700)),  # past the page's right edge: clipped
]
#: the page number, made in the graph from `im_shape`: shares of the fed size, hence of the page
NUMBER: ShapeRow = (LABEL["number"], 0.85, (0.48, 0.95, 0.52, 0.98))
#: the same left column again, less sure (NMS drops it), and a faint paragraph under the threshold
REPEATED = ("text", 0.60, (102, 262, 478, 690))
FAINT = ("text", 0.30, (100, 800, 900, 900))
#: the row an export puts out for "nothing": class -1, score 0
PADDING = (-1.0, 0.0, 0.0, 0.0, 0.0, 0.0)
#: a row past the count: not a region whatever it says
PAST_COUNT = ("image", 0.99, (600, 900, 900, 1200))


def fed_row(label: str, score: float, box: tuple[float, float, float, float]) -> list[float]:
    """A row as the detector inside the graph has it: its box in the fed image's pixels."""
    sx, sy = FED_W / PAGE_W, FED_H / PAGE_H
    x0, y0, x1, y1 = box
    return [LABEL[label], score, x0 * sx, y0 * sy, x1 * sx, y1 * sy]


def stand_in(directory: Path, takes_scale: bool = True, labels: tuple[str, ...] | None = PP_DOCLAYOUT_LABELS) -> Path:
    rows = [fed_row(*drawn) for drawn in (*DRAWN, REPEATED, FAINT)] + [list(PADDING), fed_row(*PAST_COUNT)]
    # the shape row goes last in the graph's output, so the count covers every row but the one past it
    return write_rows_graph(directory / "pp_doclayout.onnx", rows[:-1], count=len(rows), shape_row=NUMBER,
                            input_size=(FED_H, FED_W), takes_scale=takes_scale, labels=labels)


def doclayout_spec(path: Path, inputs: tuple[str, ...] = LAYOUT_FEEDS) -> LayoutSpec:
    """A registry entry as docs/layout.md shows one for PP-DocLayout-L (this file's sha256 stands in)."""
    return LayoutSpec(name="pp-doclayout-l", description="PP-DocLayout-L", labels=PP_DOCLAYOUT_LABELS,
                      file=ModelFile("stand-in", "0", path.name, "0" * 64, None),
                      input_height=FED_H, input_width=FED_W, mean=NO_MEAN, std=UNIT_STD, interpolation="cubic",
                      head="rows", inputs=inputs, iou_thresh=0.6)


@pytest.fixture(scope="module")
def graph_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("doclayout")


@pytest.fixture(scope="module")
def detector(graph_dir: Path) -> LayoutDetector:
    path = stand_in(graph_dir)
    return LayoutDetector(OnnxModel(path, RuntimeConfig(), "layout"), doclayout_spec(path))


def page_image() -> np.ndarray:
    return np.full((PAGE_H, PAGE_W, 3), 255, np.uint8)


def boxes_of(regions: list[LayoutRegion]) -> np.ndarray:
    return np.array([r.box for r in regions])


def test_rows_become_regions_on_the_page_in_reading_order(detector: LayoutDetector):
    regions = detector.detect(page_image())
    assert [r.label for r in regions] == ["header", "doc_title", "paragraph_title", "text", "text", "number"]
    assert [r.cls_id for r in regions] == [LABEL[r.label] for r in regions]
    expected = [box for _, _, box in DRAWN] + [(480, 1330, 520, 1372)]
    expected[4] = (520, 260, PAGE_W, 700)  # clipped to the page
    np.testing.assert_allclose(boxes_of(regions), expected, atol=0.05)
    np.testing.assert_allclose([r.score for r in regions], [s for _, s, _ in DRAWN] + [NUMBER[1]], atol=1e-6)


def test_the_threshold_the_padding_row_and_the_rows_past_the_count(detector: LayoutDetector):
    faint = detector.detect(page_image(), score_thresh=0.2)
    assert len(faint) == 7 and any(np.allclose(r.box, FAINT[2], atol=0.05) for r in faint)
    # the repeated column is NMS's, the padding row's class -1 and the row past the count never regions
    assert not any(r.label == "image" for r in faint)
    assert sum(np.allclose(r.box, DRAWN[3][2], atol=0.05) for r in faint) == 1
    assert len(detector.detect(page_image(), score_thresh=0.0)) == 7


def test_thresholds_by_label_in_the_entry_and_by_class_id_in_the_request(graph_dir: Path):
    path = stand_in(graph_dir)
    # PaddleX's PP-StructureV3 keeps PP-DocLayout's text at 0.5 and some labels at 0.3
    own = LayoutDetector(OnnxModel(path, RuntimeConfig(), "layout"),
                         dataclasses.replace(doclayout_spec(path), label_thresholds=(("text", 0.25),)))
    assert any(np.allclose(r.box, FAINT[2], atol=0.05) for r in own.detect(page_image()))
    detector = LayoutDetector(OnnxModel(path, RuntimeConfig(), "layout"), doclayout_spec(path))
    by_class = detector.detect(page_image(), score_thresh={LABEL["text"]: 0.25, LABEL["header"]: 0.9})
    assert any(np.allclose(r.box, FAINT[2], atol=0.05) for r in by_class)  # text at 0.25: the faint one too
    assert "header" not in [r.label for r in by_class]  # header at 0.9: its 0.8 is under it
    assert "doc_title" in [r.label for r in by_class]  # a class the request leaves out keeps the model's
    assert detector.thresholds({99: 0.1, LABEL["text"]: 0.25})[LABEL["text"]] == pytest.approx(0.25)


def test_a_graph_without_scale_factor_gives_fed_pixels_that_are_scaled_to_the_page(graph_dir: Path, tmp_path: Path):
    path = stand_in(tmp_path, takes_scale=False)
    spec = doclayout_spec(path, inputs=("im_shape", "image"))
    regions = LayoutDetector(OnnxModel(path, RuntimeConfig(), "layout"), spec).detect(page_image())
    reference = LayoutDetector(OnnxModel(stand_in(graph_dir), RuntimeConfig(), "layout"),
                               doclayout_spec(path)).detect(page_image())
    np.testing.assert_allclose(boxes_of(regions), boxes_of(reference), atol=0.05)


def test_a_parsed_page_has_the_title_as_a_heading_and_no_header_or_page_number(detector: LayoutDetector):
    def line(text: str, box: tuple[float, float, float, float]) -> TextLine:
        x0, y0, x1, y1 = box
        return TextLine(text, 0.99, [[x0 + 5, y0 + 5], [x1 - 5, y0 + 5], [x1 - 5, y1 - 5], [x0 + 5, y1 - 5]])

    lines = [line("Running header", DRAWN[0][2]), line("A Study of Pages", DRAWN[1][2]),
             line("2.1 Method", DRAWN[2][2]), line("The left column reads first.", DRAWN[3][2]),
             line("The right column after it.", (520, 260, 900, 700)), line("7", (480, 1330, 520, 1372))]
    page = OCRPage(width=PAGE_W, height=PAGE_H, lines=lines, detected_polygons=[ln.polygon for ln in lines],
                   doc_angle=None, det_params={}, text_rec_score_thresh=0.0, use_textline_orientation=False,
                   return_word_box=False)
    parsed = parse_page(page, detector.detect(page_image()))
    assert [b.label for b in parsed.blocks] == ["header", "doc_title", "paragraph_title", "text", "text", "number"]
    assert parsed.markdown == ("# A Study of Pages\n\n### 2.1 Method\n\nThe left column reads first.\n\n"
                               "The right column after it.")


def test_a_file_whose_labels_are_not_the_entry_s_is_refused(tmp_path: Path):
    path = stand_in(tmp_path, labels=CDLA_LABELS)
    with pytest.raises(ModelCorrupt, match="labels"):
        LayoutDetector(OnnxModel(path, RuntimeConfig(), "layout"), doclayout_spec(path))


def test_a_class_past_the_entry_s_labels_is_refused(tmp_path: Path):
    path = stand_in(tmp_path, labels=None)
    spec = doclayout_spec(path)
    short = LayoutSpec(**{**spec.__dict__, "labels": PP_DOCLAYOUT_LABELS[:5]})
    with pytest.raises(ModelCorrupt, match="past the registry's 5 labels"):
        LayoutDetector(OnnxModel(path, RuntimeConfig(), "layout"), short).detect(page_image())


def test_feeds_that_are_not_the_graph_s_inputs_are_an_inference_error(graph_dir: Path):
    path = stand_in(graph_dir)
    wrong = LayoutDetector(OnnxModel(path, RuntimeConfig(), "layout"), doclayout_spec(path, ("image", "scale_factor")))
    with pytest.raises(InferenceError, match="takes inputs"):
        wrong.detect(page_image())


@pytest.mark.parametrize("head, inputs", [("rows", ("im_shape", "scale_factor")), ("rows", ("image", "size")),
                                          ("gfl", LAYOUT_FEEDS)])
def test_an_entry_whose_inputs_its_head_cannot_take_is_a_config_error(head: str, inputs: tuple[str, ...]):
    with pytest.raises(ConfigError, match="takes"):
        LayoutSpec(name="x", description="", file=ModelFile("p", "0", "x.onnx", "0" * 64, None), labels=("text",),
                   input_height=640, input_width=640, head=head, inputs=inputs)  # type: ignore[arg-type]


def test_openvino_runs_the_same_graph_by_name(graph_dir: Path, detector: LayoutDetector):
    import_openvino()  # with its usage telemetry off, before anything imports it (the README's test install has it)
    path = stand_in(graph_dir)
    config = RuntimeConfig(placements=(("layout", "openvino", "fp32"),))
    regions = LayoutDetector(load_model(path, config, "layout"), doclayout_spec(path)).detect(page_image())
    reference = detector.detect(page_image())
    assert [r.label for r in regions] == [r.label for r in reference]
    np.testing.assert_allclose(boxes_of(regions), boxes_of(reference), atol=0.05)
