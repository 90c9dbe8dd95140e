"""prune: kernelspecs whose interpreter is gone; kernelenv's own by default; venvs only when owned."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from conftest import make_project


def py_env() -> dict:
    return {"PATH": f"{Path(sys.base_prefix) / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def _spec(kernels: Path, name: str, argv0: str, mark: dict | None) -> Path:
    d = kernels / name
    d.mkdir(parents=True)
    meta = {"kernelenv": mark} if mark else {}
    (d / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [argv0, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": name,
                "language": "python",
                "metadata": meta,
            }
        )
    )
    return d


def test_prune_owned_foreign_and_dry_run(tmp_path, cli, jupyter):
    proj = make_project(tmp_path, "gone")
    r = cli("create", proj, "--json", env=py_env())
    assert r.rc == 0, r
    healthy = make_project(tmp_path, "alive")
    assert cli("create", healthy, "--json", env=py_env()).rc == 0
    (proj / ".venv" / "bin" / "python").unlink()
    foreign = _spec(jupyter.kernels, "foreign", str(tmp_path / "nowhere" / "python"), None)
    # a kernelenv spec naming a venv kernelenv did not make at that path: the venv is never deleted
    copied = tmp_path / "copied-venv"
    copied.mkdir()
    (copied / "pyvenv.cfg").write_text("home = /nowhere\n")
    (copied / ".kernelenv.json").write_text(json.dumps({"created_by": "kernelenv", "venv": str(tmp_path / "original")}))
    _spec(jupyter.kernels, "copied", str(copied / "bin" / "python"), {"project": None, "venv": str(copied)})

    r = cli("prune", "--dry-run", "--json")
    assert r.rc == 0, r
    assert sorted(x["name"] for x in r.data["removed"]) == ["copied", "gone"]
    assert [k["name"] for k in r.data["kept"]] == ["foreign"]
    assert (jupyter.kernels / "gone").exists() and (proj / ".venv").exists()

    r = cli("prune", "--json")
    assert r.rc == 0, r
    by = {x["name"]: x for x in r.data["removed"]}
    # its python is gone, its packages are not: repair can rebuild it, so prune keeps it (issue 10.3)
    assert by["gone"]["venv_removed"] is None and "kernelenv repair" in by["gone"]["venv_kept_reason"]
    assert (proj / ".venv" / "pyvenv.cfg").exists()
    assert by["copied"]["venv_removed"] is None and copied.is_dir() and "left in place" in by["copied"]["venv_kept_reason"]
    assert not (jupyter.kernels / "gone").exists() and foreign.exists() and (jupyter.kernels / "alive").exists()
    assert (proj / ".." / "alive" / ".venv").exists()

    r = cli("prune", "--include-foreign", "--json")
    assert [x["name"] for x in r.data["removed"]] == ["foreign"] and not foreign.exists()
    r = cli("prune")
    assert r.rc == 0 and "nothing to prune" in r.stdout
