"""int8 for OpenVINO: NNCF post-training quantisation of a set's detector and recogniser.

`ocrserve models quantize SET --backend openvino --calibration DIR` writes
``<model_dir>/int8-openvino/SET/`` (OpenVINO IR: ``det.xml``/``.bin``, ``rec.xml``/``.bin``)
and a ``manifest.json`` with each source's and output's sha256, as the ONNX Runtime variant
does (models/quantize.py): the weights still come only from the pinned, sha256-checked files.

Calibration inputs are what the fp32 pipeline itself feeds the two models on the operator's
images (detector pages as resized and normalised, recogniser crops as batched and padded), so
the statistics describe real inputs.  Measurements and the accuracy gate: docs/precision.md.
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

from ..errors import BadInput, ConfigError, ModelCorrupt, ModelMissing, ModelUnreadable
from .quantize import role_files
from .registry import ModelSet, get_model_set
from .store import ModelStore, make_dirs, readable_file, sha256_of, unreadable

VARIANT = "int8-openvino"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
CALIBRATION_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pdf"}
MAX_SUBSET = 300  # NNCF's own default: statistics stop changing well before this
_FILE_MODE = 0o644


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


def build_command(model_set: ModelSet | str) -> str:
    """The command that builds this variant (named in every ModelMissing)."""
    name = model_set if isinstance(model_set, str) else model_set.base_name
    return f"ocrserve models quantize {name} --backend openvino --calibration DIR"


def variant_dir(model_dir: Path, model_set: ModelSet) -> Path:
    """``<model_dir>/int8-openvino/<fp32 set name>``."""
    return Path(model_dir) / VARIANT / model_set.base_name


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
    from ..ocr import OCR  # the engine imports this package: import it only when building

    ocr = OCR(model=model_set.base_name, model_dir=model_dir, backend="onnxruntime", precision="fp32",
              det_precision="fp32", max_pdf_pages=0)
    inputs: dict[str, list[np.ndarray]] = {"det": [], "rec": []}
    for role, model in (("det", ocr.pipeline.detector.model), ("rec", ocr.pipeline.recognizer.model)):
        model.run = _recording(model.run, inputs[role])  # this instance only, dropped with it
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
    from ..engine.backends.openvino import import_openvino

    os.environ.setdefault("NNCF_CI", "1")
    import_openvino()
    import nncf

    return nncf


def quantize_file(source: Path, target: Path, data: list[np.ndarray], plan: NncfPlan) -> None:
    """Quantise one ONNX file into an OpenVINO IR at `target` (.xml beside its .bin), metadata carried over."""
    try:
        nncf = import_nncf()
        from ..engine.backends.openvino import IR_METADATA, import_openvino, onnx_metadata

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
    from ..engine.backends.openvino import import_openvino

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
                os.chmod(path, _FILE_MODE)  # other users (a service account) read it too
                os.replace(path, out_dir / path.name)
            xml, weights = out_dir / built.name, out_dir / built.with_suffix(".bin").name
            entries[role] = {
                "source": f"{source_file.requirement}/{source_file.path}",
                "source_sha256": source_file.sha256,
                "path": xml.name, "sha256": sha256_of(xml), "size": xml.stat().st_size,
                "weights": weights.name, "weights_sha256": sha256_of(weights), "weights_size": weights.stat().st_size,
                "plan": asdict(plan),
            }
            log(f"  {xml} (+ .bin) {source_file.size / 1e6:.1f} MB -> {weights.stat().st_size / 1e6:.1f} MB")
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
    _write_manifest(out_dir, manifest)
    return manifest


def _write_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".manifest-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
    os.chmod(tmp, _FILE_MODE)
    os.replace(tmp, out_dir / MANIFEST)


# --- load --------------------------------------------------------------------------------------
def read_manifest(model_dir: Path, model_set: ModelSet) -> dict[str, Any]:
    """The variant's manifest, or ModelMissing naming the command that builds it."""
    path = variant_dir(model_dir, model_set) / MANIFEST
    if not readable_file(path, model_dir):
        raise ModelMissing(f"the OpenVINO int8 files of {model_set.base_name} are not built (no {path}); "
                           f"run `{build_command(model_set)}`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != MANIFEST_FORMAT or not isinstance(manifest.get("files"), dict):
            raise ValueError(f"format {manifest.get('format')!r}, expected {MANIFEST_FORMAT}")
    except PermissionError:
        raise unreadable(path, model_dir) from None
    except (OSError, ValueError) as exc:
        raise ModelCorrupt(f"{path} is unreadable ({exc}); run `{build_command(model_set)}` again") from exc
    return manifest


def int8_paths(model_dir: Path, model_set: ModelSet, verify: bool = True) -> dict[str, Path]:
    """The verified IR (.xml) of each quantised role; ModelMissing / ModelCorrupt naming the fix."""
    manifest = read_manifest(model_dir, model_set)
    directory = variant_dir(model_dir, model_set)
    fix = f"delete {directory} and run `{build_command(model_set)}`"
    wanted = role_files(get_model_set(model_set.base_name))
    out: dict[str, Path] = {}
    for role, entry in manifest["files"].items():
        if role not in wanted:
            continue
        if entry.get("source_sha256") != wanted[role].sha256:
            raise ModelCorrupt(f"{directory / entry.get('path', role)} was built from {entry.get('source')} "
                               f"(sha256 {entry.get('source_sha256')}), not {wanted[role].path}; {fix}")
        for name, digest in ((entry["path"], entry["sha256"]), (entry["weights"], entry["weights_sha256"])):
            path = directory / name
            if not readable_file(path, model_dir):
                raise ModelMissing(f"{path} listed in {directory / MANIFEST} is missing; "
                                   f"run `{build_command(model_set)}`")
            if verify and sha256_of(path, model_dir) != digest:
                raise ModelCorrupt(f"{path} has sha256 {sha256_of(path)}, expected {digest} "
                                   f"({directory / MANIFEST}); {fix}")
        out[role] = directory / entry["path"]
    return out


def variant_status(model_dir: Path, model_set: ModelSet) -> str:
    """'ok', 'missing', 'corrupt' or 'unreadable': what `models list` / `verify` print."""
    try:
        int8_paths(model_dir, model_set)
    except ModelUnreadable:
        return "unreadable"
    except ModelMissing:
        return "missing"
    except ModelCorrupt:
        return "corrupt"
    return "ok"


def built_for(source: Path, model_dir: Path) -> Path:
    """The verified IR built from the fp32 file `source` (found by its sha256), or ModelMissing naming the build."""
    from .registry import MODEL_SETS

    digest = sha256_of(Path(source))
    for manifest_path in sorted((Path(model_dir) / VARIANT).glob(f"*/{MANIFEST}")):
        model_set = MODEL_SETS.get(manifest_path.parent.name)
        if model_set is None:
            continue
        entries = read_manifest(model_dir, model_set)["files"]
        role = next((r for r, entry in entries.items() if entry.get("source_sha256") == digest), None)
        if role is not None:
            return int8_paths(model_dir, model_set)[role]
    owner = next((m.name for m in MODEL_SETS.values() if digest in (m.det.file.sha256, m.rec.file.sha256)), None)
    if owner is None:
        raise ModelMissing(f"{source} is not a model set's file: int8 runs only the files that "
                           "`ocrserve models quantize SET --backend openvino` built from a set's own files")
    raise ModelMissing(f"no OpenVINO int8 build of {source.name} in {Path(model_dir) / VARIANT}; "
                       f"run `{build_command(owner)}`")


def file_overrides(model_set: ModelSet, model_dir: Path, roles: Iterable[str],
                   verify: bool = True) -> dict[str, Any]:
    """Settings that run the built IRs of `roles` ("det", "rec") as the operator's own model files.

    Every stage then runs on OpenVINO (a custom file has no verified row), fp32 where not int8;
    the recogniser keeps its set's dictionary.  How the benches measure the variant.
    """
    paths = int8_paths(model_dir, model_set, verify)
    overrides: dict[str, Any] = {"backend": "openvino", "precision": "fp32", "det_precision": "fp32"}
    for role in roles:
        if role not in paths:
            raise ConfigError(f"{role} is not quantised in {variant_dir(model_dir, model_set)}")
        overrides[f"{role}_model_path"] = paths[role]
    if "rec" in roles and model_set.rec.dict_file is not None:
        store = ModelStore(model_dir, verify=verify)
        overrides["rec_keys_path"] = store.resolve(model_set.rec.dict_file, model_set.base_name)
    return overrides


def spec_overrides(model: str, spec: str, model_dir: Path) -> dict[str, Any]:
    """Settings of a bench row `BACKEND[:PRECISION[:DET_PRECISION]]`, an int8 detector included.

    The settings offer int8 for the recogniser of the sets that passed the gate (`openvino:int8`,
    `auto:int8:fp32`); any other int8 row (a detector: `openvino:int8:int8`, `openvino:fp32:int8`; another
    set's recogniser: `openvino:int8`) loads the built files as the operator's own, every other model on
    OpenVINO fp32, so that what the settings refuse stays measurable.
    """
    from ..engine.precision import INT8_VERIFIED, parse_spec  # the engine imports this package

    values = parse_spec(spec)
    rec = values.get("precision", "fp32")
    det_int8 = values.get("det_precision") == "int8"
    if not det_int8 and (rec != "int8" or model in INT8_VERIFIED):
        return dict(values)
    if values["backend"] != "openvino" or rec not in ("int8", "fp32"):
        raise ConfigError(f"{spec!r}: an int8 row the settings do not offer runs on openvino, the other "
                          "model in int8 or fp32 (openvino:int8:int8, openvino:fp32:int8)")
    roles = [*(["det"] if det_int8 else []), *(["rec"] if rec == "int8" else [])]
    return file_overrides(get_model_set(model), model_dir, roles)

__all__ = [
    "PLANS",
    "NncfPlan",
    "build_command",
    "built_for",
    "calibration_files",
    "collect_inputs",
    "file_overrides",
    "int8_paths",
    "quantize_model_set",
    "read_manifest",
    "spec_overrides",
    "variant_dir",
    "variant_status",
]
