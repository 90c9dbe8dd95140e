"""Symlinks: ``remove`` and ``prune`` delete only the link or refuse, never what it points to.

A kernelspec folder that is a link to somewhere else; a venv path that is a link into the
user's files (carrying a forged mark); a project ``.venv`` that is a link.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import faults


def _spec(folder: Path, python: str, project: Path, venv: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": folder.name,
                "language": "python",
                "metadata": {"kernelenv": {"project": str(project), "venv": str(venv), "python": python}},
            }
        )
    )


def _fake_user_venv(where: Path, claims: Path, with_python: bool) -> Path:
    """The user's own env, with a mark forged to claim kernelenv made it at ``claims``."""
    (where / "bin").mkdir(parents=True)
    (where / "pyvenv.cfg").write_text(f"home = {Path(sys.base_prefix) / 'bin'}\n")
    (where / ".kernelenv.json").write_text(json.dumps({"created_by": "kernelenv", "venv": str(claims), "state": "ready"}))
    (where / "precious.txt").write_text("mine\n")
    if with_python:
        os.symlink(sys.executable, where / "bin" / "python")
    return where


def test_spec_folder_that_is_a_link(tmp_path):
    env = faults.cli_env(tmp_path)
    kernels = tmp_path / "jupyter-data" / "kernels"
    elsewhere = tmp_path / "user-files" / "spec-kept-here"
    project = tmp_path / "proj"
    _spec(elsewhere, str(tmp_path / "gone" / "bin" / "python"), project, project / ".venv")
    kernels.mkdir(parents=True)
    (kernels / "linked").symlink_to(elsewhere)
    (kernels / "linked2").symlink_to(elsewhere)
    before = faults.tree(tmp_path / "user-files")
    rc, env_, err = faults.run(["remove", "linked", "--json"], env)
    assert rc == 0, (env_, err)
    assert not os.path.lexists(kernels / "linked")
    rc, env_, err = faults.run(["prune", "--json"], env)  # linked2's interpreter is gone
    assert rc == 0 and [r["name"] for r in env_["data"]["removed"]] == ["linked2"], env_
    assert not os.path.lexists(kernels / "linked2")
    assert faults.tree(tmp_path / "user-files") == before  # what the links pointed to is intact


def test_venv_that_is_a_link_into_user_files(tmp_path):
    env = faults.cli_env(tmp_path)
    kernels = tmp_path / "jupyter-data" / "kernels"
    user = faults.user_files(tmp_path)
    for name, with_python in (("runs", True), ("broken", False)):
        project = tmp_path / name
        project.mkdir()
        target = _fake_user_venv(user / f"env-{name}", project / ".venv", with_python)
        (project / ".venv").symlink_to(target)
        _spec(kernels / name, str(project / ".venv" / "bin" / "python"), project, project / ".venv")
    before = faults.tree(user)
    rc, envelope, err = faults.run(["remove", "runs", "--json"], env)
    assert rc == 0, (envelope, err)
    assert envelope["data"]["venv_removed"] is None and "left in place" in envelope["data"]["venv_kept_reason"]
    rc, envelope, err = faults.run(["prune", "--json"], env)
    assert rc == 0, (envelope, err)
    [row] = envelope["data"]["removed"]
    assert row["name"] == "broken" and row["venv_removed"] is None and row["venv_kept_reason"]
    assert faults.tree(user) == before
    assert (tmp_path / "runs" / ".venv").is_symlink() and (tmp_path / "broken" / ".venv").is_symlink()


def test_project_dot_venv_that_is_a_link(tmp_path):
    env = faults.cli_env(tmp_path)
    user = faults.user_files(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    before = faults.tree(user)
    for target in (user, user / "notes.txt", tmp_path / "nowhere"):  # a folder, a file, nothing
        (project / ".venv").symlink_to(target)
        rc, envelope, err = faults.run(["create", project, "--json"], env)
        assert rc == 1 and envelope["errors"][0]["code"] == "VENV_NOT_A_VENV", (envelope, err)
        (project / ".venv").unlink()
    # a link to the user's half-made env that carries a forged "creating" mark: not rebuilt
    fake = _fake_user_venv(user / "env", project / ".venv", with_python=False)
    (fake / ".kernelenv.json").write_text(
        json.dumps({"created_by": "kernelenv", "venv": str(project / ".venv"), "state": "creating"})
    )
    before = faults.tree(user)
    (project / ".venv").symlink_to(fake)
    rc, envelope, err = faults.run(["create", project, "--json"], env)
    assert rc == 1 and envelope["errors"][0]["code"] in ("NOT_OWNED", "VENV_NOT_A_VENV"), (envelope, err)
    assert faults.tree(user) == before
    assert not (tmp_path / "nowhere").exists()
