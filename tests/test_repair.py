"""repair: rebuild in place from the lock or the old venv, keep the kernel's name, or change nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import make_project

from kernelenv import venv as venvmod


def py_env() -> dict:
    return {"PATH": f"{Path(sys.base_prefix) / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def test_moved_project_with_lock_keeps_name_and_packages(tmp_path, cli, kernel, jupyter):
    proj = make_project(tmp_path, "orig")
    assert cli("create", proj, "--with", "six", "--name", "keepme", "--json", env=py_env()).rc == 0
    assert cli("lock", proj, "--json").rc == 0
    before = venvmod.installed(proj / ".venv")
    moved = tmp_path / "renamed"
    shutil.move(str(proj), moved)
    r = cli("repair", moved, "--json", env=py_env())
    assert r.rc == 0, r
    assert r.data["source"] == "lock" and r.data["repointed"] == ["keepme"]
    assert venvmod.installed(moved / ".venv") == before
    spec = json.loads((jupyter.kernels / "keepme" / "kernel.json").read_text())
    assert spec["argv"][0] == str(moved / ".venv" / "bin" / "python")
    assert spec["metadata"]["kernelenv"]["project"] == str(moved)
    k = kernel("keepme")
    assert k.run("import six, sys; print(sys.prefix)").strip() == str(moved / ".venv")


def test_without_lock_rebuilds_from_the_old_venv(tmp_path, cli):
    proj = make_project(tmp_path, "nolock")
    assert cli("create", proj, "--with", "six", "--json", env=py_env()).rc == 0
    (proj / ".venv" / "bin" / "python").unlink()
    r = cli("repair", proj, "--json", env=py_env())
    assert r.rc == 0, r
    assert r.data["source"] == "old venv" and "six" in venvmod.installed(proj / ".venv")


def test_failed_repair_changes_nothing(tmp_path, cli):
    proj = make_project(tmp_path, "stay")
    assert cli("create", proj, "--json", env=py_env()).rc == 0
    (proj / ".venv" / "bin" / "python").unlink()
    listing = sorted(p.name for p in (proj / ".venv").iterdir())
    r = cli("repair", proj, "--python", "3.99", "--json", env=py_env())
    assert r.rc == 1 and r.codes == ["PYTHON_NOT_FOUND"]
    assert sorted(p.name for p in (proj / ".venv").iterdir()) == listing
    assert [p.name for p in proj.iterdir()] == [".venv"]


def test_foreign_venv_is_not_rebuilt(tmp_path, cli):
    from kernelenv.installer import uv_binary

    proj = make_project(tmp_path, "theirs")
    subprocess.run([uv_binary(), "venv", "-q", "--python", sys.executable, str(proj / ".venv")], check=True)
    r = cli("repair", proj, "--json")
    assert r.rc == 1 and r.codes == ["NOT_OWNED"] and (proj / ".venv" / "pyvenv.cfg").exists()


def test_dry_run_says_what_a_real_run_does_and_changes_nothing(tmp_path, cli, jupyter):
    proj = make_project(tmp_path, "dry")
    assert cli("create", proj, "--with", "six", "--json", env=py_env()).rc == 0
    (proj / ".venv" / "bin" / "python").unlink()
    listing = sorted(p.name for p in (proj / ".venv").rglob("*"))
    spec = (jupyter.kernels / "dry" / "kernel.json").read_text()
    dry = cli("repair", proj, "--dry-run", "--json", env=py_env())
    assert dry.rc == 0 and dry.data["dry_run"] is True, dry
    assert sorted(p.name for p in (proj / ".venv").rglob("*")) == listing
    assert (jupyter.kernels / "dry" / "kernel.json").read_text() == spec
    real = cli("repair", proj, "--json", env=py_env())
    assert real.rc == 0 and real.data["repointed"] == dry.data["repointed"] and real.data["source"] == dry.data["source"]
