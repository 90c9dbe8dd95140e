"""shell: the user's shell inside the project's environment, with a prompt that names the project.

``kernelenv shell [--project P]`` starts ``$SHELL`` (bash, zsh, fish, sh and the other POSIX
shells; see kernelenv/shells.py) interactively with the environment ``kernelenv run`` gives (the
kernel's), the user's own start-up files read as usual, the venv first on PATH again after them,
and ``(PROJECT)`` before the prompt. No activate script is needed. kernelenv becomes the shell
(exec): ``exit`` returns to the shell it was started from, whose environment never changed (the
tutorial's activate/deactivate). Inside a kernelenv shell, a second ``kernelenv shell`` is
refused (SHELL_NESTED) instead of stacking one shell on another. A project without a venv is
KERNEL_NOT_FOUND with the create command as hint. ``--json`` is refused (USAGE), as for ``run``.
"""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

from .. import files, proc, projectenv, shells
from ..context import Context
from ..result import OperationError, Result


def run(ctx: Context) -> Result:
    inside = ctx.environ.get(shells.NESTED)
    if inside:
        raise OperationError(
            "SHELL_NESTED",
            f"this terminal is already in the kernelenv shell of {inside}; not starting another one inside it",
            hint="type `exit` to leave it first"
            + ("" if Path(inside) == ctx.project else f", then `kernelenv shell --project {shlex.quote(str(ctx.project))}`"),
            project=inside,
        )
    found = projectenv.find(ctx)
    env = projectenv.variables(found, ctx.environ)
    shell = shells.user_shell(ctx.environ)
    if proc.which(shell, env) is None:
        raise OperationError(
            "COMMAND_NOT_FOUND",
            f"the shell {shell} ($SHELL) does not exist",
            command=shell,
            hint="set SHELL to your shell, e.g. SHELL=/bin/bash kernelenv shell",
        )
    rc_dir = _rc_dir(ctx)
    shells.write_files(rc_dir)
    label = found.project.name
    argv, env, _ = shells.launch(shell, env, rc_dir, label, found.bin_dir, found.project)
    try:
        proc.replace(argv, env)
    except proc.ProcError as exc:
        raise OperationError("COMMAND_NOT_FOUND", f"the shell {shell} could not start: {exc.reason}", command=shell) from None


def _rc_dir(ctx: Context) -> Path:
    """kernelenv's private cache (shell/), or a private temporary folder when the cache cannot be written."""
    try:
        return files.private_subdir(ctx.cache_dir, "shell")
    except OperationError as exc:
        if exc.info.code != "CACHE_UNWRITABLE":
            raise
    import os

    return files.private_dir(Path(tempfile.gettempdir()) / f"kernelenv-shell-{os.geteuid()}")
