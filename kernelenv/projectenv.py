"""A project's environment as its kernel has it: the venv, the kernel, and the variables a command gets.

Shared by the verbs that work inside an existing environment (``add``, ``drop``, ``run``, ``shell``).

Contract:
- ``find(ctx)`` is the project's venv (``ctx.venv``, else the venv its kernelenv kernel names) with
  that kernel, if any. A project without a venv is KERNEL_NOT_FOUND with the ``create`` command
  as hint; a venv kernelenv may not work in is refused the way create refuses it (not a venv,
  made elsewhere and moved or copied here: VENV_ELSEWHERE, with ``create`` as the fix, which
  rebuilds it); a venv whose python no longer runs is PYTHON_NOT_FOUND with ``repair`` as hint.
  Nothing is run.
- ``variables(found, base)`` is exactly the environment the kernel gets: ``base`` (the caller's
  environment) with the kernelspec's ``env`` on top, ``${VAR}`` expanded from ``base`` as
  jupyter_client does it. With no kernelspec: the venv's bin first on PATH, VIRTUAL_ENV, and the
  project file's ``[tool.kernelenv.env]``, as create would write them. PYTHONHOME is dropped
  (as a venv's activate script does: it would make the venv's python load another stdlib).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template

from . import identity, kernels, projectfile, provision
from . import venv as venvmod
from .context import Context
from .kernels import KernelRow
from .result import OperationError

DROPPED = ("PYTHONHOME",)


@dataclass
class ProjectEnv:
    project: Path
    venv: Path
    kernel: KernelRow | None  # the kernelenv kernel that runs this venv, if there is one

    @property
    def python(self) -> Path:
        return venvmod.python_of(self.venv)

    @property
    def bin_dir(self) -> Path:
        return venvmod.bin_dir(self.venv)


def create_command(project: Path) -> str:
    return f"kernelenv create {shlex.quote(str(project))}"


def find(ctx: Context) -> ProjectEnv:
    """The project's venv and kernel (see the module docstring)."""
    project = ctx.require_project()
    rows = kernels.owned_by(kernels.rows(ctx), project=project)
    venv = ctx.venv
    if not os.path.lexists(venv):
        venv = next((Path(r.venv) for r in rows if r.venv and venvmod.is_venv(Path(r.venv))), venv)
    ident = identity.inspect(venv)
    if ident.kind in (identity.Kind.ABSENT, identity.Kind.ABANDONED):
        raise OperationError(
            "KERNEL_NOT_FOUND",
            f"the project {project} has no venv (looked at {venv})",
            hint=f"make it with `{create_command(project)}`",
            project=project,
            venv=venv,
        )
    provision.refuse_early(ident)  # what create refuses outright (not a venv, relocated)
    if ident.kind in (identity.Kind.OURS_MOVED, identity.Kind.OURS_COPIED) or not ident.finished:
        raise OperationError(
            "VENV_ELSEWHERE",
            f"{ident.describe() if ident.finished else f'{venv} was left unfinished by an interrupted run'}; "
            "its scripts may run another place's python",
            hint=f"rebuild it here with `{create_command(project)}`",
            venv=venv,
        )
    if not os.path.exists(venvmod.python_of(venv)):  # follows the link: a removed base Python
        base, _ = venvmod.base_interpreter(venv)
        raise OperationError(
            "PYTHON_NOT_FOUND",
            f"the venv {venv} has no working python (its base interpreter {base or '?'} is gone?)",
            hint=f"rebuild it with `kernelenv repair {shlex.quote(str(project))}`",
            venv=venv,
        )
    kernel = next((r for r in rows if kernels.same_path(r.venv, venv)), None)
    return ProjectEnv(project, venv, kernel)


def variables(found: ProjectEnv, base: Mapping[str, str]) -> dict[str, str]:
    """The kernel's environment on top of ``base`` (see the module docstring)."""
    env = {k: v for k, v in base.items() if k not in DROPPED}
    spec_env = (found.kernel.spec.data or {}).get("env") if found.kernel is not None else None
    if isinstance(spec_env, dict):
        template = dict(env)
        for k, v in spec_env.items():
            if isinstance(v, str):
                env[k] = Template(v).safe_substitute(template)
        return env
    extra = projectfile.load(found.project).settings.get("env") or {}
    env.update({k: v for k, v in extra.items() if isinstance(v, str)})
    path = env.get("PATH")
    env["PATH"] = str(found.bin_dir) + (os.pathsep + path if path else "")
    env["VIRTUAL_ENV"] = str(found.venv)
    return env
