"""Settings of a benchmark row, for the benches and their tests: a row names what the settings
offer and, so that it stays measurable, what they refuse (an int8 detector, another set's int8
recogniser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..engine.precision import INT8_VERIFIED, parse_spec
from ..errors import ConfigError
from ..models.openvino_int8 import file_overrides
from ..models.registry import get_model_set


def spec_overrides(model: str, spec: str, model_dir: Path) -> dict[str, Any]:
    """Settings of a bench row `BACKEND[:PRECISION[:DET_PRECISION]]`, an int8 detector included.

    The settings offer int8 for the recogniser of the sets that passed the gate (`openvino:int8`,
    `auto:int8:fp32`); any other int8 row (a detector: `openvino:int8:int8`, `openvino:fp32:int8`; another
    set's recogniser: `openvino:int8`) loads the built files as the operator's own, every other model on
    OpenVINO fp32, so that what the settings refuse stays measurable.
    """

    values = parse_spec(spec)
    rec = values.get("precision", "fp32")
    det_int8 = values.get("det_precision") == "int8"
    if not det_int8 and (rec != "int8" or model in INT8_VERIFIED):
        return dict(values)
    if values["backend"] != "openvino" or rec not in ("int8", "fp32"):
        raise ConfigError(f"{spec!r}: an int8 row the settings do not offer runs on openvino, the other "
                          "model in int8 or fp32 (openvino:int8:int8, openvino:fp32:int8)")
    roles = [*(["det"] if det_int8 else []), *(["rec"] if rec == "int8" else [])]
    others = {k: v for k, v in values.items() if k not in ("backend", "precision", "det_precision")}
    return {**file_overrides(get_model_set(model), model_dir, roles), **others}

