"""Where each effective setting came from: what `ocrserve config` prints beside its value.

The order is that of `Settings.settings_customise_sources`, highest first: options given on the
command line (keyword arguments), the environment, the YAML file of OCR_CONFIG_FILE, the RapidOCR
config.yaml of OCR_MODEL_CONFIG_PATH, and last the field's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .settings import RAPIDOCR_KEYS, Settings, _env, rapidocr_config_settings, variables_of, yaml_settings

SourceKind = Literal["command_line", "environment", "config_file", "rapidocr_config", "default"]


@dataclass(frozen=True)
class Origin:
    """One field's source, and the option, variable or file within it (None for a default)."""

    source: SourceKind
    detail: str | None = None

    def describe(self) -> str:
        """`environment variable OCR_PORT`, `YAML config file /etc/ocr.yaml (OCR_CONFIG_FILE)`, ..."""
        return {
            "command_line": f"command-line option {self.detail}",
            "environment": f"environment variable {self.detail}",
            "config_file": f"YAML config file {self.detail} (OCR_CONFIG_FILE)",
            "rapidocr_config": f"RapidOCR config.yaml {self.detail} (OCR_MODEL_CONFIG_PATH)",
            "default": "default",
        }[self.source]


def variable_name(field: str) -> str:
    """The OCR_* variable that sets `field`: its first OCR_ alias (`workers` -> OCR_WORKERS), else
    OCR_<FIELD>."""
    names = [n for n in variables_of(field) if n.upper().startswith("OCR_")]
    return names[0] if names else f"OCR_{field.upper()}"


def _set_variable(field: str) -> str | None:
    """The first of `field`'s variables set in the environment (read as the settings read it), or None."""
    return next((name for name in variables_of(field) if _env(name) is not None), None)


def _rapidocr_keys(path: Path | None) -> dict[str, str]:
    """field -> `Section.key` of each value the RapidOCR config.yaml at `path` sets."""
    key_of = {field: f"{section}.{key}" for (section, key), field in RAPIDOCR_KEYS.items()}
    return {field: key_of[field] for field in (rapidocr_config_settings(path) if path is not None else {})}


def origins(settings: Settings, options: Mapping[str, str] | None = None) -> dict[str, Origin]:
    """Each field of `settings` -> where its value came from; `options` maps the fields given as
    command-line options (the keyword arguments `settings` was built with) to the option's text."""
    options = options or {}
    own = {k for k, v in (yaml_settings(settings.config_file) if settings.config_file else {}).items()
           if v is not None}
    rapidocr = _rapidocr_keys(settings.model_config_path)
    out: dict[str, Origin] = {}
    for field in Settings.model_fields:
        variable = _set_variable(field)
        if field in options:
            out[field] = Origin("command_line", options[field])
        elif variable is not None:
            out[field] = Origin("environment", variable)
        elif field in own:
            out[field] = Origin("config_file", str(settings.config_file))
        elif field in rapidocr:
            out[field] = Origin("rapidocr_config", f"{settings.model_config_path} {rapidocr[field]}")
        else:
            out[field] = Origin("default")
    return out


__all__ = ["Origin", "origins", "variable_name"]
