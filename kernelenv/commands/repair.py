"""repair: rebuild a project's venv in place and re-point its kernel, keeping the kernel's name.

For a project folder that was moved or renamed, or whose base Python was removed or
upgraded. The packages come from ``kernelenv.lock`` when there is one, else from the
old venv's own dist-info folders (readable even when its python is gone). The old venv
is moved aside first and put back if the rebuild fails, so a failed repair changes
nothing. Only a venv whose mark says kernelenv made it (here, or at the folder it was
moved from, now gone) is rebuilt.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from .. import kernelspec, lockfile
from .. import venv as venvmod
from ..context import Context
from . import common
from ..result import OperationError, Result
from . import create
from . import lock as lock_cmd


def _specs_for(ctx: Context, owners: set[str]) -> list[kernelspec.Spec]:
    seen, out = set(), []
    for s in kernelspec.scan(ctx.search_path):
        m = s.mark
        if m and (m.get("project") in owners or m.get("venv") in owners) and s.name.lower() not in seen:
            seen.add(s.name.lower())
            out.append(s)
    return out


def _rebuildable(venv: Path) -> bool:
    """kernelenv made it here, or made it at a path that no longer exists (it was moved here)."""
    if venvmod.owned(venv):
        return True
    mark = venvmod.read_mark(venv)
    return bool(mark) and not venv.is_symlink() and not os.path.exists(mark.get("venv", "")) and Path(mark.get("venv", "")).name == venv.name


def _version_of(venv: Path) -> str | None:
    v = venvmod.read_cfg(venv).get("version_info") or venvmod.read_cfg(venv).get("version") or ""
    parts = v.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def run(ctx: Context) -> Result:
    t0 = time.monotonic()
    project, venv = ctx.project, ctx.venv
    common.require_project(ctx)
    lock_path = lockfile.path_in(project)
    lock = lockfile.read(lock_path) if lock_path.exists() else None  # LOCK_INVALID before anything is touched
    mark = venvmod.read_mark(venv) if venvmod.is_venv(venv) else None
    owners = {str(project), str(venv)}
    if mark:
        owners |= {str(mark.get("project")), str(mark.get("venv"))}
    specs = _specs_for(ctx, owners)
    if (venv.exists() or venv.is_symlink()) and not _rebuildable(venv):
        raise OperationError(
            "NOT_OWNED",
            f"{venv} was not made by kernelenv (or its original is still in place); not rebuilding it",
            hint=f"move it away yourself and run `kernelenv create {project}`",
            venv=venv,
        )
    if not specs and not venvmod.is_venv(venv):
        raise OperationError("KERNEL_NOT_FOUND", f"no kernel and no venv for {project}: nothing to repair",
                             hint=f"make one with `kernelenv create {project}`", project=project)
    name = specs[0].name if specs else None
    display = specs[0].display_name if specs else None
    kernels_dir = specs[0].resource_dir.parent if specs else ctx.kernels_dir
    packages: list[str] = []
    source = "lock" if lock else "default"
    python = ctx.python or (lock.python if lock else None)
    if venvmod.is_venv(venv):
        python = python or _version_of(venv)
        if lock is None:
            packages, skipped = lock_cmd._freeze(venv)
            packages = [p for p in packages if not p.lower().startswith(("pip==", "ipykernel=="))]
            source = "old venv"
    # replacing the project's own kernelspecs (found by their mark) is what repair is for; nothing else
    ctx2 = replace(ctx, python=python, kernels_dir=kernels_dir, force=bool(specs))
    ctx2.progress("repair", f"rebuilding {venv} from the {source}" + (f" with Python {python}" if python else ""), 1, 3)
    aside = None
    if venv.exists() or venv.is_symlink():
        aside = Path(tempfile.mkdtemp(prefix=f".{venv.name}.repair-", dir=venv.parent)) / venv.name
        os.rename(venv, aside)
    try:
        opts = create.CreateOptions(name=name, display_name=display, packages=packages)
        done = create.run(ctx2, opts)
    except BaseException:
        if aside is not None:
            if venv.exists():
                shutil.rmtree(venv, ignore_errors=True)
            os.rename(aside, venv)
            shutil.rmtree(aside.parent, ignore_errors=True)
        raise
    if aside is not None:
        shutil.rmtree(aside.parent, ignore_errors=True)
    kernel = done.data["kernel"]
    repointed = [kernel["name"]]
    for s in specs[1:]:  # other kernels of the same project: same venv, their own names
        target = ctx2 if s.resource_dir.parent == kernels_dir else replace(ctx2, kernels_dir=s.resource_dir.parent)
        from .. import pythons

        info = pythons.probe(venvmod.python_of(venv))
        common.register_spec(target, s.name, venvmod.python_of(venv), info, venv, project, s.display_name)
        repointed.append(s.name)
    return Result(
        "repair",
        {
            "project": project,
            "venv": venv,
            "source": source,
            "python": done.data["python"],
            "kernel": kernel,
            "repointed": repointed,
            "installed": done.data["installed"],
            "durations": {"total": round(time.monotonic() - t0, 3)},
        },
    )
