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
- ``universal``: one lock for Linux, macOS and Windows and the project's Python range (uv's
  universal resolution; pip cannot: UNIVERSAL_NEEDS_UV). The range is a specifier given as
  ``--python`` or the project file's python / requires-python, else ``>=X.Y`` of the venv's (or
  the chosen) Python; uv resolves from its lower bound up. What is asked for is resolved, plus the
  venv's top-level distributions (those no other installed one requires), by name: a version
  installed here (or pinned by the current lock) is kept where it fits every platform and Python
  of the range, and forks under a marker where it does not. Re-locking a universal lock (add,
  drop) keeps it universal.
- ``make`` writes the lock only when its pins changed (a new ``created`` line alone is no change).
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from . import __version__, installer, lockfile, pythons, requirements
from . import venv as venvmod
from .context import Context
from .result import OperationError

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


def needs_uv(name: str) -> OperationError:
    return OperationError(
        "UNIVERSAL_NEEDS_UV",
        "a universal lock needs uv's resolver: pip resolves only for the machine it runs on",
        hint="drop --installer pip (uv is a dependency of kernelenv)",
        installer=name,
    )


def python_range(spec: str | None, info: pythons.PythonInfo) -> str:
    """The Python range a universal lock is for: ``spec`` when it is a specifier set, else ``>=X.Y`` of ``info``."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if spec and spec.strip()[:1] in ("<", ">", "=", "!", "~"):
        try:
            return str(SpecifierSet(spec.strip()))
        except InvalidSpecifier:
            pass
    return f">={info.short}"


def _universal(
    ctx: Context,
    project: Path,
    venv: Path,
    packages: list[str],
    requirement_files: list[Path],
    python_spec: str | None,
    info: pythons.PythonInfo,
    backend: installer.Backend,
    exclude: Collection[str],
) -> tuple[list[lockfile.Pin], list[str], dict[str, str]]:
    """(pins for every platform, names skipped, header fields) of a universal lock."""
    from packaging.specifiers import SpecifierSet

    if backend.name != "uv":
        raise needs_uv(backend.name)
    span = python_range(python_spec, info)
    if not SpecifierSet(span).contains(info.version_str, prereleases=True):
        raise OperationError(
            "PYTHON_UNSUPPORTED",
            f"Python {info.version_str} ({info.path}) is outside the lock's range {span}",
            hint=f"lock with --python '{span}', or rebuild the venv with a Python in that range",
            python=info.path,
        )
    named = requirements.names(packages) | set(exclude)
    lines = list(packages)
    skipped: list[str] = []
    preferences: list[str] = []
    if venvmod.is_venv(venv):
        tops, skipped = top_level(venv)
        lines += [t for t in tops if requirements.names([t]).isdisjoint(named)]
        preferences += [f for f in installer.freeze(venv)[0] if requirements.names([f]).isdisjoint(exclude)]
    old = lockfile.load(project)
    if old is not None:
        have = requirements.names(preferences) | set(exclude)
        preferences += [
            f"{p.name}=={p.version}" + (f" ; {p.marker}" if p.marker else "") for p in old.pins if p.canonical not in have
        ]
    named = requirements.names(lines)
    lines += [a for a in ALWAYS if a not in named]
    low = lockfile.lowest_python(span, pythons.MIN_VERSION)
    ctx.progress("lock", f"resolving {len(lines)} requirements for Linux, macOS and Windows, Python {span}, with uv", 1, 2)
    pins = backend.compile(lines, requirement_files, python_version=low, python=None, universal=True, preferences=preferences)
    return pins, skipped, {"universal": "true", "requires-python": span}


@dataclass
class Made:
    path: Path
    lock: lockfile.Lock
    info: pythons.PythonInfo
    backend: str
    skipped: list[str]
    changed: bool


def make(
    ctx: Context,
    project: Path,
    venv: Path,
    packages: list[str],
    requirement_files: list[Path],
    *,
    python_spec: str | None,
    exclude: Collection[str] = (),
    universal: bool | None = None,
) -> Made:
    """Resolve and write ``project``'s lock (see the module docstring); ``universal`` None keeps what the lock is."""
    if universal is None:
        current = lockfile.load(project)
        universal = bool(current and current.universal)
        if universal and python_spec is None and current is not None:
            python_spec = current.requires_python
    if universal and ctx.installer == "pip":
        raise needs_uv("pip")
    venv_python = venvmod.python_of(venv)
    if venvmod.is_venv(venv) and venv_python.exists() and not ctx.python:
        info = pythons.probe(venv_python)
        python: Path | None = venv_python
    else:
        info = pythons.resolve(python_spec, cache_dir=ctx.cache_dir)
        python = Path(info.path)
    backend = installer.choose(ctx.installer)
    if universal:
        pins, skipped, how = _universal(ctx, project, venv, packages, requirement_files, python_spec, info, backend, exclude)
    else:
        lines, skipped = requested(venv, packages, exclude)
        ctx.progress("lock", f"resolving {len(lines)} requirements for Python {info.short} with {backend.name}", 1, 2)
        pins = backend.compile(lines, requirement_files, python_version=info.version_str, python=python)
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
    return Made(path, lock, info, backend.name, skipped, changed)


def _body(text: str) -> list[str]:
    """The lock without its 'created' line: re-locking the same set is not a change."""
    return [ln for ln in text.splitlines() if not ln.startswith("# created:")]
