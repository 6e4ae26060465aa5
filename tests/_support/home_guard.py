"""Keep the test session away from the user's home, and tell when something under it changed anyway.

`isolate_from_home` runs before any test: ocrserve's job store, quota database, result files and
model-cache writes (OpenVINO's compiled blobs, `models pull`) go to a session directory, and so do
the caches of the tools the tests start (pip, Go, npm, Chromium); the pulled model files are linked
in, not copied.  `HomeSnapshot` records every path under the home with its size and mtime.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

#: toolchains installed under the home (Python, Rust, Maven): gigabytes the tests only read
TOOLCHAINS = (".pyenv", ".rustup", ".cargo", ".m2")


def isolate_from_home(session_dir: Path) -> None:
    """Point every per-user location at `session_dir`, the pulled models linked in read-only use."""
    from ocrserve.settings import load_settings

    pulled = load_settings().model_dir  # where `ocrserve models pull` put them, before XDG moves
    models = session_dir / "models"
    models.mkdir(parents=True)
    if pulled.is_dir():
        for entry in pulled.iterdir():
            if entry.is_dir() and entry.name != "openvino-cache":  # compiled blobs are written per session
                (models / entry.name).symlink_to(entry, target_is_directory=True)
    places = {
        "OCR_MODEL_DIR": models,
        # the job store, quota database and result files follow these, as their defaults do
        "XDG_CACHE_HOME": session_dir / "cache",
        "XDG_DATA_HOME": session_dir / "data",
        "XDG_CONFIG_HOME": session_dir / "config",
        "XDG_STATE_HOME": session_dir / "state",
        "GOPATH": session_dir / "go",
        "GOCACHE": session_dir / "go-build",
        "npm_config_cache": session_dir / "npm",
        "PIP_CACHE_DIR": session_dir / "pip",
    }
    # a local Ray cluster saves a new auth token under ~/.ray unless given one
    os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(16)
    # ONNX Runtime keeps a usage database under ~/.cache/Microsoft unless told not to: the tools' own
    # virtualenvs (the MCP server's, the official client's) run it without ocrserve, which says so itself
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    for name, path in places.items():
        os.environ[name] = str(path)


@dataclass(frozen=True)
class HomeSnapshot:
    """(size, mtime) of every file and folder under the home, toolchains aside."""

    entries: dict[str, tuple[int, int]]

    @classmethod
    def take(cls, home: Path | None = None) -> HomeSnapshot:
        home = home or Path.home()
        entries: dict[str, tuple[int, int]] = {}
        for root, dirs, files in os.walk(home):
            if Path(root) == home:
                dirs[:] = [d for d in dirs if d not in TOOLCHAINS]
            for name in [*dirs, *files]:
                path = os.path.join(root, name)
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    continue
                entries[path] = (st.st_size if not os.path.isdir(path) else 0, st.st_mtime_ns)
        return cls(entries)

    def changes(self, after: HomeSnapshot) -> list[str]:
        """Paths added, removed or modified between this snapshot and `after`."""
        added = [f"added {p}" for p in sorted(after.entries.keys() - self.entries.keys())]
        removed = [f"removed {p}" for p in sorted(self.entries.keys() - after.entries.keys())]
        modified = [f"modified {p}" for p in sorted(self.entries.keys() & after.entries.keys())
                    if self.entries[p] != after.entries[p]]
        return added + removed + modified
