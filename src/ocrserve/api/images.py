"""Result images for responses that ask for them (`visualize`), capped like PaddleX's at 2000 px."""

from __future__ import annotations

from ..engine.orient import rotate_ccw
from ..render import encode_jpeg_base64, render_ocr_image
from ..result import OCRResult


def result_images(result: OCRResult, visualize: bool) -> dict[str, str]:
    """ocrImage and inputImage, plus docPreprocessingImage when the page was turned upright."""
    if not visualize or result.image is None:
        return {}
    images = {"ocrImage": encode_jpeg_base64(render_ocr_image(result))}
    if result.doc_angle:
        images["docPreprocessingImage"] = encode_jpeg_base64(rotate_ccw(result.image, result.doc_angle))
    images["inputImage"] = encode_jpeg_base64(result.image)
    return images
