"""Cross-request recognition batching: same texts as direct recognition, failures stay local,
one observation per model call."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from _support.fakes import FakeRecognizer
from ocrserve.engine import OCROptions
from ocrserve.engine.batcher import RecognitionBatcher, recognize_together
from ocrserve.engine.recognize import TextRecognizer, crop_line
from ocrserve.errors import ConfigError, InferenceError
from ocrserve.inputs import load_input


@pytest.fixture(scope="module")
def crops_by_page(ocr_v4, samples_dir):
    pipeline = ocr_v4.pipeline
    options = pipeline.resolve_options(None)
    pages = []
    for name in ("scenes/s04_ui_screenshot.png", "scenes/s01_sign_zh_en.png", "scenes/s11_perspective.jpg",
                 "scenes/s08_small_text_12px.png"):
        image = load_input(samples_dir / name).pages[0]
        boxes, _ = pipeline.detector(image, options.det)
        pages.append([crop_line(image, box)[0] for box in boxes])
    return pages


def test_batched_texts_match_direct_recognition(ocr_v4, crops_by_page):
    recognizer = ocr_v4.pipeline.recognizer
    direct = [[r.text for r in recognizer(crops, 6)] for crops in crops_by_page]
    batcher = RecognitionBatcher(recognizer, batch_size=6, max_wait_ms=20)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            batched = list(pool.map(lambda i: [r.text for r in batcher(crops_by_page[i % 4])], range(16)))
    finally:
        batcher.close()
    lines = sum(len(page) for page in direct) * 4
    same = sum(a == b for i, page in enumerate(batched) for a, b in zip(page, direct[i % 4]))
    assert all(len(page) == len(direct[i % 4]) for i, page in enumerate(batched))
    assert same == lines  # chunks keep their own padding, so batch-mates cannot change a reading
    assert max(batcher.batch_sizes) > 6  # chunks of several requests did share model calls


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_read_as_one_call_at_a_time(ocr_v4, crops_by_page, workers):
    """Calls spread over workers keep their planned crops and padding, so every reading is the same."""
    one = ocr_v4.pipeline.recognizer
    many = TextRecognizer(one.model, one.decode.charset, one.image_height, one.image_width,
                          max_call_columns=one.max_call_columns, workers=workers)
    crops = [crop for page in crops_by_page for crop in page]
    alone, spread = one(crops, 6), many(crops, 6)
    assert [r.text for r in spread] == [r.text for r in alone]
    assert [r.score for r in spread] == pytest.approx([r.score for r in alone], abs=1e-5)
    together = recognize_together(many, crops_by_page, 6)
    assert [[r.text for r in page] for page in together] == [[r.text for r in one(page, 6)] for page in crops_by_page]


class _RefusesWidth:
    """The real recogniser model, refusing calls padded to one width (a corrupt input, for the workers' bookkeeping)."""

    def __init__(self, model, width):
        self.model, self.width = model, width

    def run(self, batch):
        if batch.shape[3] == self.width:
            raise InferenceError("rec", "refused width")
        return self.model.run(batch)


def test_a_failing_call_on_a_worker_fails_only_its_own_request(ocr_v4, crops_by_page):
    one = ocr_v4.pipeline.recognizer
    wide = np.full((48, 4000, 3), 255, np.uint8)  # padded alone to 4000 px: no other crop here is that wide
    many = TextRecognizer(_RefusesWidth(one.model, 4000), one.decode.charset, workers=2)
    outcomes = recognize_together(many, [crops_by_page[0], [*crops_by_page[1], wide], crops_by_page[2]], 6)
    assert isinstance(outcomes[1], InferenceError)
    assert [r.text for r in outcomes[0]] == [r.text for r in one(crops_by_page[0], 6)]
    assert [r.text for r in outcomes[2]] == [r.text for r in one(crops_by_page[2], 6)]
    with pytest.raises(InferenceError):
        many([wide, *crops_by_page[0]], 6)


def test_one_bad_crop_fails_only_its_own_request():
    batcher = RecognitionBatcher(FakeRecognizer(), batch_size=6, max_wait_ms=50)
    good = [np.zeros((10, w, 3), np.uint8) for w in (30, 40, 50)]
    bad = [np.zeros((10, 20, 3), np.uint8), np.zeros((1, 5, 3), np.uint8)]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            ok, failed = pool.submit(batcher, good), pool.submit(batcher, bad)
            assert [r.text for r in ok.result()] == ["30", "40", "50"]
            with pytest.raises(InferenceError):
                failed.result()
    finally:
        batcher.close()


def test_calls_after_close_still_get_answers():
    """A page that reaches recognition during shutdown must not wait forever on a stopped thread."""
    batcher = RecognitionBatcher(FakeRecognizer(), batch_size=6, max_wait_ms=1)
    batcher.close()
    assert [r.text for r in batcher([np.zeros((10, 30, 3), np.uint8)])] == ["30"]


@pytest.mark.parametrize("slots", [1, 2])
def test_detection_runs_at_most_det_concurrency_pages_at_once(slots, samples_dir):
    """Pages wait for a detection slot: a second detection at once would only add its working set."""
    import threading
    import time

    from ocrserve import load_settings
    from ocrserve.engine import build_pipeline

    pipeline = build_pipeline(load_settings(model="pp-ocrv6-tiny", det_concurrency=slots), batch_across_calls=True)
    model, run = pipeline.detector.model, pipeline.detector.model.run
    lock, active, most = threading.Lock(), [0], [0]

    def counted(batch):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.2)  # long enough for every page thread to arrive while this one runs
            return run(batch)
        finally:
            with lock:
                active[0] -= 1

    model.run = counted
    page = load_input(samples_dir / "scenes/s01_sign_zh_en.png").pages[0]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda _: pipeline.predict(page), range(4)))
    finally:
        pipeline.close()
    assert most[0] == slots
    assert all([ln.text for ln in r.lines] == [ln.text for ln in results[0].lines] for r in results)
    assert results[0].lines


def _observed(recognizer: TextRecognizer, calls: list[tuple[int, int]]) -> TextRecognizer:
    """The same model, telling `calls` of each batch it runs."""
    return _with_observer(recognizer, lambda crops, width: calls.append((crops, width)))


def _with_observer(recognizer: TextRecognizer, on_batch) -> TextRecognizer:
    return TextRecognizer(recognizer.model, recognizer.decode.charset, recognizer.image_height,
                          recognizer.image_width, on_batch=on_batch)


def test_observer_sees_each_batch_of_a_direct_call(ocr_v4, crops_by_page):
    calls: list[tuple[int, int]] = []
    recognizer = _observed(ocr_v4.pipeline.recognizer, calls)
    crops = crops_by_page[0]
    recognizer(crops, 6)
    expected = []
    for members, width in recognizer.plan(crops, 6):  # a chunk past the column budget runs as several calls
        per_call = max(1, recognizer.max_call_columns // width)
        expected += [(len(members[i : i + per_call]), width) for i in range(0, len(members), per_call)]
    assert calls == expected


def test_observer_sees_merged_batches_once(ocr_v4, crops_by_page):
    """Pages merged into one model call are one observation, not one per page."""
    calls: list[tuple[int, int]] = []
    batcher = RecognitionBatcher(_observed(ocr_v4.pipeline.recognizer, calls), batch_size=6, max_wait_ms=20)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: batcher(crops_by_page[i % 4]), range(16)))
    finally:
        batcher.close()
    assert sum(crops for crops, _ in calls) == sum(batcher.batch_sizes)
    assert all(crops == 1 or crops * width <= batcher.max_batch_pixels for crops, width in calls)
    assert sum(crops for crops, _ in calls) == sum(len(page) for page in crops_by_page) * 4
    assert max(crops for crops, _ in calls) > 6  # some observations did span several pages
    assert all(width >= 320 for _, width in calls)  # padded widths in pixels, at least the trained width


def test_builder_hands_the_observer_to_recognition(samples_dir):
    from ocrserve import load_settings
    from ocrserve.engine import build_pipeline

    calls: list[tuple[int, int]] = []
    pipeline = build_pipeline(load_settings(model="pp-ocrv6-tiny"), batch_across_calls=True,
                              on_batch=lambda crops, width: calls.append((crops, width)))
    try:
        result = pipeline.predict(load_input(samples_dir / "scenes/s01_sign_zh_en.png").pages[0],
                                  OCROptions(use_textline_orientation=False))
    finally:
        pipeline.close()
    assert sum(crops for crops, _ in calls) == len(result.detected_polygons) > 0


def test_a_failing_observer_does_not_fail_recognition(ocr_v4, crops_by_page):
    def broken(crops: int, width: int) -> None:
        raise RuntimeError("metrics backend down")

    recognizer = ocr_v4.pipeline.recognizer
    observed = _with_observer(recognizer, broken)
    assert [r.text for r in observed(crops_by_page[1], 6)] == [r.text for r in recognizer(crops_by_page[1], 6)]


def test_merged_calls_stay_within_the_column_budget():
    calls: list[int] = []
    crops = [[np.zeros((32, 32 + i, 3), np.uint8)] for i in range(10)]  # ten one-crop requests, each at 320 px
    outcomes = recognize_together(FakeRecognizer(), crops, batch_size=6, max_batch=24, max_batch_pixels=4 * 320,
                                  call_sizes=calls)
    assert [o[0].text for o in outcomes] == [str(32 + i) for i in range(10)]
    assert calls == [4, 4, 2]  # at most 4 crops x 320 px per call, though 24 crops would be allowed


def test_the_column_budget_comes_from_the_settings():
    from ocrserve import load_settings
    from ocrserve.engine import build_pipeline

    pipeline = build_pipeline(load_settings(model="pp-ocrv6-tiny", rec_batch_max_columns=1920),
                              batch_across_calls=True)
    try:
        assert isinstance(pipeline.recognize, RecognitionBatcher)
        assert pipeline.recognize.max_batch_pixels == 1920
    finally:
        pipeline.close()


def test_a_chunk_past_the_column_budget_reads_the_same_in_smaller_calls(ocr_v4, crops_by_page):
    recognizer = ocr_v4.pipeline.recognizer
    crops = [crop for page in crops_by_page for crop in page]
    whole = recognizer(crops, 6)
    calls: list[tuple[int, int]] = []
    small = TextRecognizer(recognizer.model, recognizer.decode.charset, recognizer.image_height,
                           recognizer.image_width, on_batch=lambda n, width: calls.append((n, width)),
                           max_call_columns=2 * 320)
    split = small(crops, 6)
    assert [r.text for r in split] == [r.text for r in whole]
    assert [r.score for r in split] == pytest.approx([r.score for r in whole], abs=1e-4)
    assert sum(n for n, _ in calls) == len(crops)
    assert all(n == 1 or n * width <= 2 * 320 for n, width in calls)
    assert any(n == 2 for n, _ in calls) and max(n for n, _ in calls) == 2  # chunks of 6 ran as calls of 2 or 1


def test_crop_padding_reads_each_line_as_it_reads_alone(ocr_v4, crops_by_page):
    """`crop` padding: every crop padded to its own width (at least the trained one), so a line's reading
    does not depend on the other lines of its page; crops of one padded width still share calls."""
    one = ocr_v4.pipeline.recognizer
    own = TextRecognizer(one.model, one.decode.charset, one.image_height, one.image_width, padding="crop", workers=2)
    crops = [crop for page in crops_by_page for crop in page]
    plan = own.plan(crops, 6)
    trained = one.image_width / one.image_height
    for members, width in plan:
        assert all(width == int(one.image_height * max(trained, crops[i].shape[1] / crops[i].shape[0]))
                   for i in members)
    assert max(len(members) for members, _ in plan) > 1  # the short lines, all padded to 320, share calls
    together = own(crops, 6)
    alone = [own([crop], 6)[0] for crop in crops]
    assert [r.text for r in together] == [r.text for r in alone]
    with pytest.raises(ConfigError):
        TextRecognizer(one.model, one.decode.charset, padding="widest")


def test_crop_padding_below_the_trained_width_pads_short_lines_to_the_floor_only(ocr_v4, crops_by_page):
    """`min_width` (the set's `RecSpec.min_width`, or OCR_REC_MIN_WIDTH): a line narrower than the
    trained width is padded to its own width, at least the floor; `chunk` padding ignores it."""
    one = ocr_v4.pipeline.recognizer
    floored = TextRecognizer(one.model, one.decode.charset, one.image_height, one.image_width, padding="crop",
                             min_width=96)
    crops = [crop for page in crops_by_page for crop in page]
    plan = floored.plan(crops, 6)
    widths = {i: width for members, width in plan for i in members}
    assert widths == {i: int(48 * max(2.0, crop.shape[1] / crop.shape[0])) for i, crop in enumerate(crops)}
    assert min(widths.values()) < 320  # some line of the pages is short enough to gain
    assert [r.text for r in floored(crops, 6)] == [floored([crop], 6)[0].text for crop in crops]
    chunked = TextRecognizer(one.model, one.decode.charset, one.image_height, one.image_width, min_width=96)
    assert all(width >= 320 for _, width in chunked.plan(crops, 6))
    assert TextRecognizer(one.model, one.decode.charset, padding="crop", min_width=8).min_width == 48


def test_a_recogniser_on_openvino_runs_one_call_at_a_time_whatever_the_workers():
    """Two calls at once on one OpenVINO model hung once (docs/workers.md): its recogniser gets one worker."""
    from dataclasses import replace

    from ocrserve import load_settings
    from ocrserve.engine.builder import load_recognizer
    from ocrserve.engine.config import runtime_config
    from ocrserve.models.resolve import resolve_models

    settings = load_settings(model="pp-ocrv4-mobile")
    models, runtime = resolve_models(settings), runtime_config(settings)
    on_openvino = load_recognizer(models, replace(runtime, placements=(("rec", "openvino", "fp32"),)), workers=2)
    on_ort = load_recognizer(models, replace(runtime, placements=(("rec", "onnxruntime", "fp32"),)), workers=2)
    assert (on_openvino.workers, on_ort.workers) == (1, 2)
    assert on_openvino.model.providers == ["OpenVINO CPU fp32"]
