"""Build the OpenVINO int8 variant of a model set: NNCF post-training quantisation of its detector
and recogniser (`ocrserve models quantize SET --backend openvino --calibration DIR`).

Calibration inputs are what the fp32 pipeline itself feeds the two models on the operator's
images (detector pages as resized and normalised, recogniser crops as batched and padded), so
the statistics describe real inputs; the weights still come only from the pinned, sha256-checked
files.  Measurements and the accuracy gate: docs/precision.md.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..engine.backends.openvino import IR_METADATA, import_openvino, onnx_metadata
from ..errors import BadInput, ModelCorrupt, ModelMissing
from ..models.openvino_int8 import MANIFEST, MANIFEST_FORMAT, VARIANT, variant_dir
from ..models.quantize import role_files
from ..models.registry import ModelSet, get_model_set
from ..models.store import FILE_MODE, ModelStore, make_dirs, sha256_of, write_shared
from ..ocr import OCR

CALIBRATION_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pdf"}


MAX_SUBSET = 300  # NNCF's own default: statistics stop changing well before this


@dataclass(frozen=True)
class NncfPlan:
    """Arguments of `nncf.quantize` for one model kind."""

    preset: str = "performance"  # symmetric activations: what OpenVINO's CPU int8 kernels run fastest
    model_type: str | None = None  # "transformer": keeps softmax and normalisations out of int8 (SVTR neck)
    fast_bias_correction: bool = True


# role -> plan (None: that role stays fp32); the classifiers cost ~2% of a page, as for the ORT variant
PLANS: dict[str, NncfPlan | None] = {
    "det": NncfPlan(),
    "rec": NncfPlan(model_type="transformer"),
    "textline": None,
    "doc_orientation": None,
}


def calibration_files(paths: Iterable[Path]) -> list[Path]:
    """Images and PDFs as given, directories recursed (sorted), or BadInput when there are none."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in CALIBRATION_SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise BadInput(f"calibration input {path} does not exist")
    if not found:
        raise BadInput("no calibration images (png, jpg, tif, webp, bmp or pdf) in "
                       + ", ".join(str(p) for p in paths))
    return found


# --- build -------------------------------------------------------------------------------------
def collect_inputs(model_set: ModelSet, model_dir: Path, files: Sequence[Path],
                   log: Callable[[str], Any] = print) -> dict[str, list[np.ndarray]]:
    """Detector and recogniser inputs of the fp32 ONNX Runtime pipeline on `files`, one array per call or crop."""

    ocr = OCR(model=model_set.base_name, model_dir=model_dir, backend="onnxruntime", precision="fp32",
              det_precision="fp32", max_pdf_pages=0)
    inputs: dict[str, list[np.ndarray]] = {"det": [], "rec": []}
    recognizer = ocr.pipeline.recognizer
    assert recognizer is not None, "a local pipeline has its recogniser"
    for role, model in (("det", ocr.pipeline.detector.model), ("rec", recognizer.model)):
        model.run = _recording(model.run, inputs[role])  # type: ignore[method-assign,assignment]  # this instance only
    for path in files:
        ocr.predict(path, pdf_text="ocr")
    # a recogniser batch is split into its crops, each keeping the batch's padded width
    inputs["rec"] = [batch[i:i + 1] for batch in inputs["rec"] for i in range(batch.shape[0])]
    log(f"calibration: {len(files)} file(s), {len(inputs['det'])} detector inputs, "
        f"{len(inputs['rec'])} recogniser crops")
    return inputs


def _recording(run: Callable[[np.ndarray], np.ndarray], into: list[np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    def wrapped(batch: np.ndarray) -> np.ndarray:
        into.append(np.array(batch, dtype=np.float32, copy=True))
        return run(batch)
    return wrapped


def import_nncf() -> Any:
    """nncf, with its usage telemetry off: it sends events to an analytics service by default unless it
    believes it runs in CI (its own switch, NNCF_CI), and a self-hosted service must reach only PyPI;
    the OpenVINO it imports comes without its own telemetry."""
    os.environ.setdefault("NNCF_CI", "1")
    import_openvino()
    import nncf

    return nncf


def quantize_file(source: Path, target: Path, data: list[np.ndarray], plan: NncfPlan) -> None:
    """Quantise one ONNX file into an OpenVINO IR at `target` (.xml beside its .bin), metadata carried over."""
    try:
        nncf = import_nncf()
        ov = import_openvino()
    except ImportError as exc:
        raise ModelMissing(f"building OpenVINO int8 models needs `nncf` and `openvino` ({exc.name} is missing): "
                           "pip install 'ocrserve[openvino,quantize]'") from exc
    if not data:
        raise BadInput(f"no calibration inputs reached {source.name}: give images with text on them")
    try:
        model = ov.Core().read_model(str(source))
        kwargs: dict[str, Any] = {"preset": nncf.QuantizationPreset(plan.preset),
                                  "fast_bias_correction": plan.fast_bias_correction,
                                  "subset_size": min(len(data), MAX_SUBSET)}
        if plan.model_type:
            kwargs["model_type"] = nncf.ModelType(plan.model_type)
        quantised = nncf.quantize(model, nncf.Dataset(data), **kwargs)
        for key, value in onnx_metadata(source).items():
            quantised.set_rt_info(value, [*IR_METADATA, key])  # the IR has no metadata_props
        ov.save_model(quantised, str(target), compress_to_fp16=False)
    except Exception as exc:  # nncf and openvino raise their own types
        raise ModelCorrupt(f"NNCF could not quantise {source}: {type(exc).__name__}: {exc}") from exc


def quantize_model_set(model_set: ModelSet, model_dir: Path, calibration: Sequence[Path],
                       log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Build the OpenVINO int8 variant of `model_set` from its pulled fp32 files; returns the manifest.

    Files are written into a temporary folder and renamed into place, the manifest last, so a
    reader sees either the old complete variant or the new one.
    """
    nncf = import_nncf()
    openvino = import_openvino()

    fp32 = get_model_set(model_set.base_name)
    files = calibration_files(calibration)
    store = ModelStore(model_dir, verify=True)
    out_dir = variant_dir(model_dir, fp32)
    make_dirs(out_dir)  # DIR_MODE whatever the umask: the serving user reads it too
    inputs = collect_inputs(fp32, model_dir, files, log)
    entries: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        for role, source_file in role_files(fp32).items():
            plan = PLANS[role]
            if plan is None:
                continue
            source = store.resolve(source_file, fp32.name)
            log(f"quantising {role}: {source_file.path} with NNCF ({len(inputs[role])} inputs) ...")
            built = Path(tmp) / f"{role}.xml"
            quantize_file(source, built, inputs[role], plan)
            for path in (built, built.with_suffix(".bin")):
                os.chmod(path, FILE_MODE)  # other users (a service account) read it too
                os.replace(path, out_dir / path.name)
            xml, weights = out_dir / built.name, out_dir / built.with_suffix(".bin").name
            entries[role] = {
                "source": f"{source_file.requirement}/{source_file.path}",
                "source_sha256": source_file.sha256,
                "path": xml.name, "sha256": sha256_of(xml), "size": xml.stat().st_size,
                "weights": weights.name, "weights_sha256": sha256_of(weights), "weights_size": weights.stat().st_size,
                "plan": asdict(plan),
            }
            log(f"  {xml} (+ .bin) {source.stat().st_size / 1e6:.1f} MB -> {weights.stat().st_size / 1e6:.1f} MB")
    manifest = {
        "format": MANIFEST_FORMAT,
        "model_set": fp32.name,
        "variant": VARIANT,
        "openvino": openvino.__version__.split("-")[0],
        "nncf": nncf.__version__,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "calibration": {"files": [{"name": p.name, "sha256": sha256_of(p)} for p in files],
                        "inputs": {role: len(values) for role, values in inputs.items()}},
        "files": entries,
        "fp32": sorted(set(PLANS) - set(entries)),
    }
    write_shared(out_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return manifest

