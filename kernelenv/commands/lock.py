"""lock: write ``PROJECT/kernelenv.lock``, exact pins with hashes for every package.

What is locked: what the project's venv holds now (each installed distribution at its installed
version, so the lock shares the env as it is), plus ipykernel and pip, plus ``--with``/``-r`` and
the project file's packages; with no venv, just those. The installer backend resolves (uv:
``pip compile --generate-hashes`` for the venv's X.Y; pip: a dry-run report, one hash per
package, for this platform). Nothing is installed.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from .. import __version__, installer, lockfile, profiles, projectfile, pythons, requirements
from .. import venv as venvmod
from ..context import Context
from ..projectfile import CreateOptions
from ..result import Result

ALWAYS = ["ipykernel", "pip"]


def requested(venv: Path, packages: list[str]) -> tuple[list[str], list[str]]:
    """The requirement lines to resolve and the distributions left out (installed from a path or URL)."""
    named = requirements.names(packages)
    lines = list(packages)
    skipped: list[str] = []
    if venvmod.is_venv(venv):  # what is installed stays at its version, unless asked otherwise
        frozen, skipped = installer.freeze(venv)
        kept = [f for f in frozen if requirements.names([f]).isdisjoint(named)]
        lines += kept
        named |= requirements.names(kept)
    lines += [a for a in ALWAYS if a not in named]
    return lines, skipped


def run(ctx: Context, packages: list[str], requirement_files: list[Path], *, profile: str | None = None) -> Result:
    t0 = time.monotonic()
    project = ctx.require_project()
    # the project file's packages, requirements files and python count as asked for
    merged, python_spec, _ = projectfile.merge(
        project, CreateOptions(packages=list(packages), requirement_files=list(requirement_files), profile=profile), ctx.python
    )
    packages, requirement_files = profiles.with_profile(merged.packages, merged.profile), merged.requirement_files
    venv = ctx.venv
    venv_python = venvmod.python_of(venv)
    if venvmod.is_venv(venv) and venv_python.exists() and not ctx.python:
        info = pythons.probe(venv_python)
        python: Path | None = venv_python
    else:
        info = pythons.resolve(python_spec, cache_dir=ctx.cache_dir)
        python = Path(info.path)
    lines, skipped = requested(venv, packages)
    backend = installer.choose(ctx.installer)
    ctx.progress("lock", f"resolving {len(lines)} requirements for Python {info.short} with {backend.name}", 1, 2)
    pins = backend.compile(lines, requirement_files, python_version=info.short, python=python)
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
    return Result(
        "lock",
        {
            "project": project,
            "lock": path,
            "python": info.short,
            "installer": backend.name,
            "packages": [{"name": p.name, "version": p.version} for p in sorted(pins, key=lambda p: p.canonical)],
            "skipped": skipped,
            "changed": changed,
            "durations": {"total": round(time.monotonic() - t0, 3)},
        },
    )


def _body(text: str) -> list[str]:
    """The lock without its 'created' line: re-locking the same set is not a change."""
    return [ln for ln in text.splitlines() if not ln.startswith("# created:")]
