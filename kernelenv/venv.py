"""Venvs: making one (virtualenv's API), looking inside one, and kernelenv's mark in it.

The mark ``<venv>/.kernelenv.json`` says kernelenv created the venv, for which path
and project, and whether creation finished (``state``: creating or ready). Only a venv
with kernelenv's mark *for that very path* is ever deleted by kernelenv.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import files
from .result import OperationError

MARK_FILE = ".kernelenv.json"


def python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def read_cfg(venv: Path) -> dict[str, str]:
    """pyvenv.cfg as a dict; {} when missing or unreadable."""
    out: dict[str, str] = {}
    try:
        text = (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def create(venv: Path, python: str, *, with_pip: bool) -> None:
    """Make a venv with virtualenv. Raises VENV_CREATE_FAILED.

    ``with_pip`` False makes a bare venv (uv then installs pip, faster than seeding it).
    """
    from virtualenv import cli_run

    if os.pathsep in str(venv):  # virtualenv refuses it: the venv's bin would break PATH
        raise OperationError(
            "VENV_CREATE_FAILED", f"a venv path may not contain {os.pathsep!r} (it would break PATH): {venv}",
            hint="rename the folder, or choose another place with --venv", venv=venv,
        )
    args = [str(venv), "--python", python, "--no-setuptools", "--no-periodic-update", "--quiet"]
    if not with_pip:
        args.append("--no-seed")
    prompt = venv.parent.name if venv.name in (".venv", "venv", "env") else venv.name
    args.append(f"--prompt={prompt}")  # one argument: a folder named "-x" is not an option
    try:
        cli_run(args, setup_logging=False)
    except SystemExit as exc:  # virtualenv exits on bad input
        raise OperationError("VENV_CREATE_FAILED", f"virtualenv could not make {venv} (exit {exc.code})", venv=venv) from None
    except Exception as exc:
        raise OperationError("VENV_CREATE_FAILED", f"virtualenv could not make {venv}: {exc}", venv=venv) from None
    if not python_of(venv).exists():
        raise OperationError("VENV_CREATE_FAILED", f"virtualenv made {venv} without a python in it", venv=venv)


def site_packages(venv: Path) -> list[Path]:
    if sys.platform == "win32":
        return [venv / "Lib" / "site-packages"]
    return sorted(p for p in (venv / "lib").glob("python*/site-packages") if p.is_dir())


_DIST_RE = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+)\.dist-info$")


def installed(venv: Path) -> dict[str, str]:
    """Installed distributions {normalised name: version}, read from dist-info folders."""
    from packaging.utils import canonicalize_name

    out: dict[str, str] = {}
    for sp in site_packages(venv):
        try:
            names = os.listdir(sp)
        except OSError:
            continue
        for n in names:
            m = _DIST_RE.match(n)
            if m:
                out[canonicalize_name(m["name"])] = m["version"]
    return out


def logo_dir(venv: Path) -> Path | None:
    for sp in site_packages(venv):
        d = sp / "ipykernel" / "resources"
        if d.is_dir():
            return d
    return None


def read_mark(venv: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((venv / MARK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("created_by") == "kernelenv" else None


def owned(venv: Path) -> bool:
    """Whether kernelenv made this venv at this path (a moved or linked venv is not owned)."""
    if venv.is_symlink() or not venv.is_dir():
        return False
    mark = read_mark(venv)
    return bool(mark) and os.path.realpath(mark.get("venv", "")) == os.path.realpath(venv)


def write_mark(venv: Path, *, new: bool = False, **fields: Any) -> None:
    """Update kernelenv's mark in a venv it made; ``new`` True only where this run makes the venv.

    A venv without a mark (the user's own, reused by create or sync) never gets one:
    the mark is what allows kernelenv to delete a venv.
    """
    mark = read_mark(venv)
    if not new and (mark is None or not owned(venv)):
        return  # the user's venv, or a mark copied from elsewhere: never claim it
    if mark is None or new:
        mark = {"created_by": "kernelenv", "created": now()}
    mark.update({k: (str(v) if isinstance(v, Path) else v) for k, v in fields.items()})
    mark["venv"] = str(venv)
    files.write_atomic(venv / MARK_FILE, json.dumps(mark, indent=1) + "\n")


def drop_world_write(venv: Path) -> None:
    """Clear the others-write bit uv sets on its ``.lock`` (0666) in the venv's top folder."""
    for entry in os.scandir(venv):
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
            if mode & 0o002 and not entry.is_symlink():
                os.chmod(entry.path, mode & 0o7775)
        except OSError:
            continue


def delete(venv: Path) -> None:
    """Delete a venv kernelenv owns; anything else raises NOT_OWNED."""
    if not owned(venv):
        raise OperationError("NOT_OWNED", f"{venv} was not made by kernelenv here; not deleting it", venv=venv)
    # renamed away first: a run killed while deleting leaves a trash folder, never a half venv
    trash = Path(tempfile.mkdtemp(prefix=f".{venv.name}{TRASH}", dir=venv.parent))
    os.rename(venv, trash / venv.name)
    sweep_trash(venv)


TRASH = ".kernelenv-deleting-"


def sweep_trash(venv: Path) -> None:
    """Finish deleting what earlier (possibly killed) deletions of ``venv`` renamed away."""
    for t in venv.parent.glob(f".{venv.name}{TRASH}*"):
        if t.is_dir() and not t.is_symlink():
            shutil.rmtree(t, ignore_errors=True)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
