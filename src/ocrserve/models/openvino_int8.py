"""OpenVINO int8 variants as the engine finds them: where a built variant lives, its manifest,
its files checked against their sha256, and what the settings load from it.

`ocrserve models quantize SET --backend openvino --calibration DIR` builds one
(ocrserve.tools.quantize_openvino) into ``<model_dir>/int8-openvino/SET/`` (OpenVINO IR:
``det.xml``/``.bin``, ``rec.xml``/``.bin``) with a ``manifest.json`` of each source's and
output's sha256, as the ONNX Runtime variant does (models/quantize.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ModelCorrupt, ModelMissing, ModelUnreadable
from .quantize import role_files
from .registry import ModelSet, get_model_set
from .store import ModelStore, readable_file, sha256_of, unreadable

VARIANT = "int8-openvino"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


def build_command(model_set: ModelSet | str) -> str:
    """The command that builds this variant (named in every ModelMissing)."""
    name = model_set if isinstance(model_set, str) else model_set.base_name
    return f"ocrserve models quantize {name} --backend openvino --calibration DIR"


def variant_dir(model_dir: Path, model_set: ModelSet) -> Path:
    """``<model_dir>/int8-openvino/<fp32 set name>``."""
    return Path(model_dir) / VARIANT / model_set.base_name


# --- load --------------------------------------------------------------------------------------
def read_manifest(model_dir: Path, model_set: ModelSet) -> dict[str, Any]:
    """The variant's manifest, or ModelMissing naming the command that builds it."""
    path = variant_dir(model_dir, model_set) / MANIFEST
    if not readable_file(path, model_dir):
        raise ModelMissing(f"the OpenVINO int8 files of {model_set.base_name} are not built (no {path}); "
                           f"run `{build_command(model_set)}`")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
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

__all__ = ["MANIFEST", "MANIFEST_FORMAT", "VARIANT", "build_command", "built_for", "file_overrides",
           "int8_paths", "read_manifest", "variant_dir", "variant_status"]
