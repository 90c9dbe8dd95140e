"""Ten creates on one project at once, ten on different projects, ten on same-named projects.

All end well or refuse with a stable code; every kernel.json is complete and names the
venv of its own project; no venv holds another project's files or two copies of a package.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import faults
import pytest

N = 10


def _all_at_once(argvs: list[list], env: dict) -> list[tuple[int, dict]]:
    children = [faults.start(a, env) for a in argvs]
    out = []
    for c in children:
        stdout, stderr = c.communicate(timeout=900)
        out.append((c.returncode, json.loads(stdout) if stdout.strip() else {"stderr": stderr}))
    return out


def _check_kernel(kernels: Path, name: str, project: Path) -> None:
    spec = json.loads((kernels / name / "kernel.json").read_text())  # complete JSON
    mark = spec["metadata"]["kernelenv"]
    venv = project / ".venv"
    assert mark["project"] == str(project) and mark["venv"] == str(venv)
    assert spec["argv"][0] == str(venv / "bin" / "python")
    dists = [p.name for p in venv.glob("lib/python*/site-packages/*.dist-info")]
    names = [d.rsplit("-", 1)[0].lower() for d in dists]
    assert len(names) == len(set(names)), f"two versions of one package in {venv}: {sorted(dists)}"
    assert json.loads((venv / ".kernelenv.json").read_text())["state"] == "ready"
    prefix = subprocess.run(
        [str(venv / "bin/python"), "-c", "import sys, ipykernel; print(sys.prefix)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert prefix == str(venv)


@pytest.mark.slow
def test_ten_creates_on_one_project(tmp_path):
    env = faults.cli_env(tmp_path)
    project = tmp_path / "shared"
    project.mkdir()
    results = _all_at_once([["create", project, "--json"]] * N, env)
    assert [rc for rc, _ in results] == [0] * N, results
    created = [e["data"]["venv_created"] for _, e in results]
    assert created.count(True) == 1, created  # one made it; nine waited for the lock and found it ready
    _check_kernel(tmp_path / "jupyter-data" / "kernels", "shared", project)
    assert faults.consistency(env, [project]) == []


@pytest.mark.slow
def test_ten_creates_on_ten_projects(tmp_path):
    env = faults.cli_env(tmp_path)
    projects = [tmp_path / f"proj{i}" for i in range(N)]
    for p in projects:
        p.mkdir()
    results = _all_at_once([["create", p, "--json"] for p in projects], env)
    assert [rc for rc, _ in results] == [0] * N, results
    for p in projects:
        _check_kernel(tmp_path / "jupyter-data" / "kernels", p.name, p)
    assert faults.consistency(env, projects) == []


@pytest.mark.slow
def test_ten_same_named_projects_one_wins_nine_refuse(tmp_path):
    env = faults.cli_env(tmp_path)
    projects = [tmp_path / f"team{i}" / "analysis" for i in range(N)]
    for p in projects:
        p.mkdir(parents=True)
    results = _all_at_once([["create", p, "--json"] for p in projects], env)
    ok = [p for p, (rc, _) in zip(projects, results) if rc == 0]
    refused = [e for rc, e in results if rc != 0]
    assert len(ok) == 1, results
    assert all(rc in (0, 1) for rc, _ in results)
    assert {e["errors"][0]["code"] for e in refused} == {"KERNEL_EXISTS"}
    for p, (rc, _) in zip(projects, results):
        if rc != 0:
            assert not (p / ".venv").exists()  # refused before anything was made
    _check_kernel(tmp_path / "jupyter-data" / "kernels", "analysis", ok[0])
    assert faults.consistency(env, projects) == []
