"""drop: uninstall packages from the project's venv and take them out of the project file (and the lock).

The opposite of ``add`` (``remove`` is another thing: it deletes a kernel and its venv). Checked
before anything is touched: every argument is a requirement (its name is what counts), the
project file and the lock are valid, and no name is one the kernel needs (ipykernel, pip, and
what ipykernel requires, read from the installed metadata) or one the project file brings back
on the next ``create`` (its ``[project].dependencies``, its profile): PACKAGE_REQUIRED. Then,
holding the venv's lock: the installed ones are uninstalled through the venv's backend (only
them: what they pulled in stays, as with ``pip uninstall``), the lock is re-locked without them
where there is one, and the project file's entries of those names are removed. A name neither
installed nor recorded is reported, not an error. Installed packages that needed a dropped one
are reported as ``broken`` (the backend's check).
"""

from __future__ import annotations

import time

from .. import installer, lockfile, locks, packageops, projectenv, projectfile, pythons, requirements
from .. import venv as venvmod
from ..context import Context
from ..result import OperationError, Result


def run(ctx: Context, packages: list[str]) -> Result:
    t0 = time.monotonic()
    if not packages:
        raise OperationError("USAGE", "kernelenv drop: give at least one package", hint="for example: kernelenv drop pandas")
    requirements.check(packages, "kernelenv drop")
    names = requirements.names(packages)
    project = ctx.require_project()
    pf = projectfile.load(project)  # PROJECT_FILE_INVALID before anything is touched
    lockfile.load(project)  # LOCK_INVALID too
    packageops.refuse_drop(names, pf)
    found = projectenv.find(ctx)
    durations: dict[str, float] = {}
    with locks.venv_and_kernels(ctx, found.venv, []):
        info = pythons.probe(found.python)
        packageops.refuse_drop(names, pf, packageops.needed_by_kernel(found.venv, info.version_str))
        backend = installer.for_venv(ctx.installer, found.venv)
        before = venvmod.installed(found.venv)
        present = sorted(n for n in names if n in before)
        own = packageops.recorded_after(pf, drop=names)
        not_found = sorted(n for n in names if n not in before and n not in requirements.names(pf.settings.get("packages", [])))
        if present:
            ctx.progress("uninstall", f"uninstalling {', '.join(present)} from {found.venv} with {backend.name}", 1, 3)
            t = time.monotonic()
            backend.uninstall(found.python, present)
            durations["uninstall"] = round(time.monotonic() - t, 3)
        after = venvmod.installed(found.venv)
        done = packageops.changes(before, after)
        broken = [
            c.to_json()
            for c in (backend.check(found.python)[0] if present else [])
            if requirements.names([c.requirement]) & set(present)
        ]
        if lockfile.path_in(project).exists():  # no lock: nothing to update, say nothing
            ctx.progress("lock", "updating kernelenv.lock", 2, 3)
        unchanged = not present and own == list(pf.settings.get("packages", []))
        made = None if unchanged else packageops.relock(ctx, found, own, exclude=names)
        ctx.progress("record", "updating the project file", 3, 3)
        path, recorded = packageops.record(project, pf, own)
    durations["total"] = round(time.monotonic() - t0, 3)
    restart = packageops.restart(found, done)
    data = packageops.report(found, info.version_str, backend.name, packages, path, recorded, own, made, restart, durations)
    data.update({"removed": done["removed"], "not_found": not_found, "broken": broken})
    messages = [f"warning: {n} is not installed in {found.venv} nor in the project file" for n in not_found]
    messages += [f"warning: {b['package']} needs {b['requirement']}, which is no longer installed" for b in broken]
    if restart["needed"]:
        messages.append(f"note: {restart['message']}")
    return Result("drop", data, messages=messages)
