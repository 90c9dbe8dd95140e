"""remove: a kernelspec and, when kernelenv made it, its venv.

A venv is deleted only when its own mark says kernelenv made it at that path; a
foreign kernelspec only with --force; a symlinked spec folder loses only the link.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .. import kernelspec
from .. import venv as venvmod
from ..context import Context
from . import common
from ..result import OperationError, Result


def find(ctx: Context, target: str) -> list[kernelspec.Spec]:
    """Specs named ``target``, or owned by the project folder ``target``, in search order."""
    specs = kernelspec.scan(ctx.search_path)
    by_name = [s for s in specs if s.name.lower() == target.lower()]
    if by_name:
        return by_name
    looks_like_path = os.sep in target or target.startswith(".") or os.path.isdir(target)
    if looks_like_path:
        project = os.path.abspath(os.path.expanduser(target))
        return [s for s in specs if s.mark and (s.mark.get("project") == project or s.mark.get("venv") == project)]
    return []


def _other_users(ctx: Context, removed: kernelspec.Spec, venv: Path) -> list[str]:
    """Names of other kernelspecs whose interpreter lives in ``venv`` (a copied spec, say)."""
    real = os.path.realpath(venv)
    out = []
    for s in kernelspec.scan(ctx.search_path):
        if s.resource_dir == removed.resource_dir or not s.argv0:
            continue
        if os.path.realpath(Path(s.argv0).parent.parent) == real:
            out.append(s.name)
    return out


def run(ctx: Context, target: str, *, keep_venv: bool = False, dry_run: bool = False) -> Result:
    matches = find(ctx, target)
    if not matches:
        raise OperationError("KERNEL_NOT_FOUND", f"no kernel named {target!r} and no project there", hint="see `kernelenv list`", name=target)
    spec = matches[0]
    if len({s.name for s in matches}) > 1:
        names = ", ".join(sorted({s.name for s in matches}))
        raise OperationError("KERNEL_NOT_FOUND", f"{target} has several kernels ({names}); name one", name=target)
    mark = spec.mark
    if mark is None and not ctx.force:
        raise OperationError(
            "NOT_OWNED",
            f"kernel {spec.name!r} at {spec.resource_dir} was not made by kernelenv; not removing it",
            hint="add --force to remove the kernelspec (its environment is never deleted)",
            name=spec.name,
            resource_dir=spec.resource_dir,
        )
    venv_removed = None
    kept = None
    venv = Path(mark["venv"]) if mark and mark.get("venv") else None
    if keep_venv:
        kept = "--keep-venv"
    elif venv is None:
        kept = "the kernel has no venv of kernelenv's" if mark is None else "the kernel has no venv"
    elif not venv.exists() and not venv.is_symlink():
        kept = f"{venv} no longer exists"
    elif not venvmod.owned(venv):
        kept = f"{venv} was not made by kernelenv (or was moved or linked); left in place"
    elif users := _other_users(ctx, spec, venv):
        kept = f"{venv} is still used by kernel {', '.join(users)}; left in place"
    else:
        venv_removed = venv
    if not dry_run:
        try:
            with common.locked(ctx, f"venv:{venv}") if venv else contextlib.nullcontext():  # not while a create runs
                kernelspec.remove(spec.resource_dir)
                if venv_removed is not None:
                    venvmod.delete(venv_removed)
        except OSError as exc:  # permission denied, a read-only file system
            why = exc.strerror or "permission denied"
            raise OperationError("JUPYTER_DIR_UNWRITABLE", f"cannot remove {exc.filename or spec.resource_dir}: {why}", path=exc.filename) from None
    return Result(
        "remove",
        {
            "name": spec.name,
            "kernelspec_removed": spec.resource_dir,
            "venv_removed": venv_removed,
            "venv_kept_reason": kept,
            "dry_run": dry_run,
        },
    )
