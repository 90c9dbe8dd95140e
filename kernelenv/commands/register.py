"""register: an existing venv or interpreter as a kernel, wired like create's."""
from __future__ import annotations

import os
from pathlib import Path

from .. import installer as inst
from .. import pythons
from .. import venv as venvmod
from ..context import Context
from ..kernelspec import slug
from ..result import OperationError, Result
from . import common


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
    path = Path(os.path.abspath(os.path.expanduser(target)))
    if path.is_dir():
        if not venvmod.is_venv(path):
            raise OperationError("VENV_NOT_A_VENV", f"{path} is not a venv (no pyvenv.cfg)", venv=path)
        venv: Path | None = path
        python = venvmod.python_of(path)
    elif path.exists():
        python = path
        prefix = path.parent.parent
        venv = prefix if venvmod.is_venv(prefix) else None
    else:
        raise OperationError("PYTHON_NOT_FOUND", f"{path} is neither a venv nor an interpreter", path=path)
    info = pythons.probe(python)
    if venv is None and info.in_venv:
        venv = Path(info.prefix)
    label_dir = venv if venv is not None else python.parent.parent
    label = label_dir.parent.name if label_dir.name in (".venv", "venv", "env") else label_dir.name
    name = name if name is not None else slug(label)
    common.check_name(name)
    common.check_clash(ctx, name, None, venv)
    common.ensure_writable(ctx.kernels_dir)
    installed: list[str] = []
    with common.locked(ctx, f"kernel:{ctx.kernels_dir / name}"):
        common.check_clash(ctx, name, None, venv)
        if not _has_ipykernel(python, venv):
            if not install_ipykernel:
                raise OperationError(
                    "IPYKERNEL_MISSING",
                    f"{python} has no ipykernel",
                    hint=f"rerun with --install-ipykernel, or: {python} -m pip install ipykernel",
                    python=python,
                )
            choice, uv = inst.choose(ctx.installer)
            ctx.progress("install", f"installing ipykernel with {choice}", 1, 2)
            inst.install(choice, uv, python, ["ipykernel"], [], on_line=lambda l: ctx.progress("install", l, 1, 2))
            installed.append("ipykernel")
        ctx.progress("register", f"registering kernel {name}", 2, 2)
        display = display_name or f"Python {info.short} ({label})"
        resource_dir, state = common.register_spec(ctx, name, python, info, venv, None, display)
    return Result(
        "register",
        {
            "venv": venv,
            "python": info.to_json(),
            "installed": installed,
            "kernel": common.kernel_json(ctx, name, resource_dir, python),
            "kernelspec": state,
        },
    )


def _has_ipykernel(python: Path, venv: Path | None) -> bool:
    if venv is not None:
        return "ipykernel" in venvmod.installed(venv)
    from .. import proc

    return proc.run([str(python), "-c", "import ipykernel"], timeout=60).ok
