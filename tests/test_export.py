"""export: the files parse (dockerfile_parse, json), and the Dockerfile's steps, run here for real
with the image's paths moved under a temp folder, build a working kernel. (tests/sharing builds
the same Dockerfile with podman.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import RunningKernel, make_project
from dockerfile_parse import DockerfileParser

from kernelenv import lockfile
from kernelenv.commands import export as export_cmd


def py_env() -> dict:
    return {"PATH": f"{Path(sys.base_prefix) / 'bin'}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture
def locked(tmp_path, cli):
    proj = make_project(tmp_path, "shared")
    assert cli("create", proj, "--with", "six", "--json", env=py_env()).rc == 0
    assert cli("lock", proj, "--json").rc == 0
    return proj


def test_requirements_pinned_with_hashes(locked, cli):
    r = cli("export", locked, "--format", "requirements", "--json")
    assert r.rc == 0, r
    text = (locked / "requirements.lock.txt").read_text()
    pins = lockfile.loads("# kernelenv-lock: 1\n# python: 3.11\n" + text).pins
    assert {p.canonical: p.version for p in pins} == {
        p.canonical: p.version for p in lockfile.read(locked / "kernelenv.lock").pins
    }
    assert all(p.hashes for p in pins)
    assert cli("export", locked, "--format", "requirements", "--json").data["files"][0]["state"] == "unchanged"


def _build_here(dockerfile: Path, context: Path, root: Path) -> dict:
    """Carry out FROM/ENV/COPY/RUN with the image's absolute paths moved under ``root``."""
    parser = DockerfileParser(path=str(dockerfile))
    moved = {
        export_cmd.IMAGE_ROOT: str(root / export_cmd.IMAGE_ROOT.lstrip("/")),
        export_cmd.IMAGE_PREFIX: str(root / export_cmd.IMAGE_PREFIX.lstrip("/")),
    }

    def sub(text: str) -> str:
        for a, b in moved.items():
            text = text.replace(a, b)
        return text

    bindir = root / "image-bin"  # the base image's `python` is the one running these tests
    bindir.mkdir(parents=True)
    short = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for exe in ("python", "python3"):
        os.symlink(Path(sys.base_prefix) / "bin" / f"python{short}", bindir / exe)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
    seen = []
    for step in parser.structure:
        ins, value = step["instruction"], step["value"]
        seen.append(ins)
        if ins == "FROM":
            assert value == f"python:{short}-slim"
        elif ins == "ENV":
            key, val = value.split("=", 1)
            env[key] = sub(val.strip('"').replace("$PATH", env["PATH"]))
        elif ins == "COPY":
            src, dest = value.split()
            Path(sub(dest)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(context / src, sub(dest))
        elif ins == "RUN":
            done = subprocess.run(["/bin/sh", "-c", sub(value)], env=env, capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, (value, done.stdout[-3000:], done.stderr[-3000:])
    assert seen.count("RUN") == 3  # the Python check, the venv from the lock, the kernelspec
    return env


@pytest.mark.slow
def test_dockerfile_builds_a_working_kernel(locked, tmp_path, cli, jupyter):
    r = cli("export", locked, "--format", "dockerfile", "--json")
    assert r.rc == 0, r
    root = tmp_path / "image"
    _build_here(locked / "Dockerfile", locked, root)
    kernels = root / "usr" / "local" / "share" / "jupyter" / "kernels"
    spec = json.loads((kernels / "shared" / "kernel.json").read_text())
    venv = root / "opt" / "kernelenv" / "venv"
    assert spec["argv"][0] == str(venv / "bin" / "python")
    assert spec["env"]["PATH"] == f"{venv}/bin:${{PATH}}"
    k = RunningKernel("shared", kernel_dirs=[kernels])
    try:
        out = k.run("import sys, shutil, six; print(sys.executable); print(shutil.which('pip'))").split()
        assert out == [str(venv / "bin" / "python"), str(venv / "bin" / "pip")]
    finally:
        k.shutdown()


def test_devcontainer(locked, cli):
    r = cli("export", locked, "--format", "devcontainer", "--json")
    assert r.rc == 0, r
    folder = locked / ".devcontainer"
    conf = json.loads((folder / "devcontainer.json").read_text())
    context = (folder / conf["build"]["context"]).resolve()
    assert context == locked.resolve()
    dockerfile = folder / conf["build"]["dockerfile"]
    parser = DockerfileParser(path=str(dockerfile))
    copies = [s["value"].split()[0] for s in parser.structure if s["instruction"] == "COPY"]
    assert copies and all((context / c).is_file() for c in copies)
    assert conf["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"] == export_cmd.IMAGE_VENV + "/bin/python"
    assert "ms-toolsai.jupyter" in conf["customizations"]["vscode"]["extensions"]
    # the same build steps as the plain Dockerfile (which the slow test runs for real)
    assert cli("export", locked, "--format", "dockerfile", "--json").rc == 0
    assert dockerfile.read_text().replace("devcontainer", "dockerfile") == (locked / "Dockerfile").read_text()


def test_export_needs_a_lock_and_keeps_foreign_files(tmp_path, cli):
    proj = make_project(tmp_path, "bare")
    r = cli("export", proj, "--format", "dockerfile", "--json")
    assert r.rc == 1 and r.codes == ["LOCK_NOT_FOUND"]
    (proj / "kernelenv.lock").write_text(
        "# kernelenv-lock: 1\n# python: 3.11\nsix==1.17.0 --hash=sha256:" + "a" * 64 + "\n"
        "ipykernel==7.1.0 --hash=sha256:" + "b" * 64 + "\n"
    )  # a project lock pins ipykernel
    (proj / "Dockerfile").write_text("FROM scratch\n")
    r = cli("export", proj, "--format", "dockerfile", "--json")
    assert r.rc == 1 and r.codes == ["EXPORT_EXISTS"] and (proj / "Dockerfile").read_text() == "FROM scratch\n"
    assert cli("export", proj, "--format", "dockerfile", "--force", "--json").rc == 0


def test_base_image_and_the_python_check(locked, cli):
    r = cli("export", locked, "--format", "devcontainer", "--base-image", "localhost/debian-py:bookworm", "--json")
    assert r.rc == 0 and r.data["base_image"] == "localhost/debian-py:bookworm", r
    parser = DockerfileParser(path=str(locked / ".devcontainer" / "Dockerfile"))
    steps = [(s["instruction"], s["value"]) for s in parser.structure if s["instruction"] != "COMMENT"]
    assert steps[0] == ("FROM", "localhost/debian-py:bookworm")
    check = next(v for i, v in steps if i == "RUN")
    assert "python3 -c" in check and "'3.11'" in check.replace('"', "'")
    # the check stops a build on a Python that is not the lock's, with a sentence
    lock = lockfile.read(locked / "kernelenv.lock")
    from kernelenv import images

    for version, ok in (("3.11", True), ("3.12", False)):
        lock.python = version
        body = images.python_check(lock.python)
        done = subprocess.run(["/bin/sh", "-c", body.replace("python3", sys.executable, 1)], capture_output=True, text=True)
        assert (done.returncode == 0) == ok, done
        if not ok:
            assert "kernelenv.lock is for Python 3.12, this base image has Python 3.11" in done.stderr
    assert cli("export", locked, "--format", "requirements", "--base-image", "x:1", "--json").codes == ["USAGE"]
    assert cli("export", locked, "--format", "dockerfile", "--base-image", "Not An Image", "--json").codes == ["USAGE"]


def test_enterprise_gateway_without_a_container_kernel_says_what_to_build(locked, cli):
    """No container kernel and no --image: KERNEL_NOT_FOUND (exit 1: the arguments are fine), the hint names
    `kernelenv container PROJECT` (before: USAGE, exit 2, and a hint without the project)."""
    r = cli("export", locked, "--format", "enterprise-gateway", "--json")
    assert r.rc == 1 and r.codes == ["KERNEL_NOT_FOUND"], r
    assert f"kernelenv container {locked}" in r.envelope["errors"][0]["hint"]
    assert not (locked / "enterprise-gateway").exists()
