"""The visualised result (boxes left, text right) and the encoders that ship it."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocrserve.errors import BadInput
from ocrserve.export.visualize import encode_jpeg_base64, font_path, render_ocr_image, write_image

SIGN = "scenes/s01_sign_zh_en.png"


@pytest.fixture(scope="module")
def sign_result(ocr_v4, samples_dir):
    return ocr_v4.predict(samples_dir / SIGN)[0]


def _lines_mask(result, shape: tuple[int, int]) -> np.ndarray:
    """True inside any recognised line's polygon."""
    mask = np.zeros(shape, dtype=np.uint8)
    for line in result.lines:
        cv2.fillPoly(mask, [np.round(np.asarray(line.polygon)).astype(np.int32)], 1)
    return mask.astype(bool)


def test_side_by_side_layout(sign_result):
    h, w = sign_result.image.shape[:2]
    rendered = render_ocr_image(sign_result)
    assert rendered.shape == (h, 2 * w, 3) and rendered.dtype == np.uint8


def test_left_half_shows_the_boxes_over_the_input(sign_result):
    image = sign_result.image
    left = render_ocr_image(sign_result)[:, : image.shape[1]]
    changed = np.any(left != image, axis=2)
    assert changed[_lines_mask(sign_result, image.shape[:2])].mean() > 0.5  # filled + outlined
    assert not changed[0:5, 0:5].any()  # far from every line the input is untouched


def test_right_half_has_ink_where_the_text_was_found(sign_result):
    h, w = sign_result.image.shape[:2]
    right = render_ocr_image(sign_result)[:, w:]
    inside = _lines_mask(sign_result, (h, w))
    dark = right.max(axis=2) < 100
    assert dark[inside].mean() > 0.02
    assert not dark[~inside].any()  # text stays inside its polygon; the rest of the canvas is white/outline
    assert (right[0:5, 0:5] == 255).all()


def test_a_page_without_lines_renders_the_input_and_a_blank_canvas(sign_result):
    empty = dataclasses.replace(sign_result, lines=[])
    rendered = render_ocr_image(empty)
    w = empty.image.shape[1]
    assert np.array_equal(rendered[:, :w], empty.image)
    assert (rendered[:, w:] == 255).all()


def test_no_kept_image_is_a_bad_input(sign_result):
    with pytest.raises(BadInput, match="no image kept"):
        render_ocr_image(dataclasses.replace(sign_result, image=None))


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg", ".webp"])
def test_write_image_encodes_by_suffix(tmp_path: Path, suffix: str):
    image = np.zeros((40, 60, 3), dtype=np.uint8)
    image[10:30, 20:40] = (0, 0, 255)
    target = tmp_path / f"out{suffix}"
    write_image(target, image)
    decoded = cv2.imdecode(np.frombuffer(target.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == image.shape
    if suffix == ".png":
        assert np.array_equal(decoded, image)


def test_write_image_refuses_an_unknown_suffix(tmp_path: Path):
    with pytest.raises(BadInput, match=".png"):
        write_image(tmp_path / "out.gif", np.zeros((4, 4, 3), dtype=np.uint8))
    assert not (tmp_path / "out.gif").exists()


def test_save_image_writes_the_rendering(sign_result, tmp_path: Path):
    target = sign_result.save_image(tmp_path / "sign_ocr.png")
    decoded = cv2.imread(str(target))
    assert np.array_equal(decoded, render_ocr_image(sign_result))


def _decode_b64(text: str) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(base64.b64decode(text), np.uint8), cv2.IMREAD_COLOR)


def test_jpeg_base64_is_capped_at_2000_keeping_the_aspect_ratio():
    big = np.full((4000, 3000, 3), 200, dtype=np.uint8)  # h x w
    decoded = _decode_b64(encode_jpeg_base64(big))
    assert decoded.shape[:2] == (2000, 1500)


def test_jpeg_base64_never_enlarges():
    small = np.full((30, 50, 3), 90, dtype=np.uint8)
    assert _decode_b64(encode_jpeg_base64(small, max_side=2000)).shape == small.shape


def test_font_lookup_is_cached_and_points_at_a_real_file():
    found = font_path()
    assert found is font_path()
    assert found is None or Path(found).is_file()
