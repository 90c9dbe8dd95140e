"""lock: write ``PROJECT/kernelenv.lock``, exact pins with hashes for every package.

What is locked: what the project's venv holds now (each installed distribution at its installed
version, so the lock shares the env as it is), plus ipykernel and pip, plus ``--with``/``-r`` and
the project file's packages; with no venv, just those. The installer backend resolves for the
venv's Python, or with ``--universal`` for Linux, macOS and Windows and the project's Python
range (kernelenv/locking.py, shared with ``add`` and ``drop``). Nothing is installed.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import locking, profiles, projectfile
from ..context import Context
from ..projectfile import CreateOptions
from ..result import Result


def run(
    ctx: Context, packages: list[str], requirement_files: list[Path], *, profile: str | None = None, universal: bool = False
) -> Result:
    t0 = time.monotonic()
    project = ctx.require_project()
    # the project file's packages, requirements files and python count as asked for
    merged, python_spec, _ = projectfile.merge(
        project, CreateOptions(packages=list(packages), requirement_files=list(requirement_files), profile=profile), ctx.python
    )
    packages, requirement_files = profiles.with_profile(merged.packages, merged.profile), merged.requirement_files
    made = locking.make(ctx, project, ctx.venv, packages, requirement_files, python_spec=python_spec, universal=universal)
    return Result(
        "lock",
        {
            "project": project,
            "lock": made.path,
            "python": made.info.short,
            "installer": made.backend,
            "packages": [
                {"name": p.name, "version": p.version, "marker": p.marker}
                for p in sorted(made.lock.pins, key=lambda p: p.canonical)
            ],
            "skipped": made.skipped,
            "universal": made.lock.universal,
            "requires_python": made.lock.requires_python,
            "changed": made.changed,
            "durations": {"total": round(time.monotonic() - t0, 3)},
        },
    )
