"""Regressions from review: kernelenv never deletes, claims or rewrites what it did not make."""

from __future__ import annotations

import shutil
import subprocess
import sys

from conftest import make_project

from kernelenv import identity
from kernelenv import venv as venvmod


def test_repair_refuses_a_folder_that_is_not_its_venv(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "thesis.txt").write_text("years of work")
    res = cli("repair", project, "--venv", docs, "--json")
    assert res.rc == 1 and res.codes == ["NOT_OWNED"], res
    assert (docs / "thesis.txt").read_text() == "years of work"


def test_a_failed_rebuild_for_another_python_puts_the_working_venv_back(jupyter, cli, kernel, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--with", "six", "--json").rc == 0
    before = venvmod.installed(project / ".venv")
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"
    res = cli("create", project, "--python", other, "--with", "no-such-package-kernelenv", "--json")
    assert res.rc == 1 and res.codes == ["INSTALL_FAILED"], res
    assert venvmod.installed(project / ".venv") == before
    assert [p.name for p in project.iterdir()] == [".venv"]  # nothing left aside
    assert kernel("demo").run("import six, sys; print(sys.prefix)").strip() == str(project / ".venv")


def test_a_copied_venv_mark_is_not_claimed(jupyter, cli, tmp_path):
    first = make_project(tmp_path / "a")
    assert cli("create", first, "--json").rc == 0
    second = make_project(tmp_path / "b", "copy")
    shutil.copytree(first / ".venv", second / ".venv", symlinks=True)
    assert identity.inspect(second / ".venv").kind == identity.Kind.OURS_COPIED  # the copied mark proves nothing
    res = cli("remove", second, "--dry-run", "--json")
    assert res.rc == 1 and res.codes == ["KERNEL_NOT_FOUND"], res  # a copy is not kernelenv's to delete
    res = cli("create", second, "--json")  # rebuilt where it is: never the original's python or pip
    assert res.rc == 0 and res.data["venv_created"] and "copy of" in res.data["rebuilt"], res
    assert venvmod.read_mark(second / ".venv")["venv"] == str(second / ".venv")
    assert venvmod.read_mark(first / ".venv")["venv"] == str(first / ".venv")
    res = cli("remove", second, "--dry-run", "--json")
    assert res.data["venv_removed"] == str(second / ".venv"), res


def test_a_lock_never_uninstalls_from_the_users_own_venv(jupyter, cli, tmp_path):
    locked = make_project(tmp_path / "team", "proj")
    assert cli("create", locked, "--json").rc == 0 and cli("lock", locked, "--json").rc == 0
    mine = make_project(tmp_path / "me", "proj")
    subprocess.run([sys.executable, "-m", "venv", str(mine / ".venv")], check=True)
    assert cli("create", mine, "--with", "six", "--name", "mine", "--json").rc == 0  # the user's venv, their six
    shutil.copy(locked / "kernelenv.lock", mine / "kernelenv.lock")
    res = cli("create", mine, "--name", "mine", "--json")
    assert res.rc == 0, res
    assert "six" in venvmod.installed(mine / ".venv")


def test_export_keeps_the_users_dockerignore(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0 and cli("lock", project, "--json").rc == 0
    (project / ".dockerignore").write_text("node_modules/\n")
    res = cli("export", project, "--format", "dockerfile", "--force", "--json")
    assert res.rc == 0, res
    assert (project / ".dockerignore").read_text() == "node_modules/\n"
    assert {f["state"] for f in res.data["files"] if f["path"].endswith(".dockerignore")} == {"kept"}


def test_verify_refuses_to_write_over_its_sources(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    nbs = project / "nbs"
    nbs.mkdir()
    assert cli("create", project, "--json").rc == 0
    res = cli("verify", project, "--notebooks", nbs, "--output", nbs, "--json")
    assert res.rc == 2 and res.codes == ["USAGE"], res
    res = cli("verify", project, "--timeout", "nan", "--json")
    assert res.codes == ["USAGE"], res
