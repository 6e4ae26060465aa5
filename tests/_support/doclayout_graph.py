"""A stand-in for a PP-DocLayout export: an ONNX graph with the same inputs and outputs that returns rows
it is given, so the `rows` head is tested through ONNX Runtime without the real file (a test of one layer:
the real graph's detector is not in it).

Like the export, it takes `im_shape` (N, 2) as the fed (H, W), `image` (N, 3, H, W) and `scale_factor`
(N, 2) as fed over original (H, W), and puts out rows (M, 6) of class, score, x0, y0, x1, y1 on the
original page, and the count of real rows (N,) as int32. The rows are given in the fed image's pixels
and divided by `scale_factor` in the graph, as the export maps its boxes back, and one more row is made
from `im_shape`, so that both inputs must be fed in (H, W) order for the boxes to come out right.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: the row made from `im_shape`: its class, score, and box as shares of the fed (W, H, W, H)
ShapeRow = tuple[int, float, tuple[float, float, float, float]]


def _const(name: str, value: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name))


def write_rows_graph(path: Path, rows: Sequence[Sequence[float]], count: int, shape_row: ShapeRow,
                     input_size: tuple[int, int], takes_scale: bool = True,
                     labels: Sequence[str] | None = None) -> Path:
    """Write the stand-in to `path`: `rows` (class, score, box in fed pixels) then the `shape_row`, of which
    the first `count` are real (the count output); `takes_scale` False drops the `scale_factor` input (the
    rows come out in fed pixels); `labels` go into the `character` metadata."""
    height, width = input_size
    cls, score, shares = shape_row
    nodes = [
        _const("given", np.asarray(rows, np.float32).reshape(-1, 6)),
        _const("shape_head", np.array([cls, score], np.float32)),
        _const("shares", np.array(shares, np.float32)),
        _const("wh_order", np.array([1, 0, 1, 0], np.int64)),
        _const("flat2", np.array([2], np.int64)),
        _const("row_shape", np.array([1, 6], np.int64)),
        _const("count", np.array([count], np.int32)),
        _const("no_scale", np.array([1.0, 1.0], np.float32)),
        # [W, H, W, H] of the fed size, times the shares: the shape row's box in fed pixels
        helper.make_node("Reshape", ["im_shape", "flat2"], ["hw"]),
        helper.make_node("Gather", ["hw", "wh_order"], ["whwh"], axis=0),
        helper.make_node("Mul", ["whwh", "shares"], ["shape_box"]),
        helper.make_node("Concat", ["shape_head", "shape_box"], ["shape_flat"], axis=0),
        helper.make_node("Reshape", ["shape_flat", "row_shape"], ["shape_row"]),
        helper.make_node("Concat", ["given", "shape_row"], ["fed_rows"], axis=0),
        # rows / [1, 1, w_scale, h_scale, w_scale, h_scale]: back on the original page
        helper.make_node("Reshape", ["scale_factor" if takes_scale else "no_scale", "flat2"], ["scale_hw"]),
        helper.make_node("Gather", ["scale_hw", "wh_order"], ["scale_whwh"], axis=0),
        helper.make_node("Concat", ["no_scale", "scale_whwh"], ["divisor"], axis=0),
        helper.make_node("Div", ["fed_rows", "divisor"], ["page_rows"]),
        # the image is read (its mean times zero is added), so that a feed of the wrong shape fails as in the export
        _const("nought", np.array(0.0, np.float32)),
        helper.make_node("ReduceMean", ["image"], ["image_mean"], keepdims=0),
        helper.make_node("Mul", ["image_mean", "nought"], ["image_zero"]),
        helper.make_node("Add", ["page_rows", "image_zero"], ["rows"]),
    ]
    inputs = [helper.make_tensor_value_info("im_shape", TensorProto.FLOAT, ["N", 2]),
              helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, height, width])]
    if takes_scale:
        inputs.append(helper.make_tensor_value_info("scale_factor", TensorProto.FLOAT, ["N", 2]))
    outputs = [helper.make_tensor_value_info("rows", TensorProto.FLOAT, ["M", 6]),
               helper.make_tensor_value_info("count", TensorProto.INT32, [1])]
    graph = helper.make_graph(nodes, "pp_doclayout_stand_in", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if labels is not None:
        helper.set_model_props(model, {"character": "\n".join(labels)})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


__all__ = ["ShapeRow", "write_rows_graph"]
