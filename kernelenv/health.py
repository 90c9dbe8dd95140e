"""Health of kernels as reason codes; messages are rendered from the codes and their facts.

Contract:
- :class:`Reason` is the closed set of things kernelenv can find wrong with a kernel; its values
  are the strings the JSON envelope carries (``status`` of a list row, ``code`` of a doctor
  problem). Verbs decide on reasons, never on message text.
- ``static(spec)`` checks one spec without starting a process (what ``list`` shows); the
  reasons that need the whole search path (shadowed, left aside) or a running kernel are found
  by kernels.py and doctor.
- ``Problem.message`` renders the reason's template with its facts.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from . import kernelspec
from . import venv as venvmod
from .kernelspec import Spec


class Reason(str, Enum):
    OK = "ok"
    INVALID_SPEC = "invalid-spec"
    INTERPRETER_MISSING = "interpreter-missing"
    IPYKERNEL_MISSING = "ipykernel-missing"
    VENV_BROKEN = "venv-broken"
    VENV_INCOMPLETE = "venv-incomplete"
    SCRIPTS_ELSEWHERE = "scripts-elsewhere"
    SHADOWED = "shadowed"
    LEFT_ASIDE = "left-aside"
    # found by doctor
    PROJECT_MOVED = "project-moved"
    BASE_INTERPRETER_MISSING = "base-interpreter-missing"
    START_FAILED = "start-failed"
    WRONG_INTERPRETER = "wrong-interpreter"
    PIP_OUTSIDE_VENV = "pip-outside-venv"
    CONFLICT = "conflict"
    DUPLICATE_DISPLAY_NAME = "duplicate-display-name"
    NOT_ON_JUPYTER_PATH = "not-on-jupyter-path"
    CHECK_FAILED = "check-failed"
    VSCODE_RENAMED = "vscode-renamed"
    VSCODE_HIDDEN = "vscode-hidden"
    VSCODE_NOT_SEARCHED = "vscode-not-searched"
    ENGINE_UNAVAILABLE = "engine-unavailable"
    IMAGE_MISSING = "image-missing"
    ORPHAN_CONTAINER = "orphan-container"
    PYTHON_PRIVATE = "python-private"  # others list the kernel (a shared folder) but cannot run its python

    def __str__(self) -> str:
        return self.value


# Reasons that mean the kernel cannot start as it is (prune removes such specs).
CANNOT_RUN = frozenset({Reason.INTERPRETER_MISSING})

MESSAGES: dict[Reason, str] = {
    Reason.INVALID_SPEC: "{why}",
    Reason.INTERPRETER_MISSING: "interpreter {python} does not exist",
    Reason.IPYKERNEL_MISSING: "ipykernel is not installed in {venv}",
    Reason.VENV_BROKEN: "the venv {venv} is broken: its pyvenv.cfg is missing, so {python} runs outside it",
    Reason.VENV_INCOMPLETE: "the venv {venv} was never finished (a kernelenv run was interrupted while making it)",
    Reason.SCRIPTS_ELSEWHERE: (
        "{venv} was copied or moved from elsewhere: its {scripts} run{s} {interpreter}, another venv's python"
    ),
    Reason.SHADOWED: "hidden by {by}, which comes earlier on Jupyter's path: Jupyter starts that one for the name {name!r}",
    Reason.LEFT_ASIDE: "an interrupted kernelenv run left this spec aside in {holder}; `kernelenv prune` puts it back",
    Reason.PROJECT_MOVED: "the project was moved to {moved_to}; the kernel still points at {project}",
    Reason.BASE_INTERPRETER_MISSING: "the venv {venv} was made from {base}, which no longer exists (uninstalled or upgraded?)",
    Reason.START_FAILED: "the kernel did not start and answer: {error}",
    Reason.WRONG_INTERPRETER: "the kernel runs {running}, not {wanted}{bare}",
    Reason.PIP_OUTSIDE_VENV: "!pip in this kernel runs {pip}, not the venv's",
    Reason.CONFLICT: "pip check: {text}",
    Reason.DUPLICATE_DISPLAY_NAME: "the display name {display_name!r} is also used by {others}",
    Reason.NOT_ON_JUPYTER_PATH: "{kernels_dir} is not on Jupyter's search path: Jupyter and VS Code do not list this kernel",
    Reason.CHECK_FAILED: "could not check this kernel: {error}",
    Reason.VSCODE_RENAMED: "{text}",
    Reason.VSCODE_HIDDEN: "{text}",
    Reason.VSCODE_NOT_SEARCHED: "{text}",
    Reason.ENGINE_UNAVAILABLE: "{text}",
    Reason.IMAGE_MISSING: "{text}",
    Reason.ORPHAN_CONTAINER: "container {id} of kernel {kernel} ({engine}) is left running: {reason}",
    Reason.PYTHON_PRIVATE: "{who} can list this kernel but not run it: {block}",
}


@dataclass(frozen=True)
class Problem:
    reason: Reason
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        template = MESSAGES.get(self.reason, "{reason}")
        try:
            return template.format(reason=self.reason.value, **self.facts)
        except (KeyError, IndexError, ValueError):
            return f"{self.reason.value}: {self.facts}"


def _which(argv0: str) -> str | None:
    if os.path.isabs(argv0):
        return argv0
    return shutil.which(argv0)


def static(spec: Spec, seen: dict[str, list[Problem]] | None = None) -> list[Problem]:
    """What is wrong with one spec, seen from its files alone; [] when nothing is.

    ``seen`` caches what was found about each venv during one scan (1,000 specs on one venv
    read that venv once).
    """
    if spec.error or spec.data is None:
        return [Problem(Reason.INVALID_SPEC, {"why": spec.error or "kernel.json is unreadable"})]
    argv0 = spec.argv0
    assert argv0 is not None
    found = _which(argv0)
    if found is None:
        return [Problem(Reason.INTERPRETER_MISSING, {"python": f"{argv0} (not on PATH)"})]
    if not (os.path.isfile(found) and os.access(found, os.X_OK)):
        return [Problem(Reason.INTERPRETER_MISSING, {"python": found})]
    if not kernelspec.runs_ipykernel(spec):
        return []  # not an ipykernel spec: nothing more to check without running it
    prefix = Path(found).parent.parent
    mark = spec.mark or {}
    ours = isinstance(mark.get("venv"), str) and os.path.realpath(prefix) == os.path.realpath(mark["venv"])
    if ours and not venvmod.is_venv(prefix):
        return [Problem(Reason.VENV_BROKEN, {"venv": mark["venv"], "python": found})]
    key = str(prefix)
    if seen is not None and key in seen:
        return list(seen[key])
    problems = _venv_problems(prefix)
    if seen is not None:
        seen[key] = problems
    return list(problems)


def _venv_problems(prefix: Path) -> list[Problem]:
    if not venvmod.is_venv(prefix):
        return []
    vmark = venvmod.read_mark(prefix)
    if vmark and venvmod.mark_names(prefix, vmark) and vmark.get("state") not in (None, "ready"):
        return [Problem(Reason.VENV_INCOMPLETE, {"venv": str(prefix)})]
    problems = []
    if "ipykernel" not in venvmod.installed(prefix):
        problems.append(Problem(Reason.IPYKERNEL_MISSING, {"venv": str(prefix)}))
    elsewhere = venvmod.scripts_elsewhere(prefix, only=("pip", "pip3"))
    if elsewhere:
        problems.append(scripts_problem(prefix, elsewhere))
    return problems


def scripts_problem(venv: Path, elsewhere: list[tuple[str, str]]) -> Problem:
    names = [n for n, _ in elsewhere]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return Problem(
        Reason.SCRIPTS_ELSEWHERE,
        {"venv": str(venv), "scripts": shown, "s": "" if len(names) > 1 else "s", "interpreter": elsewhere[0][1]},
    )
