"""register: an existing venv or interpreter as a kernel, wired like create's.

The name defaults to the venv's folder (its parent's for ``.venv``/``venv``/``env``). A name that
another spec holds is refused as create refuses it, and so is the kernel ``create`` made for a
project that uses this venv (registering would silently take it over): pick another --name.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import identity, installer, kernels, locks, proc, provision, pythons, specstore
from .. import venv as venvmod
from ..context import Context, check_path
from ..kernelspec import check_name, slug
from ..result import OperationError, Result


def run(
    ctx: Context,
    target: str | None,
    *,
    name: str | None = None,
    display_name: str | None = None,
    install_ipykernel: bool = False,
) -> Result:
    if target is not None and ctx.python is not None:
        raise OperationError("USAGE", "kernelenv register: give ENV_OR_PYTHON or --python, not both")
    if target is None:  # --python 3.12 (or nothing: the interpreter running kernelenv)
        target = pythons.resolve(ctx.python, cache_dir=ctx.cache_dir).path
    venv, python = _venv_and_python(target)
    info = pythons.probe(python)
    if venv is None and info.in_venv:
        venv = Path(info.prefix)
    if venv is not None:
        _refuse_relocated(identity.inspect(venv))
    label_dir = venv if venv is not None else python.parent.parent
    label = label_dir.parent.name if label_dir.name in (".venv", "venv", "env") else label_dir.name
    name = name if name is not None else slug(label)
    check_name(name)
    kernels.check_clash(ctx, kernels.rows(ctx), name, project=None, venv=venv, created_by_project_ok=False)
    specstore.ensure_writable(ctx.kernels_dir)
    installed: list[str] = []
    with locks.venv_and_kernels(ctx, venv, [ctx.kernels_dir / name]):
        kernels.check_clash(ctx, kernels.rows(ctx), name, project=None, venv=venv, created_by_project_ok=False)
        if not _has_ipykernel(python, venv):
            _install_ipykernel(ctx, python, install_ipykernel)
            installed.append("ipykernel")
        ctx.progress("register", f"registering kernel {name}", 2, 2)
        display = display_name or f"Python {info.short} ({label})"
        resource_dir, state = specstore.put(
            ctx.kernels_dir,
            name,
            python=python,
            version=info.version,
            implementation=info.implementation,
            venv=venv,
            project=None,
            display_name=display,
        )
        if venv is not None:  # kernelenv's venv: remove and prune then see this spec, whatever its scope
            provision.record_specs(venv, [resource_dir])
    return Result(
        "register",
        {
            "venv": venv,
            "python": info.to_json(),
            "installed": installed,
            "kernel": provision.summary(ctx, name, resource_dir, python),
            "kernelspec": state,
        },
    )


def _install_ipykernel(ctx: Context, python: Path, asked: bool) -> None:
    """ipykernel installed into ``python``'s environment when --install-ipykernel asks; IPYKERNEL_MISSING otherwise."""
    if not asked:
        raise OperationError(
            "IPYKERNEL_MISSING",
            f"{python} has no ipykernel",
            hint=f"rerun with --install-ipykernel, or: {python} -m pip install ipykernel",
            python=python,
        )
    backend = installer.choose(ctx.installer)
    ctx.progress("install", f"installing ipykernel with {backend.name}", 1, 2)
    backend.install(python, ["ipykernel"], [], on_line=lambda line: ctx.progress("install", line, 1, 2))


def _venv_and_python(target: str) -> tuple[Path | None, Path]:
    """(venv or None, interpreter) that ENV_OR_PYTHON names: a venv folder, or an interpreter (in a venv or not)."""
    check_path(target, "venv or interpreter")
    path = Path(os.path.abspath(os.path.expanduser(target)))
    if path.is_dir():
        if not venvmod.is_venv(path):
            raise OperationError("VENV_NOT_A_VENV", f"{path} is not a venv (no pyvenv.cfg)", venv=path)
        return path, venvmod.python_of(path)
    if path.exists():
        prefix = path.parent.parent
        return (prefix if venvmod.is_venv(prefix) else None), path
    raise OperationError("PYTHON_NOT_FOUND", f"{path} is neither a venv nor an interpreter", path=path)


def _refuse_relocated(ident: identity.VenvIdentity) -> None:
    """A venv copied or moved from elsewhere runs another venv's pip in a notebook: not registered."""
    if ident.kind in (identity.Kind.USERS_RELOCATED, identity.Kind.OURS_COPIED, identity.Kind.OURS_MOVED):
        fix = (
            f"kernelenv create {ident.path.parent} rebuilds it there"
            if ident.kind != identity.Kind.USERS_RELOCATED
            else "make a new venv there (python -m venv), or register the original"
        )
        raise OperationError(
            "VENV_ELSEWHERE", f"{ident.describe()}; a kernel on it would run another venv's pip", hint=fix, venv=ident.path
        )


def _has_ipykernel(python: Path, venv: Path | None) -> bool:
    if venv is not None:
        return "ipykernel" in venvmod.installed(venv)
    return proc.run([str(python), "-c", "import ipykernel"], timeout=60).ok
