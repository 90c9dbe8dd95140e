"""A real create and kernel start on every CPython from 3.7 to 3.13 found on the machine.

Machines of this kind have all of them: fewer than three found fails (it does not skip), and
3.7 (the oldest supported, made with its own venv module: virtualenv no longer serves it) must be
among them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from conftest import make_project

from kernelenv import pythons

REAL_ENV = {"PYENV_ROOT": os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")}
WANTED = [(3, m) for m in range(7, 14)]


def _found() -> dict[tuple[int, int], pythons.PythonInfo]:
    cache = Path(tempfile.mkdtemp(prefix="kernelenv-pythons-"))
    out: dict[tuple[int, int], pythons.PythonInfo] = {}
    for f in pythons.discover(cache, {**os.environ, **REAL_ENV}):
        if f.info and f.info.implementation == "CPython" and f.info.version[:2] in WANTED:
            out.setdefault(f.info.version[:2], f.info)  # newest patch release first
    return out


FOUND = _found()


def test_at_least_three_cpythons_between_37_and_313():
    assert len(FOUND) >= 3, f"found only {sorted(FOUND)}: this machine should have CPython 3.7 to 3.13"
    assert (3, 7) in FOUND, "machines of this kind have CPython 3.7 (pyenv)"


@pytest.mark.slow
@pytest.mark.parametrize("minor", sorted(FOUND), ids=[f"{a}.{b}" for a, b in sorted(FOUND)])
def test_create_and_start_a_kernel(minor, jupyter, cli, kernel, tmp_path):
    want = f"{minor[0]}.{minor[1]}"
    project = make_project(tmp_path, f"py{minor[0]}{minor[1]}")
    res = cli("create", project, "--python", want, "--json", env=REAL_ENV)
    assert res.rc == 0, res
    assert res.data["python"]["version"] == FOUND[minor].version_str
    # past its end of life: one note, not a failure (3.7 and 3.8 are; 3.13 is not)
    eol = pythons.end_of_life(FOUND[minor])
    assert res.data["python"]["end_of_life"] == eol and (eol is not None) == bool(res.data["notes"])
    if minor in ((3, 7), (3, 8)):
        assert eol is not None and f"Python {want} reached its end of life" in res.data["notes"][0]
    if minor == (3, 13):
        assert eol is None
    if minor < (3, 8):  # its own venv module made it: no virtualenv helper that 3.7 cannot parse
        assert not (project / ".venv" / "lib" / f"python{want}" / "site-packages" / "_virtualenv.py").exists()
    k = kernel(project.name)
    out = k.run("import sys, ipykernel; print(sys.version_info[:3]); print(sys.prefix); print(ipykernel.__version__)")
    version, prefix, ipk = out.split("\n")[:3]
    assert version == str(FOUND[minor].version) and prefix == str(project / ".venv")
    assert ipk[0].isdigit()
    assert k.run("!python -c 'import sys; print(sys.prefix)'").strip() == str(project / ".venv")


@pytest.mark.slow
@pytest.mark.parametrize("oldest", [(3, 7), (3, 8)], ids=["3.7", "3.8"])
def test_pip_installer_on_the_oldest(oldest, jupyter, cli, kernel, tmp_path):
    """virtualenv's bundled pip no longer seeds 3.7 and 3.8: create must still give a venv with pip."""
    if oldest not in FOUND:
        pytest.fail(f"machines of this kind have CPython {oldest}")
    project = make_project(tmp_path, "oldpip")
    res = cli("create", project, "--python", f"{oldest[0]}.{oldest[1]}", "--installer", "pip", "--json", env=REAL_ENV)
    assert res.rc == 0, res
    assert res.data["installer"] == "pip"
    assert (project / ".venv" / "bin" / "pip").exists()
    k = kernel("oldpip")
    assert k.run("import sys; print(sys.version_info[:2])").strip() == str(oldest)
    site = project / ".venv" / "lib" / f"python{oldest[0]}.{oldest[1]}" / "site-packages"
    assert k.run("!pip --version").split()[3] == str(site / "pip")
