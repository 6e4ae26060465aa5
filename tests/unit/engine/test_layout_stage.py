"""The layout stage on real pixels: drawn papers and the sample pages, judged by what a reader sees
(a title above its text, the table where the table was drawn), plus its geometry on boxes alone."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from _support.layout_pages import paper_page, two_column_page
from ocrserve.engine import load_layout
from ocrserve.engine.layout import LayoutDetector, nms, overlaps_resolved, region_order
from ocrserve.errors import ModelCorrupt
from ocrserve.models.registry import get_layout_model
from ocrserve.result import LayoutRegion
from ocrserve.settings import load_settings


@pytest.fixture(scope="module")
def detector() -> LayoutDetector:
    return load_layout(load_settings())


def overlap(region: LayoutRegion, box: tuple[int, int, int, int]) -> float:
    """The share of the drawn `box` that `region` covers."""
    x0, y0, x1, y1 = region.box
    w = min(x1, box[2]) - max(x0, box[0])
    h = min(y1, box[3]) - max(y0, box[1])
    return max(w, 0) * max(h, 0) / ((box[2] - box[0]) * (box[3] - box[1]))


def labelled(regions: list[LayoutRegion], label: str) -> list[LayoutRegion]:
    return [r for r in regions if r.label == label]


def test_a_drawn_paper_has_its_title_first_its_table_and_figure_where_drawn(detector):
    page = paper_page()
    regions = detector.detect(page.image)
    assert regions[0].label == "title" and overlap(regions[0], page.boxes["title"][0]) > 0.8
    texts = labelled(regions, "text")
    assert all(regions[0].box[3] <= t.box[1] for t in texts)
    for drawn in page.boxes["text"]:  # each paragraph is one text region
        assert any(overlap(t, drawn) > 0.9 for t in texts)
    (table,) = labelled(regions, "table")
    assert overlap(table, page.boxes["table"][0]) > 0.95
    captions = labelled(regions, "table_caption")
    assert captions and captions[0].box[3] <= table.box[1] + 5
    assert any(overlap(r, page.boxes["figure"][0]) > 0.9 for r in labelled(regions, "figure"))
    assert regions[-1].label == "footer" and overlap(regions[-1], page.boxes["page_number"][0]) > 0
    assert all(0.0 < r.score <= 1.0 for r in regions)


def test_two_columns_are_read_column_by_column_under_their_title(detector):
    page = two_column_page()
    regions = detector.detect(page.image)
    assert regions[0].label == "title"
    body = regions[1:]
    assert len(body) == 6 and all(r.label == "text" for r in body)
    lefts = [r.box[0] for r in body]
    assert max(lefts[:3]) < page.image.shape[1] / 2 < min(lefts[3:])
    assert [r.box[1] for r in body[:3]] == sorted(r.box[1] for r in body[:3])


@pytest.mark.parametrize("name", ["p01_en_prose_tasn1_p5.png", "p06_zh_table_lshort_p17.png"])
def test_sample_pages_have_titles_above_their_text(detector, samples_dir: Path, name):
    image = cv2.imread(str(samples_dir / "pages" / name))
    regions = detector.detect(image)
    titles, texts = labelled(regions, "title"), labelled(regions, "text")
    assert titles and texts
    assert min(t.box[1] for t in titles) < min(t.box[1] for t in texts)
    height, width = image.shape[:2]
    assert all(0 <= r.box[0] < r.box[2] <= width and 0 <= r.box[1] < r.box[3] <= height for r in regions)


def test_the_sample_page_with_a_ruled_table_has_a_table_under_its_caption(detector, samples_dir: Path):
    regions = detector.detect(cv2.imread(str(samples_dir / "pages" / "p06_zh_table_lshort_p17.png")))
    (table,) = labelled(regions, "table")
    caption = labelled(regions, "table_caption")[0]
    assert caption.box[3] <= table.box[1] and regions.index(caption) == regions.index(table) - 1


def test_a_blank_page_has_no_regions(detector):
    assert detector.detect(np.full((1000, 700, 3), 255, np.uint8)) == []


def test_region_order_reads_columns_then_rows_and_bands_across_them():
    boxes = np.array([
        [100, 50, 900, 100],    # 0 full-width title
        [100, 150, 480, 400],   # 1 left column, top
        [520, 150, 900, 400],   # 2 right column, top
        [100, 450, 480, 700],   # 3 left column, bottom
        [520, 450, 900, 700],   # 4 right column, bottom
        [100, 750, 900, 900],   # 5 full-width figure under both columns
        [100, 950, 480, 1100],  # 6 one more paragraph on the left
    ], dtype=np.float32)
    assert region_order(boxes, 1000, 1200) == [0, 1, 3, 2, 4, 5, 6]


def test_nms_keeps_the_surest_of_overlapping_boxes_and_the_separate_ones():
    boxes = np.array([[0, 0, 100, 100], [5, 5, 100, 100], [200, 200, 300, 300]], dtype=np.float32)
    assert nms(boxes, np.array([0.6, 0.9, 0.5]), iou_thresh=0.5, keep=10) == [1, 2]
    assert nms(boxes, np.array([0.6, 0.9, 0.5]), iou_thresh=0.5, keep=1) == [1]


def test_a_region_inside_a_surer_one_of_its_label_is_part_of_it_and_other_labels_inside_stay():
    boxes = np.array([[0, 0, 800, 900],      # 0 a passage: paragraph and listing (text, surer)
                      [5, 5, 790, 300],      # 1 its paragraph boxed again (text)
                      [5, 320, 300, 340],    # 2 a title inside it
                      [900, 0, 1000, 100]],  # 3 text elsewhere
                     dtype=np.float32)
    scores = np.array([0.73, 0.52, 0.9, 0.6], dtype=np.float32)
    text, title = 0, 1
    assert overlaps_resolved(boxes, scores, np.array([text, text, title, text])) == [0, 2, 3]
    assert overlaps_resolved(boxes, scores) == [0, 1, 2, 3]  # without labels only overlaps decide


class _Model:
    path = Path("other.onnx")
    stage = "layout"
    providers = ["CPUExecutionProvider"]

    def run(self, batch: np.ndarray) -> np.ndarray:
        raise AssertionError("not run")

    def run_outputs(self, batch: np.ndarray) -> list[np.ndarray]:
        raise AssertionError("not run")

    def metadata(self) -> dict[str, str]:
        return {"character": "text\ntitle"}


def test_a_file_whose_labels_are_not_the_registry_s_is_refused():
    with pytest.raises(ModelCorrupt, match="labels"):
        LayoutDetector(_Model(), get_layout_model("pp-layout-cdla"))
