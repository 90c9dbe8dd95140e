"""list, remove and register against real specs and venvs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from conftest import make_project


def write_foreign(kdir: Path, name: str, argv0: str, display: str = "Foreign") -> Path:
    d = kdir / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [argv0, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": display,
                "language": "python",
            }
        )
    )
    return d


def by_name(rows, name, where=None):
    hits = [r for r in rows if r["name"] == name and (where is None or r["resource_dir"].startswith(str(where)))]
    assert len(hits) == 1, rows
    return hits[0]


def test_list_shows_every_kind_of_spec(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    write_foreign(jupyter.kernels, "foreign-ok", sys.executable)
    write_foreign(jupyter.kernels, "gone", str(tmp_path / "deleted" / "python"))
    bad = jupyter.kernels / "broken"
    bad.mkdir()
    (bad / "kernel.json").write_text("{not json")
    # a same-named spec earlier on the search path (JUPYTER_PATH comes before the data dir)
    write_foreign(jupyter.path / "kernels", "demo", sys.executable, "Shadowing")
    # a venv without ipykernel
    nokernel = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(nokernel)], check=True)
    write_foreign(jupyter.kernels, "bare", str(nokernel / "bin" / "python"))

    res = cli("list", "--json")
    assert res.rc == 0, res
    rows = res.data["kernels"]
    mine = by_name(rows, "demo", jupyter.kernels)
    assert mine["owned"] and mine["project"] == str(project) and mine["status"] == "shadowed"
    assert by_name(rows, "demo", jupyter.path)["status"] == "ok"
    assert by_name(rows, "foreign-ok")["owned"] is False and by_name(rows, "foreign-ok")["status"] == "ok"
    assert by_name(rows, "gone")["status"] == "interpreter-missing"
    assert by_name(rows, "broken")["status"] == "invalid-spec"
    assert by_name(rows, "bare")["status"] == "ipykernel-missing"
    human = cli("list")
    assert human.rc == 0 and "interpreter-missing" in human.stdout and "kernelenv: " in human.stdout


def test_list_at_1000_specs_is_fast_and_spawns_nothing(jupyter, cli, tmp_path):
    for i in range(1000):
        write_foreign(jupyter.kernels, f"k{i:04d}", sys.executable)
    t = time.monotonic()
    res = cli("list", "--json")
    elapsed = time.monotonic() - t
    assert res.rc == 0 and len([r for r in res.data["kernels"] if r["name"].startswith("k")]) == 1000
    assert elapsed < 3, elapsed  # generous bound on a noisy machine; bench/ has the ratio


def test_remove_deletes_spec_and_venv_and_nothing_else(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    (project / "analysis.ipynb").write_text("{}")
    assert cli("create", project, "--json").rc == 0
    dry = cli("remove", "demo", "--dry-run", "--json")
    assert dry.rc == 0 and dry.data["venv_removed"] == str(project / ".venv") and dry.data["dry_run"] is True
    assert (project / ".venv").exists() and (jupyter.kernels / "demo").exists()
    res = cli("remove", "demo", "--json")
    assert res.rc == 0, res
    assert res.data["kernelspec_removed"] == str(jupyter.kernels / "demo")
    assert res.data["venv_removed"] == str(project / ".venv")
    assert not (jupyter.kernels / "demo").exists() and not (project / ".venv").exists()
    assert sorted(p.name for p in project.iterdir()) == ["analysis.ipynb"]
    assert [k for k in cli("list", "--json").data["kernels"] if k["owned"]] == []


def test_remove_by_project_dir_and_keep_venv(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    res = cli("remove", project, "--keep-venv", "--json")
    assert res.rc == 0, res
    assert res.data["venv_removed"] is None and res.data["venv_kept_reason"] == "--keep-venv"
    assert (project / ".venv" / "pyvenv.cfg").exists()


def test_remove_refuses_foreign_without_force(jupyter, cli, tmp_path):
    spec = write_foreign(jupyter.kernels, "theirs", sys.executable)
    res = cli("remove", "theirs", "--json")
    assert res.rc == 1 and res.codes == ["NOT_OWNED"]
    assert (spec / "kernel.json").exists()
    res = cli("remove", "theirs", "--force", "--json")
    assert res.rc == 0 and not spec.exists()
    assert Path(sys.executable).exists()


def test_remove_unknown(jupyter, cli):
    res = cli("remove", "nope", "--json")
    assert res.rc == 1 and res.codes == ["KERNEL_NOT_FOUND"]


def test_remove_never_deletes_a_venv_kernelenv_did_not_make(jupyter, cli, tmp_path):
    """A spec that claims a venv whose own mark is missing (or names another path) keeps the venv."""
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    (project / ".venv" / ".kernelenv.json").unlink()
    res = cli("remove", "demo", "--json")
    assert res.rc == 0 and res.data["venv_removed"] is None
    assert (project / ".venv" / "pyvenv.cfg").exists()


def test_remove_moved_project_keeps_the_moved_venv(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    moved = tmp_path / "moved"
    shutil.move(str(project), moved)
    project.mkdir()
    os.symlink(moved / ".venv", project / ".venv")  # the old path now a link into user files
    res = cli("remove", "demo", "--json")
    assert res.rc == 0 and res.data["venv_removed"] is None
    assert (moved / ".venv" / "pyvenv.cfg").exists() and (project / ".venv").is_symlink()


def test_register_existing_venv(jupyter, cli, kernel, tmp_path):
    env = tmp_path / "envs" / "old"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    res = cli("register", env, "--json")
    assert res.rc == 1 and res.codes == ["IPYKERNEL_MISSING"]
    assert "--install-ipykernel" in res.envelope["errors"][0]["hint"]
    assert not (jupyter.kernels / "old").exists()
    res = cli("register", env, "--install-ipykernel", "--json")
    assert res.rc == 0, res
    assert res.data["installed"] == ["ipykernel"]
    spec = json.loads((jupyter.kernels / "old" / "kernel.json").read_text())
    assert spec["argv"][0] == str(env / "bin" / "python") and spec["env"]["VIRTUAL_ENV"] == str(env)
    k = kernel("old")
    assert k.run("import sys; print(sys.prefix)").strip() == str(env)
    # removing a registered kernel never deletes the venv kernelenv did not make
    res = cli("remove", "old", "--json")
    assert res.rc == 0 and res.data["venv_removed"] is None
    assert (env / "pyvenv.cfg").exists()


def test_register_interpreter_file_and_name(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    res = cli("register", project / ".venv" / "bin" / "python", "--name", "again", "--json")
    assert res.rc == 0, res
    assert res.data["venv"] == str(project / ".venv")
    res = cli("register", tmp_path / "nothing", "--json")
    assert res.rc == 1 and res.codes == ["PYTHON_NOT_FOUND"]


def test_create_reusing_the_users_own_venv_never_claims_it(jupyter, cli, tmp_path):
    """A venv the user made is reused by create, and remove keeps it: create adds no ownership mark."""
    project = make_project(tmp_path)
    subprocess.run([sys.executable, "-m", "venv", str(project / ".venv")], check=True)
    res = cli("create", project, "--json")
    assert res.rc == 0 and res.data["venv_created"] is False, res
    assert not (project / ".venv" / ".kernelenv.json").exists()
    res = cli("remove", project, "--json")
    assert res.rc == 0 and res.data["venv_removed"] is None, res
    assert (project / ".venv" / "pyvenv.cfg").exists()


def test_register_then_create_of_the_same_venv_is_no_clash(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    taken = cli("register", project / ".venv", "--name", "demo", "--json")  # create's own kernel: not taken over
    assert taken.rc == 1 and taken.codes == ["KERNEL_EXISTS"], taken
    assert cli("register", project / ".venv", "--name", "demo-2", "--json").rc == 0
    res = cli("create", project, "--json")
    assert res.rc == 0, res
    assert cli("register", project / ".venv", "--name", "demo-2", "--json").rc == 0  # its own register: updated


def test_remove_keeps_a_venv_another_kernel_still_uses(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    shutil.copytree(jupyter.kernels / "demo", jupyter.kernels / "demo-copy")  # a user's copy, mark included
    res = cli("remove", "demo-copy", "--json")
    assert res.rc == 1 and res.codes == ["NOT_OWNED"], res  # a copied mark is not kernelenv's
    res = cli("remove", "demo", "--json")
    assert res.rc == 0 and res.data["venv_removed"] is None, res
    assert "demo-copy" in res.data["venv_kept_reason"]
    assert (project / ".venv" / "pyvenv.cfg").exists()
    res = cli("remove", "demo-copy", "--force", "--json")
    assert res.rc == 0 and res.data["venv_removed"] is None, res


def test_list_flags_a_venv_whose_pyvenv_cfg_is_gone(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    (project / ".venv" / "pyvenv.cfg").unlink()
    row = by_name(cli("list", "--json").data["kernels"], "demo")
    assert row["status"] == "venv-broken" and "pyvenv.cfg" in row["problems"][0]
    assert cli("prune", "--json").data["removed"] == []  # broken, not gone: create rebuilds it


def test_create_rebuilds_its_own_venv_that_lost_pyvenv_cfg(jupyter, cli, kernel, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    (project / ".venv" / "pyvenv.cfg").unlink()
    res = cli("create", project, "--json")
    assert res.rc == 0 and res.data["venv_created"] is True, res
    assert kernel("demo").run("import sys; print(sys.prefix)").strip() == str(project / ".venv")
