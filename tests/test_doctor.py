"""doctor on real breakage made here: each problem is found, and the fix it prints works."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_project

from kernelenv.installer import uv_binary


def py_env() -> dict:
    base = Path(sys.base_prefix) / "bin"
    return {"PATH": f"{base}{os.pathsep}{os.environ['PATH']}"}


def doctor(cli, *args):
    r = cli("doctor", *args, "--json", env=py_env())
    assert r.envelope is not None, r
    return r


def codes(r) -> list[str]:
    return [p["code"] for k in r.data["kernels"] for p in k["problems"]]


def run_fix(cli, fix: str):
    """Run a printed fix as a person would paste it (kernelenv through the real CLI)."""
    argv = shlex.split(fix.split("  (")[0])
    if argv[0] == "kernelenv":
        r = cli(*argv[1:], "--json", env=py_env())
        assert r.rc == 0, r
        return r
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done
    return done


def fix_for(r, code: str) -> str:
    return next(p["fix"] for k in r.data["kernels"] for p in k["problems"] if p["code"] == code)


@pytest.fixture
def project(tmp_path, cli):
    proj = make_project(tmp_path, "doc")
    r = cli("create", proj, "--json", env=py_env())
    assert r.rc == 0, r
    return proj


def test_healthy_kernel(project, cli):
    r = doctor(cli, project)
    assert r.rc == 0, r
    (k,) = r.data["kernels"]
    assert k["status"] == "ok" and k["start"]["ok"]
    assert k["start"]["executable"] == k["python"]
    assert k["start"]["pip"].startswith(str(project / ".venv"))


def test_deleted_venv_python(project, cli):
    (project / ".venv" / "bin" / "python").unlink()
    r = doctor(cli, project)
    assert r.rc == 1 and "interpreter-missing" in codes(r)
    fix = fix_for(r, "interpreter-missing")
    assert fix == f"kernelenv repair {project}"
    run_fix(cli, fix)
    assert doctor(cli, project).rc == 0


def test_ipykernel_uninstalled(project, cli):
    py = project / ".venv" / "bin" / "python"
    subprocess.run([uv_binary(), "pip", "uninstall", "--python", str(py), "ipykernel"], check=True, capture_output=True)
    r = doctor(cli, project)
    assert r.rc == 1 and codes(r) == ["ipykernel-missing"]
    run_fix(cli, fix_for(r, "ipykernel-missing"))
    assert doctor(cli, project).rc == 0


def test_conflicting_requirement(project, cli):
    py = project / ".venv" / "bin" / "python"
    # jupyter-client needs python-dateutil>=2.8.2; put an older one under it
    subprocess.run(
        [uv_binary(), "pip", "install", "--python", str(py), "--no-deps", "python-dateutil==2.8.1"],
        check=True,
        capture_output=True,
    )
    r = doctor(cli, project)
    assert r.rc == 1 and "conflict" in codes(r), r  # (an old dateutil may also break the start)
    (k,) = r.data["kernels"]
    assert any(c["package"] == "jupyter-client" and c["requirement"].startswith("python-dateutil") for c in k["conflicts"])
    fix = fix_for(r, "conflict")
    assert "python-dateutil>=2.8.2" in fix
    run_fix(cli, fix)
    assert doctor(cli, project).rc == 0


def test_moved_project_folder(project, tmp_path, cli, kernel):
    name = "doc"
    moved = tmp_path / "elsewhere" / "doc-renamed"
    moved.parent.mkdir()
    shutil.move(str(project), moved)
    r = doctor(cli, moved)
    assert r.rc == 1 and "project-moved" in codes(r) and "interpreter-missing" in codes(r)
    assert fix_for(r, "project-moved") == f"kernelenv repair {moved}"
    out = run_fix(cli, fix_for(r, "project-moved"))
    assert out.data["kernel"]["name"] == name  # notebooks that name it keep working
    assert doctor(cli, moved).rc == 0
    k = kernel(name)
    assert k.run("import sys; print(sys.executable)").strip() == str(moved / ".venv" / "bin" / "python")


def _copy_python(dest: Path) -> Path:
    """A real, runnable copy of the interpreter running the tests (stdlib only)."""
    base = Path(sys.base_prefix)
    short = f"{sys.version_info[0]}.{sys.version_info[1]}"
    skip = {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "__pycache__", "lib2to3", "ensurepip"}
    (dest / "bin").mkdir(parents=True)
    shutil.copy2(os.path.realpath(base / "bin" / f"python{short}"), dest / "bin" / f"python{short}")
    (dest / "lib").mkdir()
    for lib in base.glob("lib/libpython*"):
        shutil.copy2(lib, dest / "lib" / lib.name)
    shutil.copytree(
        base / "lib" / f"python{short}",
        dest / "lib" / f"python{short}",
        ignore=lambda d, names: [n for n in names if n in skip or n.startswith("config-")],
        symlinks=True,
    )
    (dest / "lib" / f"python{short}" / "site-packages").mkdir()
    return dest / "bin" / f"python{short}"


@pytest.mark.slow
def test_removed_base_interpreter(tmp_path, cli):
    copy = _copy_python(tmp_path / "pycopy")
    proj = make_project(tmp_path, "based")
    r = cli("create", proj, "--python", copy, "--json", env=py_env())
    assert r.rc == 0, r
    shutil.rmtree(tmp_path / "pycopy")  # "uninstalling a pyenv version"
    r = doctor(cli, proj)
    assert r.rc == 1 and "base-interpreter-missing" in codes(r), r
    fix = fix_for(r, "base-interpreter-missing")
    assert fix == f"kernelenv repair {proj}"
    out = run_fix(cli, fix)
    assert out.data["kernel"]["name"] == "based"
    assert doctor(cli, proj).rc == 0


def test_duplicate_display_name_and_shadowed(project, tmp_path, cli, jupyter):
    spec = json.loads((jupyter.kernels / "doc" / "kernel.json").read_text())
    twin = jupyter.kernels / "twin"
    twin.mkdir()
    (twin / "kernel.json").write_text(json.dumps({**spec, "metadata": {}}))
    shadow = jupyter.path / "kernels" / "doc"  # JUPYTER_PATH comes first: it hides the data dir's "doc"
    shadow.mkdir(parents=True)
    (shadow / "kernel.json").write_text(json.dumps(spec))
    r = doctor(cli, "--all")
    assert r.rc == 1
    by = {(k["name"], k["resource_dir"]): [p["code"] for p in k["problems"]] for k in r.data["kernels"]}
    assert by[("doc", str(jupyter.kernels / "doc"))] == ["shadowed"]
    assert by[("twin", str(twin))] == ["duplicate-display-name"]
    fix = fix_for(r, "duplicate-display-name")
    assert "--display-name" in fix
    fix = fix_for(r, "shadowed")
    assert "rm -r" not in fix and "--name doc-" in fix  # ours is the correct one: renamed, never deleted
    out = run_fix(cli, fix)
    renamed = out.data["kernel"]["name"]
    assert not (jupyter.kernels / "doc").exists() and (jupyter.kernels / renamed).exists()
    assert shadow.exists()  # the other spec is not kernelenv's to touch
    assert codes(doctor(cli, renamed)) == ["duplicate-display-name"]  # the twin still shares its display name


def test_unknown_target(cli, tmp_path):
    r = doctor(cli, "no-such-kernel")
    assert r.rc == 1 and r.codes == ["KERNEL_NOT_FOUND"]


def test_conflict_in_a_locked_project_is_fixed_by_sync(project, cli):
    """A project with kernelenv.lock: the conflict's fix is `kernelenv sync` (the lock stays true), not a pip
    install that moves the venv away from its lock (before: `python -m pip install 'python-dateutil>=2.8.2'`)."""
    assert cli("lock", project, "--json").rc == 0
    py = project / ".venv" / "bin" / "python"
    subprocess.run(
        [uv_binary(), "pip", "install", "--python", str(py), "--no-deps", "python-dateutil==2.8.1"],
        check=True,
        capture_output=True,
    )
    r = doctor(cli, project)
    assert r.rc == 1 and "conflict" in codes(r), r
    assert fix_for(r, "conflict") == f"kernelenv sync {project}"
    run_fix(cli, fix_for(r, "conflict"))
    assert doctor(cli, project).rc == 0
