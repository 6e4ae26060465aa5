"""A job's spec: what it reads and writes, decided once at submission and stored with it.

The job API's request (`optionalPayload`) is turned into this at submission; the runner, the
status and the files read only the spec, never the HTTP payload it came in.  Stored as JSON with
a version; jobs stored before the spec (their `optionalPayload` as validated) are read through
`from_payload`, and the store's migration rewrites them once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from ..contracts import jobs as contract
from ..contracts import paddlex
from ..engine import OCROptions
from ..engine.layout import ScoreThreshold, score_threshold
from ..kinds import TextLayerPolicy
from ..reader import text_layer_policy

SPEC_VERSION = 1
#: what a job does with each page: read it (the OCR models), or also parse its layout (PP-StructureV3)
JobTask = Literal["ocr", "layout_parsing"]


@dataclass(frozen=True)
class JobSpec:
    """`options`: the OCR options asked for (the job API's defaults and the settings sit below them);
    `formats`: the files built beside the JSONL; `visualize`: result images drawn, already resolved
    against the settings; `policy`: the PDF text-layer choice (None: OCR_PDF_TEXT); `warnings`: what
    the submission's answer and the job's status say (ignored keys)."""

    options: OCROptions
    formats: tuple[str, ...] = ()
    visualize: bool = False
    policy: TextLayerPolicy | None = None
    warnings: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # the request's `lang` codes (none: the model set alone)
    task: JobTask = "ocr"
    # layout parsing: the detector's score threshold (None: its own), labels kept out of the Markdown
    # (None: the defaults), whether the figures' crops are returned, whether tables are read as cells
    layout_threshold: ScoreThreshold = None
    ignore_labels: tuple[str, ...] | None = None
    markdown_images: bool = True
    tables: bool = True

    def to_json(self) -> dict[str, Any]:
        options = {k: v for k, v in dataclasses.asdict(self.options).items() if v is not None}
        return {"version": SPEC_VERSION, "options": options, "formats": list(self.formats),
                "visualize": self.visualize, "policy": self.policy, "warnings": list(self.warnings),
                "languages": list(self.languages), "task": self.task, "layout_threshold": self.layout_threshold,
                "ignore_labels": None if self.ignore_labels is None else list(self.ignore_labels),
                "markdown_images": self.markdown_images, "tables": self.tables}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobSpec:
        if data.get("version") != SPEC_VERSION:
            return cls.from_payload(data)
        policy = data.get("policy")
        return cls(options=OCROptions(**data["options"]), formats=tuple(data["formats"]),
                   visualize=bool(data["visualize"]), policy=None if policy is None else text_layer_policy(policy),
                   warnings=tuple(data["warnings"]), languages=tuple(data.get("languages", ())),
                   task="layout_parsing" if data.get("task") == "layout_parsing" else "ocr",
                   layout_threshold=score_threshold(data.get("layout_threshold")),
                   ignore_labels=None if data.get("ignore_labels") is None else tuple(data["ignore_labels"]),
                   markdown_images=bool(data.get("markdown_images", True)), tables=bool(data.get("tables", True)))

    @classmethod
    def from_payload(cls, stored: dict[str, Any]) -> JobSpec:
        """A job stored before the spec: its `optionalPayload` as validated, `visualize` resolved, `warnings`."""
        payload = contract.OptionalPayload.model_validate({k: v for k, v in stored.items() if k != "warnings"})
        return cls(options=contract.to_options(payload), formats=tuple(payload.outputFormats or ()),
                   visualize=bool(stored.get("visualize")), policy=payload.pdfText,
                   warnings=tuple(stored.get("warnings") or ()),
                   languages=tuple(paddlex.languages(payload)))
