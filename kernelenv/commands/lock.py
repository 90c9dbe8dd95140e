"""lock: write ``PROJECT/kernelenv.lock``, exact pins with hashes for every package.

What is locked: what the project's venv holds now (each installed distribution at its installed
version, so the lock shares the env as it is), plus ipykernel and pip, plus ``--with``/``-r`` and
the project file's packages; with no venv, just those. The installer backend resolves (uv:
``pip compile --generate-hashes`` for the venv's X.Y; pip: a dry-run report, one hash per
package, for this platform). Nothing is installed.

``universal``: one lock for Linux, macOS and Windows and the project's Python range (uv's
universal resolution; pip cannot: UNIVERSAL_NEEDS_UV). The range is a specifier given as
``--python`` or the project file's python / requires-python, else ``>=X.Y`` of the venv's (or
the chosen) Python; uv resolves from its lower bound up. What is asked for is resolved, plus the
venv's top-level distributions (those no other installed one requires), by name: a version
installed here (or pinned by the current lock) is kept where it fits every platform and Python
of the range, and forks under a marker where it does not.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from .. import __version__, installer, lockfile, profiles, projectfile, pythons, requirements
from .. import venv as venvmod
from ..context import Context
from ..projectfile import CreateOptions
from ..result import OperationError, Result

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


def top_level(venv: Path) -> tuple[list[str], list[str]]:
    """(names of the venv's distributions no other installed one requires, names skipped as not from an index)."""
    from importlib.metadata import distributions

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    names: dict[str, str] = {}
    required: set[str] = set()
    skipped: list[str] = []
    for dist in distributions(path=[str(p) for p in venvmod.site_packages(venv)]):
        name = dist.metadata["Name"]
        if not name:
            continue
        if dist.read_text("direct_url.json") is not None:
            skipped.append(name)
            continue
        names.setdefault(canonicalize_name(name), name)
        for line in dist.requires or []:
            try:
                req = Requirement(line)
            except InvalidRequirement:
                continue
            if req.marker is None or "extra" not in str(req.marker):  # an extra's requirement is not installed by it
                required.add(canonicalize_name(req.name))
    return sorted(n for k, n in names.items() if k not in required), sorted(skipped)


def _needs_uv(name: str) -> OperationError:
    return OperationError("UNIVERSAL_NEEDS_UV", "a universal lock needs uv's resolver: pip resolves only for the machine it runs on",
                          hint="drop --installer pip (uv is a dependency of kernelenv)", installer=name)


def python_range(spec: str | None, info: pythons.PythonInfo) -> str:
    """The Python range a universal lock is for: ``spec`` when it is a specifier set, else ``>=X.Y`` of ``info``."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if spec and spec.strip()[:1] in ("<", ">", "=", "!", "~"):
        try:
            return str(SpecifierSet(spec.strip()))
        except InvalidSpecifier:
            pass
    return f">={info.short}"


def _universal(ctx: Context, project: Path, venv: Path, packages: list[str], requirement_files: list[Path],
               python_spec: str | None, info: pythons.PythonInfo,
               backend: installer.Backend) -> tuple[list[lockfile.Pin], list[str], dict[str, str]]:
    """(pins for every platform, names skipped, header fields) of a universal lock."""
    if backend.name != "uv":
        raise _needs_uv(backend.name)
    span = python_range(python_spec, info)
    from packaging.specifiers import SpecifierSet

    if not SpecifierSet(span).contains(info.version_str, prereleases=True):
        raise OperationError("PYTHON_UNSUPPORTED", f"Python {info.version_str} ({info.path}) is outside the lock's range {span}",
                             hint=f"lock with --python '{span}', or rebuild the venv with a Python in that range",
                             python=info.path)
    named = requirements.names(packages)
    lines = list(packages)
    skipped: list[str] = []
    preferences: list[str] = []
    if venvmod.is_venv(venv):
        tops, skipped = top_level(venv)
        lines += [t for t in tops if requirements.names([t]).isdisjoint(named)]
        preferences += installer.freeze(venv)[0]
    old = lockfile.load(project) if lockfile.path_in(project).exists() else None
    if old is not None:
        have = requirements.names(preferences)
        preferences += [f"{p.name}=={p.version}" + (f" ; {p.marker}" if p.marker else "")
                        for p in old.pins if p.canonical not in have]
    named = requirements.names(lines)
    lines += [a for a in ALWAYS if a not in named]
    low = lockfile.lowest_python(span, pythons.MIN_VERSION)
    ctx.progress("lock", f"resolving {len(lines)} requirements for Linux, macOS and Windows, Python {span}, with uv", 1, 2)
    pins = backend.compile(lines, requirement_files, python_version=low, python=None, universal=True, preferences=preferences)
    return pins, skipped, {"universal": "true", "requires-python": span}


def run(ctx: Context, packages: list[str], requirement_files: list[Path], *, profile: str | None = None,
        universal: bool = False) -> Result:
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
    if universal and ctx.installer == "pip":
        raise _needs_uv("pip")
    backend = installer.choose(ctx.installer)
    if universal:
        pins, skipped, how = _universal(ctx, project, venv, packages, requirement_files, python_spec, info, backend)
    else:
        lines, skipped = requested(venv, packages)
        ctx.progress("lock", f"resolving {len(lines)} requirements for Python {info.short} with {backend.name}", 1, 2)
        pins = backend.compile(lines, requirement_files, python_version=info.short, python=python)
        how = {"implementation": info.implementation, "platform": sys.platform}
    lock = lockfile.Lock(
        info.short,
        pins,
        requested=[*ALWAYS, *packages, *(f"-r {f.name}" for f in requirement_files)],
        meta={
            **how,
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
            "packages": [{"name": p.name, "version": p.version, "marker": p.marker}
                         for p in sorted(pins, key=lambda p: p.canonical)],
            "skipped": skipped,
            "universal": universal,
            "requires_python": lock.requires_python,
            "changed": changed,
            "durations": {"total": round(time.monotonic() - t0, 3)},
        },
    )


def _body(text: str) -> list[str]:
    """The lock without its 'created' line: re-locking the same set is not a change."""
    return [ln for ln in text.splitlines() if not ln.startswith("# created:")]
