"""sync: make the project's venv match ``kernelenv.lock``.

Exactly in a venv kernelenv made here (what the lock does not name is uninstalled); in the
user's own venv the lock's pins are installed and nothing is removed. Everything is checked
before the venv is touched: a corrupt lock or one for another Python raises LOCK_INVALID, and
the backend verifies every download's hash before it changes anything (HASH_MISMATCH), so a
failed sync leaves the venv as it was. With no venv yet (or one that must be rebuilt: copied
or moved here), sync builds it from the lock as create would.
"""

from __future__ import annotations

import time

from .. import identity, installer, kernels, lockfile, locks, provision, pythons, specstore
from .. import venv as venvmod
from ..context import Context
from ..kernelspec import slug
from ..result import Result


def run(ctx: Context, *, offline: bool = False) -> Result:
    t0 = time.monotonic()
    project = ctx.require_project()
    lock_path, lock = lockfile.read_project(project)
    venv = ctx.venv
    ident = identity.inspect(venv)
    provision.refuse_early(ident)
    if ident.kind in (identity.Kind.ABSENT, identity.Kind.ABANDONED, identity.Kind.OURS_MOVED, identity.Kind.OURS_COPIED):
        all_rows = kernels.rows(ctx)
        mine = kernels.owned_by(all_rows, project=project, venv=venv) + provision.origin_kernels(all_rows, ident, project)
        name = mine[0].name if mine else slug(project.name)
        if not mine:
            kernels.check_clash(ctx, all_rows, name, project=project, venv=venv)
        specstore.ensure_writable(ctx.kernels_dir)
        built = provision.build(
            ctx,
            provision.Plan(project=project, venv=venv, name=name, lock=lock, offline=offline, repoint=mine[1:] if mine else []),
        )
        installed, removed, name_used, created, durations = (
            built.installed,
            built.removed,
            built.installer,
            built.venv_created,
            built.durations,
        )
    else:
        with locks.venv_and_kernels(ctx, venv, []):
            venvmod.recover(venv)
            info = pythons.probe(venvmod.python_of(venv))
            backend = installer.for_venv(ctx.installer, venv)
            durations = {}
            installed, removed = provision.apply_lock(
                ctx, venv, lock_path, lock, info, backend, offline=offline, exact=identity.inspect(venv).ours, durations=durations
            )
            if installed or removed:
                provision.reshare(venv)  # a team's venv: what the installer added is the group's too
            name_used, created = backend.name, False
    durations["total"] = round(time.monotonic() - t0, 3)
    return Result(
        "sync",
        {
            "project": project,
            "venv": venv,
            "lock": lock_path,
            "python": lock.python,
            "installed": installed,
            "removed": removed,
            "installer": name_used,
            "venv_created": created,
            "durations": durations,
        },
    )
