"""Kernels that run inside a container image: the engine, images, the kernelspec's argv, orphans.

Contract:
- The engine is podman or docker, whichever answers first (``detect``); ENGINE_UNAVAILABLE names
  why each could not be used. Every engine call goes through ``proc.run`` (argv, timeout).
- A container kernel's kernel.json is a plain argv (no provisioner, no shell): ``ENGINE run --rm -i
  --init --network=host -v {connection_file}:CONNECTION:ro ... --entrypoint PYTHON IMAGE -c LAUNCH``.
  jupyter_client substitutes ``{connection_file}`` inside the mount argument; the VS Code Jupyter
  extension (a language=python spec) instead drops the first argument holding ``{connection_file}``
  and the one before it (the ``-v`` pair) and appends ``--ip=... --f=FILE`` connection arguments,
  which reach LAUNCH; LAUNCH then uses them instead of the mounted file (ipykernel refuses two
  connection files). Host networking lets both reach the kernel's ports on 127.0.0.1. The container
  ends with its engine client: ``-i`` keeps its stdin open while the client lives (jupyter_client
  and VS Code give the client a pipe) and LAUNCH exits when it closes.
- Every container carries the labels LABEL_KERNEL (kernel name), LABEL_SPEC (its folder),
  LABEL_HOST (this machine) and LABEL_CONNECTION (the host connection file, as jupyter_client
  substitutes it). An orphan is a container with LABEL_KERNEL and this host's LABEL_HOST whose
  engine client (``podman run``/``docker run``) is no longer running, or which stopped without
  being removed (a client that gave the kernel no stdin, then was killed, leaves one):
  ``find_orphans`` lists them, ``remove_orphans`` removes them (doctor and prune).
- The kernelspec's ``metadata.kernelenv.container`` records the engine, the image, its id and
  whether kernelenv built it; ``remove_image`` removes only an image kernelenv built for that
  kernel, that no other kernelspec uses.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import images, kernelspec, proc, specstore
from .result import OperationError

ENGINES = ("podman", "docker")
# Engine settings worth carrying into the kernelspec's env (the kernel must start the same way
# from an editor that never saw kernelenv's environment).
ENGINE_ENV = (
    "CONTAINERS_CONF",
    "CONTAINERS_STORAGE_CONF",
    "CONTAINER_HOST",
    "CONTAINER_CONNECTION",
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
)
CONNECTION = "/run/kernelenv/connection.json"  # the connection file, inside the container
CA_IN_BUILD = "/run/kernelenv/ca-certificates.crt"  # the host's CA bundle, inside a podman build
LABEL_KERNEL = "kernelenv.kernel"
LABEL_SPEC = "kernelenv.spec"
LABEL_HOST = "kernelenv.host"
LABEL_CONNECTION = "kernelenv.connection"
LABEL_IMAGE = "kernelenv.image"  # on an image kernelenv built: the kernel it was built for
LABEL_PROJECT = "kernelenv.project"
BUILD_TIMEOUT = 1800.0
# Seconds after the start within which an end of stdin means "never connected" (a client that
# gave the kernel /dev/null, as nbclient callers may) rather than "the client is gone".
STDIN_GRACE = 1.0
# What runs inside the container: ipykernel on the mounted connection file, unless the client
# passed connection arguments of its own (see the module docstring); and, with `run -i`, an exit
# when the container's stdin closes: podman and docker close it when the engine client dies, so a
# killed launcher (SIGKILL, a crashed server) takes its container with it.
LAUNCH = "\n".join(
    [
        "# kernelenv: ipykernel on the connection file the kernelspec mounts, unless the client",
        "# passed its own connection arguments (VS Code does, and drops the mount); the container",
        "# ends when its engine client does (stdin closes), unless stdin was never connected.",
        "import os, sys, threading, time",
        "def watch(started=time.monotonic()):",
        "    try:",
        "        while os.read(0, 65536):",
        "            pass",
        "    except OSError:",
        "        return",
        f"    if time.monotonic() - started > {STDIN_GRACE}:",
        "        os._exit(0)",
        "threading.Thread(target=watch, daemon=True).start()",
        "if sys.path and sys.path[0] == '':",
        "    del sys.path[0]",
        "from ipykernel import kernelapp",
        "args = sys.argv[1:]",
        "if not any(a in ('-f', '--f') or a.startswith(('-f=', '--f=')) for a in args):",
        f"    args = ['-f', {CONNECTION!r}] + args",
        "kernelapp.launch_new_instance(argv=args)",
    ]
)
_PROBE = "\n".join(
    [
        "import json, sys",
        "try:",
        "    import ipykernel",
        "    k = ipykernel.__version__",
        "except Exception:",
        "    k = None",
        "print(json.dumps({'version': list(sys.version_info[:3]), 'executable': sys.executable,",
        "                  'prefix': sys.prefix, 'base_prefix': sys.base_prefix, 'ipykernel': k}))",
    ]
)
# VS Code names a language=python spec NAME.<extra argv joined by '#'> unless its display name
# ends like "Python 3.11" (microsoft/vscode-jupyter, src/kernels/raw/finder/
# localKernelSpecFinderBase.node.ts, loadKernelSpec; isDefaultPythonKernelSpecSpecName).
_VSCODE_DEFAULT_NAME = re.compile(r"python\s\d*.?\d*$")
_VSCODE_PLAIN_ARGS = ("-m", "ipykernel", "ipykernel_launcher", "-f", "{connection_file}")


# engines -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Engine:
    name: str  # podman or docker
    path: str  # absolute path of its client
    env: dict[str, str] = field(default_factory=dict, compare=False)  # ENGINE_ENV settings in force

    def run(self, *args: str, timeout: float = 120, on_line: Callable[[str], None] | None = None) -> proc.Completed:
        return proc.run([self.path, *args], timeout=timeout, on_line=on_line)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path}


def _engine_env() -> dict[str, str]:
    return {k: os.environ[k] for k in ENGINE_ENV if os.environ.get(k)}


def _answers(engine: Engine) -> str | None:
    """None when the engine can run containers here, else why not (one line)."""
    check = (
        ("info", "--format", "{{.Host.OCIRuntime.Name}}")
        if engine.name == "podman"
        else ("version", "--format", "{{.Server.Version}}")
    )
    try:
        done = engine.run(*check, timeout=30)
    except proc.ProcError as exc:
        return exc.reason
    return None if done.ok else done.last_error_line()


def detect(choice: str = "auto") -> Engine:
    """The container engine to use: ``choice`` (podman or docker), or for ``auto`` the first of
    ENGINES that is installed and answers. ENGINE_UNAVAILABLE says why each one failed."""
    names = ENGINES if choice == "auto" else (choice,)
    why: list[str] = []
    for name in names:
        path = shutil.which(name)
        if not path:
            why.append(f"{name} is not installed")
            continue
        engine = Engine(name, path, _engine_env())
        problem = _answers(engine)
        if problem is None:
            return engine
        why.append(f"{name} does not answer ({problem})")
    raise OperationError(
        "ENGINE_UNAVAILABLE",
        "no container engine can run containers here: " + "; ".join(why),
        hint="install podman (Debian: apt-get install podman runc) or start Docker",
        engines=list(names),
    )


def available() -> list[Engine]:
    """Every engine of ENGINES that answers here (possibly none); never raises."""
    out = []
    for name in ENGINES:
        try:
            out.append(detect(name))
        except OperationError:
            continue
    return out


# images ----------------------------------------------------------------------------------
# what docker and podman accept as an image reference: name[:tag][@sha256:digest]
IMAGE_REF = re.compile(
    r"^[a-z0-9][a-z0-9._/-]*(:[0-9]+)?(/[a-z0-9._-]+)*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?$"
)


def check_image_ref(image: str, flag: str) -> None:
    """USAGE unless ``image`` (given with ``flag``) is an image reference."""
    if len(image) > 255 or not IMAGE_REF.match(image):
        raise OperationError(
            "USAGE",
            f"{flag} {image!r} is not an image reference (name[:tag][@sha256:digest])",
            hint="for example python:3.11-slim or localhost/kernelenv-demo:latest",
        )


@dataclass
class ImagePython:
    """The Python found inside an image, and its ipykernel."""

    path: str  # as the container runs it (absolute, or a name on the image's PATH)
    version: tuple[int, int, int]
    executable: str
    in_venv: bool
    ipykernel: str | None

    @property
    def short(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "version": ".".join(map(str, self.version)),
            "executable": self.executable,
            "in_venv": self.in_venv,
            "ipykernel": self.ipykernel,
        }


def image_info(engine: Engine, image: str) -> dict[str, Any] | None:
    """``ENGINE image inspect`` of a local image (Id, Labels, ...), or None when it is not here."""
    done = engine.run("image", "inspect", image, timeout=60)
    if not done.ok:
        return None
    try:
        data = json.loads(done.stdout)
    except ValueError:
        return None
    item = data[0] if isinstance(data, list) and data else data
    if not isinstance(item, dict):
        return None
    labels = item.get("Labels")
    if labels is None:
        labels = (item.get("Config") or {}).get("Labels")
    return {"id": item.get("Id"), "labels": labels or {}}


def ensure_image(engine: Engine, image: str, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """The local image ``image``, pulled when it is not here; IMAGE_NOT_FOUND when it cannot be had."""
    info = image_info(engine, image)
    if info is not None:
        return info
    if progress:
        progress(f"pulling {image}")
    try:
        pulled = engine.run("pull", image, timeout=BUILD_TIMEOUT)
    except proc.ProcError as exc:
        done, why = None, exc.reason
    else:
        done, why = pulled, pulled.last_error_line()
    info = image_info(engine, image) if done is not None and done.ok else None
    if info is None:
        raise OperationError(
            "IMAGE_NOT_FOUND",
            f"image {image} is not on this machine and cannot be pulled: {why}",
            hint="build it, or name a local image (`podman images` lists them); behind a closed network, make a base"
            " image from Debian packages with mmdebstrap and `podman import`",
            image=image,
        )
    return info


def probe_python(
    engine: Engine, image: str, candidates: Iterable[str] = (images.IMAGE_PYTHON, "python3", "python")
) -> ImagePython:
    """The first of ``candidates`` that runs in ``image`` (no network, removed after).

    IMAGE_PYTHON_MISMATCH when the image has no Python at all. The image must be local.
    """
    tried = []
    for path in candidates:
        argv = ["run", "--rm", "--network=none", "--pull=never", "--entrypoint", path, image, "-c", _PROBE]
        try:
            done = engine.run(*argv, timeout=120)
        except proc.ProcError as exc:
            tried.append(f"{path}: {exc.reason}")
            continue
        if done.ok:
            try:
                info = json.loads(done.stdout.strip().splitlines()[-1])
                numbers = [int(v) for v in info["version"]]
                version = (numbers[0], numbers[1], numbers[2])
            except (ValueError, IndexError, KeyError, TypeError):
                tried.append(f"{path}: unreadable answer {done.stdout[-200:]!r}")
                continue
            return ImagePython(
                path, version, str(info.get("executable")), info.get("prefix") != info.get("base_prefix"), info.get("ipykernel")
            )
        tried.append(f"{path}: {done.last_error_line()}")
    raise OperationError(
        "IMAGE_PYTHON_MISMATCH",
        f"image {image} has no Python kernelenv can run ({'; '.join(tried)})",
        hint="use an image with python3 (and python3-venv), e.g. python:X.Y-slim",
        image=image,
    )


def check_python(image: str, found: ImagePython, want: str) -> None:
    """IMAGE_PYTHON_MISMATCH unless the image's Python is X.Y ``want`` (the lock's)."""
    if found.short != want:
        raise OperationError(
            "IMAGE_PYTHON_MISMATCH",
            f"image {image} has Python {'.'.join(map(str, found.version))}; kernelenv.lock is for Python {want}",
            hint=(
                f"use a base image with Python {want} (--base-image), or re-lock "
                f"for {found.short} with `kernelenv lock --python {found.short}`"
            ),
            image=image,
            image_python=found.short,
            lock_python=want,
        )


def image_tag(name: str, recipe: str, lock_text: str, base_id: str) -> str:
    """The tag kernelenv builds a kernel's image under: stable for the same recipe, lock and base."""
    digest = hashlib.sha256("\0".join([recipe, lock_text, base_id]).encode("utf-8")).hexdigest()[:12]
    return f"localhost/kernelenv-{name}:{digest}"


def host_ca_bundle() -> str | None:
    """The CA bundle pip on this machine is told to trust (PIP_CERT, SSL_CERT_FILE, REQUESTS_CA_BUNDLE), if any."""
    for key in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        value = os.environ.get(key)
        if value and os.path.isfile(value):
            return value
    return None


def build_image(
    engine: Engine,
    context: Path,
    tag: str,
    labels: dict[str, str],
    progress: Callable[[str], None] | None = None,
) -> str:
    """Build ``context/Dockerfile`` as ``tag`` and return the image id; IMAGE_BUILD_FAILED otherwise.

    The build uses the host's network; pip inside it gets PIP_INDEX_URL from kernelenv's
    environment and, with podman, the host's CA bundle mounted read-only (PIP_CERT), so it
    reaches the same index through the same proxy as pip on the host.
    """
    argv = ["build", "--network=host", "-t", tag, "-f", str(context / "Dockerfile")]
    for key, value in sorted(labels.items()):
        argv += ["--label", f"{key}={value}"]
    if os.environ.get("PIP_INDEX_URL"):
        argv += ["--build-arg", f"PIP_INDEX_URL={os.environ['PIP_INDEX_URL']}"]
    ca = host_ca_bundle()
    if ca and engine.name == "podman":
        argv += ["-v", f"{ca}:{CA_IN_BUILD}:ro", "--build-arg", f"PIP_CERT={CA_IN_BUILD}"]
    argv.append(str(context))
    lines: list[str] = []

    def line(text: str) -> None:
        lines.append(text)
        if progress and text.startswith("STEP "):
            progress(text)

    try:
        done = engine.run(*argv, timeout=BUILD_TIMEOUT, on_line=line)
    except proc.ProcError as exc:
        raise OperationError("IMAGE_BUILD_FAILED", f"building {tag} failed: {exc.reason}", image=tag) from None
    if not done.ok:
        text = done.stdout + "\n" + done.stderr
        ours = [ln.strip() for ln in text.splitlines() if "kernelenv.lock is for Python" in ln]
        why = ours[-1] if ours else done.last_error_line()
        raise OperationError(
            "IMAGE_BUILD_FAILED",
            f"building {tag} with {engine.name} failed: {why}",
            hint="the build log's end is in details.log_tail",
            image=tag,
            log_tail=text.strip().splitlines()[-30:],
        )
    info = image_info(engine, tag)
    if info is None or not info.get("id"):
        raise OperationError("IMAGE_BUILD_FAILED", f"{engine.name} built {tag} but cannot find it", image=tag)
    return str(info["id"])


# kernelspecs -----------------------------------------------------------------------------------
def kernel_argv(engine: Engine, image: str, python: str, *, name: str, resource_dir: Path, project: Path | None) -> list[str]:
    """The kernelspec argv (see the module docstring). The mount pair comes first of all arguments
    that hold ``{connection_file}``: it is the pair VS Code drops."""
    argv = [
        engine.path,
        "run",
        "--rm",
        "-i",
        "--init",
        "--network=host",
        "-v",
        f"{{connection_file}}:{CONNECTION}:ro",
        "--label",
        f"{LABEL_CONNECTION}={{connection_file}}",
        "--label",
        f"{LABEL_KERNEL}={name}",
        "--label",
        f"{LABEL_SPEC}={resource_dir}",
        "--label",
        f"{LABEL_HOST}={socket.gethostname()}",
    ]
    if project is not None and ":" not in str(project):
        argv += ["-v", f"{project}:{project}", "-w", str(project)]  # the project's files, where the notebooks expect them
    return argv + ["--entrypoint", python, image, "-c", LAUNCH]


def build_spec(
    *,
    engine: Engine,
    image: str,
    image_id: str,
    built: bool,
    base_image: str | None,
    python: ImagePython,
    name: str,
    display_name: str,
    resource_dir: Path,
    project: Path | None,
    created: str,
    kernelenv_version: str,
) -> dict[str, Any]:
    """kernel.json of a container kernel. ``metadata.kernelenv`` is the ownership mark (venv None)
    plus ``container``: what ``remove_image`` and orphan sweeping need."""
    metadata: dict[str, Any] = {"debugger": True}
    if python.ipykernel and _at_least(python.ipykernel, kernelspec.ENCRYPTION_MIN_IPYKERNEL):
        metadata["supported_encryption"] = list(kernelspec.ENCRYPTION)
    metadata[kernelspec.MARK_KEY] = {
        "project": str(project) if project else None,
        "venv": None,
        "python": python.path,
        "python_version": ".".join(map(str, python.version)),
        "kernelenv_version": kernelenv_version,
        "created": created,
        "spec": str(resource_dir),
        "container": {
            "engine": engine.name,
            "image": image,
            "image_id": image_id,
            "built": built,
            "base_image": base_image,
        },
    }
    return {
        "argv": kernel_argv(engine, image, python.path, name=name, resource_dir=resource_dir, project=project),
        "display_name": display_name,
        "language": "python",
        "interrupt_mode": "signal",
        "env": dict(engine.env),
        "metadata": metadata,
    }


def _at_least(version: str, minimum: tuple[int, ...]) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).release[: len(minimum)] >= minimum
    except InvalidVersion:
        return False


def default_display_name(label: str, python: str) -> str:
    """A display name VS Code keeps the kernel's folder name for (it ends in "Python X.Y")."""
    return f"{label} (container): Python {python}"


def vscode_kernel_id(spec: dict[str, Any], folder: str) -> str:
    """The name the VS Code Jupyter extension gives a kernelspec it finds on disk.

    A restatement (not a copy) of ``loadKernelSpec`` in microsoft/vscode-jupyter
    ``src/kernels/raw/finder/localKernelSpecFinderBase.node.ts`` (main, 2025): for a spec of
    language "python" whose lower-cased display name does not end like "python 3.11" and whose
    argv holds arguments other than -m, ipykernel, ipykernel_launcher, -f and {connection_file}
    after argv[0], the name becomes ``<kernel.json name>.<those arguments, lower-cased, joined
    by '#'>`` (JavaScript writes a missing name as "undefined"); otherwise the folder's name.
    """
    name = spec.get("name")
    display = str(spec.get("display_name", ""))
    argv = [str(a) for a in spec.get("argv", [])]
    if not _VSCODE_DEFAULT_NAME.search(display.lower()) and spec.get("language") == "python" and len(argv) > 2:
        extra = [a.lower() for a in argv[1:] if a.lower() not in _VSCODE_PLAIN_ARGS]
        if extra:
            name = f"{'undefined' if name is None else name}.{'#'.join(extra)}"
    return name or folder


def container_mark(spec: kernelspec.Spec) -> dict[str, Any] | None:
    """``metadata.kernelenv.container`` of a container kernel kernelenv wrote, else None."""
    mark = spec.mark
    box = mark.get("container") if mark else None
    return box if isinstance(box, dict) and isinstance(box.get("image"), str) else None


def problems(spec: kernelspec.Spec) -> list[dict[str, str]]:
    """What stops container kernel ``spec`` from starting, without starting it (for doctor):
    its engine does not answer, or its image is gone. Each: code, message, fix. [] when fine
    or when ``spec`` is not a container kernel of kernelenv's."""
    box = container_mark(spec)
    if box is None:
        return []
    project = (spec.mark or {}).get("project")
    rebuild = f"kernelenv container {project} --name {spec.name}" if project else f"kernelenv remove {spec.name}"
    try:
        engine = detect(str(box.get("engine") or "auto"))
    except OperationError as exc:
        return [{"code": "engine-unavailable", "message": exc.info.message, "fix": exc.info.hint or ""}]
    if image_info(engine, str(box["image"])) is None:
        return [{"code": "image-missing", "message": f"the image {box['image']} is not on this machine", "fix": rebuild}]
    return []


# orphans ------------------------------------------------------------------------------------------------
@dataclass
class Container:
    engine: Engine
    id: str
    name: str
    kernel: str
    spec: str | None
    running: bool
    created: str | None
    labels: dict[str, str]
    cmd: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine.name,
            "id": self.id[:12],
            "name": self.name,
            "kernel": self.kernel,
            "spec": self.spec,
            "running": self.running,
            "created": self.created,
        }


def containers(engine: Engine) -> list[Container]:
    """Every container (running or not) on ``engine`` that carries LABEL_KERNEL."""
    done = engine.run("ps", "-a", "-q", "--no-trunc", "--filter", f"label={LABEL_KERNEL}", timeout=60)
    ids = done.stdout.split() if done.ok else []
    if not ids:
        return []
    done = engine.run("inspect", "--type", "container", *ids, timeout=60)
    try:
        items = json.loads(done.stdout) if done.ok else []
    except ValueError:
        items = []
    out = []
    for c in items if isinstance(items, list) else []:
        config = c.get("Config") or {}
        labels = config.get("Labels") or {}
        state = c.get("State") or {}
        out.append(
            Container(
                engine,
                str(c.get("Id", "")),
                str(c.get("Name", "")).lstrip("/"),
                str(labels.get(LABEL_KERNEL, "")),
                labels.get(LABEL_SPEC),
                bool(state.get("Running")),
                c.get("Created"),
                dict(labels),
                [str(a) for a in (config.get("Cmd") or [])],
            )
        )
    return out


def _client_commands() -> list[str]:
    """Command lines (arguments joined by NUL) of the podman/docker clients running on this machine."""
    lines: list[list[str]] = []
    if os.path.isdir("/proc/self"):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(os.path.join(entry.path, "cmdline"), "rb") as f:
                    raw = f.read()
            except OSError:
                continue
            if raw:
                lines.append(raw.rstrip(b"\0").decode("utf-8", "replace").split("\0"))
    else:  # no /proc (macOS): ps, whose arguments come joined by spaces
        try:
            done = proc.run(["ps", "-axww", "-o", "args="], timeout=30)
            lines = [ln.split() for ln in done.stdout.splitlines() if ln.strip()]
        except proc.ProcError:
            lines = []
    out = []
    for argv in lines:
        if argv and os.path.basename(argv[0]).startswith(ENGINES) and "run" in argv[1:]:
            out.append("\0".join(argv))
    return out


def _client_token(c: Container) -> str:
    """What only this container's client has in its command line."""
    conn = c.labels.get(LABEL_CONNECTION, "")
    if conn and "{" not in conn:  # jupyter_client substituted its connection file
        return f"{LABEL_CONNECTION}={conn}"
    f_args = [a for a in c.cmd if a.startswith("--f=")]  # VS Code's connection arguments
    if f_args:
        return f_args[-1]
    return f"{LABEL_KERNEL}={c.kernel}"


def _orphan_reason(c: Container, clients: list[str]) -> str | None:
    if not c.running:
        return "stopped but not removed"
    token = _client_token(c)
    if not any(token in cmd for cmd in clients):
        return "its engine client (the kernel's launcher) is gone"
    return None


def find_orphans(engines: list[Engine] | None = None) -> list[dict[str, Any]]:
    """Containers of kernelenv kernels on this machine that no client drives any more.

    For ``doctor`` (report) and ``prune`` (``remove_orphans``). ``engines`` None: every engine
    that answers here. A container labelled by another machine (a shared remote engine) is never
    judged. Each item: engine, id (short), full_id, name, kernel, spec, running, created, reason.
    """
    host = socket.gethostname()
    clients = _client_commands()
    found = []
    for engine in available() if engines is None else engines:
        for c in containers(engine):
            if c.labels.get(LABEL_HOST) != host:
                continue
            reason = _orphan_reason(c, clients)
            if reason:
                found.append({**c.to_json(), "full_id": c.id, "reason": reason})
    return found


def remove_orphans(engines: list[Engine] | None = None, *, dry_run: bool = False) -> list[dict[str, Any]]:
    """Remove (kill, then delete) every container ``find_orphans`` lists; returns them, each with
    ``removed`` (bool) and ``error`` (the engine's one-line reason, or None)."""
    engines = available() if engines is None else engines
    by_name = {e.name: e for e in engines}
    out = []
    for item in find_orphans(engines):
        removed, error = False, None
        if not dry_run:
            engine = by_name[item["engine"]]
            args = ["rm", "-f", "-t", "0", item["full_id"]] if engine.name == "podman" else ["rm", "-f", item["full_id"]]
            try:
                done = engine.run(*args, timeout=60)
                removed, error = done.ok, None if done.ok else done.last_error_line()
            except proc.ProcError as exc:
                error = exc.reason
        out.append({**item, "removed": removed, "error": error})
    return out


# images kernelenv built --------------------------------------------------------------------------------
def remove_image(spec: kernelspec.Spec, search_path: list[Path]) -> dict[str, Any]:
    """After ``remove`` deleted container kernel ``spec`` (read before the deletion): remove the
    image kernelenv built for it. Kept, with the reason, when kernelenv did not build it, another
    kernelspec on ``search_path`` uses it, the engine does not answer, the tag now names another
    image, or the engine refuses (a container still uses it).

    Returns {"image", "removed": bool, "reason": str | None}.
    """
    box = container_mark(spec)
    if box is None:
        return {"image": None, "removed": False, "reason": "not a container kernel of kernelenv's"}
    image = box["image"]
    if not box.get("built"):
        return {"image": image, "removed": False, "reason": "kernelenv did not build it"}
    users = [
        s.name
        for s in specstore.scan(search_path)
        if s.resource_dir != spec.resource_dir and (container_mark(s) or {}).get("image") == image
    ]
    if users:
        return {"image": image, "removed": False, "reason": f"still used by kernel {', '.join(sorted(users))}"}
    try:
        engine = detect(str(box.get("engine") or "auto"))
    except OperationError as exc:
        return {"image": image, "removed": False, "reason": exc.info.message}
    info = image_info(engine, image)
    if info is None:
        return {"image": image, "removed": False, "reason": "it is already gone"}
    if info.get("id") != box.get("image_id") or (info.get("labels") or {}).get(LABEL_IMAGE) != spec.name:
        return {"image": image, "removed": False, "reason": f"{image} now names an image kernelenv did not build for {spec.name}"}
    done = engine.run("rmi", image, timeout=120)
    if not done.ok:
        return {"image": image, "removed": False, "reason": done.last_error_line()}
    return {"image": image, "removed": True, "reason": None}
