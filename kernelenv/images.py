"""Container image recipes made from ``kernelenv.lock``: the Dockerfile text and its layout. Pure: no process.

The image holds the lock at IMAGE_ROOT, a venv built from it at IMAGE_VENV (hash-checked, no
dependency resolution) and the kernel registered under IMAGE_PREFIX/share/jupyter/kernels.
Its Python must be the lock's X.Y: the recipe's first RUN checks that and stops the build with
a sentence saying so (kernelenv's own builds check it before building, see containers.py).
"""

from __future__ import annotations

import shlex

from . import lockfile

IMAGE_ROOT = "/opt/kernelenv"  # in the image: the lock and the venv
IMAGE_VENV = IMAGE_ROOT + "/venv"
IMAGE_PYTHON = IMAGE_VENV + "/bin/python"
IMAGE_PREFIX = "/usr/local"  # in the image: kernelspecs go to IMAGE_PREFIX/share/jupyter/kernels
# Build arguments the recipe declares so pip inside the build can use a private index or a
# proxy's CA bundle; unset when not given (pip's defaults apply).
BUILD_ARGS = ("PIP_INDEX_URL", "PIP_CERT")


def default_base(python: str) -> str:
    """The public base image for a lock's Python X.Y (Docker Hub's official python image)."""
    return f"python:{python}-slim"


def python_check(python: str) -> str:
    """A shell-form RUN body that fails the build with a sentence unless python3 is ``python`` (X.Y)."""
    code = (
        "import sys; v = '%d.%d' % sys.version_info[:2]; "
        f"sys.exit(None if v == '{python}' else 'kernelenv.lock is for Python {python}, this base image has Python ' + v"
        f" + ': use a base image with Python {python} (--base-image)')"
    )
    return f"python3 -c {shlex.quote(code)}"


def dockerfile(
    lock: lockfile.Lock,
    name: str,
    display: str,
    lock_rel: str,
    *,
    base_image: str | None = None,
    made_by: str = "kernelenv export --format dockerfile",
) -> str:
    """The Dockerfile text; ``lock_rel`` is the lock's path relative to the build context.

    ``base_image`` None means :func:`default_base`. The base needs ``python3`` of the lock's
    X.Y with the venv module (Debian: python3-venv); nothing else.
    """
    q = shlex.quote
    base = base_image or default_base(lock.python)
    return "\n".join(
        [
            f"# Made by `{made_by}` from kernelenv.lock (Python {lock.python}, {len(lock.pins)} packages).",
            f"# Build it from the project folder: docker build -f <this file> -t {name} .",
            "# Behind a private index or a proxy's CA: --build-arg PIP_INDEX_URL=URL, --build-arg PIP_CERT=FILE",
            "# (a CA bundle mounted into the build, e.g. podman build -v /etc/ssl/certs/ca-certificates.crt:FILE:ro).",
            f"FROM {base}",
            *(f"ARG {a}" for a in BUILD_ARGS),
            f"ENV KERNELENV_VENV={IMAGE_VENV}",
            f"ENV VIRTUAL_ENV={IMAGE_VENV}",
            f"COPY {lock_rel} {IMAGE_ROOT}/kernelenv.lock",
            f"RUN {python_check(lock.python)}",
            'RUN python3 -m venv "$KERNELENV_VENV" \\',
            '    && "$KERNELENV_VENV/bin/python" -m pip install --no-cache-dir --disable-pip-version-check \\',
            f"       --require-hashes --no-deps -r {IMAGE_ROOT}/kernelenv.lock",
            f'RUN "$KERNELENV_VENV/bin/python" -m ipykernel install --prefix {IMAGE_PREFIX} --name {q(name)} \\',
            f"    --display-name {q(display)} \\",
            '    --env PATH "$KERNELENV_VENV/bin:\\${PATH}" --env VIRTUAL_ENV "$KERNELENV_VENV"',
            f'ENV PATH="{IMAGE_VENV}/bin:$PATH"',
            "# The image carries the env and its kernel; a server is yours to choose, e.g.:",
            "#   RUN pip install jupyterlab",
            '#   CMD ["jupyter", "lab", "--ip=0.0.0.0", "--no-browser", "--allow-root"]',
            "# or use this image as the base of a JupyterHub single-user image.",
            "",
        ]
    )
