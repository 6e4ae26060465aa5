"""Option layers: request > operator setting > caller's (contract's) default > model set constant."""

from __future__ import annotations

import pytest

from ocrserve.engine.config import DET_PROFILES, EngineConfig
from ocrserve.engine.options import OCROptions, resolve
from ocrserve.models import get_model_set
from ocrserve.settings import Settings

MODEL_SET = get_model_set("pp-ocrv4-mobile")
SPEC = MODEL_SET.det
# what the RapidOCR-style contracts declare as their originals' defaults
CONTRACT = OCROptions(text_score=0.5, text_det_box_thresh=0.6, text_det_unclip_ratio=1.5, text_det_thresh=0.2,
                      text_det_limit_type="max", text_det_limit_side_len=736, return_word_box=True)


def config(**settings) -> EngineConfig:
    return EngineConfig.from_settings(Settings(model=MODEL_SET.name, **settings))


@pytest.fixture(autouse=True)
def _no_operator_environment(monkeypatch):
    """The layers under test must not pick up an OCR_* variable of the machine running the tests."""
    for name in ("OCR_TEXT_SCORE", "OCR_BOX_THRESH", "OCR_UNCLIP_RATIO", "OCR_DET_LIMIT_SIDE_LEN",
                 "OCR_DET_LIMIT_TYPE", "OCR_DET_PROFILE", "OCR_CONFIG_FILE", "OCR_MODEL_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)


def test_nothing_set_gives_the_model_sets_constants():
    eff = resolve(None, config(), MODEL_SET)
    assert (eff.det.limit_type, eff.det.limit_side_len) == (SPEC.limit_type, SPEC.limit_side_len)
    assert (eff.det.thresh, eff.det.box_thresh, eff.det.unclip_ratio) == (SPEC.thresh, SPEC.box_thresh,
                                                                          SPEC.unclip_ratio)
    assert eff.text_rec_score_thresh == MODEL_SET.text_score
    assert (eff.return_word_box, eff.use_det, eff.use_rec) == (False, True, True)


def test_contract_defaults_beat_the_model_set():
    eff = resolve(None, config(), MODEL_SET, CONTRACT)
    assert (eff.det.limit_type, eff.det.limit_side_len) == ("max", 736)
    assert (eff.det.thresh, eff.det.box_thresh, eff.det.unclip_ratio) == (0.2, 0.6, 1.5)
    assert eff.text_rec_score_thresh == 0.5
    assert eff.return_word_box is True


def test_settings_beat_contract_defaults():
    eff = resolve(None, config(box_thresh=0.7, text_score=0.3, det_limit_side_len=1280), MODEL_SET, CONTRACT)
    assert (eff.det.box_thresh, eff.text_rec_score_thresh) == (0.7, 0.3)
    assert (eff.det.limit_type, eff.det.limit_side_len) == ("max", 1280)  # each field decided on its own
    assert eff.det.unclip_ratio == 1.5  # not set by the operator: the contract's


def test_requests_beat_everything():
    request = OCROptions(text_det_box_thresh=0.4, text_rec_score_thresh=0.9, text_det_limit_type="min",
                         return_word_box=False)
    eff = resolve(request, config(box_thresh=0.7, text_score=0.3), MODEL_SET, CONTRACT)
    assert (eff.det.box_thresh, eff.text_rec_score_thresh, eff.det.limit_type) == (0.4, 0.9, "min")
    assert eff.return_word_box is False


def test_aliases_count_in_every_layer():
    contract = OCROptions(text_rec_score_thresh=0.2)
    assert resolve(OCROptions(text_score=0.8), config(), MODEL_SET, contract).text_rec_score_thresh == 0.8
    assert resolve(None, config(), MODEL_SET, OCROptions(text_score=0.2)).text_rec_score_thresh == 0.2
    assert resolve(OCROptions(use_cls=False), config(), MODEL_SET).use_textline_orientation is False


def test_the_detection_profile_is_an_operator_setting():
    fast = DET_PROFILES["fast"]
    eff = resolve(None, config(det_profile="fast"), MODEL_SET, CONTRACT)
    assert (eff.det.limit_type, eff.det.limit_side_len) == (fast.limit_type, fast.limit_side_len)
    eff = resolve(None, config(det_profile="fast", det_limit_side_len=1280), MODEL_SET)
    assert (eff.det.limit_type, eff.det.limit_side_len) == (fast.limit_type, 1280)
    eff = resolve(OCROptions(text_det_limit_type="min", text_det_limit_side_len=64), config(det_profile="fast"),
                  MODEL_SET)
    assert (eff.det.limit_type, eff.det.limit_side_len) == ("min", 64)


def test_settings_that_always_hold_a_value_leave_contracts_nothing_to_decide():
    contract = OCROptions(use_doc_orientation_classify=False, text_det_max_side_limit=960)
    eff = resolve(None, config(use_doc_orientation_classify=True), MODEL_SET, contract)
    assert eff.use_doc_orientation_classify is True
    assert eff.det.max_side_limit == config().det_max_side_limit


def test_resolve_is_pure():
    cfg = config(box_thresh=0.7)
    assert resolve(None, cfg, MODEL_SET) == resolve(OCROptions(), cfg, MODEL_SET, OCROptions())
    assert resolve(None, cfg, MODEL_SET, CONTRACT) == resolve(None, cfg, MODEL_SET, CONTRACT)
    assert resolve(None, cfg, MODEL_SET).det.box_thresh == 0.7  # the contract's call left nothing behind


def test_pipeline_resolves_with_a_contracts_defaults(ocr_v4):
    eff = ocr_v4.pipeline.resolve_options(OCROptions(text_det_thresh=0.25), OCROptions(text_det_thresh=0.1,
                                                                                      text_score=0.45))
    assert eff.det.thresh == 0.25
    assert eff.text_rec_score_thresh == (ocr_v4.settings.text_score or 0.45)


def test_config_carries_the_engine_settings():
    cfg = config(rec_batch_size=12, cls_batch_size=3, det_concurrency=2, rec_batch_wait_ms=0,
                 det_image_max_side=1600, intra_op_threads=2)
    assert (cfg.rec_batch_size, cfg.cls_batch_size, cfg.det_concurrency, cfg.rec_batch_wait_ms) == (12, 3, 2, 0)
    assert cfg.runtime.intra_op_threads == 2
    assert resolve(None, cfg, MODEL_SET).det.image_max_side == 1600
