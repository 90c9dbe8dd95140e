"""Steps shared by verbs: the write check, name clashes, writing a spec, locks."""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .. import __version__, kernelspec, venv as venvmod
from ..context import Context
from ..pythons import PythonInfo
from ..result import OperationError

LOCK_WAIT = 600.0


def require_project(ctx: Context) -> Path:
    """The project folder; PROJECT_NOT_FOUND when it does not exist or is not a folder."""
    if not os.path.isdir(ctx.project):  # never raises (Path.is_dir does on a too-long name)
        raise OperationError(
            "PROJECT_NOT_FOUND", f"project folder {ctx.project} does not exist or is not a folder", project=ctx.project
        )
    return ctx.project


def ensure_writable(kernels_dir: Path) -> None:
    """Raise JUPYTER_DIR_UNWRITABLE unless a file can really be made in ``kernels_dir``."""
    try:
        kernels_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".kernelenv-probe.", dir=kernels_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OperationError(
            "JUPYTER_DIR_UNWRITABLE",
            f"cannot write kernelspecs to {kernels_dir}: {exc.strerror or exc}",
            hint="set JUPYTER_DATA_DIR to a writable folder, or use --prefix",
            path=kernels_dir,
        ) from None


def check_name(name: str) -> None:
    problem = kernelspec.name_problem(name)
    if problem:
        suggestion = kernelspec.slug(name)
        raise OperationError(
            "NAME_INVALID",
            f"kernel name {name!r} is not valid: {problem}",
            hint=f"try --name {suggestion}",
            name=name,
        )


def check_clash(ctx: Context, name: str, project: Path | None, venv: Path | None) -> kernelspec.Spec | None:
    """The spec already at ``kernels_dir/name``, if it is ours to replace; KERNEL_EXISTS otherwise."""
    target = ctx.kernels_dir / name
    if not (target.exists() or target.is_symlink()):
        return None
    existing = kernelspec.read(target)
    mark = existing.mark
    mine = bool(mark) and (
        (project is not None and mark.get("project") == str(project))
        or (venv is not None and mark.get("venv") == str(venv))  # the same venv, registered or created
    )
    if (mine and not target.is_symlink()) or ctx.force:
        return existing
    if mark:
        owner = mark.get("project") or mark.get("venv")
        msg = f"kernel {name!r} at {target} belongs to {owner}, not to {project or venv}; not replacing it"
    else:
        owner = None
        msg = f"kernel {name!r} at {target} is not kernelenv's; not replacing it"
    raise OperationError(
        "KERNEL_EXISTS",
        msg,
        hint="choose another name with --name, or replace it with --force",
        name=name,
        resource_dir=target,
        owner=owner,
    )


def register_spec(
    ctx: Context,
    name: str,
    python: Path,
    info: PythonInfo,
    venv: Path | None,
    project: Path | None,
    display_name: str,
    extra_env: dict[str, str] | None = None,
) -> tuple[Path, str]:
    """Write the kernelspec unless an equal one is there. Returns (folder, written|updated|unchanged)."""
    target = ctx.kernels_dir / name
    existing = kernelspec.read(target) if (target / "kernel.json").exists() else None
    spec = kernelspec.build(
        python=python,
        python_version=info.version,
        implementation=info.implementation,
        venv=venv,
        display_name=display_name,
        project=project,
        created=venvmod.now(),
        kernelenv_version=__version__,
        extra_env=extra_env,
        encryption=supports_encryption(venv),
    )
    if existing is not None and kernelspec.same(existing.data, spec) and _logos_present(target, venv):
        return target, "unchanged"
    logos = venvmod.logo_dir(venv) if venv else None
    try:
        kernelspec.write(ctx.kernels_dir, name, spec, logos)
    except OSError as exc:  # a full disk, a read-only file system: nothing half-written is left
        raise OperationError(
            "JUPYTER_DIR_UNWRITABLE",
            f"cannot write the kernelspec to {ctx.kernels_dir}: {exc.strerror or exc}",
            hint="free some space there, or set JUPYTER_DATA_DIR to a writable folder",
            path=ctx.kernels_dir,
        ) from None
    return target, "updated" if existing is not None else "written"


def supports_encryption(venv: Path | None) -> bool:
    """Whether the venv's ipykernel loads CurveZMQ keys from its connection file (7.3+)."""
    version = venvmod.installed(venv).get("ipykernel") if venv is not None else None
    if not version:
        return False
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).release[:2] >= kernelspec.ENCRYPTION_MIN_IPYKERNEL
    except InvalidVersion:
        return False


def _logos_present(target: Path, venv: Path | None) -> bool:
    return venv is None or venvmod.logo_dir(venv) is None or (target / "logo-64x64.png").exists()


def kernel_json(ctx: Context, name: str, resource_dir: Path, python: Path) -> dict:
    spec = kernelspec.read(resource_dir)
    return {
        "name": name,
        "display_name": spec.display_name,
        "resource_dir": str(resource_dir),
        "python": str(python),
        "scope": ctx.scope,
    }


@contextlib.contextmanager
def locked(ctx: Context, what: str, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold the inter-process lock for ``what`` (a venv path, a kernel name); LOCKED after ``wait`` s."""
    from filelock import FileLock, Timeout

    lock_dir = ctx.cache_dir / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(what.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    lock = FileLock(str(lock_dir / f"{key}.lock"))
    try:
        lock.acquire(timeout=0.05)
    except Timeout:
        ctx.progress("lock", f"waiting for another kernelenv run on {what}", None, None)
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise OperationError("LOCKED", f"another kernelenv run holds {what}; gave up after {wait:g} s", what=what) from None
    try:
        yield
    finally:
        lock.release()
