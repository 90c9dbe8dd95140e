"""sync: make the project's venv match ``kernelenv.lock`` exactly.

Installs what is missing with hash checking and removes what the lock does not name
(``uv pip sync --require-hashes``; pip fallback: ``pip install --require-hashes
--no-deps`` then ``pip uninstall`` of the rest). Everything is checked before the
venv is touched: a corrupt lock or one for another Python raises LOCK_INVALID, and
uv verifies every download's hash before it changes anything (HASH_MISMATCH), so a
failed sync leaves the venv as it was. With no venv yet, sync is ``create``.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path

from .. import installer as inst
from .. import lockfile, proc, pythons
from .. import venv as venvmod
from ..context import Context
from ..result import OperationError, Result
from . import common


def load(project: Path) -> lockfile.Lock | None:
    """The project's lock, None when there is none; LOCK_INVALID when it is corrupt."""
    path = lockfile.path_in(project)
    return lockfile.read(path) if path.exists() else None


def _covers(lock: lockfile.Lock, installed: dict[str, str]) -> bool:
    """Every pin of the lock is installed at its version (other packages may be there too)."""
    from packaging.version import InvalidVersion, Version

    def same(a: str | None, b: str) -> bool:
        try:
            return a is not None and Version(a) == Version(b)
        except InvalidVersion:
            return a == b

    return all(same(installed.get(p.canonical), p.version) for p in lock.pins)


def _matches(lock: lockfile.Lock, have: dict[str, str]) -> bool:
    from packaging.version import InvalidVersion, Version

    want = {p.canonical: p.version for p in lock.pins}
    if set(want) != set(have):
        return False
    for name, v in want.items():
        try:
            if Version(v) != Version(have[name]):
                return False
        except InvalidVersion:
            if v != have[name]:
                return False
    return True


def check_requested(lock: lockfile.Lock, packages: list[str], path: Path) -> None:
    """LOCK_INVALID when a package asked for on the command line is not satisfied by the lock."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    pins = lock.by_name()
    for p in packages:
        try:
            req = Requirement(p)
        except InvalidRequirement:
            raise OperationError("INSTALL_FAILED", f"{p!r} is not a valid requirement", requirement=p) from None
        pin = pins.get(canonicalize_name(req.name))
        if pin is None or (req.specifier and not req.specifier.contains(pin.version, prereleases=True)):
            raise OperationError(
                "LOCK_INVALID",
                f"{p} is not in {path}" + (f" (it pins {pin.name}=={pin.version})" if pin else ""),
                hint=f"add it to the lock: kernelenv lock --with {p!r}",
                path=path,
                requirement=p,
            )


def apply(
    ctx: Context,
    venv: Path,
    lock_path: Path,
    lock: lockfile.Lock,
    info: pythons.PythonInfo,
    *,
    offline: bool = False,
    durations: dict | None = None,
) -> tuple[list[str], list[str], str]:
    """Make ``venv`` match ``lock``. Returns (installed or changed, removed, installer).

    Exactly (what the lock does not name is uninstalled) only in a venv kernelenv made;
    in the user's own venv the lock's pins are installed and nothing is removed.
    """
    durations = {} if durations is None else durations
    exact = venvmod.owned(venv)
    lockfile.check_python(lock, info.version, lock_path, venv)
    python = venvmod.python_of(venv)
    before = venvmod.installed(venv)
    digest = hashlib.sha256(lock_path.read_bytes()).hexdigest()
    mark = venvmod.read_mark(venv) or {}
    wanted = ctx.installer
    if wanted == "auto" and mark.get("installer") in inst.INSTALLERS:
        wanted = mark["installer"]
    if _matches(lock, before) or (not exact and _covers(lock, before)):
        venvmod.write_mark(venv, lock=digest)
        return [], [], wanted if wanted != "auto" else "uv"
    name, uv = inst.choose(wanted)
    ctx.progress("sync", f"syncing {venv} with {lock_path.name} ({len(lock.pins)} packages, {name})", 2, 3)
    t = time.monotonic()
    on_line = lambda line: ctx.progress("sync", line, 2, 3)  # noqa: E731
    if name == "uv":
        argv = [uv, "pip", "sync" if exact else "install", "--python", str(python), "--require-hashes"]
        argv += [str(lock_path)] if exact else ["--no-deps", "-r", str(lock_path)]
        if offline:
            argv.append("--offline")
        _run(argv, on_line, {"VIRTUAL_ENV": str(venv), "UV_NO_PROGRESS": "1"}, offline)
    else:
        argv = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off",
                "--require-hashes", "--no-deps", "-r", str(lock_path)]
        if offline:
            argv.append("--no-index")
        _run(argv, on_line, {}, offline)
        extra = sorted(set(venvmod.installed(venv)) - set(lock.by_name())) if exact else []
        if extra:
            _run([str(python), "-m", "pip", "uninstall", "-y", *extra], on_line, {}, offline)
    durations["sync"] = round(time.monotonic() - t, 3)
    after = venvmod.installed(venv)
    changed = sorted(k for k, v in after.items() if before.get(k) != v)
    removed = sorted(set(before) - set(after))
    if "ipykernel" in changed:
        from .create import warm_bytecode

        t = time.monotonic()
        warm_bytecode(ctx, venv, python, info, harvest=False)  # from the cache when it has them
        durations["bytecode"] = round(time.monotonic() - t, 3)
    venvmod.write_mark(venv, lock=digest, installer=name)
    return changed, removed, name


def _run(argv: list[str], on_line, env: dict, offline: bool) -> None:
    installer = "uv" if argv[1:3] == ["pip", "sync"] else "pip"
    try:
        done = proc.run(argv, timeout=3600, on_line=on_line, env=env)
    except proc.ProcError as exc:
        raise OperationError("INSTALL_FAILED", f"{installer} could not run: {exc.reason}", installer=installer) from None
    if done.ok:
        return
    output = (done.stderr or done.stdout)[-4000:]
    low = output.lower()
    if "hash mismatch" in low or "do not match the hashes" in low or "hashes are required" in low:
        raise OperationError(
            "HASH_MISMATCH",
            f"a download does not match the hash in the lock ({done.last_error_line()}); the venv was left as it was",
            hint="if the lock was edited by hand, re-create it with `kernelenv lock`",
            installer=installer,
            output=output,
        )
    hint = "the cache lacks a locked file: run `kernelenv sync` once online" if offline else None
    raise OperationError("INSTALL_FAILED", f"{installer} sync failed: {done.last_error_line()}", hint=hint, installer=installer, output=output)


def run(ctx: Context, *, offline: bool = False) -> Result:
    t0 = time.monotonic()
    project = ctx.project
    common.require_project(ctx)
    lock_path, lock = lockfile.read_project(project)
    venv = ctx.venv
    if not venvmod.is_venv(venv):  # nothing to sync yet: create installs from the lock
        from . import create

        done = create.run(ctx, create.CreateOptions(offline=offline))
        d = done.data
        return Result("sync", {"project": project, "venv": venv, "lock": lock_path, "python": lock.python,
                               "installed": d["installed"], "removed": [], "installer": d["installer"],
                               "venv_created": True, "durations": d["durations"]})
    with common.locked(ctx, f"venv:{venv}"):
        info = pythons.probe(venvmod.python_of(venv))
        durations: dict = {}
        changed, removed, name = apply(ctx, venv, lock_path, lock, info, offline=offline, durations=durations)
    durations["total"] = round(time.monotonic() - t0, 3)
    return Result("sync", {"project": project, "venv": venv, "lock": lock_path, "python": lock.python,
                           "installed": changed, "removed": removed, "installer": name,
                           "venv_created": False, "durations": durations})


def with_lock_python(ctx: Context, lock: lockfile.Lock | None) -> Context:
    """The Context create should use: the lock's Python when nothing else was asked and no venv is there."""
    if lock is None or ctx.python or venvmod.is_venv(ctx.venv):
        return ctx
    return replace(ctx, python=lock.python)
