"""A full disk, for real: a small tmpfs mounted by the test.

During install (the project folder on a 20 MB tmpfs: ipykernel's wheels do not fit) and
while writing the kernelspec (the Jupyter data folder on a full tmpfs): a clear error
with a stable code, nothing registered, the run's venv gone, the user's files intact.
"""

from __future__ import annotations

import subprocess

import faults
import pytest

pytestmark = pytest.mark.skipif(not faults.can_mount(), reason="needs root to mount a tmpfs")


def test_disk_full_during_install(tmp_path):
    env = faults.cli_env(tmp_path)
    project = tmp_path / "proj"
    with faults.tmpfs(project, "20m"):
        user = faults.user_files(project)
        before = faults.tree(user)
        rc, envelope, err = faults.run(["create", project, "--json"], env)
        assert rc == 1, err
        error = envelope["errors"][0]
        assert error["code"] == "INSTALL_FAILED"
        assert "no space left on device" in error["message"]
        assert "\n" not in error["message"]
        assert sorted(p.name for p in project.iterdir()) == ["user-files"]  # the run's venv is gone
        assert faults.tree(user) == before
        rc, listing, _ = faults.run(["list", "--json"], env)
        assert rc == 0 and [k for k in listing["data"]["kernels"] if k["owned"]] == []
        # with room again, the same command works
        subprocess.run(["mount", "-o", "remount,size=400m", str(project)], check=True)
        rc, envelope, err = faults.run(["create", project, "--json"], env)
        assert rc == 0, (envelope, err)
        assert faults.consistency(env, [project]) == []


def test_disk_full_while_writing_the_kernelspec(tmp_path):
    env = faults.cli_env(tmp_path)
    first = tmp_path / "first"
    first.mkdir()
    data = tmp_path / "jupyter-data"
    with faults.tmpfs(data, "1m"):
        assert faults.run(["create", first, "--json"], env)[0] == 0
        subprocess.run(["dd", "if=/dev/zero", f"of={data}/filler", "bs=64k"], capture_output=True)
        spec_before = {k: v for k, v in faults.tree(data).items() if not k.endswith("filler")}
        project = tmp_path / "second"
        project.mkdir()
        user = faults.user_files(project)
        before = faults.tree(user)
        rc, envelope, err = faults.run(["create", project, "--json"], env)
        assert rc == 1, err
        error = envelope["errors"][0]
        assert error["code"] == "JUPYTER_DIR_UNWRITABLE", error
        assert "No space left on device" in error["message"]
        assert not (project / ".venv").exists()
        assert faults.tree(user) == before
        after = {k: v for k, v in faults.tree(data).items() if not k.endswith("filler")}
        assert after == spec_before  # the other kernel intact, no temporary folder left
        rc, listing, _ = faults.run(["list", "--json"], env)
        assert [k["name"] for k in listing["data"]["kernels"] if k["owned"]] == ["first"]
