"""Starting the user's shell inside a project's environment, with a prompt that names the project.

Contract:
- ``user_shell(environ)`` is ``$SHELL``, else the user's login shell, else ``/bin/sh``.
- ``launch(shell, environ, rc_dir, label, bin_dir)`` gives the argv and the environment that
  start ``shell`` interactively with the user's own start-up files read as usual and then, on
  top, the venv's bin first on PATH again (start-up files may put version-manager shims first)
  and the prompt prefixed with ``(label)``. No activate script is used (a venv may have none for
  that shell). Per kind of shell:

  - bash: ``--rcfile RC -i``; RC reads ``~/.bashrc`` (``/etc/bash.bashrc`` is read as always);
  - zsh: ``ZDOTDIR`` is a folder whose ``.zshenv``/``.zshrc`` read the user's own (from the
    user's ZDOTDIR, else HOME) and give ZDOTDIR back;
  - fish: ``--init-command`` reads RC after fish's own configuration; RC wraps ``fish_prompt``;
  - sh, dash, ash, ksh, mksh, yash: ``ENV=RC`` (read by interactive POSIX shells); RC reads the
    user's own ``$ENV`` first and gives ENV back;
  - any other shell starts as it is, with the environment (its prompt unchanged).

  What differs between projects reaches the files through variables (KERNELENV_PROMPT,
  KERNELENV_BIN, ...), so the files are the same for every project: written once into
  ``rc_dir`` (kernelenv's private cache), rewritten only when kernelenv changes them.
- ``NESTED`` is the variable a kernelenv shell carries (the project's folder): a second
  ``kernelenv shell`` inside it sees it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from . import files

NESTED = "KERNELENV_SHELL"
POSIX = ("sh", "dash", "ash", "ksh", "ksh93", "mksh", "yash", "posh")

_BASH = """\
# kernelenv shell (bash): the user's own start-up file, then the project's environment on top
if [ -f "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi
PATH="$KERNELENV_BIN:$PATH"; export PATH
hash -r 2>/dev/null
PS1="($KERNELENV_PROMPT) ${PS1-\\$ }"
"""

_ZSHENV = """\
# kernelenv shell (zsh): the user's own .zshenv, read from the user's ZDOTDIR
__kernelenv_zdotdir="$ZDOTDIR"
ZDOTDIR="${KERNELENV_ZDOTDIR:-$HOME}"
[[ -f "$ZDOTDIR/.zshenv" ]] && source "$ZDOTDIR/.zshenv"
ZDOTDIR="$__kernelenv_zdotdir"
unset __kernelenv_zdotdir
"""

_ZSHRC = """\
# kernelenv shell (zsh): the user's own .zshrc, then the project's environment on top
ZDOTDIR="${KERNELENV_ZDOTDIR:-$HOME}"
[[ -f "$ZDOTDIR/.zshrc" ]] && source "$ZDOTDIR/.zshrc"
if [[ -n "${KERNELENV_ZDOTDIR-}" ]]; then ZDOTDIR="$KERNELENV_ZDOTDIR"; else unset ZDOTDIR; fi
unset KERNELENV_ZDOTDIR
PATH="$KERNELENV_BIN:$PATH"; export PATH
rehash
PROMPT="($KERNELENV_PROMPT) ${PROMPT-%# }"
"""

_FISH = """\
# kernelenv shell (fish): after the user's own configuration, the project's environment on top
set -gx PATH $KERNELENV_BIN $PATH
if functions -q fish_prompt
    functions -c fish_prompt __kernelenv_user_prompt
else
    function __kernelenv_user_prompt
        echo -n '> '
    end
end
function fish_prompt
    printf '(%s) ' $KERNELENV_PROMPT
    __kernelenv_user_prompt
end
"""

_POSIX = """\
# kernelenv shell (POSIX sh): the user's own $ENV file, then the project's environment on top
if [ -n "${KERNELENV_ENV-}" ] && [ -r "$KERNELENV_ENV" ]; then . "$KERNELENV_ENV"; fi
if [ -n "${KERNELENV_ENV-}" ]; then ENV="$KERNELENV_ENV"; else unset ENV; fi
unset KERNELENV_ENV
PATH="$KERNELENV_BIN:$PATH"; export PATH
PS1="($KERNELENV_PROMPT) ${PS1-\\$ }"
"""

FILES = {"bashrc": _BASH, "zsh/.zshenv": _ZSHENV, "zsh/.zshrc": _ZSHRC, "config.fish": _FISH, "shrc": _POSIX}


def user_shell(environ: Mapping[str, str]) -> str:
    shell = environ.get("SHELL")
    if shell:
        return shell
    try:
        import pwd

        login = pwd.getpwuid(os.getuid()).pw_shell
    except (ImportError, KeyError, OSError):
        login = ""
    return login or "/bin/sh"


def kind(shell: str) -> str:
    """bash, zsh, fish, posix or other, from the program's name."""
    name = os.path.basename(shell)
    if name in ("bash", "zsh", "fish"):
        return name
    return "posix" if name in POSIX else "other"


def write_files(rc_dir: Path) -> None:
    """The start-up files, in ``rc_dir`` (a private folder), written only when they differ."""
    for rel, text in FILES.items():
        path = rc_dir / rel
        path.parent.mkdir(mode=0o700, exist_ok=True)
        try:
            same = path.read_text(encoding="utf-8") == text
        except OSError:
            same = False
        if not same:
            files.write_atomic(path, text, mode=0o600)


def launch(
    shell: str, environ: Mapping[str, str], rc_dir: Path, label: str, bin_dir: Path, project: Path
) -> tuple[list[str], dict[str, str], bool]:
    """(argv, environment, whether the prompt names the project) for ``shell`` (see the module docstring)."""
    env = dict(environ)
    env.update({NESTED: str(project), "KERNELENV_PROMPT": label, "KERNELENV_BIN": str(bin_dir), "VIRTUAL_ENV_PROMPT": label})
    how = kind(shell)
    if how == "bash":
        return [shell, "--rcfile", str(rc_dir / "bashrc"), "-i"], env, True
    if how == "zsh":
        if "ZDOTDIR" in env:
            env["KERNELENV_ZDOTDIR"] = env["ZDOTDIR"]
        env["ZDOTDIR"] = str(rc_dir / "zsh")
        return [shell, "-i"], env, True
    if how == "fish":
        return [shell, "-i", "--init-command", f"source {_fish_quote(str(rc_dir / 'config.fish'))}"], env, True
    if how == "posix":
        if env.get("ENV"):
            env["KERNELENV_ENV"] = env["ENV"]
        env["ENV"] = str(rc_dir / "shrc")
        return [shell, "-i"], env, True
    return [shell], env, False


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
