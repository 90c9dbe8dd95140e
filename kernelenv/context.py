"""One Context per run: the project, its venv, Jupyter's folders, the Python and installer asked for.

Built once by the CLI from flags and the environment; commands read it and never
look at os.environ or sys.argv themselves.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

Progress = Callable[[str, str, "int | None", "int | None"], None]


def _no_progress(stage: str, message: str, current: int | None = None, total: int | None = None) -> None:
    pass


@dataclass
class Context:
    project: Path
    venv: Path
    kernels_dir: Path  # where this run writes kernelspecs (its scope)
    scope: str  # user, sys-prefix or prefix
    search_path: list[Path]  # every kernels folder Jupyter searches, in order
    python: str | None = None  # what --python said
    installer: str = "auto"  # auto, uv or pip
    force: bool = False
    progress: Progress = _no_progress
    cache_dir: Path = field(default_factory=lambda: Context.default_cache_dir())

    @staticmethod
    def default_cache_dir() -> Path:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "kernelenv"

    @classmethod
    def build(
        cls,
        project: str | os.PathLike | None = None,
        *,
        venv: str | os.PathLike | None = None,
        scope: str = "user",
        prefix: str | None = None,
        python: str | None = None,
        installer: str = "auto",
        force: bool = False,
        progress: Progress | None = None,
    ) -> "Context":
        from jupyter_core.paths import jupyter_data_dir, jupyter_path

        project_path = Path(os.path.abspath(os.path.expanduser(project or os.getcwd())))
        venv_path = Path(os.path.abspath(os.path.expanduser(venv))) if venv else project_path / ".venv"
        if scope == "prefix":
            kernels_dir = Path(os.path.abspath(os.path.expanduser(prefix or ""))) / "share" / "jupyter" / "kernels"
        elif scope == "sys-prefix":
            kernels_dir = Path(sys.prefix) / "share" / "jupyter" / "kernels"
        else:
            kernels_dir = Path(jupyter_data_dir()) / "kernels"
        search = [Path(p) for p in jupyter_path("kernels")]
        if kernels_dir not in search:
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
        )
