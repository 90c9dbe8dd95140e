"""prune: remove kernelspecs whose interpreter is gone, and say what was removed.

Only kernelenv's own specs (``metadata.kernelenv``) unless ``include_foreign``. The
spec's venv is deleted too, but only when ``venv.owned()`` confirms kernelenv made it
at that very path; anything else is left in place and the reason reported.
"""
from __future__ import annotations

from pathlib import Path

from .. import kernelspec
from .. import venv as venvmod
from ..context import Context
from ..result import OperationError, Result
from . import list as list_cmd


def run(ctx: Context, *, dry_run: bool = False, include_foreign: bool = False) -> Result:
    removed, kept = [], []
    for row in list_cmd.entries(ctx):
        if row["status"] != "interpreter-missing" and not (
            row["status"] == "shadowed" and any("does not exist" in p or "not on PATH" in p for p in row["problems"])
        ):
            continue
        if not row["owned"] and not include_foreign:
            kept.append({"name": row["name"], "resource_dir": row["resource_dir"], "reason": "not kernelenv's (add --include-foreign)"})
            continue
        venv = Path(row["venv"]) if row["venv"] else None
        venv_removed, venv_kept = None, None
        if venv is not None and (venv.exists() or venv.is_symlink()):
            if venvmod.owned(venv):
                venv_removed = venv
            else:
                venv_kept = f"{venv} was not made by kernelenv at that path; left in place"
        if not dry_run:
            try:
                kernelspec.remove(Path(row["resource_dir"]))
                if venv_removed is not None:
                    venvmod.delete(venv_removed)
            except OSError as exc:
                raise OperationError(
                    "JUPYTER_DIR_UNWRITABLE", f"cannot remove {exc.filename}: {exc.strerror or exc}", path=exc.filename
                ) from None
        removed.append(
            {
                "name": row["name"],
                "resource_dir": row["resource_dir"],
                "python": row["python"],
                "owned": row["owned"],
                "venv_removed": venv_removed,
                "venv_kept_reason": venv_kept,
            }
        )
    return Result("prune", {"removed": removed, "kept": kept, "dry_run": dry_run})
