"""export: share the locked environment as requirements, a Dockerfile or a devcontainer.

Everything is built from ``kernelenv.lock`` (LOCK_NOT_FOUND without one):
- ``requirements``: ``PROJECT/requirements.lock.txt``, pinned with hashes.
- ``dockerfile``: ``PROJECT/Dockerfile``: a python:X.Y-slim image that builds the venv from
  the lock with hash checking and registers the kernel (same name, same wiring) under
  /usr/local/share/jupyter, so a shared JupyterHub image can serve it.
- ``devcontainer``: ``.devcontainer/devcontainer.json`` plus ``.devcontainer/Dockerfile``
  (build context: the project), which VS Code opens with the kernel and interpreter set.
A target that exists and was not written by kernelenv is kept unless ``force``.
"""
from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from .. import files, kernels, kernelspec, lockfile
from ..context import Context
from ..result import OperationError, Result

FORMATS = ("requirements", "dockerfile", "devcontainer")
MARKER = "Made by `kernelenv export"
IMAGE_ROOT = "/opt/kernelenv"  # in the image: the lock and the venv
IMAGE_VENV = IMAGE_ROOT + "/venv"
IMAGE_PREFIX = "/usr/local"  # in the image: kernelspecs go to IMAGE_PREFIX/share/jupyter/kernels


def _name_and_display(ctx: Context, lock: lockfile.Lock) -> tuple[str, str]:
    mine = kernels.owned_by(kernels.rows(ctx), project=ctx.project)
    if mine:
        return mine[0].name, mine[0].display_name
    return kernelspec.slug(ctx.project.name), f"Python {lock.python} ({ctx.project.name})"


def dockerfile(lock: lockfile.Lock, name: str, display: str, lock_rel: str) -> str:
    """The Dockerfile text; ``lock_rel`` is the lock's path relative to the build context."""
    q = shlex.quote
    return "\n".join(
        [
            f"# {MARKER} --format dockerfile` from kernelenv.lock (Python {lock.python}, {len(lock.pins)} packages).",
            f"# Build it from the project folder: docker build -f <this file> -t {name} .",
            f"FROM python:{lock.python}-slim",
            f"ENV KERNELENV_VENV={IMAGE_VENV}",
            f"COPY {lock_rel} {IMAGE_ROOT}/kernelenv.lock",
            'RUN python -m venv "$KERNELENV_VENV" \\',
            '    && "$KERNELENV_VENV/bin/python" -m pip install --no-cache-dir --disable-pip-version-check \\',
            f"       --require-hashes --no-deps -r {IMAGE_ROOT}/kernelenv.lock",
            f'RUN "$KERNELENV_VENV/bin/python" -m ipykernel install --prefix {IMAGE_PREFIX} --name {q(name)} \\',
            f"    --display-name {q(display)} \\",
            "    --env PATH \"$KERNELENV_VENV/bin:\\${PATH}\" --env VIRTUAL_ENV \"$KERNELENV_VENV\"",
            f'ENV PATH="{IMAGE_VENV}/bin:$PATH"',
            "# The image carries the env and its kernel; a server is yours to choose, e.g.:",
            "#   RUN pip install jupyterlab",
            '#   CMD ["jupyter", "lab", "--ip=0.0.0.0", "--no-browser", "--allow-root"]',
            "# or use this image as the base of a JupyterHub single-user image.",
            "",
        ]
    )


DOCKERIGNORE = f"# {MARKER}`: keep the local venv and outputs out of the build context.\n.venv/\n.kernelenv/\n**/__pycache__/\n.git/\n"


def devcontainer_json(lock: lockfile.Lock, name: str) -> str:
    data = {
        "//": f"{MARKER} --format devcontainer` from kernelenv.lock (Python {lock.python})",
        "name": name,
        "build": {"dockerfile": "Dockerfile", "context": ".."},
        "customizations": {
            "vscode": {
                "extensions": ["ms-python.python", "ms-toolsai.jupyter"],
                "settings": {
                    "python.defaultInterpreterPath": f"{IMAGE_VENV}/bin/python",
                    "jupyter.kernels.excludePythonEnvironments": [],
                },
            }
        },
    }
    return json.dumps(data, indent=2) + "\n"


def _plan(path: Path, text: str, force: bool, optional: bool = False) -> str:
    """What writing ``path`` would do: written, updated, unchanged, or kept (an optional file of the
    user's, never replaced); EXPORT_EXISTS for another file kernelenv did not make, without --force."""
    if path.is_dir():
        raise OperationError("EXPORT_EXISTS", f"{path} is a folder; not writing there", hint="use --output with a file path", path=path)
    if not path.exists():
        return "written"
    old = path.read_text(encoding="utf-8", errors="replace")
    if old == text:
        return "unchanged"
    if MARKER not in old:
        if optional:
            return "kept"
        if not force:
            raise OperationError("EXPORT_EXISTS", f"{path} exists and kernelenv did not write it; not replacing it",
                                 hint="add --force to replace it, or use --output", path=path)
    return "updated"


def run(ctx: Context, fmt: str, *, output: Path | None = None, force: bool = False) -> Result:
    project = ctx.project
    ctx.require_project()
    lock_path, lock = lockfile.read_project(project)
    name, display = _name_and_display(ctx, lock)
    rel = os.path.relpath(lock_path, project)
    targets: list[tuple[Path, str, bool]] = []  # (path, text, optional)
    if fmt == "requirements":
        target = output or project / "requirements.lock.txt"
        body = "\n".join(p.line() for p in sorted(lock.pins, key=lambda p: p.canonical))
        text = f"# {MARKER} --format requirements` from kernelenv.lock (Python {lock.python}).\n" \
               f"# pip install --require-hashes --no-deps -r {target.name}\n{body}\n"
        targets.append((target, text, False))
    elif fmt == "dockerfile":
        targets.append((output or project / "Dockerfile", dockerfile(lock, name, display, rel), False))
        targets.append((project / ".dockerignore", DOCKERIGNORE, True))
    elif fmt == "devcontainer":
        folder = output or project / ".devcontainer"
        targets.append((folder / "devcontainer.json", devcontainer_json(lock, name), False))
        targets.append((folder / "Dockerfile", dockerfile(lock, name, display, rel), False))
        targets.append((project / ".dockerignore", DOCKERIGNORE, True))
    else:
        raise OperationError("USAGE", f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    states = [_plan(path, text, force, optional) for path, text, optional in targets]  # all checked before any write
    for (path, text, _), state in zip(targets, states):
        if state in ("written", "updated"):
            path.parent.mkdir(parents=True, exist_ok=True)
            files.write_atomic(path, text)
    written = [{"path": path, "state": state} for (path, _, _), state in zip(targets, states)]
    return Result("export", {"format": fmt, "project": project, "lock": lock_path, "kernel": name, "python": lock.python, "files": written})
