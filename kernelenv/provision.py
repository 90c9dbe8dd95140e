"""Building a project's environment: its venv, its packages and its kernelspecs, as one unit.

Shared by the verbs that make or remake an environment (create, repair, sync). A verb decides
*what* (a :class:`Plan`); :func:`build` does it, holding the venv's lock and the lock of every
kernel name it writes:

- first it finishes or undoes what interrupted runs left (``venv.recover``, ``specstore.recover``);
- the venv is reused, made, or rebuilt, from what identity.py says it is. A rebuild moves the old
  venv aside (``venv.Swap``) and deletes it only once the new one works; on any failure or
  interrupt the new one is deleted and the old one put back. Only a venv identity.py says may be
  rebuilt is ever replaced; the user's own venv is used as it is or refused;
- packages come from the lock (exact in kernelenv's own venv, install-only in the user's), or
  are what was asked for plus, in a rebuild, what the replaced venv held (``carry``);
- the bytecode a kernel start needs is made (bytecode.warm), the venv's mark set ready;
- the kernelspec is written, older specs of the same environment re-pointed at it, and this
  project's specs that a same-named spec earlier on Jupyter's path hides (never started) removed;
- a team's kernel (``Plan.group``, or the group a venv's mark records) is checked before anything
  is touched: the group must reach the venv's and the spec's folders and run the interpreter the
  venv is made from (SHARE_UNREACHABLE; a reused venv whose base it cannot run is rebuilt when
  --python names one it can), and is then given to the group (sharing.give).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import bytecode, files, identity, installer, kernels, lockfile, locks, pythons, requirements, sharing, specstore, templates
from . import venv as venvmod
from .context import Context
from .identity import Kind, VenvIdentity
from .kernels import KernelRow
from .result import OperationError

BASE_PACKAGES = ["ipykernel"]


@dataclass
class Plan:
    project: Path
    venv: Path
    name: str
    display_name: str | None = None
    packages: list[str] = field(default_factory=list)
    requirement_files: list[Path] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    lock: lockfile.Lock | None = None
    rebuild: str | None = None  # force a rebuild (repair), saying why
    carry: bool = True  # a rebuilt venv gets the packages the old one had
    repoint: list[KernelRow] = field(default_factory=list)  # older specs of this environment
    retire: list[KernelRow] = field(default_factory=list)  # this project's specs Jupyter never starts (shadowed)
    offline: bool = False
    recheck: Callable[[], object] | None = None  # run again under the locks (a name written meanwhile)
    group: sharing.Group | None = None  # a team's kernel: the group that shares it (create --group)


@dataclass
class Built:
    info: pythons.PythonInfo
    venv_created: bool
    rebuilt: str | None
    installed: list[str]
    removed: list[str]
    installer: str
    resource_dir: Path
    spec_state: str
    repointed: list[str]
    not_carried: list[str]
    recovered: list[str]
    durations: dict[str, float]


@dataclass
class _Decision:
    action: str  # reuse | make | rebuild
    reason: str | None = None
    info: pythons.PythonInfo | None = None  # the venv's python, when reused
    carry: bool = False


# deciding -----------------------------------------------------------------------------------
def refuse_early(ident: VenvIdentity) -> None:
    """What no plan can use, refused before anything is touched."""
    if ident.kind == Kind.NOT_A_VENV:
        raise OperationError(
            "VENV_NOT_A_VENV",
            f"{ident.path} exists and is not a venv; not touching it",
            hint="choose another place with --venv, or move that folder away",
            venv=ident.path,
        )
    if ident.kind == Kind.USERS_RELOCATED:
        script, interp = ident.scripts_elsewhere[0]
        raise OperationError(
            "VENV_ELSEWHERE",
            f"{ident.path} was made elsewhere and copied or moved here: its {script} runs {interp}; "
            "kernelenv did not make it and will not rebuild it",
            hint="move it back, or delete it yourself and run create again (kernelenv makes a new one)",
            venv=ident.path,
            interpreter=interp,
        )
    if ident.kind == Kind.LINK and not venvmod.is_venv(ident.path):
        raise OperationError(
            "VENV_NOT_A_VENV", f"{ident.path} is a link to something that is not a venv; not touching it", venv=ident.path
        )


def _decide(ctx: Context, ident: VenvIdentity, plan: Plan, wanted: pythons.PythonInfo | None) -> _Decision:
    if ident.kind == Kind.ABSENT:
        return _Decision("make")
    if ident.kind == Kind.ABANDONED:
        return _Decision("rebuild", "an earlier run did not finish it")
    if ident.kind in (Kind.OURS_MOVED, Kind.OURS_COPIED):
        return _Decision("rebuild", ident.describe(), carry=plan.carry)
    if ident.kind == Kind.OURS and not ident.finished:
        return _Decision("rebuild", "an earlier run did not finish it")
    why: str | None = None
    try:
        info = pythons.probe(venvmod.python_of(ident.path))
    except OperationError as exc:
        info, why = None, f"its python does not run ({exc.info.message})"
    if info is not None and ctx.python and not pythons.satisfies(info, ctx.python, wanted):
        why = f"it has Python {info.version_str}, Python {ctx.python} was asked for"
        carry = False
    else:
        carry = plan.carry
    if why is None and plan.rebuild is not None:
        why, carry = plan.rebuild, plan.carry
    if why is None and ident.may_rebuild and _other_interpreter(ctx, ident.path, info, wanted):
        # --python /usr/bin/python3 on a venv made from another 3.11 (pyenv's): the interpreter named, not the X.Y
        why, carry = f"it was made from {venvmod.base_interpreter(ident.path)[0]}, --python names {ctx.python}", plan.carry
    if why is None:
        return _Decision("reuse", info=info)
    if not ident.may_rebuild:
        raise OperationError(
            "NOT_OWNED",
            f"venv {ident.path} cannot be used ({why}) and kernelenv did not make it; not replacing it",
            hint="remove it yourself, or choose another place with --venv",
            venv=ident.path,
        )
    return _Decision("rebuild", why, carry=carry)


def _other_interpreter(ctx: Context, venv: Path, info: pythons.PythonInfo | None, wanted: pythons.PythonInfo | None) -> bool:
    """--python is a path to another interpreter than the one the venv (``info``: its python) was made from."""
    if info is None or wanted is None or not ctx.python or not pythons.is_path(ctx.python):
        return False
    if os.path.realpath(info.base_prefix) != os.path.realpath(wanted.base_prefix):
        return True
    base, exists = venvmod.base_interpreter(venv)
    named = base_interpreter(wanted)
    if not base or not exists or _is_script(named):  # a shim (pyenv's) names its interpreter only when run
        return False
    return os.path.realpath(base) != os.path.realpath(named)


def _is_script(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"#!"
    except OSError:
        return True


def python_for(ctx: Context, plan: Plan, old: Path | None) -> pythons.PythonInfo:
    """The interpreter a new venv is made from: --python (or the project file's), the lock's, the old venv's."""
    if ctx.python:
        return pythons.resolve(ctx.python, cache_dir=ctx.cache_dir)
    if plan.lock is not None:
        return pythons.resolve(plan.lock.python, cache_dir=ctx.cache_dir)
    if old is not None and venvmod.is_venv(old):
        base, exists = venvmod.base_interpreter(old)
        if base and exists:
            try:
                return pythons.probe(base)
            except OperationError:
                pass
        version = venvmod.cfg_version(old)
        if version:
            return pythons.resolve(version, cache_dir=ctx.cache_dir)
    return pythons.resolve(None)


def base_interpreter(info: pythons.PythonInfo) -> str:
    """A venv's python as --python means the interpreter it was made from."""
    if info.in_venv:
        home = venvmod.read_cfg(Path(info.prefix)).get("home")
        if home:
            for cand in (f"python{info.short}", "python3", "python"):
                p = Path(home) / cand
                if p.exists():
                    return str(p)
    return info.path


# building -----------------------------------------------------------------------------------
def build(ctx: Context, plan: Plan) -> Built:
    """Make the plan real (see the module docstring). Holds the locks itself."""
    kernel_dirs = [ctx.kernels_dir / plan.name, *(r.kernels_dir / r.name for r in [*plan.repoint, *plan.retire])]
    with locks.venv_and_kernels(ctx, plan.venv, kernel_dirs):
        return _build_locked(ctx, plan)


def _prepare(
    ctx: Context, plan: Plan
) -> tuple[list[str], VenvIdentity, pythons.PythonInfo | None, _Decision, sharing.Group | None]:
    """Under the locks, before anything is changed: what interrupted runs left is finished (recovered), the venv
    judged, the Python asked for found, what to do with the venv decided, and for a team's venv, checked."""
    if plan.recheck is not None:
        plan.recheck()
    recovered = venvmod.recover(plan.venv) + specstore.recover(ctx.kernels_dir, plan.name)
    ident = identity.inspect(plan.venv)
    refuse_early(ident)
    wanted = pythons.resolve(ctx.python, cache_dir=ctx.cache_dir) if ctx.python else None
    decision = _decide(ctx, ident, plan, wanted)
    recorded_group = sharing.recorded(ident.mark) if ident.kind == Kind.OURS else None
    group = plan.group or (sharing.group_for(recorded_group, plan.venv) if recorded_group else None)
    if group is not None:
        decision = _check_shared(ctx, plan, ident, decision, wanted, group)
    return recovered, ident, wanted, decision, group


def _build_locked(ctx: Context, plan: Plan) -> Built:
    t0 = time.monotonic()
    durations: dict[str, float] = {}
    recovered, ident, wanted, decision, group = _prepare(ctx, plan)
    had_spec = os.path.lexists(ctx.kernels_dir / plan.name)
    swap: venvmod.Swap | None = None
    made = False
    carry: list[str] = []
    not_carried: list[str] = []
    try:
        if decision.action == "rebuild":
            carry, not_carried = (
                installer.freeze(plan.venv) if decision.carry and ident.is_venv and plan.lock is None else ([], [])
            )
            ctx.progress("venv", f"rebuilding {plan.venv}: {decision.reason}", 1, 3)
            swap = venvmod.Swap(plan.venv, "rebuild")
            swap.aside()
        provided: templates.Provided | None = None
        if decision.action in ("make", "rebuild"):
            info = wanted or python_for(ctx, plan, swap.old if swap else None)
            backend = installer.choose(ctx.installer)
            if plan.lock is None and not carry and group is None:  # a team's venv is given to the group: its own files
                made = True  # from here on, a failure deletes what this run made at plan.venv
                provided = _from_template(ctx, plan, info, backend, durations)
            if provided is None:
                made = False
                _make(ctx, plan, info, backend, durations)
            made = True
        else:
            assert decision.info is not None
            info = decision.info
            backend = installer.for_venv(ctx.installer, plan.venv)
        installed, removed = _packages(ctx, plan, info, backend, made, carry, provided, durations)
        if made or identity.inspect(plan.venv).ours:  # the user's own venv: not a mode of theirs is changed
            venvmod.tighten(plan.venv)
        venvmod.write_mark(plan.venv, state="ready", project=plan.project)
        resource_dir, state, repointed = _register(ctx, plan, info, group, durations)
    except BaseException:
        _undo(ctx, plan, swap, made, had_spec)
        raise
    if swap is not None:
        swap.commit()
    _retire(plan)
    durations["total"] = round(time.monotonic() - t0, 3)
    return Built(
        info=info,
        venv_created=made,
        rebuilt=decision.reason if decision.action == "rebuild" else None,
        installed=installed,
        removed=removed,
        installer=backend.name,
        resource_dir=resource_dir,
        spec_state=state,
        repointed=repointed,
        not_carried=not_carried,
        recovered=recovered,
        durations=durations,
    )


def _undo(ctx: Context, plan: Plan, swap: venvmod.Swap | None, made: bool, had_spec: bool) -> None:
    """A failed or interrupted build: the venv kept aside comes back, or the venv this run made goes, with the
    spec it wrote for it."""
    if swap is not None:
        swap.restore()
    elif made:
        _discard_quietly(plan.venv)
        _unregister_new(ctx, plan, had_spec)


def _unregister_new(ctx: Context, plan: Plan, had_spec: bool) -> None:
    """A failed or interrupted run that made the venv also takes back the spec it wrote for it, if there was none
    before (a kill between writing the spec and finishing left a kernel pointing at a venv that was then deleted)."""
    spec_dir = ctx.kernels_dir / plan.name
    if had_spec or spec_dir.is_symlink() or not spec_dir.is_dir():
        return
    mark = specstore.read(spec_dir).mark
    if mark is not None and kernels.same_path(mark.get("venv"), plan.venv):
        try:
            specstore.remove(spec_dir)
        except OSError:
            pass


def _retire(plan: Plan) -> None:
    """Remove the project's specs the new name replaces (shadowed ones: a spec Jupyter never starts is only clutter)."""
    for row in plan.retire:
        if row.name != plan.name and row.mark and kernels.same_path(row.project, plan.project):
            specstore.remove(row.resource_dir)


def _packages(
    ctx: Context,
    plan: Plan,
    info: pythons.PythonInfo,
    backend: installer.Backend,
    made: bool,
    carry: list[str],
    provided: templates.Provided | None,
    durations: dict[str, float],
) -> tuple[list[str], list[str]]:
    """(installed, removed): the lock applied, the template's packages recorded, or the request installed."""
    if plan.lock is not None:
        return apply_lock(
            ctx,
            plan.venv,
            lockfile.path_in(plan.project),
            plan.lock,
            info,
            backend,
            offline=plan.offline,
            exact=made or identity.inspect(plan.venv).ours,
            durations=durations,
        )
    if provided is not None:
        venvmod.write_mark(
            plan.venv,
            request=_request_key(info, [*BASE_PACKAGES, *plan.packages], plan.requirement_files),
            installer=backend.name,
            template=provided.template,
        )
        return provided.installed, []
    return _install(ctx, plan, info, backend, made, carry, durations)


def _register(
    ctx: Context, plan: Plan, info: pythons.PythonInfo, group: sharing.Group | None, durations: dict[str, float]
) -> tuple[Path, str, list[str]]:
    """Write the kernel's spec (and re-point the specs it takes over), record them in the venv's mark and,
    for a team, give everything this run wrote to the group, last: (resource_dir, spec state, names written)."""
    t = time.monotonic()
    ctx.progress("register", f"registering kernel {plan.name}", 3, 3)
    display = plan.display_name or f"Python {info.short} ({plan.project.name})"
    python = venvmod.python_of(plan.venv)
    modes = specstore.TEAM_MODES if group is not None else specstore.MODES
    resource_dir, state = _put(ctx.kernels_dir, plan, plan.name, python, info, display, modes)
    repointed = [plan.name]
    spec_dirs = [resource_dir]
    for row in plan.repoint:
        if row.kernels_dir == ctx.kernels_dir and row.name == plan.name:
            continue
        spec_dirs.append(_put(row.kernels_dir, plan, row.name, python, info, row.display_name, modes)[0])
        repointed.append(row.name)
    if group is None:
        venvmod.write_mark(plan.venv, kernels=sorted(set(repointed)))
    else:
        venvmod.write_mark(plan.venv, kernels=sorted(set(repointed)), group=group.name)
    record_specs(plan.venv, [resource_dir, *(r.kernels_dir / r.name for r in plan.repoint)])
    if group is not None:  # last, every file this run wrote is the group's to read, nobody's else
        for path in [plan.venv, *spec_dirs]:
            sharing.give(path, group)
    durations["register"] = round(time.monotonic() - t, 3)
    return resource_dir, state, repointed


def record_specs(venv: Path, written: list[Path]) -> None:
    """Add the spec folders just written to the venv's mark (``specs``), dropping those that no longer
    run it: remove and prune then see a spec in another scope as a user of the venv. Callers hold
    the venv's lock; the user's own venv gets no mark."""
    specs = kernels.still_using(venv, [*venvmod.recorded_specs(venv), *written])
    venvmod.write_mark(venv, specs=sorted({str(d) for d in specs}))


def _put(
    kernels_dir: Path,
    plan: Plan,
    name: str,
    python: Path,
    info: pythons.PythonInfo,
    display: str,
    modes: tuple[int, int] = specstore.MODES,
) -> tuple[Path, str]:
    return specstore.put(
        kernels_dir,
        name,
        python=python,
        version=info.version,
        implementation=info.implementation,
        venv=plan.venv,
        project=plan.project,
        display_name=display,
        extra_env=plan.extra_env or None,
        modes=modes,
    )


def _check_shared(
    ctx: Context, plan: Plan, ident: VenvIdentity, decision: _Decision, wanted: pythons.PythonInfo | None, group: sharing.Group
) -> _Decision:
    """A team's kernel: refuse (SHARE_UNREACHABLE) what the group could not reach or run, before anything is touched."""
    who = sharing.for_group(group)
    if ident.kind in (Kind.USERS, Kind.USERS_RELOCATED, Kind.LINK):
        raise OperationError(
            "NOT_OWNED",
            f"kernelenv did not make {plan.venv}; it will not give it to group {group.name}",
            hint="let kernelenv make the team's venv (--venv NEW_PATH), or set its group yourself",
            venv=plan.venv,
            group=group.name,
        )
    for folder in (plan.venv.parent, ctx.kernels_dir):
        found = sharing.blocked(folder, who, "x")
        if found is not None:
            raise _unreachable(ctx, who, found, f"put the venv (--venv) and the kernelspec (--prefix) where {who} can reach")
    if decision.action == "reuse":
        base, _ = venvmod.base_interpreter(plan.venv)
        found = sharing.python_blocks(base or venvmod.python_of(plan.venv), who)
        if found is None:
            return decision
        if wanted is not None and sharing.python_blocks(base_interpreter(wanted), who) is None:
            return _Decision("rebuild", f"{who} cannot run its base interpreter {base}", carry=plan.carry)
        raise _unreachable(ctx, who, found, None, wanted)
    info = wanted or python_for(ctx, plan, plan.venv if decision.action == "rebuild" else None)
    found = sharing.python_blocks(base_interpreter(info), who)
    if found is not None:
        raise _unreachable(ctx, who, found, None, info)
    return decision


def _unreachable(
    ctx: Context, who: sharing.Audience, found: sharing.Block, hint: str | None, info: pythons.PythonInfo | None = None
) -> OperationError:
    if hint is None:  # the interpreter: name one they can run
        candidates = [
            (f.path, f.info.version)
            for f in pythons.discover(ctx.cache_dir)
            if f.info is not None and f.can_venv and f.info.supported
        ]
        ok = sharing.runnable_pythons(who, candidates, info.version if info else None)
        hint = (
            f"make it from a Python {who} can run: --python {ok[0]}"
            if ok
            else "install a Python outside private home folders (apt-get install python3), then --python /usr/bin/python3"
        )
    return OperationError(
        "SHARE_UNREACHABLE",
        f"{who} could not use this kernel: {found.describe(who)}",
        hint=hint,
        path=found.path,
        target=found.target,
        audience=who.label,
    )


def reshare(venv: Path) -> None:
    """A team's venv (its mark names a group) given to the group again, after an installer changed it."""
    name = sharing.recorded(venvmod.read_mark(venv)) if identity.inspect(venv).ours else None
    if name:
        sharing.give(venv, sharing.group_for(name, venv))


def _make(ctx: Context, plan: Plan, info: pythons.PythonInfo, backend: installer.Backend, durations: dict[str, float]) -> None:
    venv = plan.venv
    ctx.progress("venv", f"creating {venv} with Python {info.version_str}", 1, 3)
    t = time.monotonic()
    base = base_interpreter(info)
    try:  # outside the cleanup of build(): a folder that appeared meanwhile is not ours to delete
        venv.mkdir(parents=True)
    except OSError as exc:
        raise OperationError("VENV_CREATE_FAILED", f"cannot make {venv}: {exc.strerror or exc}", venv=venv) from None
    try:
        # virtualenv's bundled pip no longer installs on 3.8: seed that one with its own ensurepip
        seed = backend.name == "pip" and info.version[:2] >= (3, 9)
        # the mark first: a run killed inside virtualenv leaves a folder the next run may rebuild
        venvmod.write_mark(venv, new=True, state="creating", project=plan.project, installer=backend.name)
        venvmod.create(venv, base, with_pip=seed, version=info.version)
        if backend.name == "pip" and not seed:
            backend.seed_pip(venvmod.python_of(venv))
        venvmod.write_mark(venv, state="creating", project=plan.project, installer=backend.name)
    except BaseException:
        _discard_quietly(venv)
        raise
    durations["venv"] = round(time.monotonic() - t, 3)


def _discard_quietly(venv: Path) -> None:
    """Delete the venv this run made (renamed aside first: a kill never leaves half of it in place)."""
    try:
        venvmod.discard(venv)
    except OSError:
        pass


def _from_template(
    ctx: Context, plan: Plan, info: pythons.PythonInfo, backend: installer.Backend, durations: dict[str, float]
) -> templates.Provided | None:
    """The new venv cloned from an installed template (templates.py), its mark set; None when no
    template applies (nothing is left at plan.venv: it is then made and installed as before)."""
    if not isinstance(backend, installer.Uv) or not templates.applies(plan.venv, info, backend):
        return None  # (Python 3.7, pip, names activate would quote: said before anything is printed)
    t = time.monotonic()
    try:  # _make reports a folder that cannot be made, or one that appeared meanwhile
        plan.venv.mkdir(parents=True)
    except OSError:
        return None
    asked = [*BASE_PACKAGES, *plan.packages]
    extra = [] if "pip" in requirements.names(asked) else ["pip"]  # a notebook's !pip install must work
    ctx.progress("venv", f"creating {plan.venv} with Python {info.version_str}", 1, 3)
    venvmod.write_mark(plan.venv, new=True, state="creating", project=plan.project, installer=backend.name)
    got = templates.provide(
        ctx.cache_dir,
        plan.venv,
        info,
        base_interpreter(info),
        backend,
        [*asked, *extra],
        plan.requirement_files,
        offline=plan.offline,
        warm=lambda v: warm_start(ctx, v, info, harvest=True),
        warm_identity=bytecode.identity(),
        progress=lambda msg: ctx.progress("install", msg, 2, 3),
    )
    if got is None:
        _discard_quietly(plan.venv)
        return None
    durations["venv"] = round(time.monotonic() - t, 3)
    durations["install"] = 0.0
    return got


def _request_key(info: pythons.PythonInfo, packages: list[str], req_files: list[Path]) -> str:
    h = hashlib.sha256(json.dumps([info.version_str, sorted(packages)]).encode())
    for f in req_files:
        h.update(str(f).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _installer_progress(ctx: Context, line: str) -> None:
    """Pass on the installer's summary lines (uv's Resolved/Prepared/Installed, pip's Collecting)."""
    text = line.strip()
    if text.startswith(("Resolved", "Prepared", "Installed", "Downloading", "Downloaded", "Collecting", "Building", "Audited")):
        ctx.progress("install", text, 2, 3)


def _install(
    ctx: Context,
    plan: Plan,
    info: pythons.PythonInfo,
    backend: installer.Backend,
    made: bool,
    carry: list[str],
    durations: dict[str, float],
) -> tuple[list[str], list[str]]:
    venv, python = plan.venv, venvmod.python_of(plan.venv)
    asked = [*BASE_PACKAGES, *plan.packages]
    named = requirements.names(asked)
    packages = [*asked, *(c for c in carry if requirements.names([c]).isdisjoint(named))]
    mark = venvmod.read_mark(venv) or {}
    key = _request_key(info, asked, plan.requirement_files)
    before = venvmod.installed(venv)
    if not made and mark.get("request") == key and requirements.satisfied(asked, before) and "pip" in before:
        return [], []
    if "pip" not in before and "pip" not in named:
        packages.append("pip")  # a notebook's !pip install must work
    shown = asked if not carry else [*asked, f"{len(packages) - len(asked)} carried over"]
    ctx.progress("install", f"installing {', '.join(shown)} with {backend.name}", 2, 3)
    t = time.monotonic()
    backend.install(python, packages, plan.requirement_files, on_line=lambda line: _installer_progress(ctx, line))
    durations["install"] = round(time.monotonic() - t, 3)
    after = venvmod.installed(venv)
    changed = sorted(k for k, v in after.items() if before.get(k) != v)
    if made or "ipykernel" in changed:
        warm(ctx, venv, info, harvest=made, durations=durations)
    venvmod.write_mark(venv, request=key, installer=backend.name)
    return changed, sorted(set(before) - set(after))


def apply_lock(
    ctx: Context,
    venv: Path,
    lock_path: Path,
    lock: lockfile.Lock,
    info: pythons.PythonInfo,
    backend: installer.Backend,
    *,
    offline: bool,
    exact: bool,
    durations: dict[str, float],
) -> tuple[list[str], list[str]]:
    """Make ``venv`` match the lock at ``lock_path``: exactly (what it does not name is uninstalled)
    when ``exact`` (callers set it only for kernelenv's own venv); in the user's venv the pins are
    only added. Of a universal lock, the pins whose markers hold for the venv's Python here.
    Returns (installed or changed, removed)."""
    lockfile.check_python(lock, info.version, lock_path, venv)
    here = lockfile.applicable(lock, info.version, info.implementation)  # a universal lock: this machine's pins
    python = venvmod.python_of(venv)
    before = venvmod.installed(venv)
    digest = hashlib.sha256(lock_path.read_bytes()).hexdigest()
    if lockfile.matches(here, before) or (not exact and lockfile.covers(here, before)):
        venvmod.write_mark(venv, lock=digest)
        return [], []
    ctx.progress("sync", f"syncing {venv} with {lock_path.name} ({len(here.pins)} packages, {backend.name})", 2, 3)
    t = time.monotonic()
    backend.install_lock(python, lock_path, exact=exact, offline=offline, on_line=lambda line: ctx.progress("sync", line, 2, 3))
    durations["sync"] = round(time.monotonic() - t, 3)
    after = venvmod.installed(venv)
    changed = sorted(k for k, v in after.items() if before.get(k) != v)
    if "ipykernel" in changed:
        warm(ctx, venv, info, harvest=False, durations=durations)
    venvmod.write_mark(venv, lock=digest, installer=backend.name)
    return changed, sorted(set(before) - set(after))


def warm(ctx: Context, venv: Path, info: pythons.PythonInfo, *, harvest: bool, durations: dict[str, float]) -> None:
    """The bytecode a kernel start needs, through kernelenv's cache (unless the cache cannot be written)."""
    t = time.monotonic()
    warming = warm_start(ctx, venv, info, harvest=harvest)
    try:
        warming.wait()
    except BaseException:
        warming.cancel()
        raise
    durations["bytecode"] = round(time.monotonic() - t, 3)


def warm_start(ctx: Context, venv: Path, info: pythons.PythonInfo, *, harvest: bool) -> bytecode.Warming:
    """:func:`warm`, started: the compiling child runs while the caller goes on (``wait`` or ``cancel`` it)."""
    sites = venvmod.site_packages(venv)
    if not sites:
        return bytecode.Warming(venv, None, [], False)
    try:
        cache: Path | None = files.private_subdir(ctx.cache_dir, "bytecode", f"{info.implementation.lower()}-{info.version_str}")
    except OperationError as exc:
        if exc.info.code != "CACHE_UNWRITABLE":
            raise
        cache = None
    return bytecode.warm_start(
        venvmod.python_of(venv), sites[0], cache, harvest_after=harvest, progress=lambda msg: ctx.progress("install", msg, 2, 3)
    )


def summary(ctx: Context, name: str, resource_dir: Path, python: Path) -> dict[str, Any]:
    """The ``kernel`` object of create/register/repair envelopes."""
    spec = specstore.read(resource_dir)
    return {
        "name": name,
        "display_name": spec.display_name,
        "resource_dir": str(resource_dir),
        "python": str(python),
        "scope": ctx.scope,
        "on_jupyter_path": ctx.on_jupyter_path if resource_dir.parent == ctx.kernels_dir else True,
    }


def origin_kernels(all_rows: list[KernelRow], ident: VenvIdentity, project: Path) -> list[KernelRow]:
    """The kernels of the place a moved environment came from (its origin is gone): re-pointed, not left stale."""
    moved = ident.kind == Kind.OURS_MOVED or (
        ident.kind == Kind.OURS
        and ident.made_for is not None
        and not kernels.same_path(ident.made_for, project)
        and not os.path.exists(ident.made_for)
    )
    if not moved:
        return []
    return kernels.owned_by(all_rows, project=ident.made_for, venv=ident.made_at)
