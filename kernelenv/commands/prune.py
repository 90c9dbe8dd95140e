"""prune: remove kernelspecs that can no longer run, and tidy what interrupted runs left.

Contract:
- A spec is pruned when its interpreter is gone (health.CANNOT_RUN), kernelenv's own only unless
  ``include_foreign``. Its venv is never deleted by default: a venv whose base Python was
  uninstalled still holds its packages, and ``kernelenv repair`` rebuilds it (the report says so).
  With ``delete_venvs`` a venv is deleted only when identity.py says kernelenv made it there, it
  holds nothing that can be recovered, and no other spec uses it.
- Specs an interrupted ``--force`` replacement left aside are put back, and the temporary folders
  of killed spec writes and removals (``.NAME~*.tmp|.del``) deleted; venvs an interrupted
  rebuild moved aside are put back (or swept when the new one was finished), and the spec of a
  venv put back is not pruned in that run (it was judged before the venv came back); containers of
  container kernels whose launcher is gone (killed with -9) are removed.
- Each removal holds the same locks ``remove`` and ``create`` hold, and the spec's health is looked
  at again under them (a run that fixed it meanwhile wins). ``dry_run`` touches nothing and
  reports exactly what a run would do.
"""

from __future__ import annotations

from pathlib import Path

from .. import containers, health, identity, kernels, locks, specstore
from .. import venv as venvmod
from ..context import Context
from ..result import OperationError, Result


def _venv_verdict(
    all_rows: list[kernels.KernelRow], row: kernels.KernelRow, delete_venvs: bool
) -> tuple[Path | None, str | None]:
    venv = Path(row.venv) if row.venv else None
    if venv is None:
        return None, None
    ident = identity.inspect(venv)
    if ident.kind == identity.Kind.ABSENT:
        return None, None
    if not ident.may_delete:
        return None, f"{ident.describe()}; left in place"
    users = kernels.users_of(all_rows, venv, besides=[row.resource_dir])
    if users:
        return None, f"{venv} is still used by kernel {kernels.describe_users(users, all_rows)}; left in place"
    if ident.recoverable:
        where = row.project or str(venv.parent)
        return None, f"{venv} still holds its packages: `kernelenv repair {where}` rebuilds it (kept)"
    if not delete_venvs:
        return None, f"{venv} kept (add --delete-venvs to delete venvs that hold nothing to recover)"
    return venv, None


def run(ctx: Context, *, dry_run: bool = False, include_foreign: bool = False, delete_venvs: bool = False) -> Result:
    all_rows = kernels.rows(ctx)
    removed, kept, restored = [], [], []
    for row in all_rows:
        if row.aside_in is not None:
            if not dry_run:
                with locks.venv_and_kernels(ctx, None, [row.kernels_dir / row.name]):
                    restored += specstore.recover(row.kernels_dir, row.name)
            else:
                restored.append(f"would put back {row.kernels_dir / row.name} from {row.aside_in}")
            continue
        put_back = False
        if row.owned and row.venv and venvmod.leftovers(Path(row.venv)):
            put_back = venvmod.puts_back(Path(row.venv))
            if not dry_run:
                with locks.venv_and_kernels(ctx, Path(row.venv), []):
                    restored += venvmod.recover(Path(row.venv))
            else:
                restored += [f"would {m[0].lower()}{m[1:]}" for _, _, m in venvmod.recovery(Path(row.venv))]
        if put_back or not (row.reasons & health.CANNOT_RUN):
            continue  # a venv put back runs again: its spec is judged on the next run, never on what was seen before
        if not row.owned and not include_foreign:
            kept.append({"name": row.name, "resource_dir": row.resource_dir, "reason": "not kernelenv's (add --include-foreign)"})
            continue
        venv_removed, venv_kept = _venv_verdict(all_rows, row, delete_venvs)
        if not dry_run:
            venv = Path(row.venv) if row.venv else None
            with locks.venv_and_kernels(ctx, venv, [row.kernels_dir / row.name]):
                now = kernels.rows(ctx)  # again under the locks: another run may have fixed or replaced it meanwhile
                fresh = next((r for r in now if r.resource_dir == row.resource_dir and r.aside_in is None), None)
                if fresh is None or not (fresh.reasons & health.CANNOT_RUN) or fresh.mark != row.mark:
                    continue
                venv_removed, venv_kept = _venv_verdict(now, row, delete_venvs)
                _remove(row, venv_removed)
        removed.append(
            {
                "name": row.name,
                "resource_dir": row.resource_dir,
                "python": row.python,
                "owned": row.owned,
                "venv_removed": venv_removed,
                "venv_kept_reason": venv_kept,
            }
        )
    for kdir in ctx.search_path:  # what killed spec writes and removals left (.NAME~*.tmp|.del)
        aside = {r.name for r in all_rows if r.aside_in is not None and r.kernels_dir == kdir}
        for name in sorted({n for n, _, _ in specstore.leftovers(kdir)} - aside):
            if dry_run:
                restored += [f"would delete {h}, which an interrupted run left" for _, _, h in specstore.leftovers(kdir, name)]
                continue
            with locks.venv_and_kernels(ctx, None, [kdir / name]):
                try:
                    restored += specstore.recover(kdir, name)
                except OSError as exc:  # another user's folder, a read-only system folder: not ours to tidy
                    restored.append(f"could not tidy what an interrupted run left of {kdir / name}: {exc.strerror or exc}")
    containers_removed = _orphans(dry_run) if any(r.container is not None for r in all_rows) else []
    return Result(
        "prune", {"removed": removed, "kept": kept, "restored": restored, "containers": containers_removed, "dry_run": dry_run}
    )


def _orphans(dry_run: bool) -> list[dict[str, object]]:
    """Containers of kernelenv kernels whose launcher is gone (a kernel killed with -9), where an engine runs."""
    engines = containers.available()
    return containers.remove_orphans(engines, dry_run=dry_run) if engines else []


def _remove(row: kernels.KernelRow, venv: Path | None) -> None:
    try:
        specstore.remove(row.resource_dir)
    except OSError as exc:
        raise OperationError(
            "JUPYTER_DIR_UNWRITABLE",
            f"cannot remove the kernelspec {row.resource_dir}: {exc.strerror or exc}",
            path=row.resource_dir,
        ) from None
    if venv is not None:
        try:
            venvmod.delete(venv)
        except OSError as exc:
            raise OperationError(
                "REMOVE_FAILED", f"removed the kernelspec, but cannot remove the venv {venv}: {exc.strerror or exc}", path=venv
            ) from None
