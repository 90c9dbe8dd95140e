"""export: share the locked environment as requirements, a Dockerfile, a devcontainer or EG kernelspecs.

Everything is built from ``kernelenv.lock`` (LOCK_NOT_FOUND without one):
- ``requirements``: ``PROJECT/requirements.lock.txt``, pinned with hashes.
- ``dockerfile``: ``PROJECT/Dockerfile``: an image on ``base_image`` (default python:X.Y-slim)
  that builds the venv from the lock with hash checking and registers the kernel (same name, same
  wiring) under /usr/local/share/jupyter, so a shared JupyterHub image can serve it. The build
  stops with a sentence when the base image's Python is not the lock's X.Y (see images.py).
- ``devcontainer``: ``.devcontainer/devcontainer.json`` plus ``.devcontainer/Dockerfile``
  (build context: the project), which VS Code opens with the kernel and interpreter set.
- ``enterprise-gateway``: ``PROJECT/enterprise-gateway/`` (a folder for Jupyter Enterprise
  Gateway's JUPYTER_PATH): ``kernels/NAME-docker`` and ``kernels/NAME-kubernetes`` kernelspecs for
  EG's Docker and Kubernetes process proxies, and a ``Dockerfile`` adding what EG's launcher needs
  to the project's kernel image (``image``, default: the image of the project's ``kernelenv
  container`` kernel). Each spec's ``scripts/`` needs EG's launcher files, listed in ``launchers``.
A target that exists and was not written by kernelenv is kept unless ``force``.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from .. import containers, files, gateway, images, kernels, kernelspec, lockfile
from ..context import Context
from ..result import OperationError, Result

FORMATS = ("requirements", "dockerfile", "devcontainer", "enterprise-gateway")
MARKER = "Made by `kernelenv export"
IMAGE_ROOT = images.IMAGE_ROOT  # kept for callers of the names that lived here
IMAGE_VENV = images.IMAGE_VENV
IMAGE_PREFIX = images.IMAGE_PREFIX


def _name_and_display(ctx: Context, lock: lockfile.Lock) -> tuple[str, str]:
    mine = [r for r in kernels.owned_by(kernels.rows(ctx), project=ctx.project) if containers.container_mark(r.spec) is None]
    if mine:
        return mine[0].name, mine[0].display_name
    return kernelspec.slug(ctx.project.name), f"Python {lock.python} ({ctx.project.name})"


def dockerfile(lock: lockfile.Lock, name: str, display: str, lock_rel: str, base_image: str | None = None) -> str:
    """The Dockerfile text; ``lock_rel`` is the lock's path relative to the build context."""
    return images.dockerfile(lock, name, display, lock_rel, base_image=base_image)


DOCKERIGNORE = (
    f"# {MARKER}`: keep the local venv and outputs out of the build context.\n.venv/\n.kernelenv/\n**/__pycache__/\n.git/\n"
)


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
        raise OperationError(
            "EXPORT_EXISTS", f"{path} is a folder; not writing there", hint="use --output with a file path", path=path
        )
    if not path.exists():
        return "written"
    old = path.read_text(encoding="utf-8", errors="replace")
    if old == text:
        return "unchanged"
    if MARKER not in old:
        if optional:
            return "kept"
        if not force:
            raise OperationError(
                "EXPORT_EXISTS",
                f"{path} exists and kernelenv did not write it; not replacing it",
                hint="add --force to replace it, or use --output",
                path=path,
            )
    return "updated"


def _kernel_image(ctx: Context) -> str | None:
    """The image of the project's container kernel (`kernelenv container`), if it has one."""
    for r in kernels.owned_by(kernels.rows(ctx), project=ctx.project):
        box = containers.container_mark(r.spec)
        if box:
            return str(box["image"])
    return None


def _gateway_targets(ctx: Context, lock: lockfile.Lock, folder: Path, image: str | None) -> tuple[list, dict]:
    """(targets, extra data) of ``--format enterprise-gateway``."""
    image = image or _kernel_image(ctx)
    if image is None:
        raise OperationError(
            "KERNEL_NOT_FOUND",
            f"{ctx.project} has no container kernel whose image EG's specs could extend",
            hint=f"build one with `kernelenv container {shlex.quote(str(ctx.project))}`, or name an image with --image",
            project=ctx.project,
        )
    marker = f"{MARKER} --format enterprise-gateway` from kernelenv.lock (Python {lock.python})"
    eg_image = gateway.eg_image(image)
    base = kernelspec.slug(ctx.project.name)
    targets: list[tuple[Path, str, bool]] = []
    launchers = []
    for kind, label in (("docker", "Docker"), ("kubernetes", "Kubernetes")):
        spec_dir = folder / "kernels" / f"{base}-{kind}"
        spec = gateway.kernelspec(
            kind, image=eg_image, display_name=f"{ctx.project.name} on {label}: Python {lock.python}", marker=marker
        )
        targets.append((spec_dir / "kernel.json", json.dumps(spec, indent=1, ensure_ascii=False) + "\n", False))
        for source, name in gateway.LAUNCHERS[kind]:
            dest = spec_dir / "scripts" / name
            launchers.append({"path": dest, "source": f"{gateway.EG_SDIST}:{source}", "present": dest.is_file()})
    targets.append((folder / "Dockerfile", gateway.dockerfile(image, marker), False))
    return targets, {
        "image": image,
        "eg_image": eg_image,
        "eg_version": gateway.EG_VERSION,
        "folder": folder,
        "launchers": launchers,
    }


def run(
    ctx: Context,
    fmt: str,
    *,
    output: Path | None = None,
    force: bool = False,
    base_image: str | None = None,
    image: str | None = None,
) -> Result:
    project = ctx.project
    ctx.require_project()
    if fmt not in FORMATS:
        raise OperationError("USAGE", f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    if base_image is not None:
        if fmt not in ("dockerfile", "devcontainer"):
            raise OperationError("USAGE", "--base-image goes with --format dockerfile or devcontainer")
        containers.check_image_ref(base_image, "--base-image")
    if image is not None:
        if fmt != "enterprise-gateway":
            raise OperationError("USAGE", "--image goes with --format enterprise-gateway")
        containers.check_image_ref(image, "--image")
    lock_path, lock = lockfile.read_project(project)
    name, display = _name_and_display(ctx, lock)
    rel = os.path.relpath(lock_path, project)
    targets: list[tuple[Path, str, bool]] = []  # (path, text, optional)
    extra: dict = {}
    if fmt == "requirements":
        target = output or project / "requirements.lock.txt"
        body = "\n".join(p.line() for p in sorted(lock.pins, key=lambda p: p.canonical))
        text = (
            f"# {MARKER} --format requirements` from kernelenv.lock (Python {lock.python}).\n"
            f"# pip install --require-hashes --no-deps -r {target.name}\n{body}\n"
        )
        targets.append((target, text, False))
    elif fmt == "dockerfile":
        targets.append((output or project / "Dockerfile", dockerfile(lock, name, display, rel, base_image), False))
        targets.append((project / ".dockerignore", DOCKERIGNORE, True))
    elif fmt == "devcontainer":
        folder = output or project / ".devcontainer"
        targets.append((folder / "devcontainer.json", devcontainer_json(lock, name), False))
        targets.append((folder / "Dockerfile", dockerfile(lock, name, display, rel, base_image), False))
        targets.append((project / ".dockerignore", DOCKERIGNORE, True))
    else:
        more, extra = _gateway_targets(ctx, lock, output or project / "enterprise-gateway", image)
        targets += more
    states = [_plan(path, text, force, optional) for path, text, optional in targets]  # all checked before any write
    for (path, text, _), state in zip(targets, states):
        if state in ("written", "updated"):
            path.parent.mkdir(parents=True, exist_ok=True)
            files.write_atomic(path, text)
    written = [{"path": path, "state": state} for (path, _, _), state in zip(targets, states)]
    data = {"format": fmt, "project": project, "lock": lock_path, "kernel": name, "python": lock.python, "files": written}
    if fmt == "enterprise-gateway":
        data.update(extra)
    elif fmt in ("dockerfile", "devcontainer"):
        data["base_image"] = base_image or images.default_base(lock.python)
    return Result("export", data)
