"""Changing the packages of a project's environment after ``create``: what ``add`` and ``drop`` share.

Contract:
- ``recorded_after(pf, add=..., drop=...)`` is the project file's own package list
  (``[tool.kernelenv] packages``, or kernelenv.toml's) after the change: an added requirement
  replaces the entries of the same project name, in place, else it is appended; a dropped name
  removes every entry of that name. ``record`` writes it (tomlkit round-trip, the rest of the
  file kept) only when it changed.
- ``lock_request(project, own)`` is what ``kernelenv lock`` would lock once the file's list is
  ``own``: the list, then ``[project].dependencies``, the profile's packages and the requirements
  files, as ``create`` merges them.
- ``relock(ctx, found, own, exclude)`` re-locks a project that has a lock (None when it has none)
  through kernelenv/locking.py, leaving the ``exclude`` names out of what the venv holds.
- ``changes(before, after)`` compares installed versions; ``restart(...)`` says whether a running
  kernel must restart: when a package it may have imported changed version or was removed (a
  newly installed package imports without one).
- ``refuse_drop(...)`` refuses, before anything is touched, to drop what the kernel needs
  (ipykernel, pip, and what ipykernel requires, directly or not: ``needed_by_kernel`` reads the
  installed metadata) or what the project file brings back on the next ``create`` (its
  ``[project].dependencies``, its profile): PACKAGE_REQUIRED.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from . import lockfile, locking, profiles, projectfile, requirements
from .context import Context
from .projectenv import ProjectEnv
from .projectfile import CreateOptions, ProjectFile
from .result import OperationError

KERNEL_NEEDS = ("ipykernel", "pip")


def _name(req: str) -> str:
    return next(iter(requirements.names([req])), req)


def recorded_after(pf: ProjectFile, *, add: Sequence[str] = (), drop: Collection[str] = ()) -> list[str]:
    own = list(pf.settings.get("packages", []))
    out = [r for r in own if _name(r) not in drop]
    for req in add:
        name = _name(req)
        at = next((i for i, r in enumerate(out) if _name(r) == name), None)
        if at is None:
            out.append(req)
        else:
            out[at] = req
            out = out[: at + 1] + [r for r in out[at + 1 :] if _name(r) != name]
    return out


def record(project: Path, pf: ProjectFile, own: list[str]) -> tuple[Path | None, bool]:
    """Write ``own`` as the project file's package list; (the file, whether it changed). No change, no write
    (and no project file made)."""
    if own == list(pf.settings.get("packages", [])):
        return pf.path, False
    path, _, changed = projectfile.write(project, {"packages": own})
    return path, bool(changed)


def lock_request(project: Path, own: list[str]) -> tuple[list[str], list[Path]]:
    """(requirements, requirements files) the lock holds once the project file's list is ``own``."""
    merged, _, pf = projectfile.merge(project, CreateOptions(), None)
    packages: list[str] = []
    for p in [*own, *pf.dependencies]:
        if p not in packages:
            packages.append(p)
    return profiles.with_profile(packages, merged.profile), merged.requirement_files


def relock(ctx: Context, found: ProjectEnv, own: list[str], exclude: Collection[str] = ()) -> locking.Made | None:
    if not lockfile.path_in(found.project).exists():
        return None
    packages, files = lock_request(found.project, own)
    return locking.make(ctx, found.project, found.venv, packages, files, python_spec=None, exclude=exclude)


def changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """What an install or uninstall did: added, changed (another version) and removed distributions."""
    return {
        "added": [{"name": n, "version": after[n]} for n in sorted(set(after) - set(before))],
        "changed": [
            {"name": n, "before": before[n], "after": after[n]} for n in sorted(set(after) & set(before)) if after[n] != before[n]
        ],
        "removed": [{"name": n, "version": before[n]} for n in sorted(set(before) - set(after))],
    }


def restart(found: ProjectEnv, done: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Whether a running kernel of the project must restart to see the change, and why."""
    moved = [{"name": c["name"], "before": c["before"], "after": c["after"]} for c in done["changed"]]
    moved += [{"name": r["name"], "before": r["version"], "after": None} for r in done["removed"]]
    kernel = found.kernel.name if found.kernel is not None else None
    message = None
    if moved:
        what = ", ".join(
            f"{m['name']} {m['before']} -> {m['after']}" if m["after"] else f"{m['name']} {m['before']}" for m in moved
        )
        message = (
            f"restart a running kernel{f' {kernel!r}' if kernel else ''} that already imported {what}: "
            "until it restarts (Kernel > Restart) it keeps what it imported"
        )
    return {"needed": bool(moved), "packages": moved, "kernel": kernel, "message": message}


def needed_by_kernel(venv: Path, python_version: str) -> dict[str, str]:
    """{name: the chain from ipykernel} of every installed distribution ipykernel needs, directly or not.

    Read from the dist-info METADATA files (``Requires-Dist``, markers evaluated for the venv's
    Python on this platform, no extras); nothing is run.
    """
    from email.parser import HeaderParser

    from packaging.markers import default_environment
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from . import venv as venvmod

    env = {
        **default_environment(),
        "python_version": ".".join(python_version.split(".")[:2]),
        "python_full_version": python_version,
        "extra": "",
    }
    deps: dict[str, list[str]] = {}
    for name, _, info in venvmod.dist_infos(venv):
        try:
            meta = HeaderParser().parsestr((info / "METADATA").read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
        out = deps.setdefault(canonicalize_name(name), [])
        for line in meta.get_all("Requires-Dist") or []:
            try:
                req = Requirement(line)
                if req.marker is None or req.marker.evaluate(env):  # type: ignore[arg-type]
                    out.append(canonicalize_name(req.name))
            except (InvalidRequirement, ValueError):
                continue
    chain: dict[str, str] = {}
    todo = ["ipykernel"]
    chain["ipykernel"] = "ipykernel"
    while todo:
        cur = todo.pop()
        for dep in deps.get(cur, []):
            if dep in deps and dep not in chain:
                chain[dep] = f"{chain[cur]} -> {dep}"
                todo.append(dep)
    return chain


def refuse_drop(names: set[str], pf: ProjectFile, kernel_chain: dict[str, str] | None = None) -> None:
    """PACKAGE_REQUIRED for a name the kernel needs or the project file brings back (see the module docstring)."""
    for name in sorted(names):
        if name in KERNEL_NEEDS:
            raise OperationError(
                "PACKAGE_REQUIRED",
                f"{name} is what makes the venv a working kernel; not dropping it",
                hint="to remove the kernel and its venv, use `kernelenv remove`",
                package=name,
            )
        if kernel_chain and name in kernel_chain:
            raise OperationError(
                "PACKAGE_REQUIRED",
                f"the kernel needs {name} ({kernel_chain[name]}); not dropping it",
                hint="to remove the kernel and its venv, use `kernelenv remove`",
                package=name,
                needed_by=kernel_chain[name],
            )
        deps = [d for d in pf.dependencies if _name(d) == name]
        if deps:
            raise OperationError(
                "PACKAGE_REQUIRED",
                f"{name} is in [project].dependencies of {pf.pyproject} ({deps[0]!r}): the next create installs it again",
                hint=f"remove it from [project].dependencies in {pf.pyproject} first",
                package=name,
                file=pf.pyproject,
            )
        profile = pf.settings.get("profile")
        brought = requirements.names(profiles.packages(profile)) if profile else set()
        if profile == "dl":
            brought |= set(profiles.TF_FAMILY)
        if name in brought:
            raise OperationError(
                "PACKAGE_REQUIRED",
                f"{name} comes with the project file's profile {profile!r} ({pf.path}): the next create installs it again",
                hint="choose a smaller profile first (kernelenv init --profile minimal)",
                package=name,
                file=pf.path,
            )


def report(
    found: ProjectEnv,
    python_version: str,
    installer_name: str,
    requested: list[str],
    recorded_in: Path | None,
    recorded: bool,
    own: list[str],
    made: locking.Made | None,
    restart_needed: dict[str, Any],
    durations: dict[str, float],
) -> dict[str, Any]:
    """The fields add and drop both report (each adds what it alone did)."""
    return {
        "project": found.project,
        "venv": found.venv,
        "python": python_version,
        "installer": installer_name,
        "requested": requested,
        "project_file": recorded_in,
        "recorded": recorded,
        "packages": own,
        "lock": made.path if made else None,
        "lock_changed": bool(made and made.changed),
        "restart": restart_needed,
        "kernel": found.kernel.name if found.kernel else None,
        "durations": durations,
    }
