"""Python 3.7, the oldest supported: every verb that makes, shares, checks or mends an environment.

The virtualenv kernelenv depends on cannot make a working 3.7 venv (its ``_virtualenv.py`` needs
3.8), so 3.7 venvs come from the interpreter's own venv module: what is tested here is that
nothing else notices. Machines of this kind have pyenv's 3.7.16; not finding it fails.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import make_project

from kernelenv import pythons
from kernelenv.pythons import PythonInfo

REAL_ENV = {"PYENV_ROOT": os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")}


def _python37() -> PythonInfo:
    import tempfile

    for f in pythons.discover(Path(tempfile.mkdtemp(prefix="kernelenv-pythons-")), {**os.environ, **REAL_ENV}):
        if f.info and f.info.implementation == "CPython" and f.info.version[:2] == (3, 7):
            return f.info
    pytest.fail("machines of this kind have CPython 3.7 (pyenv 3.7.16); none found")


def test_end_of_life_by_date():
    info = PythonInfo("/x/python3.7", (3, 7, 16), "CPython", "/x", "/x", True)
    assert pythons.end_of_life(info, today=(2023, 6)) is None  # its last month
    assert pythons.end_of_life(info, today=(2023, 7)) == "2023-06"
    note = pythons.end_of_life_note(info, today=(2026, 11))
    assert note is not None and "Python 3.7 reached its end of life in 2023-06" in note and "\n" not in note
    assert pythons.end_of_life(PythonInfo("/x/p", (3, 8, 18), "CPython", "/x", "/x", True), today=(2024, 11)) == "2024-10"
    assert pythons.end_of_life(PythonInfo("/x/p", (3, 13, 0), "CPython", "/x", "/x", True), today=(2026, 11)) is None
    assert pythons.end_of_life(PythonInfo("/x/p", (3, 7, 13), "PyPy", "/x", "/x", True), today=(2026, 11)) is None


def test_pythons_lists_37_as_usable(jupyter, cli):
    res = cli("pythons", "--json", env=REAL_ENV)
    assert res.rc == 0, res
    rows = [p for p in res.data["pythons"] if p["version"] and p["version"].startswith("3.7.")]
    assert rows and all(p["supported"] and p["can_venv"] for p in rows), rows
    assert res.data["oldest_supported"] == "3.7"


@pytest.mark.slow
def test_create_verify_lock_sync_doctor_repair(jupyter, cli, kernel, tmp_path):
    """pandas 1.3.5, the newest for 3.7, needs Python >= 3.7.1: the lock must resolve for 3.7.16, not 3.7."""
    py37 = _python37()
    project = make_project(tmp_path, "old")
    res = cli("create", project, "--python", "3.7", "--with", "pandas", "--json", env=REAL_ENV)
    assert res.rc == 0, res
    assert res.data["python"]["version"] == py37.version_str
    assert res.data["python"]["end_of_life"] == "2023-06" and len(res.data["notes"]) == 1
    human = cli("create", project, env=REAL_ENV)  # a re-run (a sync): the note is one line on stderr
    assert human.rc == 0 and human.stderr.count("reached its end of life") == 1, human
    site = project / ".venv" / "lib" / "python3.7" / "site-packages"
    assert not (site / "_virtualenv.pth").exists()  # virtualenv's helper does not parse on 3.7
    quiet = subprocess.run([project / ".venv" / "bin" / "python", "-c", "import pandas"], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr  # nothing printed at start-up

    res = cli("verify", project, "--only", "environment,numpy,pandas", "--json", env=REAL_ENV)  # the tutorial notebooks
    assert res.rc == 0 and res.data["passed"] == 3, res

    res = cli("lock", project, "--json", env=REAL_ENV)
    assert res.rc == 0, res
    pins = {p["name"]: p["version"] for p in res.data["packages"]}
    assert res.data["python"] == "3.7" and pins["pandas"].startswith("1.3.") and pins["ipykernel"].startswith("6.16."), pins
    res = cli("sync", project, "--json", env=REAL_ENV)
    assert res.rc == 0 and res.data["installed"] == [] and res.data["removed"] == [], res

    res = cli("doctor", project, "--json", env=REAL_ENV)
    assert res.rc == 0 and res.data["problems"] == 0, res
    assert res.data["kernels"][0]["start"]["ok"], res

    # the base Python's venv link broken: repair rebuilds from the lock, the same kernel name
    (project / ".venv" / "bin" / "python").unlink()
    res = cli("repair", project, "--json", env=REAL_ENV)
    assert res.rc == 0 and res.data["source"] == "lock", res
    assert res.data["python"]["version"] == py37.version_str
    k = kernel("old")
    out = k.run("import sys, pandas; print(sys.version_info[:2]); print(pandas.__version__)").split("\n")
    assert out[0] == "(3, 7)" and out[1] == pins["pandas"], out


@pytest.mark.slow
def test_register_an_existing_37_venv(jupyter, cli, kernel, tmp_path):
    py37 = _python37()
    venv = tmp_path / "mine" / "env37"
    subprocess.run([py37.path, "-m", "venv", "--without-pip", venv], check=True)
    res = cli("register", venv, "--name", "mine37", "--json", env=REAL_ENV)
    assert res.rc == 1 and res.codes == ["IPYKERNEL_MISSING"], res
    res = cli("register", venv, "--name", "mine37", "--install-ipykernel", "--json", env=REAL_ENV)
    assert res.rc == 0, res
    assert res.data["python"]["version"] == py37.version_str
    assert not (venv / ".kernelenv.json").exists()  # the user's venv is never marked
    k = kernel("mine37")
    assert k.run("import sys; print(sys.prefix); print(sys.version_info[:2])").split("\n")[:2] == [str(venv), "(3, 7)"]


@pytest.mark.slow
def test_a_profile_without_37_wheels_fails_before_anything_is_made(jupyter, cli, tmp_path):
    """TensorFlow 2.11 still has 3.7 wheels (the resolver picks it); 2.21 has none: refused up front."""
    _python37()
    project = make_project(tmp_path, "tf")
    res = cli("create", project, "--python", "3.7", "--profile", "dl", "--with", "tensorflow-cpu==2.21.0", "--json", env=REAL_ENV)
    assert res.rc == 1 and res.codes == ["PROFILE_UNAVAILABLE"], res
    assert "3.7" in res.envelope["errors"][0]["message"]
    assert not (project / ".venv").exists() and not list(jupyter.kernels.glob("*"))
