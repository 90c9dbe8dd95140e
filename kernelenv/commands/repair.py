"""repair: rebuild a project's venv in place and re-point its kernels, keeping their names.

For a venv whose base Python was removed or upgraded, a project folder that was moved, or a venv
that is broken. The packages come from ``kernelenv.lock`` when there is one, else from the old
venv's own dist-info folders (readable even when its python is gone). Only a venv identity.py
says kernelenv made (here, or elsewhere and moved or copied here) is rebuilt; the old one is moved
aside first and put back if the rebuild fails, so a failed repair changes nothing. The kernels
kept are the project's (by their mark), those of the place a moved venv came from, and, after a
prune removed them, the names the venv's mark recorded.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from .. import identity, kernels, lockfile, provision, specstore
from .. import venv as venvmod
from ..context import Context
from ..kernelspec import slug
from ..result import OperationError, Result


def run(ctx: Context, *, dry_run: bool = False) -> Result:
    t0 = time.monotonic()
    project, venv = ctx.require_project(), ctx.venv
    lock = lockfile.load(project)  # LOCK_INVALID before anything is touched
    ident = identity.inspect(venv)
    if ident.kind not in (identity.Kind.ABSENT,) and not ident.may_rebuild:
        raise OperationError(
            "NOT_OWNED",
            f"{ident.describe()}; kernelenv rebuilds only venvs it made",
            hint=f"move it away yourself and run `kernelenv create {project}`",
            venv=venv,
        )
    all_rows = kernels.rows(ctx)
    specs = _specs(all_rows, ident, project, venv)
    recorded = [n for n in (ident.mark or {}).get("kernels") or [] if isinstance(n, str)]
    if not specs and not ident.is_venv:
        raise OperationError(
            "KERNEL_NOT_FOUND",
            f"no kernel and no venv for {project}: nothing to repair",
            hint=f"make one with `kernelenv create {project}`",
            project=project,
        )
    name = specs[0].name if specs else (recorded[0] if recorded else slug(project.name))
    kernels_dir = specs[0].kernels_dir if specs else ctx.kernels_dir
    source = "lock" if lock else ("old venv" if ident.is_venv else "default")
    target = dataclasses.replace(ctx, kernels_dir=kernels_dir)
    if not specs:  # a name the venv's mark recorded: someone may hold it now
        kernels.check_clash(target, all_rows, name, project=project, venv=venv)
    specstore.ensure_writable(kernels_dir)
    if dry_run:  # what a real run would touch, from the same answers
        return Result(
            "repair",
            {
                "project": project,
                "venv": venv,
                "venv_is": ident.describe(),
                "source": source,
                "kernel": {"name": name, "resource_dir": kernels_dir / name},
                "repointed": [name, *(s.name for s in specs[1:])],
                "dry_run": True,
            },
        )
    ctx.progress("repair", f"rebuilding {venv} from the {source}", 1, 3)
    built = provision.build(
        target,
        provision.Plan(
            project=project,
            venv=venv,
            name=name,
            display_name=specs[0].display_name if specs else None,
            lock=lock,
            rebuild="repair was asked for",
            carry=True,
            repoint=specs[1:] if specs else [],
        ),
    )
    return _result(target, project, venv, source, name, built, t0)


def _specs(all_rows: list[kernels.KernelRow], ident: identity.VenvIdentity, project: Path, venv: Path) -> list[kernels.KernelRow]:
    """The project's kernels: those kernelenv made for it or its venv, and those a moved or copied venv brings."""
    specs = kernels.owned_by(all_rows, project=project, venv=venv)
    for r in provision.origin_kernels(all_rows, ident, project):
        if all(r.resource_dir != s.resource_dir for s in specs):
            specs.append(r)
    return specs


def _result(target: Context, project: Path, venv: Path, source: str, name: str, built: provision.Built, t0: float) -> Result:
    python = venvmod.python_of(venv)
    return Result(
        "repair",
        {
            "project": project,
            "venv": venv,
            "source": source,
            "python": built.info.to_json() | {"path": str(python)},
            "kernel": provision.summary(target, name, built.resource_dir, python),
            "repointed": built.repointed,
            "installed": built.installed,
            "not_carried": built.not_carried,
            "recovered": built.recovered,
            "dry_run": False,
            "durations": {"total": round(time.monotonic() - t0, 3)},
        },
    )
