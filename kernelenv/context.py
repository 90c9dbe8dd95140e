"""One Context per run: the project, its venv, Jupyter's folders, the Python and installer asked for.

Built once by the CLI from flags and the environment; commands read it and never look at
os.environ or sys.argv themselves. Every path given is checked here: a control character (a
newline, a tab) in a project, venv or prefix path is PATH_INVALID before anything is touched,
since it would split a script's shebang line or a Dockerfile line.
"""

from __future__ import annotations

import os
import shlex
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .result import OperationError

Progress = Callable[[str, str, "int | None", "int | None"], None]


def _no_progress(stage: str, message: str, current: int | None = None, total: int | None = None) -> None:
    pass


def check_path(path: str | os.PathLike[str], what: str) -> None:
    """PATH_INVALID when ``path`` holds a control character."""
    text = os.fspath(path)
    bad = next((c for c in text if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise OperationError(
            "PATH_INVALID",
            f"the {what} path {text!r} holds the control character {bad!r}; scripts in a venv there would break",
            hint="rename the folder so its name has no newline, tab or other control character",
            path=text,
        )


def search_path(kernels_dir: Path, dirs: list[Path]) -> list[Path]:
    """Jupyter's kernels folders in its order, each folder once (a JUPYTER_PATH naming the data folder
    again, with a trailing slash or through a link, is one folder: its specs are not shadowed by
    themselves); the folder this run writes to is spelled as this run spells it."""
    mine = os.path.realpath(kernels_dir)
    out: list[Path] = []
    seen: set[str] = set()
    for d in dirs:
        real = os.path.realpath(d)
        if real not in seen:
            seen.add(real)
            out.append(kernels_dir if real == mine else d)
    return out


@dataclass
class Context:
    project: Path
    venv: Path
    kernels_dir: Path  # where this run writes kernelspecs (its scope)
    scope: str  # user, sys-prefix or prefix
    search_path: list[Path]  # every kernels folder Jupyter searches, in order, each once, plus this run's scope
    python: str | None = None  # what --python said
    installer: str = "auto"  # auto, uv or pip
    force: bool = False
    progress: Progress = _no_progress
    cache_dir: Path = field(default_factory=lambda: Context.default_cache_dir())
    on_jupyter_path: bool = True  # whether kernels_dir is among the folders Jupyter searches
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))  # the caller's environment (run, shell)

    def require_project(self) -> Path:
        """The project folder; PROJECT_NOT_FOUND when it does not exist or is not a folder."""
        if not os.path.isdir(self.project):  # never raises (Path.is_dir does on a too-long name)
            raise OperationError(
                "PROJECT_NOT_FOUND",
                f"project folder {self.project} does not exist or is not a folder",
                hint=f"check the path; for a new project, make its folder first: mkdir -p {shlex.quote(str(self.project))}",
                project=self.project,
            )
        return self.project

    @staticmethod
    def default_cache_dir() -> Path:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "kernelenv"

    @classmethod
    def build(
        cls,
        project: str | os.PathLike[str] | None = None,
        *,
        venv: str | os.PathLike[str] | None = None,
        scope: str = "user",
        prefix: str | None = None,
        python: str | None = None,
        installer: str = "auto",
        force: bool = False,
        progress: Progress | None = None,
    ) -> Context:
        from jupyter_core.paths import jupyter_data_dir, jupyter_path

        for value, what in ((project, "project"), (venv, "venv"), (prefix, "--prefix")):
            if value is not None:
                check_path(value, what)
        project_path = Path(os.path.abspath(os.path.expanduser(project or os.getcwd())))
        check_path(project_path, "project")
        venv_path = Path(os.path.abspath(os.path.expanduser(venv))) if venv else project_path / ".venv"
        if scope == "prefix":
            kernels_dir = Path(os.path.abspath(os.path.expanduser(prefix or ""))) / "share" / "jupyter" / "kernels"
        elif scope == "sys-prefix":
            kernels_dir = Path(sys.prefix) / "share" / "jupyter" / "kernels"
        else:
            kernels_dir = Path(jupyter_data_dir()) / "kernels"
        search = search_path(kernels_dir, [Path(p) for p in jupyter_path("kernels")])
        on_path = kernels_dir in search
        if not on_path:
            search.append(kernels_dir)
        return cls(
            project=project_path,
            venv=venv_path,
            kernels_dir=kernels_dir,
            scope=scope,
            search_path=search,
            python=python,
            installer=installer,
            force=force,
            progress=progress or _no_progress,
            on_jupyter_path=on_path,
        )
