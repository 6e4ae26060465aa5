"""JSON Schemas of the peers' response bodies, written from their contracts
(the original documents in tests/data/originals), independent of our own OpenAPI document."""

from __future__ import annotations

INT_POINT = {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}
NUM_POINT = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
INT_QUAD = {"type": "array", "items": INT_POINT, "minItems": 4, "maxItems": 4}
NUM_QUAD = {"type": "array", "items": NUM_POINT, "minItems": 4, "maxItems": 4}
# PaddleX sends str(uuid.uuid4()) as logId
UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"

PRUNED_RESULT = {
    "type": "object",
    "required": ["model_settings", "dt_polys", "text_det_params", "text_type", "text_rec_score_thresh",
                 "rec_texts", "rec_scores", "rec_polys", "rec_boxes"],
    "properties": {
        "model_settings": {"type": "object", "required": ["use_doc_preprocessor", "use_textline_orientation"]},
        "doc_preprocessor_res": {"type": "object", "required": ["model_settings", "angle"],
                                 "properties": {"angle": {"type": "integer"}}},
        "dt_polys": {"type": "array", "items": INT_QUAD},
        "text_det_params": {"type": "object", "required": ["limit_side_len", "limit_type", "thresh",
                                                           "box_thresh", "unclip_ratio"]},
        "text_type": {"const": "general"},
        "textline_orientation_angles": {"type": "array", "items": {"enum": [-1, 0, 1, 180]}},
        "text_rec_score_thresh": {"type": "number"},
        "return_word_box": {"type": "boolean"},
        "rec_texts": {"type": "array", "items": {"type": "string"}},
        "rec_scores": {"type": "array", "items": {"type": "number"}},
        "rec_polys": {"type": "array", "items": INT_QUAD},
        "rec_boxes": {"type": "array", "items": {"type": "array", "items": {"type": "integer"},
                                                 "minItems": 4, "maxItems": 4}},
    },
}

PADDLEX_RESPONSE = {
    "type": "object",
    "required": ["logId", "errorCode", "errorMsg", "result"],
    "properties": {
        "logId": {"type": "string", "pattern": UUID},
        "errorCode": {"const": 0},
        "errorMsg": {"const": "Success"},
        "result": {
            "type": "object",
            "required": ["ocrResults", "dataInfo"],
            "properties": {
                "ocrResults": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["prunedResult"],
                    "properties": {"prunedResult": PRUNED_RESULT, "ocrImage": {"type": "string"},
                                   "inputImage": {"type": "string"},
                                   "docPreprocessingImage": {"type": "string"}},
                    "additionalProperties": False}},
                "dataInfo": {"oneOf": [
                    {"type": "object", "required": ["width", "height", "type"],
                     "properties": {"type": {"const": "image"}, "width": {"type": "integer"},
                                    "height": {"type": "integer"}}},
                    {"type": "object", "required": ["numPages", "pages", "type"],
                     "properties": {"type": {"const": "pdf"}, "numPages": {"type": "integer"},
                                    "pages": {"type": "array", "items": {
                                        "type": "object", "required": ["width", "height"]}}}},
                ]},
            },
        },
    },
}

PADDLEX_ERROR = {
    "type": "object", "required": ["logId", "errorCode", "errorMsg"],
    "properties": {"logId": {"type": "string"}, "errorCode": {"type": "integer", "minimum": 400},
                   "errorMsg": {"type": "string", "minLength": 1}},
}

PADDLEX_BETA_RESPONSE = {
    "type": "object", "required": ["logId", "errorCode", "errorMsg", "result"],
    "properties": {"result": {"type": "object", "required": ["texts", "image"], "properties": {
        "texts": {"type": "array", "items": {"type": "object", "required": ["poly", "text", "score"],
                                              "properties": {"poly": {"type": "array", "items": INT_POINT},
                                                             "text": {"type": "string"},
                                                             "score": {"type": "number"}}}},
        "image": {"type": "string"}}}},
}

RAPIDOCR_RESPONSE = {
    "type": "object",
    "patternProperties": {"^[0-9]+$": {
        "type": "object", "required": ["rec_txt", "dt_boxes", "score"],
        "properties": {"rec_txt": {"type": "string"}, "dt_boxes": NUM_QUAD, "score": {"type": "number"}}}},
    "additionalProperties": False,
}

HUB_RESPONSE = {
    "type": "object", "required": ["status", "msg", "results"],
    "properties": {"status": {"const": "000"}, "msg": {"type": "string"},
                   "results": {"type": "array", "items": {"type": "array", "items": {
                       "type": "object", "required": ["text", "confidence", "text_region"],
                       "properties": {"text": {"type": "string"}, "confidence": {"type": "number"},
                                      "text_region": INT_QUAD}}}}},
}

SEED_RESPONSE = {
    "type": "object", "required": ["success", "results", "processing_time", "image_size"],
    "properties": {"success": {"const": True},
                   "results": {"type": "array", "items": {"type": "object", "required": ["text"], "properties": {
                       "text": {"type": "string"}, "confidence": {"type": "number"}, "bbox": NUM_QUAD}}},
                   "processing_time": {"type": "number"},
                   "image_size": {"type": "object", "required": ["width", "height"]}},
}

SEED_LINE = {"type": "object", "required": ["text", "confidence", "bbox"],
             "properties": {"text": {"type": "string"}, "confidence": {"type": "number"}, "bbox": NUM_QUAD}}
# the seed README's /upload_pdf: one item per page, that page's lines and its own processing time
SEED_PDF_RESPONSE = {
    "type": "object", "required": ["success", "results"],
    "properties": {"success": {"const": True}, "results": {"type": "array", "items": {
        "type": "object",
        "required": ["page", "index", "result", "bbox_image", "processing_time", "image_size"],
        "properties": {"page": {"type": "integer", "minimum": 1}, "index": {"type": "integer", "minimum": 0},
                       "result": {"type": "array", "items": SEED_LINE},
                       "bbox_image": {"type": "array", "items": {"type": "integer"}, "minItems": 4,
                                      "maxItems": 4},
                       "processing_time": {"type": "number", "exclusiveMinimum": 0},
                       "image_size": {"type": "object", "required": ["width", "height"],
                                      "properties": {"width": {"type": "integer"},
                                                     "height": {"type": "integer"}}}}}}},
}

SEED_ERROR = {"type": "object", "required": ["success", "error"],
              "properties": {"success": {"const": False}, "error": {"type": "string", "minLength": 1}}}

HEALTH_RESPONSE = {
    "type": "object",
    "required": ["logId", "errorCode", "errorMsg", "status", "model", "model_version", "gpu_support",
                 "providers", "environment", "supported_languages"],
    "properties": {"errorCode": {"const": 0}, "errorMsg": {"const": "Healthy"}, "status": {"const": "healthy"},
                   "model": {"type": "string"}, "model_version": {"type": "string", "pattern": "^v[0-9]+$"},
                   "gpu_support": {"type": "boolean"}, "providers": {"type": "array", "items": {"type": "string"}},
                   "environment": {"type": "string"},
                   "supported_languages": {"type": "array", "items": {"type": "string"}}},
}
