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

from .. import files, kernelspec, lockfile
from ..context import Context
from . import common
from ..result import OperationError, Result

FORMATS = ("requirements", "dockerfile", "devcontainer")
MARKER = "Made by `kernelenv export"
IMAGE_ROOT = "/opt/kernelenv"  # in the image: the lock and the venv
IMAGE_VENV = IMAGE_ROOT + "/venv"
IMAGE_PREFIX = "/usr/local"  # in the image: kernelspecs go to IMAGE_PREFIX/share/jupyter/kernels


def _name_and_display(ctx: Context, lock: lockfile.Lock) -> tuple[str, str]:
    for s in kernelspec.scan(ctx.search_path):
        m = s.mark
        if m and m.get("project") == str(ctx.project):
            return s.name, s.display_name
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


def _write(path: Path, text: str, force: bool) -> str:
    """'written', 'updated' or 'unchanged'; EXPORT_EXISTS for a file kernelenv did not make."""
    if path.exists():
        old = path.read_text(encoding="utf-8", errors="replace")
        if old == text:
            return "unchanged"
        if MARKER not in old and not force:
            raise OperationError("EXPORT_EXISTS", f"{path} exists and kernelenv did not write it; not replacing it",
                                 hint="add --force to replace it, or use --output", path=path)
        state = "updated"
    else:
        state = "written"
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_atomic(path, text)
    return state


def run(ctx: Context, fmt: str, *, output: Path | None = None, force: bool = False) -> Result:
    project = ctx.project
    common.require_project(ctx)
    lock_path, lock = lockfile.read_project(project)
    name, display = _name_and_display(ctx, lock)
    files: list[dict] = []
    if fmt == "requirements":
        target = output or project / "requirements.lock.txt"
        body = "\n".join(p.line() for p in sorted(lock.pins, key=lambda p: p.canonical))
        text = f"# {MARKER} --format requirements` from kernelenv.lock (Python {lock.python}).\n" \
               f"# pip install --require-hashes --no-deps -r {target.name}\n{body}\n"
        files.append({"path": target, "state": _write(target, text, force)})
    elif fmt == "dockerfile":
        target = output or project / "Dockerfile"
        rel = os.path.relpath(lock_path, project)
        files.append({"path": target, "state": _write(target, dockerfile(lock, name, display, rel), force)})
        files.append({"path": project / ".dockerignore", "state": _write(project / ".dockerignore", DOCKERIGNORE, force)})
    elif fmt == "devcontainer":
        folder = output or project / ".devcontainer"
        rel = os.path.relpath(lock_path, project)
        files.append({"path": folder / "devcontainer.json", "state": _write(folder / "devcontainer.json", devcontainer_json(lock, name), force)})
        files.append({"path": folder / "Dockerfile", "state": _write(folder / "Dockerfile", dockerfile(lock, name, display, rel), force)})
        files.append({"path": project / ".dockerignore", "state": _write(project / ".dockerignore", DOCKERIGNORE, force)})
    else:
        raise OperationError("USAGE", f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    return Result("export", {"format": fmt, "project": project, "lock": lock_path, "kernel": name, "python": lock.python, "files": files})
