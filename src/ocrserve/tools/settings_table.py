"""The README's settings table, generated from the `Settings` model so the two cannot drift.

`python -m ocrserve.tools.settings_table` prints the table, from any directory;
`python -m ocrserve.tools.settings_table --write README.md` replaces the table between that file's markers;
`python -m ocrserve.tools.settings_table --check README.md` exits 1 when that file's table is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import AliasChoices
from pydantic.fields import FieldInfo

from ..settings import Settings

BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
#: defaults that depend on the machine or the user are shown as what they mean
MACHINE_DEFAULTS = {"model_dir": "`~/.cache/ocrserve/models`", "quota_db": "`~/.local/share/ocrserve/quota.sqlite3`",
                    "result_files_dir": "`~/.cache/ocrserve/results`", "job_dir": "`~/.local/share/ocrserve/jobs`"}


def env_names(name: str, info: FieldInfo) -> list[str]:
    """`OCR_<NAME>`, plus the other names a user may already have set (the seed's, rapidocr_api's)."""
    names = [f"OCR_{name.upper()}"]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        names += [c for c in alias.choices if isinstance(c, str) and c.upper() not in (n.upper() for n in names)]
    return names


def default_text(name: str, info: FieldInfo) -> str:
    if name in MACHINE_DEFAULTS:
        return MACHINE_DEFAULTS[name]
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    if value is None or value == "" or value == []:
        return "unset"
    if isinstance(value, list):
        value = ",".join(map(str, value))
    if isinstance(value, bool):
        value = str(value).lower()
    return f"`{value}`"


def table() -> str:
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        names = " ".join(f"`{n}`" for n in env_names(name, info))
        description = (info.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| {names} | {default_text(name, info)} | {description} |")
    return "\n".join(rows)


def render(readme: str) -> str:
    """The README with its settings block replaced by the current table."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {BEGIN} ... {END} block")
    return readme[: start + len(BEGIN)] + "\n" + table() + "\n" + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # a file is written only when named: run anywhere, this must not touch a README it happens to find
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--write", type=Path, metavar="README", help="replace the table between the file's markers")
    target.add_argument("--check", type=Path, metavar="README", help="exit 1 when the file's table is out of date")
    args = parser.parse_args(argv)
    path: Path | None = args.write or args.check
    if path is None:
        print(table())
        return 0
    try:
        current = path.read_text(encoding="utf-8")
        wanted = render(current)
    except (OSError, ValueError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if wanted != current:
            print(f"{path}: the settings table is out of date; run python -m ocrserve.tools.settings_table --write {path}",
                  file=sys.stderr)
            return 1
        return 0
    path.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
