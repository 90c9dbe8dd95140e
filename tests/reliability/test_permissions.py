"""Files kernelenv writes have the permissions a user expects, and temporary files are made safely.

No world-writable file or folder in a kernelspec, a venv, or kernelenv's cache (locks)
under the usual umask; kernelspecs stay 0644/0755 even under umask 000; a temporary
name planted in advance (a symlink to the user's file) is never written through.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import faults
import pytest


def _world_writable(root: Path) -> list[str]:
    bad = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & stat.S_IWOTH:
                bad.append(f"{oct(st.st_mode & 0o7777)} {p}")
    return bad


def _create(project: Path, env: dict, umask: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kernelenv", "create", str(project), "--json"],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(umask),
        timeout=600,
    )


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_nothing_world_writable(tmp_path, umask):
    env = faults.cli_env(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    done = _create(project, env, umask)
    assert done.returncode == 0, done.stderr
    for root in (tmp_path / "jupyter-data" / "kernels", project / ".venv", tmp_path / "home" / ".cache" / "kernelenv"):
        assert root.exists()
        assert _world_writable(root) == []
    spec = tmp_path / "jupyter-data" / "kernels" / "proj"
    assert stat.S_IMODE(spec.stat().st_mode) == 0o755
    assert stat.S_IMODE((spec / "kernel.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((project / ".venv" / ".kernelenv.json").stat().st_mode) == 0o644


def test_kernelspec_modes_under_umask_000(tmp_path):
    env = faults.cli_env(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    assert _create(project, env, 0).returncode == 0
    spec = tmp_path / "jupyter-data" / "kernels" / "proj"
    assert _world_writable(spec) == []
    assert stat.S_IMODE(spec.stat().st_mode) == 0o755


def test_planted_temporary_names_are_not_written_through(tmp_path):
    env = faults.cli_env(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    assert faults.run(["create", project, "--json"], env)[0] == 0
    user = faults.user_files(tmp_path)
    before = faults.tree(user)
    venv = project / ".venv"
    (venv / ".kernelenv.json.tmp").symlink_to(user / "notes.txt")  # the old fixed temporary name
    kernels = tmp_path / "jupyter-data" / "kernels"
    (kernels / ".proj.tmp").symlink_to(user / "nested")
    (venv / ".kernelenv.json").write_text((venv / ".kernelenv.json").read_text().replace('"ready"', '"ready" '))
    rc, envelope, err = faults.run(["create", project, "--with", "six", "--json"], env)  # rewrites the mark and spec
    assert rc == 0, (envelope, err)
    assert faults.tree(user) == before
    assert (user / "notes.txt").read_text() == "do not touch\n"
    leftovers = [p.name for p in venv.iterdir() if p.name.startswith(".kernelenv.json.")]
    assert leftovers == [".kernelenv.json.tmp"]  # only the planted link, untouched
