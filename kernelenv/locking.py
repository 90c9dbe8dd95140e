"""Making a project's ``kernelenv.lock``: what is locked, resolved by the installer backend.

Shared by the verbs that write a lock (``lock``, and ``add``/``drop`` where the project has one).

Contract:
- What is locked: what the project's venv holds now (each installed distribution at its installed
  version, so the lock shares the env as it is), plus ipykernel and pip, plus the requirements
  and requirements files asked for; with no venv, just those. Distributions installed from a path
  or URL cannot be locked and are returned as skipped.
- The backend resolves for the interpreter's full version (uv: ``pip compile --generate-hashes``
  with ``--python-version X.Y.Z``, so a package that needs 3.7.1 resolves on 3.7.16; pip: a
  dry-run report, one hash per package). The lock records X.Y. Nothing is installed.
- ``make`` writes the lock only when its pins changed (a new ``created`` line alone is no change).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Collection

from . import __version__, installer, lockfile, pythons, requirements
from . import venv as venvmod
from .context import Context

ALWAYS = ["ipykernel", "pip"]


def requested(venv: Path, packages: list[str], exclude: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """The requirement lines to resolve and the distributions left out (installed from a path or URL).

    ``exclude``: names of installed distributions not to lock (being dropped).
    """
    named = requirements.names(packages)
    lines = list(packages)
    skipped: list[str] = []
    if venvmod.is_venv(venv):  # what is installed stays at its version, unless asked otherwise
        frozen, skipped = installer.freeze(venv)
        kept = [f for f in frozen if requirements.names([f]).isdisjoint(named | set(exclude))]
        lines += kept
        named |= requirements.names(kept)
    lines += [a for a in ALWAYS if a not in named]
    return lines, skipped


@dataclass
class Made:
    path: Path
    lock: lockfile.Lock
    info: pythons.PythonInfo
    backend: str
    skipped: list[str]
    changed: bool


def make(ctx: Context, project: Path, venv: Path, packages: list[str], requirement_files: list[Path], *,
         python_spec: str | None, exclude: Collection[str] = ()) -> Made:
    """Resolve and write ``project``'s lock (see the module docstring)."""
    venv_python = venvmod.python_of(venv)
    if venvmod.is_venv(venv) and venv_python.exists() and not ctx.python:
        info = pythons.probe(venv_python)
        python: Path | None = venv_python
    else:
        info = pythons.resolve(python_spec, cache_dir=ctx.cache_dir)
        python = Path(info.path)
    lines, skipped = requested(venv, packages, exclude)
    backend = installer.choose(ctx.installer)
    ctx.progress("lock", f"resolving {len(lines)} requirements for Python {info.short} with {backend.name}", 1, 2)
    pins = backend.compile(lines, requirement_files, python_version=info.version_str, python=python)
    lock = lockfile.Lock(
        info.short,
        pins,
        requested=[*ALWAYS, *packages, *(f"-r {f.name}" for f in requirement_files)],
        meta={
            "implementation": info.implementation,
            "platform": sys.platform,
            "resolver": backend.version(),
            "kernelenv": __version__,
            "created": venvmod.now(),
        },
    )
    path = lockfile.path_in(project)
    old = path.read_text(encoding="utf-8", errors="replace") if path.exists() else None
    changed = old is None or _body(old) != _body(lock.dumps())
    if changed:
        ctx.progress("lock", f"writing {path}", 2, 2)
        lockfile.write(path, lock)
    return Made(path, lock, info, backend.name, skipped, changed)


def _body(text: str) -> list[str]:
    """The lock without its 'created' line: re-locking the same set is not a change."""
    return [ln for ln in text.splitlines() if not ln.startswith("# created:")]
