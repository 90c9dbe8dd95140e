"""container: the project's kernel, running inside a container image (podman or docker).

Contract:
- Without ``--image``: the image is built from ``kernelenv.lock`` (LOCK_NOT_FOUND without one)
  with the recipe of ``export --format dockerfile`` on ``--base-image`` (default python:X.Y-slim).
  The base image's Python is checked against the lock's X.Y before anything is built
  (IMAGE_PYTHON_MISMATCH); a failed build is IMAGE_BUILD_FAILED with the log's end. The image is
  tagged ``localhost/kernelenv-NAME:DIGEST`` (DIGEST of the recipe, the lock and the base image),
  labelled as built by kernelenv for NAME, and reused while those do not change.
- With ``--image IMAGE``: that image (pulled if it is not here; IMAGE_NOT_FOUND) is used as it is;
  it needs ipykernel (IPYKERNEL_MISSING), and its Python must match the project's lock if there is one.
  kernelenv never removes an image it did not build.
- Registers kernel NAME (default: the project folder's slug + "-container"), a plain-argv
  kernelspec (see kernelenv/containers.py) whose display name ends in "Python X.Y" so VS Code
  names it by its folder; a display name VS Code would rename is refused (USAGE).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__, containers, files, images, kernels, kernelspec, lockfile, locks, specstore
from .. import venv as venvmod
from ..context import Context
from ..result import OperationError, Result


@dataclass
class ContainerOptions:
    image: str | None = None  # use this image instead of building one
    base_image: str | None = None  # build on this base (default python:X.Y-slim)
    engine: str = "auto"  # auto, podman or docker
    name: str | None = None
    display_name: str | None = None


def run(ctx: Context, opts: ContainerOptions) -> Result:
    project = ctx.require_project()
    lock_path, lock = _lock_for(project, opts)
    name = opts.name if opts.name is not None else kernelspec.slug(project.name + "-container")
    kernelspec.check_name(name)
    kernels.check_clash(ctx, kernels.rows(ctx), name, project=project, venv=None)
    specstore.ensure_writable(ctx.kernels_dir)
    t0 = time.monotonic()
    ctx.progress("engine", "looking for podman or docker" if opts.engine == "auto" else f"checking {opts.engine}", 1, 4)
    engine = containers.detect(opts.engine)
    resource_dir = ctx.kernels_dir / name
    with locks.venv_and_kernels(ctx, None, [resource_dir]):
        kernels.check_clash(ctx, kernels.rows(ctx), name, project=project, venv=None)
        image, base, info, state = _image(ctx, engine, opts, project, lock_path, lock, name)
        built = state != "given"
        ctx.progress("image", f"checking the Python in {image}", 3, 4)
        python = _python_in(engine, image, lock)
        display = opts.display_name or containers.default_display_name(project.name, python.short)
        spec = containers.build_spec(
            engine=engine,
            image=image,
            image_id=str(info.get("id")),
            built=built,
            base_image=base,
            python=python,
            name=name,
            display_name=display,
            resource_dir=resource_dir,
            project=project,
            created=venvmod.now(),
            kernelenv_version=__version__,
        )
        vscode_id = _vscode_id(spec, name, display, python)
        ctx.progress("register", f"registering kernel {name}", 4, 4)
        kstate = _write_spec(ctx, name, spec)
    image_data = {"name": image, "id": info.get("id"), "state": state, "built_by_kernelenv": built, "base": base}
    kernel = {"name": name, "display_name": display, "resource_dir": resource_dir, "python": python.path, "scope": ctx.scope}
    data = {
        "project": project,
        "lock": lock_path if lock is not None else None,
        "engine": engine.to_json(),
        "image": image_data | {"python": python.to_json()},
        "kernel": kernel,
        "kernelspec": kstate,
        "vscode_id": vscode_id,
        "seconds": round(time.monotonic() - t0, 2),
    }
    return Result("container", data)


def _lock_for(project: Path, opts: ContainerOptions) -> tuple[Path, lockfile.Lock | None]:
    """The image references checked, and the project's lock (required unless --image names a ready image)."""
    for flag, value in (("--image", opts.image), ("--base-image", opts.base_image)):
        if value is not None:
            containers.check_image_ref(value, flag)
    lock_path = lockfile.path_in(project)
    if opts.image is None or lock_path.exists():
        return lockfile.read_project(project)
    return lock_path, None


def _python_in(engine: containers.Engine, image: str, lock: lockfile.Lock | None) -> containers.ImagePython:
    """The image's Python: the lock's X.Y (IMAGE_PYTHON_MISMATCH otherwise), with ipykernel (IPYKERNEL_MISSING)."""
    python = containers.probe_python(engine, image)
    if lock is not None:
        containers.check_python(image, python, lock.python)
    if not python.ipykernel:
        raise OperationError(
            "IPYKERNEL_MISSING",
            f"{python.executable} in image {image} has no ipykernel",
            hint="build the image from a lock that has ipykernel (`kernelenv lock` always adds it)",
            image=image,
        )
    return python


def _vscode_id(spec: dict[str, Any], name: str, display: str, python: containers.ImagePython) -> str:
    """The id VS Code gives the spec; USAGE unless it is the folder's name (notebooks naming it would not find it)."""
    vscode_id = containers.vscode_kernel_id(spec, name)
    if vscode_id != name:
        raise OperationError(
            "USAGE",
            f"VS Code would not name this kernel {name!r} but {vscode_id[:60]!r}..., so notebooks naming it would not find it",
            hint=f"end the display name with the Python version, e.g. --display-name '{display} Python {python.short}'",
            display_name=display,
        )
    return vscode_id


def _image(
    ctx: Context,
    engine: containers.Engine,
    opts: ContainerOptions,
    project: Path,
    lock_path: Path,
    lock: lockfile.Lock | None,
    name: str,
) -> tuple[str, str | None, dict, str]:
    """(tag, base, image info, given|built|reused): the user's --image checked, else the lock's image built or reused."""
    if opts.image is not None:
        ctx.progress("image", f"checking {opts.image}", 2, 4)
        return opts.image, None, containers.ensure_image(engine, opts.image, lambda m: ctx.progress("image", m, 2, 4)), "given"
    assert lock is not None  # read above whenever no --image is given
    return _build(ctx, engine, project, lock_path, lock, name, opts.base_image)


def _write_spec(ctx: Context, name: str, spec: dict) -> str:
    """Write the container kernel's spec (the caller holds its lock): unchanged, updated or written."""
    resource_dir = ctx.kernels_dir / name
    existing = specstore.read(resource_dir) if (resource_dir / "kernel.json").exists() else None
    if existing is not None and kernelspec.same(existing.data, spec):
        return "unchanged"
    try:
        specstore.write(ctx.kernels_dir, name, spec, None)
    except OSError as exc:
        raise OperationError(
            "JUPYTER_DIR_UNWRITABLE",
            f"cannot write the kernelspec to {ctx.kernels_dir}: {exc.strerror or exc}",
            path=ctx.kernels_dir,
        ) from None
    return "updated" if existing is not None else "written"


def _build(
    ctx: Context,
    engine: containers.Engine,
    project: Path,
    lock_path: Path,
    lock: lockfile.Lock,
    name: str,
    base_image: str | None,
) -> tuple[str, str, dict, str]:
    """Build (or reuse) the image for ``lock``; returns (tag, base, image info, built|reused)."""
    base = base_image or images.default_base(lock.python)
    ctx.progress("image", f"checking the base image {base}", 2, 4)
    base_info = containers.ensure_image(engine, base, lambda m: ctx.progress("image", m, 2, 4))
    lock_text = lock_path.read_text(encoding="utf-8")
    display = f"Python {lock.python} ({project.name})"
    recipe = images.dockerfile(lock, name, display, "kernelenv.lock", base_image=base, made_by="kernelenv container")
    tag = containers.image_tag(name, recipe, lock_text, str(base_info.get("id")))
    have = containers.image_info(engine, tag)
    if have is not None and (have.get("labels") or {}).get(containers.LABEL_IMAGE) == name:
        return tag, base, have, "reused"
    base_python = containers.probe_python(engine, base, ("python3",))
    containers.check_python(base, base_python, lock.python)  # before building: a clear error, not a build log
    ctx.progress("image", f"building {tag} from kernelenv.lock with {engine.name}", 2, 4)
    with tempfile.TemporaryDirectory(prefix="kernelenv-build-") as tmp:
        context = Path(tmp)
        files.write_atomic(context / "kernelenv.lock", lock_text)
        files.write_atomic(context / "Dockerfile", recipe)
        labels = {containers.LABEL_IMAGE: name, containers.LABEL_PROJECT: str(project)}
        image_id = containers.build_image(engine, context, tag, labels, lambda m: ctx.progress("image", m, 2, 4))
    return tag, base, {"id": image_id, "labels": labels}, "built"
