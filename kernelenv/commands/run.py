"""run: a command in exactly the environment the project's kernel gets.

``kernelenv run [--project P] -- CMD ARGS...`` finds the project's venv (kernelenv/projectenv.py:
a project without one is KERNEL_NOT_FOUND, with the create command as hint), builds the kernel's
environment (its kernelspec's ``env`` on top of the caller's: the venv first on PATH,
VIRTUAL_ENV, the project file's ``[tool.kernelenv.env]``), looks CMD up on that PATH
(COMMAND_NOT_FOUND when it is nowhere) and then *becomes* CMD (exec, argv only, never a shell):
CMD keeps the terminal, gets every signal sent to kernelenv (SIGINT, SIGTERM...) and its exit
code is kernelenv's. The working folder is the caller's.

``--json`` is refused (USAGE): the command's own output and exit code are the answer, and no
envelope could follow them on stdout.
"""

from __future__ import annotations

import shlex

from .. import proc, projectenv
from ..context import Context
from ..result import OperationError, Result


def run(ctx: Context, argv: list[str]) -> Result:
    if not argv:
        raise OperationError(
            "USAGE",
            "kernelenv run: give the command to run after --",
            hint="for example: kernelenv run -- python -c 'import sys; print(sys.prefix)'",
        )
    found = projectenv.find(ctx)
    env = projectenv.variables(found, ctx.environ)
    if proc.which(argv[0], env) is None:
        raise OperationError(
            "COMMAND_NOT_FOUND",
            f"{shlex.quote(argv[0])} is not in the project's venv ({found.bin_dir}) nor anywhere else on PATH",
            hint=f"install it into the venv with `kernelenv add PACKAGE --project {shlex.quote(str(found.project))}`",
            command=argv[0],
            venv=found.venv,
        )
    try:
        proc.replace(argv, env)
    except proc.ProcError as exc:
        raise OperationError(
            "COMMAND_NOT_FOUND", f"{shlex.quote(argv[0])} could not start: {exc.reason}", command=argv[0]
        ) from None
