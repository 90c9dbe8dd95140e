"""create: the project's venv, ipykernel and the asked-for packages, and its kernelspec.

Re-running is a sync: the venv is reused, the installer runs only when something asked for is
missing, and the spec is rewritten only when it changed. A venv kernelenv made elsewhere and
copied or moved here is rebuilt (with the packages it held) so that the kernel never runs
another place's python or pip; a moved project keeps its kernel's name, re-pointed. The user's
own venv is used as it is, never marked, never deleted; one whose scripts run another venv's
python is refused. Everything is checked before anything is touched; whatever this run made is
removed again when it fails or is interrupted, and a replaced venv is put back.

``group`` (``--group NAME``; "" for the group of the venv's parent folder) makes a team's kernel:
with ``--prefix``/``--sys-prefix`` on the Hub's JUPYTER_PATH, the venv and the spec are the
group's to read and run and nobody else's, and only their owners can change them (sharing.py).
Refused before anything is touched when the group could not run it (SHARE_UNREACHABLE: pyenv's
Pythons under a private /root are the usual case). A spec written outside the user's own Jupyter
folder that other users can read but not run (no --group) is made, with a warning.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from .. import identity, installer, kernels, lockfile, profiles, projectfile, provision, pythons, requirements, sharing, specstore
from .. import venv as venvmod
from ..context import Context
from ..health import Reason
from ..kernelspec import check_name, slug
from ..projectfile import CreateOptions
from ..result import OperationError, Result


def run(ctx: Context, opts: CreateOptions, *, group: str | None = None) -> Result:
    t0 = time.monotonic()
    project = ctx.require_project()
    # [tool.kernelenv] / kernelenv.toml: flags win over the file, the file over defaults
    opts, file_python, _ = projectfile.merge(project, opts, None)
    lock = lockfile.load(project)  # LOCK_INVALID before anything is touched
    if lock is not None:  # the lock decides what can be installed: it must cover the profile too
        opts = dataclasses.replace(opts, packages=profiles.with_profile(opts.packages, opts.profile))
        lockfile.check_requested(lock, opts.packages, lockfile.path_in(project))
    if ctx.python is None and file_python is not None:  # the file's python, else requires-python
        ctx = dataclasses.replace(ctx, python=file_python)
    ident = identity.inspect(ctx.venv)
    provision.refuse_early(ident)
    team = sharing.group_for(group, ctx.venv) if group is not None else None
    if lock is not None and ctx.python is None and not ident.is_venv:
        ctx = dataclasses.replace(ctx, python=lock.python)
    rows = kernels.rows(ctx)
    origin = provision.origin_kernels(rows, ident, project)
    name = opts.name if opts.name is not None else (origin[0].name if origin else slug(project.name))
    check_name(name)
    kernels.check_clash(ctx, rows, name, project=project, venv=ctx.venv, also_mine=origin)
    specstore.ensure_writable(ctx.kernels_dir)
    if opts.profile and lock is None:
        opts = _with_profile(ctx, opts, ident)
    plan = provision.Plan(
        project=project,
        venv=ctx.venv,
        name=name,
        display_name=opts.display_name,
        packages=opts.packages,
        requirement_files=opts.requirement_files,
        extra_env=opts.extra_env,
        lock=lock,
        repoint=origin,
        offline=opts.offline,
        retire=[
            r
            for r in kernels.owned_by(rows, project=project)
            if Reason.SHADOWED in r.reasons and r.kernels_dir == ctx.kernels_dir and r.name != name
        ],
        # again under the locks: another run may have written the name meanwhile
        recheck=lambda: kernels.check_clash(ctx, kernels.rows(ctx), name, project=project, venv=ctx.venv, also_mine=origin),
        group=team,
    )
    built = provision.build(ctx, plan)
    return _result(ctx, project, name, opts, built, t0)


def _result(ctx: Context, project: Path, name: str, opts: CreateOptions, built: provision.Built, t0: float) -> Result:
    """What create says it did: the venv, the kernel, and one-line notes and warnings."""
    python = venvmod.python_of(ctx.venv)
    warnings = []
    broken = sharing.unreachable(built.resource_dir / "kernel.json", python) if ctx.scope != "user" else None
    if broken is not None:
        who, found = broken
        warnings.append(
            f"{who} can list this kernel but not run it: {found.describe(who)}; "
            f"make it with --group GROUP, or from a Python they can run (--python /usr/bin/python3)"
        )
    shared = sharing.recorded(venvmod.read_mark(ctx.venv))
    data = {
        "project": project,
        "venv": ctx.venv,
        "venv_created": built.venv_created,
        "rebuilt": built.rebuilt,
        "python": built.info.to_json() | {"path": str(python), "end_of_life": pythons.end_of_life(built.info)},
        "installer": built.installer,
        "installed": built.installed,
        "not_carried": built.not_carried,
        "profile": opts.profile,
        "kernel": provision.summary(ctx, name, built.resource_dir, python),
        "kernelspec": built.spec_state,
        "repointed": built.repointed,
        "recovered": built.recovered,
        "group": shared,
        "warnings": warnings,
        "durations": built.durations | {"total": round(time.monotonic() - t0, 3)},
    }
    note = pythons.end_of_life_note(built.info)  # one line, never a failure
    notes = [note] if note else []
    data["notes"] = notes
    return Result("create", data, messages=notes + [f"warning: {w}" for w in warnings])


def _with_profile(ctx: Context, opts: CreateOptions, ident: identity.VenvIdentity) -> CreateOptions:
    """opts with the profile's packages composed in; PROFILE_UNAVAILABLE before anything is installed."""
    merged = profiles.with_profile(opts.packages, opts.profile)
    if ident.is_venv and requirements.satisfied(merged, venvmod.installed(ident.path)) and not ctx.python:
        return dataclasses.replace(opts, packages=merged)  # already there: nothing to check
    info = None
    if ident.is_venv and not ctx.python:
        try:
            info = pythons.probe(venvmod.python_of(ident.path))
        except OperationError:
            info = None
    info = info or pythons.resolve(ctx.python, cache_dir=ctx.cache_dir)
    ctx.progress("profile", f"checking that profile {opts.profile} can be installed for Python {info.short}", None, None)
    profiles.check_available(
        opts.profile,
        merged,
        python_version=info.version_str,
        implementation=info.implementation,
        backend=installer.choose(ctx.installer),
        offline=opts.offline,
    )
    return dataclasses.replace(opts, packages=merged)
