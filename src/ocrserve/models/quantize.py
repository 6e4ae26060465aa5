"""int8 variants of a model set, built locally with ONNX Runtime's dynamic quantisation.

`ocrserve models quantize pp-ocrv6-small` writes ``<model_dir>/int8/pp-ocrv6-small/`` with the
quantised files and a ``manifest.json``; ``OCR_MODEL=pp-ocrv6-small-int8`` then loads them.

Built here, not shipped, so that every weight still comes from a pinned, sha256-checked PyPI
file: the manifest records each source's sha256 (it must equal the registry's pin) and each
output's, and loading verifies a built file as it verifies a pulled one (`OCR_VERIFY_MODELS`).
Dynamic quantisation needs no calibration images, so it cannot be tuned to the sample set it is
measured on.  Which operators each model kind quantises (`PLANS`) was chosen by measurement; the
numbers, and why static int8 is not offered here, are in docs/precision.md ("int8 on ONNX Runtime").
A role that maps to None loads the registry's fp32 file.
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

from ..errors import ModelCorrupt, ModelMissing, ModelUnreadable
from .registry import DOC_ORIENTATION, TEXTLINE_CLASSIFIERS, ModelFile, ModelSet, get_model_set
from .store import FILE_MODE, ModelStore, make_dirs, readable_file, sha256_of, unreadable, write_shared

VARIANT = "int8"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
ROLES = ("det", "rec", "textline", "doc_orientation")


@dataclass(frozen=True)
class QuantPlan:
    """Arguments of `quantize_dynamic` for one model kind."""

    op_types: tuple[str, ...]
    per_channel: bool = False
    reduce_range: bool = False  # 7-bit weights: only for CPUs without VNNI that show saturation


# role -> plan (None: keep the fp32 file): Conv int8 was slower on every model (docs/precision.md)
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
    make_dirs(out_dir)  # DIR_MODE whatever the umask: the serving user reads it too
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
            os.chmod(tmp, FILE_MODE)  # mkstemp makes 0600; other users (a service account) read it too
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
        log(f"  {target} {source.stat().st_size / 1e6:.1f} MB -> {target.stat().st_size / 1e6:.1f} MB")
    manifest = {
        "format": MANIFEST_FORMAT,
        "model_set": fp32.name,
        "variant": VARIANT,
        "onnxruntime": onnxruntime.__version__,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": entries,
        "fp32": sorted(set(ROLES) - set(entries)),
    }
    write_shared(out_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return manifest


# --- load --------------------------------------------------------------------------------------
def read_manifest(model_dir: Path, model_set: ModelSet) -> dict[str, Any]:
    """The variant's manifest, or ModelMissing naming the command that builds it."""
    path = variant_dir(model_dir, model_set) / MANIFEST
    if not readable_file(path, model_dir):
        raise ModelMissing(
            f"model set {model_set.name} is not built (no {path}); run `{build_command(model_set)}` "
            f"to quantise the pulled {model_set.base_name} files"
        )
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != MANIFEST_FORMAT or not isinstance(manifest.get("files"), dict):
            raise ValueError(f"format {manifest.get('format')!r}, expected {MANIFEST_FORMAT}")
    except PermissionError:
        raise unreadable(path, model_dir) from None
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
        if not readable_file(path, model_dir):
            raise ModelMissing(f"{path} listed in {directory / MANIFEST} is missing; run `{build_command(model_set)}`")
        if verify:
            actual = sha256_of(path, model_dir)
            if actual != entry["sha256"]:
                raise ModelCorrupt(f"{path} has sha256 {actual}, expected {entry['sha256']} "
                                   f"({directory / MANIFEST}); {fix}")
        out[role] = path
    return out


def variant_status(model_dir: Path, model_set: ModelSet) -> str:
    """'ok', 'missing', 'corrupt' or 'unreadable' for the whole variant: what `models list` / `verify` print."""
    try:
        quantized_paths(model_dir, model_set, role_files(model_set))
    except ModelUnreadable:
        return "unreadable"
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
