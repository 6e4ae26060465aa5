"""The engine end to end on real models and real sample images."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from _support.engines import ocr_for
from ocrserve import OCROptions
from ocrserve.engine.geometry import rotate_ccw
from ocrserve.errors import BadInput, InputTooLarge, UnsupportedInput
from ocrserve.inputs import load_input
from ocrserve.models import MODEL_SETS
from ocrserve.tools.evaluation import char_accuracy, load_samples

PRUNED_KEYS = ["model_settings", "doc_preprocessor_res", "dt_polys", "text_det_params", "text_type",
               "textline_orientation_angles", "text_rec_score_thresh", "return_word_box", "rec_texts",
               "rec_scores", "rec_polys", "rec_boxes"]


@pytest.mark.parametrize("model", sorted(MODEL_SETS))
def test_every_model_set_loads_and_reads_a_sign(model, samples_dir):
    sample = next(s for s in load_samples(samples_dir, ("scene",)) if s.path.name == "s01_sign_zh_en.png")
    result = ocr_for(model)(sample.path)
    # PP-OCRv5 mobile reads 制 as its traditional form 製: the model's own error, so compare
    # the first line on its unambiguous part and the whole sign by character accuracy
    assert result.texts[0].endswith("文件和目录")
    ours = "".join(result.texts)
    assert char_accuracy("".join(text for text, _ in sample.lines), ours) >= 0.9


def test_pruned_result_has_paddlex_keys_in_order(ocr_default, samples_dir):
    d = ocr_default(samples_dir / "scenes/s01_sign_zh_en.png").to_dict()
    assert list(d) == PRUNED_KEYS
    assert d["doc_preprocessor_res"]["angle"] == 0
    assert len(d["rec_texts"]) == len(d["rec_scores"]) == len(d["rec_polys"]) == len(d["rec_boxes"])
    assert all(isinstance(v, int) for poly in d["rec_polys"] for pt in poly for v in pt)
    assert set(d["text_det_params"]) == {"limit_side_len", "limit_type", "max_side_limit", "thresh",
                                         "box_thresh", "unclip_ratio"}


def test_input_kinds_give_identical_results(ocr_v4, samples_dir):
    path = samples_dir / "scenes/s09_large_text_60px.png"
    expected = ocr_v4(path).texts
    pil = Image.open(path)
    bgr = np.asarray(pil.convert("RGB"))[:, :, ::-1].copy()
    for source in (str(path), path.read_bytes(), pil, bgr):
        assert ocr_v4(source).texts == expected


def test_pdf_gives_one_result_per_page(ocr_v4, samples_dir):
    pages = ocr_v4(samples_dir / "pdf/smi_p8-10.pdf")
    assert isinstance(pages, list) and len(pages) == 3
    assert [p.page_index for p in pages] == [0, 1, 2]
    assert (pages[0].width, pages[0].height) == (1220, 1579)  # scale 2.0, as the manifest renders
    assert "SharedMIME-infoDatabase" in [t.replace(" ", "") for t in pages[0].texts]


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_rotated_page_reads_like_the_upright_page(ocr_default, samples_dir, angle):
    upright_img = load_input(samples_dir / "pages/p04_en_prose_smi_p3.png").pages[0]
    upright = ocr_default(upright_img)
    turned_img = rotate_ccw(upright_img, angle)
    turned = ocr_default(turned_img)
    assert turned.texts == upright.texts
    assert turned.doc_angle == (360 - angle) % 360
    # polygons are in the rotated image's pixels: turning them back lands on the upright ones
    h, w = upright_img.shape[:2]
    for a, b in zip(upright.lines, turned.lines):
        pts = np.asarray(b.polygon)
        if angle == 90:
            back = np.stack([w - 1 - pts[:, 1], pts[:, 0]], axis=1)
        elif angle == 180:
            back = np.stack([w - 1 - pts[:, 0], h - 1 - pts[:, 1]], axis=1)
        else:
            back = np.stack([pts[:, 1], h - 1 - pts[:, 0]], axis=1)
        assert np.abs(back - np.asarray(a.polygon)).max() <= 1.0


def test_lines_turn_a_page_the_document_model_left_upside_down(ocr_default, samples_dir, monkeypatch):
    """The lines' own 0/180 vote catches what the 4-class model missed, coordinates included."""
    upright_img = load_input(samples_dir / "scenes/s03_receipt_zh.jpg").pages[0]
    upright = ocr_default(upright_img)
    orientation = ocr_default.pipeline.orientation
    labels = [int(label) for label in orientation.document.spec.labels]
    sure_upright = np.eye(len(labels))[labels.index(0)]  # the 4-class model, sure the page needs no turn
    monkeypatch.setattr(orientation, "document_probabilities", lambda image: sure_upright)
    turned = ocr_default(rotate_ccw(upright_img, 180))
    assert turned.doc_angle == 180
    # detection on the turned pixels finds boxes a few pixels apart, so crops and row order differ a little
    assert char_accuracy("".join(sorted(upright.texts)), "".join(sorted(turned.texts))) >= 0.9
    h, w = upright_img.shape[:2]
    expected = [np.asarray(line.polygon) for line in upright.lines]
    for line in turned.lines:
        pts = np.asarray(line.polygon)
        back = np.stack([w - 1 - pts[:, 0], h - 1 - pts[:, 1]], axis=1)
        assert min(np.abs(back - e).max() for e in expected) <= 6.0  # corner for corner: text's top-left first


def test_doc_orientation_restores_reading_order(ocr_default, samples_dir):
    path = samples_dir / "scenes/s06_image_rot90_zh.png"
    off = ocr_default(path, use_doc_orientation_classify=False)
    on = ocr_default(path)
    # without it, tall lines are still read (turned one by one); the reading order takes them for
    # vertical columns, right to left, which for a page turned 90 degrees clockwise is its order too
    assert off.doc_angle is None and off.texts[0].startswith("从指定的来源文件")
    assert on.doc_angle == 90 and on.texts[0].startswith("从指定的来源文件")
    assert sorted(on.texts) == sorted(off.texts)


def test_upside_down_line_is_turned(ocr_default, samples_dir):
    result = ocr_default(samples_dir / "scenes/s05_line_rot180.png")
    assert result.texts[1].startswith("Sort entries alphabetically")
    assert [line.textline_angle for line in result.lines] == [0, 180, 0]


def test_options_change_results(ocr_v4, samples_dir):
    path = samples_dir / "scenes/s04_ui_screenshot.png"
    base = ocr_v4(path)
    assert len(ocr_v4(path, text_det_box_thresh=0.95).lines) < len(base.lines)
    assert len(ocr_v4(path, text_score=0.999).lines) < len(base.lines)
    no_rec = ocr_v4(path, use_rec=False)
    assert len(no_rec.lines) == len(base.dt_polys if hasattr(base, "dt_polys") else base.detected_polygons)
    assert all(line.text == "" for line in no_rec.lines)
    page = load_input(samples_dir / "scenes/s09_large_text_60px.png").pages[0]
    whole = ocr_v4(page[45:130, 35:545], use_det=False)  # one line: recognised as a whole
    assert whole.texts == ["移除文件或者目录"]
    params = ocr_v4(path, text_det_limit_side_len=960, text_det_limit_type="max").to_dict()["text_det_params"]
    assert params["limit_side_len"] == 960 and params["limit_type"] == "max"


def test_detection_off_reads_a_thin_line_crop_as_it_is(ocr_v4, samples_dir):
    """use_det=False (rapidocr_api's switch): a wide one-line crop is read whole, without letterbox rows."""
    image = np.asarray(Image.open(samples_dir / "scenes/s01_sign_zh_en.png").convert("RGB"))[:, :, ::-1]
    line = ocr_v4(image).lines[1]
    x0, y0, x1, y1 = line.box
    crop = np.ascontiguousarray(image[y0:y1 + 1, x0:x1 + 1])
    assert crop.shape[1] / crop.shape[0] > 8  # wide enough that detection would letterbox it
    result = ocr_v4(crop, use_det=False)
    h, w = crop.shape[:2]
    assert result.texts == [line.text]
    assert sorted(map(tuple, result.lines[0].polygon)) == [(0, 0), (0, h - 1), (w - 1, 0), (w - 1, h - 1)]


def test_word_boxes_cover_the_words(ocr_v4, samples_dir):
    result = ocr_v4(samples_dir / "scenes/s09_large_text_60px.png", return_word_box=True)
    d = result.to_dict()
    for line, words, boxes in zip(result.lines, d["text_word"], d["text_word_boxes"]):
        assert "".join(words) == line.text.replace(" ", "")
        x0, y0, x1, y1 = line.box
        for bx0, by0, bx1, by1 in boxes:
            assert x0 - 2 <= bx0 <= bx1 <= x1 + 2 and y0 - 2 <= by0 <= by1 <= y1 + 2
        lefts = [b[0] for b in boxes]
        assert lefts == sorted(lefts)


@pytest.mark.parametrize("bad", [dict(text_det_thresh=1.5), dict(text_det_limit_type="middle"),
                                 dict(text_det_unclip_ratio=0), dict(text_det_limit_side_len=0),
                                 dict(use_cls=True, use_textline_orientation=False)])
def test_invalid_options_are_bad_input(bad):
    with pytest.raises(BadInput):
        OCROptions(**bad)


def test_bad_inputs_raise_typed_errors(ocr_v4, samples_dir, tmp_path):
    png = (samples_dir / "scenes/s01_sign_zh_en.png").read_bytes()
    with pytest.raises(BadInput):
        ocr_v4(png[: len(png) // 2])
    with pytest.raises(UnsupportedInput):
        ocr_v4(b"this is plain text, not an image")
    with pytest.raises(BadInput):
        ocr_v4(b"")
    bomb = tmp_path / "bomb.png"
    Image.new("1", (30000, 30000)).save(bomb)  # ~100 KB on disk, 900 Mpx declared
    with pytest.raises(InputTooLarge):
        ocr_v4(bomb)
    with pytest.raises(BadInput):
        ocr_v4(b"%PDF-1.7 truncated nonsense")


def test_one_pipeline_many_threads_same_results(ocr_v4, samples_dir):
    paths = [samples_dir / p for p in ("scenes/s01_sign_zh_en.png", "scenes/s04_ui_screenshot.png",
                                       "scenes/s05_line_rot180.png", "scenes/s11_perspective.jpg")]
    images = [load_input(p).pages[0] for p in paths]
    options = [OCROptions(), OCROptions(text_det_box_thresh=0.7, use_textline_orientation=False),
               OCROptions(return_word_box=True), OCROptions(text_score=0.9)]

    def run(i: int):
        r = ocr_v4.pipeline.predict(images[i % 4], options[i % 4])
        return r.texts, [line.polygon for line in r.lines], [line.score for line in r.lines]

    sequential = [run(i) for i in range(4)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(run, range(24)))
    for i, got in enumerate(concurrent):
        assert got == sequential[i % 4]


@pytest.fixture(scope="module")
def sparse_pages(samples_dir, tmp_path_factory):
    from _support.bench import bench_module

    # the generator lives with the benchmark that reports on it
    folder = bench_module("layout_samples").build(samples_dir, tmp_path_factory.mktemp("layout"))
    return {s.path.stem: s for s in load_samples(folder, ("sparse",))}


@pytest.mark.parametrize("turn", [0, 90, 180, 270])
@pytest.mark.parametrize("name", ["sparse_header_two_lines", "sparse_page_number"])
def test_sparse_pages_are_turned_exactly_as_far_as_they_were(name, turn, sparse_pages, ocr_default):
    """A mostly blank page gives the document model nothing to see; it must neither turn an upright
    page nor miss a turned one, and the text must come back whole and in order."""
    sample = sparse_pages[name]
    image = rotate_ccw(load_input(sample.path).pages[0], (360 - turn) % 360)
    result = ocr_default.pipeline.predict(image)
    assert result.doc_angle == turn
    assert char_accuracy("".join(text for text, _ in sample.lines), "".join(result.texts)) >= 0.95


def test_a_wrongly_turned_line_is_read_the_right_way_up(ocr_default, samples_dir):
    """On an upright page a line the classifier turns wrongly reads as garbage at low confidence:
    it is read unturned as well, while a line really upside down keeps its turn."""
    receipt = ocr_default(samples_dir / "scenes/s03_receipt_zh.jpg")
    assert "du(1)" in receipt.texts  # the classifier turns it 180 degrees (read '(d)n' at 0.74)
    assert all(angle == 0 for angle in receipt.to_dict()["textline_orientation_angles"])
    mixed = ocr_default(samples_dir / "scenes/s05_line_rot180.png")
    sample = next(s for s in load_samples(samples_dir, ("scene",)) if s.path.name == "s05_line_rot180.png")
    turned_text = sample.lines[1][0]
    line = next(ln for ln in mixed.lines if ln.text.replace(" ", "") == turned_text.replace(" ", ""))
    assert line.textline_angle == 180
