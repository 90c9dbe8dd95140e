"""adopt: point notebooks' ``metadata.kernelspec`` at the project's kernel, changing nothing else.

Contract:
- The kernel is ``--kernel NAME`` or the one kernelenv registered for the project
  (``--project``, default the current folder); KERNEL_NOT_FOUND otherwise.
- Notebooks: each NOTEBOOK given, every ``*.ipynb`` under each DIR given, or (none given)
  every ``*.ipynb`` under the project; folders that are hidden, venvs (``.venv``, any folder
  with a ``pyvenv.cfg``), ``.kernelenv``, ``site-packages`` or nested projects (a folder with its
  own ``.venv``) are not searched. A path that
  does not exist is USAGE and nothing is written. A link is followed and its target edited.
- Each notebook gets ``metadata.kernelspec`` = the kernel's name and display name (language
  kept, ``python`` when new) and nothing else: every other byte of the file stays as it was
  (kernelenv/nbmetadata.py), written atomically with the file's permissions. Nothing
  machine-specific is written, so the same project on two machines writes the same bytes.
- Per notebook the state is ``adopted``, ``unchanged`` (already names the kernel; not
  written), ``would-adopt`` (``--dry-run``: nothing is written) or ``failed`` (not readable,
  not an nbformat 4 notebook, another language, not writable; ``error`` says which).
- Data: ``{"project", "kernel": {"name", "display_name", "resource_dir"}, "notebooks":
  [{"path", "state", "previous": {"name", "display_name"} | null, "error"}], "dry_run",
  "adopted", "unchanged", "failed"}``; ``adopted`` counts ``would-adopt`` rows on a dry run.
  Exit 1 when any notebook failed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import files, nbmetadata, nbrun
from ..context import Context
from ..result import OperationError, Result


def _targets(ctx: Context, paths: list[Path]) -> list[Path]:
    """The notebooks to adopt, each once (by real path), in a stable order."""
    for p in paths:
        if not os.path.exists(p):  # (never raises: a too-long or NUL-holding name is "not there")
            raise OperationError(
                "USAGE",
                f"{p} does not exist",
                path=p,
                hint="name notebooks or folders that exist (a relative path is from the current folder)",
            )
    if not paths:
        paths = [ctx.require_project()]
    found: list[Path] = []
    for p in paths:
        found += nbrun.notebook_files(p, recursive=True) if os.path.isdir(p) else [p]
    seen: set[str] = set()
    unique = []
    for p in found:
        real = os.path.realpath(p)
        if real not in seen:
            seen.add(real)
            unique.append(p)
    return unique


def _previous(ks: dict[str, Any] | None) -> dict[str, str | None] | None:
    if ks is None:
        return None
    pick = lambda k: ks.get(k) if isinstance(ks.get(k), str) else None  # noqa: E731
    return {"name": pick("name"), "display_name": pick("display_name")}


def _language(text: str) -> str | None:
    """The notebook's language when it says one (kernelspec, then language_info)."""
    import json

    try:
        meta = json.loads(text).get("metadata") or {}
    except (ValueError, AttributeError):
        return None
    for key in ("kernelspec", "language_info"):
        v = meta.get(key) if isinstance(meta, dict) else None
        lang = v.get("language" if key == "kernelspec" else "name") if isinstance(v, dict) else None
        if isinstance(lang, str) and lang:
            return lang
    return None


def adopt_one(path: Path, name: str, display_name: str, language: str, dry_run: bool) -> dict[str, Any]:
    """One notebook's row (see the contract)."""
    row: dict[str, Any] = {"path": path, "state": "failed", "previous": None, "error": None}
    real = Path(os.path.realpath(path))
    try:
        raw = real.read_bytes()
        bom = raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8-sig")
    except OSError as exc:
        row["error"] = f"cannot read it: {exc.strerror or exc}"
        return row
    except UnicodeDecodeError as exc:
        row["error"] = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        return row
    lang = _language(text)
    if lang is not None and not (lang.lower().startswith(language.lower()) or lang.lower() == "i" + language.lower()):
        row["error"] = f"a {lang} notebook: not adopted by a {language} kernel"
        return row
    try:
        new_text, previous = nbmetadata.set_kernelspec(text, name, display_name, language)
    except nbmetadata.NotANotebook as exc:
        row["error"] = str(exc)
        return row
    row["previous"] = _previous(previous)
    if new_text == text:
        row["state"] = "unchanged"
        return row
    if dry_run:
        row["state"] = "would-adopt"
        return row
    if not os.access(real, os.W_OK):
        row["error"] = "the file is read-only: not changed"
        return row
    try:
        mode = real.stat().st_mode & 0o7777
        files.write_atomic(real, ("\ufeff" if bom else "") + new_text, mode=mode)
    except OSError as exc:
        row["error"] = f"cannot write it: {exc.strerror or exc}"
        return row
    row["state"] = "adopted"
    return row


def run(ctx: Context, paths: list[Path], *, kernel: str | None = None, dry_run: bool = False) -> Result:
    spec = nbrun.find_kernel(ctx, kernel)
    language = (spec.data or {}).get("language") or "python"
    targets = _targets(ctx, paths)
    rows = []
    for i, p in enumerate(targets, 1):
        r = adopt_one(p, spec.name, spec.display_name, str(language), dry_run)
        rows.append(r)
        ctx.progress("adopt", f"{p.name}: {r['state']}", i, len(targets))
    count = lambda *states: sum(1 for r in rows if r["state"] in states)  # noqa: E731
    data = {
        "project": ctx.project,
        "kernel": {"name": spec.name, "display_name": spec.display_name, "resource_dir": spec.resource_dir},
        "notebooks": rows,
        "dry_run": dry_run,
        "adopted": count("adopted", "would-adopt"),
        "unchanged": count("unchanged"),
        "failed": count("failed"),
    }
    result = Result("adopt", data, ok=data["failed"] == 0)
    if not rows:
        result.messages.append(f"no notebooks (*.ipynb) found in {', '.join(map(str, paths or [ctx.project]))}")
    return result
