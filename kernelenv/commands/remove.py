"""remove: a kernelspec and, when kernelenv made it here and nothing else uses it, its venv.

The argument is a kernel name or a project folder, never guessed: one that is both (and means
different kernels) is TARGET_AMBIGUOUS; ``--kernel``/``--project`` say which; names are compared
exactly. The venv is deleted only when identity.py says kernelenv made it at that very path and
no other kernelspec uses it; a foreign spec needs --force and its env is never deleted. A
project whose kernel was pruned can still be removed by its folder (its venv alone). ``--dry-run``
reports exactly what the run would touch, from the same answer. What interrupted runs left beside
the venv is finished first (``recovered``): a working venv a killed rebuild moved aside is put
back and judged like any venv (so it is deleted with its kernel), a killed deletion is finished.
The venv is moved aside before the spec is removed and put back if that fails, so a failed
remove changes nothing.
"""

from __future__ import annotations

from pathlib import Path

from .. import containers, identity, kernels, locks, specstore
from .. import venv as venvmod
from ..context import Context
from ..result import OperationError, Result


def _venv_verdict(
    all_rows: list[kernels.KernelRow], row: kernels.KernelRow | None, venv: Path | None, keep_venv: bool
) -> tuple[Path | None, str | None]:
    """(the venv to delete, or None and why it is kept)."""
    if keep_venv:
        return None, "--keep-venv"
    if venv is None:
        return None, "the kernel has no venv of kernelenv's" if row is None or row.mark is None else "the kernel has no venv"
    ident = identity.after_recovery(venv)  # what is there once interrupted runs are finished (as a run does first)
    if ident.kind == identity.Kind.ABSENT:
        return None, f"{venv} no longer exists"
    if not ident.may_delete:
        return None, f"{ident.describe()}; left in place"
    users = kernels.users_of(all_rows, venv, besides=[row.resource_dir] if row else [])
    if users:
        return None, f"{venv} is still used by kernel {kernels.describe_users(users, all_rows)}; left in place"
    return venv, None


def run(
    ctx: Context,
    target: str | None,
    *,
    kernel: str | None = None,
    project: str | None = None,
    keep_venv: bool = False,
    dry_run: bool = False,
) -> Result:
    all_rows = kernels.rows(ctx)
    row, venv = _target(ctx, all_rows, target, kernel, project)
    deleting, kept = _venv_verdict(all_rows, row, venv, keep_venv)
    recovered = [f"would {m[0].lower()}{m[1:]}" for _, _, m in venvmod.recovery(venv)] if venv is not None else []
    if row is not None:
        recovered += [
            f"would delete {h}, which an interrupted run left" for _, _, h in specstore.leftovers(row.kernels_dir, row.name)
        ]
    if not dry_run:
        kernel_dirs = [row.kernels_dir / row.name] if row else []
        with locks.venv_and_kernels(ctx, venv, kernel_dirs):
            # first what interrupted runs left (a rebuild's working venv comes back, a deletion is
            # finished), then again under the locks: what another run did meanwhile counts
            recovered = venvmod.recover(venv) if venv is not None else []
            if row is not None:
                recovered += specstore.recover(row.kernels_dir, row.name)
            all_rows = kernels.rows(ctx)
            deleting, kept = _venv_verdict(all_rows, row, venv, keep_venv)
            _remove(row, deleting)
    image = None
    if row is not None and row.container is not None:  # the image kernelenv built for it, unless another kernel uses it
        image = (
            {"image": row.container.get("image"), "removed": False, "reason": "dry run"}
            if dry_run
            else containers.remove_image(row.spec, ctx.search_path)
        )
    return Result(
        "remove",
        {
            "name": row.name if row else None,
            "kernelspec_removed": row.resource_dir if row else None,
            "venv_removed": deleting,
            "venv_kept_reason": kept,
            "recovered": recovered,
            "image": image,
            "dry_run": dry_run,
        },
    )


def _target(
    ctx: Context, all_rows: list[kernels.KernelRow], target: str | None, kernel: str | None, project: str | None
) -> tuple[kernels.KernelRow | None, Path | None]:
    """(the kernel to remove or None, its venv): one kernel of kernelenv's, or a project's venv left alone by an
    interrupted run; TARGET_AMBIGUOUS, KERNEL_NOT_FOUND or NOT_OWNED (without --force) otherwise."""
    found = kernels.resolve_target(ctx, all_rows, target, kernel=kernel, project=project)
    if len(found.rows) > 1:
        names = ", ".join(r.name for r in found.rows)
        raise OperationError(
            "TARGET_AMBIGUOUS",
            f"{found.project} has several kernels ({names}); name one with --kernel",
            hint=f"kernelenv remove --kernel {found.rows[0].name}",
            project=found.project,
        )
    row = found.rows[0] if found.rows else None
    venv: Path | None
    if row is None:
        venv = (found.project or ctx.project) / ".venv"
        if not identity.after_recovery(venv).may_delete and not venvmod.recovery(venv):
            raise OperationError(
                "KERNEL_NOT_FOUND",
                f"no kernel of kernelenv's for {found.project}",
                hint="see `kernelenv list`",
                project=found.project,
            )
    elif row.mark is None and not ctx.force:
        raise OperationError(
            "NOT_OWNED",
            f"kernel {row.name!r} at {row.resource_dir} was not made by kernelenv; not removing it",
            hint="add --force to remove the kernelspec (its environment is never deleted)",
            name=row.name,
            resource_dir=row.resource_dir,
        )
    else:
        venv = Path(row.venv) if row.venv else None
    return row, venv


def _remove(row: kernels.KernelRow | None, venv: Path | None) -> None:
    """The venv moved aside, the spec removed, then the venv deleted: a failure puts the venv back."""
    swap = venvmod.Swap(venv, "delete") if venv is not None else None
    if swap is not None:
        try:
            swap.aside()
        except OSError as exc:
            raise OperationError(
                "REMOVE_FAILED", f"cannot remove the venv {venv}: {exc.strerror or exc}; nothing was removed", path=venv
            ) from None
    if row is not None:
        try:
            specstore.remove(row.resource_dir)
        except OSError as exc:  # permission denied, a read-only file system
            if swap is not None:
                swap.restore()
            raise OperationError(
                "JUPYTER_DIR_UNWRITABLE",
                f"cannot remove the kernelspec {row.resource_dir}: {exc.strerror or exc}; nothing was removed",
                path=row.resource_dir,
            ) from None
    if swap is not None:
        swap.commit()
