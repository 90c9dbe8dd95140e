"""The exported Dockerfile builds for real with podman, and a Python that is not the lock's stops it.

Public base images are unreachable here: the base is Debian's python3 (3.11) from mmdebstrap
(support.base_image). pip inside the build reaches PyPI through the host's network, with the
host's CA bundle mounted read-only, as `kernelenv container` does (kernelenv/containers.py,
build_image): the lock pins exact files by hash, and only the index serves all of them; the
offline mirror under /opt/pypi need not hold the versions a fresh lock resolves.
"""

from __future__ import annotations

import json
import shutil

import pytest

from kernelenv import containers, images, lockfile

from . import support

pytestmark = pytest.mark.slow


def build_args() -> list[str]:
    args = ["--network=host"]
    ca = containers.host_ca_bundle()
    if ca:
        args += ["-v", f"{ca}:{containers.CA_IN_BUILD}:ro", "--build-arg", f"PIP_CERT={containers.CA_IN_BUILD}"]
    return args


def test_exported_dockerfile_builds_the_locked_kernel(kernel_image, base_image, cli, tmp_path):
    project, _ = kernel_image
    dockerfile = tmp_path / "Dockerfile"
    r = cli("export", project, "--format", "dockerfile", "--base-image", base_image, "--output", dockerfile, "--json")
    assert r.rc == 0, r
    tag = "localhost/kernelenv-test-export:latest"
    try:
        support.podman("build", *build_args(), "-t", tag, "-f", str(dockerfile), str(project), timeout=1800)
        probe = (
            "import json, sys, ipykernel, numpy, pandas; "
            "print(json.dumps([sys.version_info[:2], sys.prefix, json.load(open("
            "'/usr/local/share/jupyter/kernels/sharedemo/kernel.json'))['argv'][0]]))"
        )
        out = support.podman("run", "--rm", "--network=none", tag, "python", "-c", probe).stdout
        version, prefix, argv0 = json.loads(out)
        lock = lockfile.read(project / "kernelenv.lock")
        assert f"{version[0]}.{version[1]}" == lock.python and prefix == images.IMAGE_VENV and argv0 == images.IMAGE_PYTHON
        pins = support.podman("run", "--rm", "--network=none", tag, "pip", "list", "--format=json").stdout
        have = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(pins)}
        assert all(have.get(p.canonical) == p.version for p in lock.pins), "the image's venv is not the lock's"
    finally:
        support.podman("rmi", tag, check=False)


def test_a_base_image_with_another_python_is_refused(base_image, cli, tmp_path, kernel_image):
    project, _ = kernel_image
    other = tmp_path / "py312"
    other.mkdir()
    text = (project / "kernelenv.lock").read_text().replace("# python: 3.11", "# python: 3.12")
    (other / "kernelenv.lock").write_text(text)
    # kernelenv knows before building: a stable code, nothing built
    r = cli("container", other, "--base-image", base_image, "--json")
    assert r.rc == 1 and r.codes == ["IMAGE_PYTHON_MISMATCH"], r
    assert "Python 3.11" in r.envelope["errors"][0]["message"] and "3.12" in r.envelope["errors"][0]["message"]
    assert support.podman("images", "-q", "--filter", "reference=localhost/kernelenv-py312-container").stdout.strip() == ""
    # a plain build of the exported Dockerfile stops at its first RUN with the same sentence
    assert cli("export", other, "--format", "dockerfile", "--base-image", base_image, "--json").rc == 0
    done = support.podman(
        "build",
        "--layers=false",
        *build_args(),
        "-t",
        "localhost/kernelenv-test-py312",
        "-f",
        str(other / "Dockerfile"),
        str(other),
        check=False,
    )
    assert done.returncode != 0
    assert "kernelenv.lock is for Python 3.12, this base image has Python 3.11" in done.stdout + done.stderr


def test_engine_missing_is_a_stable_error(kernel_image, cli, tmp_path):
    project, _ = kernel_image
    empty = tmp_path / "bin"
    empty.mkdir()
    r = cli("container", project, "--engine", "docker", "--json", env={"PATH": str(empty)})
    assert r.rc == 1 and r.codes == ["ENGINE_UNAVAILABLE"] and "docker is not installed" in r.envelope["errors"][0]["message"]
    if shutil.which("docker"):  # a client without a daemon (this kind of machine) does not answer
        r = cli("container", project, "--engine", "docker", "--json")
        assert r.codes == ["ENGINE_UNAVAILABLE"] or r.rc == 0
