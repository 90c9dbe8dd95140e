"""create: the project's venv, ipykernel and the asked-for packages, and its kernelspec.

Re-running is a sync: the venv is reused, the installer runs only when something asked
for is missing, and the spec is rewritten only when it changed. Whatever this run made
is removed again when it fails or is interrupted; an existing venv is left in place.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import installer as inst
from .. import bytecode, lockfile, proc, projectfile, pythons
from .. import venv as venvmod
from ..context import Context
from ..kernelspec import slug
from ..result import OperationError, Result
from . import common
from . import sync as lock_sync

BASE_PACKAGES = ["ipykernel"]

# What a kernel start imports: importing it once compiles exactly those modules'
# bytecode, so the first start costs what later starts cost (without compiling
# all ~8,000 files ipykernel pulls in).
WARM_MODULES = (
    "ipykernel_launcher", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
    "ipykernel.iostream", "ipykernel.comm", "ipykernel.debugger", "jupyter_client.session",
    "IPython.core.interactiveshell", "IPython.core.completer", "IPython.core.completerlib",
    "IPython.core.debugger", "IPython.core.logger", "IPython.core.oinspect",
    "IPython.extensions.storemagic", "IPython.utils.wildcard", "psutil", "tornado.ioloop",
    "tornado.platform.asyncio", "zmq.eventloop.zmqstream",
)  # measured: a kernel start then writes no new .pyc (tests/test_create.py)
WARM_SCRIPT = (
    "import importlib\n"
    f"for m in {WARM_MODULES!r}:\n"
    "    try: importlib.import_module(m)\n"
    "    except Exception: pass\n"
)


@dataclass
class CreateOptions:
    name: str | None = None
    display_name: str | None = None
    packages: list[str] = field(default_factory=list)
    requirement_files: list[Path] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    profile: str | None = None  # minimal | data | dl: see kernelenv/profiles.py
    offline: bool = False  # with a lock: install from the cache alone


def run(ctx: Context, opts: CreateOptions) -> Result:
    t0 = time.monotonic()
    project = ctx.project
    common.require_project(ctx)
    # [tool.kernelenv] / kernelenv.toml: flags win over the file, the file over defaults
    opts, file_python, _ = projectfile.apply(project, opts, None)
    name = opts.name if opts.name is not None else slug(project.name)
    common.check_name(name)
    for f in opts.requirement_files:
        if not f.is_file():
            raise OperationError("REQUIREMENTS_NOT_FOUND", f"requirements file {f} does not exist", path=f)
    lock = lock_sync.load(project)  # create uses the lock when there is one (LOCK_INVALID before anything is touched)
    if lock is not None:  # the lock decides what can be installed: it must cover the profile too
        opts = dataclasses.replace(opts, packages=with_profile_packages(opts))
        lock_sync.check_requested(lock, opts.packages, lockfile.path_in(project))
        ctx = lock_sync.with_lock_python(ctx, lock)
    if ctx.python is None and file_python is not None:  # the file's python, else requires-python
        ctx = dataclasses.replace(ctx, python=file_python)
    venv = ctx.venv
    if venv.exists() or venv.is_symlink():
        ours = _abandoned(venv) or venvmod.owned(venv)  # half-made or broken (no pyvenv.cfg): rebuilt
        if not ours and (not venv.is_dir() or not venvmod.is_venv(venv)):
            raise OperationError(
                "VENV_NOT_A_VENV",
                f"{venv} exists and is not a venv; not touching it",
                hint="choose another place with --venv, or move that folder away",
                venv=venv,
            )
    common.check_clash(ctx, name, project, venv)
    common.ensure_writable(ctx.kernels_dir)
    if opts.profile and lock is None:
        opts = _with_profile(ctx, opts, venv)

    with common.locked(ctx, f"venv:{venv}"), common.locked(ctx, f"kernel:{ctx.kernels_dir / name}"):
        common.check_clash(ctx, name, project, venv)  # again, now that we hold the lock
        return _create_locked(ctx, opts, name, project, venv, t0)


def _create_locked(ctx: Context, opts: CreateOptions, name: str, project: Path, venv: Path, t0: float) -> Result:
    durations: dict[str, float] = {}
    aside: list[Path] = []  # a working venv moved away for a rebuild: put back if the rebuild fails
    info, created = _ensure_venv(ctx, venv, project, durations, aside)
    python = venvmod.python_of(venv)
    try:
        lock = lock_sync.load(project)
        if lock is not None:
            installed, _, installer_name = lock_sync.apply(
                ctx, venv, lockfile.path_in(project), lock, info, offline=opts.offline, durations=durations
            )
        else:
            installed, installer_name = _sync_packages(ctx, opts, venv, python, info, created, durations)
        venvmod.write_mark(venv, state="ready", project=project)
        ctx.progress("register", f"registering kernel {name}", 3, 3)
        t = time.monotonic()
        display = opts.display_name or f"Python {info.short} ({project.name})"
        resource_dir, spec_state = common.register_spec(
            ctx, name, python, info, venv, project, display, opts.extra_env or None
        )
        durations["register"] = round(time.monotonic() - t, 3)
    except BaseException:
        if created:
            shutil.rmtree(venv, ignore_errors=True)
        for old in aside:
            os.rename(old, venv)
            shutil.rmtree(old.parent, ignore_errors=True)
        raise
    for old in aside:
        shutil.rmtree(old.parent, ignore_errors=True)
    durations["total"] = round(time.monotonic() - t0, 3)
    data = {
        "project": project,
        "venv": venv,
        "venv_created": created,
        "python": info.to_json() | {"path": str(python)},
        "installer": installer_name,
        "installed": installed,
        "profile": opts.profile,
        "kernel": common.kernel_json(ctx, name, resource_dir, python),
        "kernelspec": spec_state,
        "durations": durations,
    }
    return Result("create", data)


def with_profile_packages(opts: CreateOptions) -> list[str]:
    """opts.packages with the profile's composed in (what the user names wins)."""
    from .. import profiles

    if not opts.profile:
        return list(opts.packages)
    wanted = profiles.packages(opts.profile, gpu=opts.profile == "dl" and profiles.has_nvidia_gpu())
    return profiles.compose(wanted, opts.packages)


def _with_profile(ctx: Context, opts: CreateOptions, venv: Path) -> CreateOptions:
    """opts with the profile's packages composed in; PROFILE_UNAVAILABLE before anything is installed."""
    from dataclasses import replace

    from .. import profiles

    merged = with_profile_packages(opts)
    if venvmod.is_venv(venv) and _satisfied(merged, venvmod.installed(venv)) and not ctx.python:
        return replace(opts, packages=merged)  # already there: nothing to check
    try:
        info = pythons.probe(venvmod.python_of(venv)) if venvmod.is_venv(venv) and not ctx.python else None
    except OperationError:
        info = None
    info = info or pythons.resolve(ctx.python, cache_dir=ctx.cache_dir)
    _, uv = inst.choose(ctx.installer)
    ctx.progress("profile", f"checking that profile {opts.profile} can be installed for Python {info.short}", None, None)
    profiles.check_available(
        opts.profile, merged, python_version=info.version_str, implementation=info.implementation, uv=uv,
        offline=opts.offline,
    )
    return replace(opts, packages=merged)


def _ensure_venv(
    ctx: Context, venv: Path, project: Path, durations: dict, aside: list[Path]
) -> tuple[pythons.PythonInfo, bool]:
    """Reuse a healthy venv, rebuild one kernelenv owns that is broken or half-made, or make one."""
    wanted = pythons.resolve(ctx.python, cache_dir=ctx.cache_dir) if (ctx.python or not venvmod.is_venv(venv)) else None
    if venvmod.is_venv(venv):
        mark = venvmod.read_mark(venv)
        reason = None
        info = None
        try:
            info = pythons.probe(venvmod.python_of(venv))
        except OperationError as exc:
            reason = f"its python does not run ({exc.info.message})"
        if mark and mark.get("state") != "ready":
            reason = "an earlier run did not finish it"
        elif info and ctx.python and not pythons.satisfies(info, ctx.python, wanted):
            reason = f"it has Python {info.version_str}, --python {ctx.python} was asked for"
        if reason is None and info is not None:
            return info, False
        if not venvmod.owned(venv):
            raise OperationError(
                "NOT_OWNED",
                f"venv {venv} cannot be used ({reason}) and kernelenv did not make it; not replacing it",
                hint="remove it yourself, or choose another place with --venv",
                venv=venv,
            )
        ctx.progress("venv", f"rebuilding {venv}: {reason}", 1, 3)
        if info is not None:  # it works (another Python was asked for): keep it until the new one does
            holder = Path(tempfile.mkdtemp(prefix=f".{venv.name}.kernelenv-old-", dir=venv.parent))
            os.rename(venv, holder / venv.name)
            aside.append(holder / venv.name)
        else:
            shutil.rmtree(venv)
        if wanted is None:
            wanted = pythons.resolve(None)
    elif venvmod.owned(venv) or _abandoned(venv):  # killed inside virtualenv, or pyvenv.cfg lost
        ctx.progress("venv", f"rebuilding {venv}: it is kernelenv's and not a working venv", 1, 3)
        shutil.rmtree(venv)
    assert wanted is not None
    name, uv = inst.choose(ctx.installer)
    ctx.progress("venv", f"creating {venv} with Python {wanted.version_str}", 1, 3)
    t = time.monotonic()
    base_python = _base_interpreter(wanted)
    try:  # outside the cleanup below: a folder that appeared meanwhile is not ours to delete
        venv.mkdir(parents=True)
    except OSError as exc:
        raise OperationError("VENV_CREATE_FAILED", f"cannot make {venv}: {exc.strerror or exc}", venv=venv) from None
    try:
        # virtualenv's bundled pip no longer installs on 3.8: seed that one with its own ensurepip
        seed = name == "pip" and wanted.version[:2] >= (3, 9)
        # the mark first: a run killed inside virtualenv leaves a folder the next run may rebuild
        venvmod.write_mark(venv, new=True, state="creating", project=project, installer=name)
        venvmod.create(venv, base_python, with_pip=seed)
        if name == "pip" and not seed:
            done = proc.run([str(venvmod.python_of(venv)), "-m", "ensurepip", "--default-pip"], timeout=300)
            if not done.ok:
                raise OperationError("VENV_CREATE_FAILED", f"ensurepip failed in {venv}: {done.last_error_line()}", venv=venv)
        venvmod.write_mark(venv, state="creating", project=project, installer=name)
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)
        raise
    durations["venv"] = round(time.monotonic() - t, 3)
    return pythons.probe(venvmod.python_of(venv)), True


def _abandoned(venv: Path) -> bool:
    """A folder holding nothing but (the start of) kernelenv's mark: a run killed right after mkdir."""
    if venv.is_symlink() or not venv.is_dir():
        return False
    return all(p.name.startswith(venvmod.MARK_FILE) for p in venv.iterdir())


def _base_interpreter(info: pythons.PythonInfo) -> str:
    """A venv's python as --python means the interpreter it was made from."""
    if info.in_venv:
        cfg = venvmod.read_cfg(Path(info.prefix))
        home = cfg.get("home")
        if home:
            for cand in (f"python{info.short}", "python3", "python"):
                p = Path(home) / cand
                if p.exists():
                    return str(p)
    return info.path


def _request_key(info: pythons.PythonInfo, packages: list[str], files: list[Path]) -> str:
    h = hashlib.sha256(json.dumps([info.version_str, sorted(packages)]).encode())
    for f in files:
        h.update(str(f).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def _satisfied(packages: list[str], have: dict[str, str]) -> bool:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    for p in packages:
        try:
            req = Requirement(p)
        except InvalidRequirement:
            return False
        version = have.get(canonicalize_name(req.name))
        if version is None or (req.specifier and not req.specifier.contains(version, prereleases=True)):
            return False
    return True


def _installer_progress(ctx: Context, line: str) -> None:
    """Pass on the installer's summary lines (uv's Resolved/Prepared/Installed, pip's Collecting)."""
    text = line.strip()
    if text.startswith(("Resolved", "Prepared", "Installed", "Downloading", "Downloaded", "Collecting", "Building", "Audited")):
        ctx.progress("install", text, 2, 3)


def warm_bytecode(ctx: Context, venv: Path, python: Path, info: pythons.PythonInfo, harvest: bool) -> None:
    """Make what a kernel start imports compiled: from kernelenv's cache, else by importing it once."""
    sites = venvmod.site_packages(venv)
    if not sites:
        return
    cache = ctx.cache_dir / "bytecode" / f"{info.implementation.lower()}-{info.version_str}"
    missing = bytecode.restore(sites[0], cache)
    if missing == 0:
        return
    ctx.progress("install", "compiling what a kernel start imports", 2, 3)
    proc.run([str(python), "-c", WARM_SCRIPT], timeout=300)
    if harvest:
        bytecode.harvest(sites[0], cache)


def _sync_packages(ctx, opts, venv, python, info, created, durations) -> tuple[list[str], str]:
    packages = [*BASE_PACKAGES, *opts.packages]
    mark = venvmod.read_mark(venv) or {}
    key = _request_key(info, packages, opts.requirement_files)
    before = venvmod.installed(venv)
    name = mark.get("installer") if ctx.installer == "auto" and mark.get("installer") in inst.INSTALLERS else ctx.installer
    if not created and mark.get("request") == key and _satisfied(packages, before) and "pip" in before:
        return [], name if name != "auto" else "uv"
    name, uv = inst.choose(name)
    if "pip" not in before:
        packages.append("pip")  # a notebook's !pip install must work
    ctx.progress("install", f"installing {', '.join(packages)} with {name}", 2, 3)
    t = time.monotonic()
    inst.install(
        name,
        uv,
        python,
        packages,
        opts.requirement_files,
        on_line=lambda line: _installer_progress(ctx, line),
    )
    durations["install"] = round(time.monotonic() - t, 3)
    venvmod.drop_world_write(venv)
    after = venvmod.installed(venv)
    changed = sorted(k for k, v in after.items() if before.get(k) != v)
    if created or "ipykernel" in changed:
        t = time.monotonic()
        warm_bytecode(ctx, venv, python, info, harvest=created)
        durations["bytecode"] = round(time.monotonic() - t, 3)
    venvmod.write_mark(venv, request=key, installer=name)
    return changed, name
