"""create, for real: a venv, ipykernel from uv, a kernelspec, a kernel started by jupyter_client."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

from conftest import make_project

from kernelenv import kernelspec


def test_create_registers_a_kernel_that_runs_in_the_venv(jupyter, cli, kernel, tmp_path):
    project = make_project(tmp_path, "My Demo")
    res = cli("create", project, "--json")
    assert res.rc == 0, res
    d = res.data
    venv = project / ".venv"
    assert d["venv"] == str(venv) and d["venv_created"] is True
    assert d["kernel"]["name"] == "my-demo"
    assert d["kernel"]["display_name"] == f"Python {sys.version_info[0]}.{sys.version_info[1]} (My Demo)"
    assert "ipykernel" in d["installed"] and "pip" in d["installed"]
    spec_dir = jupyter.kernels / "my-demo"
    spec = json.loads((spec_dir / "kernel.json").read_text())
    assert spec["argv"][0] == str(venv / "bin" / "python")
    assert spec["argv"][1:] == ["-m", "ipykernel_launcher", "-f", "{connection_file}"]  # VS Code names it by its folder
    debugger_env = kernelspec.build(
        python=venv / "bin" / "python",
        python_version=tuple(sys.version_info[:3]),
        implementation=platform.python_implementation(),
        venv=venv,
        display_name="",
        project=project,
        created="",
        kernelenv_version="",
    )["env"]
    assert spec["env"] == debugger_env
    assert {k: v for k, v in spec["env"].items() if k not in ("PYDEVD_DISABLE_FILE_VALIDATION", "PYTHON_FROZEN_MODULES")} == {
        "PATH": f"{venv / 'bin'}:${{PATH}}",
        "VIRTUAL_ENV": str(venv),
    }
    assert spec["metadata"]["kernelenv"]["project"] == str(project)
    assert {"logo-32x32.png", "logo-64x64.png", "logo-svg.svg"} <= {p.name for p in spec_dir.iterdir()}
    assert json.loads((venv / ".kernelenv.json").read_text())["state"] == "ready"

    # started from this interpreter (not the venv's), through jupyter_client's own lookup
    k = kernel("my-demo")
    out = k.run("import sys, os; print(sys.executable); print(os.environ['VIRTUAL_ENV']); print(sys.prefix != sys.base_prefix)")
    assert out.splitlines() == [str(venv / "bin" / "python"), str(venv), "True"]
    assert k.run("!which pip").strip() == str(venv / "bin" / "pip")
    assert k.run("!python -c 'import sys; print(sys.prefix)'").strip() == str(venv)
    k.run("%pip install -q six")
    k.run("!pip install -q --disable-pip-version-check idna")
    site = next((venv / "lib").glob("python*/site-packages"))
    assert (site / "six.py").exists() and (site / "idna").is_dir()


def test_second_create_is_a_fast_sync_that_says_unchanged(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    spec_file = jupyter.kernels / "demo" / "kernel.json"
    before = spec_file.stat().st_mtime_ns
    again = cli("create", project, "--json")
    assert again.rc == 0, again
    assert again.data["venv_created"] is False
    assert again.data["installed"] == []
    assert again.data["kernelspec"] == "unchanged"
    assert "install" not in again.data["durations"]
    assert spec_file.stat().st_mtime_ns == before
    human = cli("create", project)
    assert "unchanged" in human.stdout and "reused" in human.stdout


def test_sync_installs_only_what_is_missing(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    res = cli("create", project, "--with", "six", "--json")
    assert res.rc == 0, res
    assert res.data["installed"] == ["six"]
    assert res.data["kernelspec"] == "unchanged"


def test_requirement_files_and_with(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    (project / "requirements.txt").write_text("six\n")
    res = cli("create", project, "-r", project / "requirements.txt", "--with", "idna", "--json")
    assert res.rc == 0, res
    assert {"six", "idna", "ipykernel"} <= set(res.data["installed"])


def test_pip_installer_forced(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    res = cli("create", project, "--installer", "pip", "--json")
    assert res.rc == 0, res
    assert res.data["installer"] == "pip"
    assert (project / ".venv" / "bin" / "pip").exists()


def test_falls_back_to_pip_when_uv_cannot_run(jupyter, cli, tmp_path):
    """uv missing from PATH and its package hidden: auto picks pip and still works."""
    project = make_project(tmp_path)
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "uv.py").write_text("raise ImportError('uv hidden by the test')\n")
    env = {
        "PYTHONPATH": str(shim),
        "PATH": os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "uv").exists()),
    }
    res = cli("create", project, "--json", env=env)
    assert res.rc == 0, res
    assert res.data["installer"] == "pip"


def test_scopes_prefix_and_jupyter_path_lookup(jupyter, cli, kernel, tmp_path):
    project = make_project(tmp_path)
    prefix = tmp_path / "prefix"
    res = cli("create", project, "--prefix", prefix, "--json")
    assert res.rc == 0, res
    assert res.data["kernel"]["scope"] == "prefix"
    assert (prefix / "share/jupyter/kernels/demo/kernel.json").exists()
    assert not (jupyter.kernels / "demo").exists()
    k = kernel("demo", kernel_dirs=[prefix / "share/jupyter/kernels"])
    assert k.run("import sys; print(sys.prefix)").strip() == str(project / ".venv")


def test_custom_venv_path_and_name(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    res = cli("create", project, "--venv", tmp_path / "envs" / "x", "--name", "custom.name_1", "--json")
    assert res.rc == 0, res
    assert (tmp_path / "envs/x/pyvenv.cfg").exists()
    assert (jupyter.kernels / "custom.name_1").is_dir()


def test_first_kernel_start_has_bytecode_ready(jupyter, cli, kernel, tmp_path, monkeypatch):
    """Bytecode for what a kernel start imports exists right after create, so a start with
    PYTHONDONTWRITEBYTECODE=1 compiles nothing and writes nothing."""
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    site = next((project / ".venv/lib").glob("python*/site-packages"))

    def pycs() -> set:
        return set(site.rglob("*.pyc"))

    assert any("kernelapp" in p.name for p in pycs())
    n_pyc = len(list(site.rglob("*.py")))
    assert len(pycs()) < n_pyc / 3, "compiled everything instead of what a start needs"
    before = pycs()
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "")
    k = kernel("demo")
    k.run("import sys; print(sys.version)")
    k.shutdown()
    missing = pycs() - before
    assert not missing, sorted(str(p.relative_to(site)) for p in missing)
