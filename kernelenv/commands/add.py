"""add: install packages into the project's venv and record them in the project file (and the lock).

``kernelenv add numpy 'pandas>=2'`` checks every requirement (PEP 508), the project file and the
lock before anything is touched, then, holding the venv's lock: installs through the venv's
installer backend (what else must move to satisfy them moves, as with ``pip install``; a team's
venv, ``create --group``, is then given to its group again, as ``sync`` does),
re-locks when the project has a ``kernelenv.lock`` (kernelenv/locking.py: the lock pins what the
venv now holds), and records the requirements in ``[tool.kernelenv] packages`` (or
kernelenv.toml), so a teammate's ``create`` or ``sync`` gets them. A failed install changes
nothing; a failed re-lock leaves the lock and the project file as they were (``kernelenv sync``
then puts the venv back as the lock has it).

A kernel that is running imports a newly added package without a restart; ``restart`` in the
result says when one is needed: a package that changed version (a kernel that imported it keeps
the old one).
"""

from __future__ import annotations

import time

from .. import installer, lockfile, locks, packageops, projectenv, projectfile, provision, pythons, requirements
from .. import venv as venvmod
from ..context import Context
from ..result import OperationError, Result


def run(ctx: Context, packages: list[str]) -> Result:
    t0 = time.monotonic()
    if not packages:
        raise OperationError("USAGE", "kernelenv add: give at least one package", hint="for example: kernelenv add numpy")
    requirements.check(packages, "kernelenv add")
    project = ctx.require_project()
    pf = projectfile.load(project)  # PROJECT_FILE_INVALID before anything is touched
    lockfile.load(project)  # LOCK_INVALID too
    found = projectenv.find(ctx)
    durations: dict[str, float] = {}
    with locks.venv_and_kernels(ctx, found.venv, []):
        info = pythons.probe(found.python)
        backend = installer.for_venv(ctx.installer, found.venv)
        before = venvmod.installed(found.venv)
        ctx.progress("install", f"installing {', '.join(packages)} into {found.venv} with {backend.name}", 1, 3)
        t = time.monotonic()
        backend.install(found.python, packages, [], on_line=lambda line: _installer_line(ctx, line))
        durations["install"] = round(time.monotonic() - t, 3)
        after = venvmod.installed(found.venv)
        done = packageops.changes(before, after)
        if "ipykernel" in {c["name"] for c in done["changed"] + done["added"]}:
            provision.warm(ctx, found.venv, info, harvest=False, durations=durations)
        if done["added"] or done["changed"]:
            provision.reshare(found.venv)  # a team's venv: what the installer added is the group's too (as sync)
        own = packageops.recorded_after(pf, add=packages)
        if lockfile.path_in(project).exists():  # no lock: nothing to update, say nothing
            ctx.progress("lock", "updating kernelenv.lock", 2, 3)
        unchanged = not any(done.values()) and own == list(pf.settings.get("packages", []))
        try:
            made = None if unchanged else packageops.relock(ctx, found, own)
        except OperationError as exc:
            exc.info.message += (
                f" (installed in {found.venv}; the lock and the project file were not changed: "
                "`kernelenv sync` puts the venv back as the lock has it)"
            )
            raise
        ctx.progress("record", f"recording {', '.join(packages)} in the project file", 3, 3)
        path, recorded = packageops.record(project, pf, own)
    durations["total"] = round(time.monotonic() - t0, 3)
    restart = packageops.restart(found, done)
    data = packageops.report(found, info.version_str, backend.name, packages, path, recorded, own, made, restart, durations)
    data.update({"installed": done["added"], "changed": done["changed"], "removed": done["removed"]})
    return Result("add", data, messages=[f"note: {restart['message']}"] if restart["needed"] else [])


def _installer_line(ctx: Context, line: str) -> None:
    text = line.strip()
    if text.startswith(("Resolved", "Prepared", "Installed", "Uninstalled", "Downloading", "Collecting", "Audited")):
        ctx.progress("install", text, 1, 3)
