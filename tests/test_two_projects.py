"""The tutorial's point, for real: two projects, two Pythons, two package sets, two kernels at once.

The older project says what it needs in pyproject.toml ([project] requires-python and
dependencies); the newer one in kernelenv.toml. Both kernels run side by side, each
reports its own Python and packages, and neither can import the other's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import make_project

from kernelenv import pythons

REAL_ENV = {"PYENV_ROOT": os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")}


@pytest.mark.slow
def test_numpy_on_an_older_python_and_pandas_on_a_newer_one(jupyter, cli, kernel, tmp_path):
    found = [
        f
        for f in pythons.discover(tmp_path / "cache", {**os.environ, **REAL_ENV})
        if f.info and f.info.supported and f.info.implementation == "CPython"
    ]
    minors = sorted({f.info.version[:2] for f in found})
    assert len(minors) >= 2, f"two CPython versions are needed, found {minors}"
    old, new = minors[0], minors[-1]

    older = make_project(tmp_path, "older-numpy")
    (older / "pyproject.toml").write_text(
        f'[project]\nname = "older-numpy"\nversion = "0.1"\nrequires-python = "=={old[0]}.{old[1]}.*"\ndependencies = ["numpy"]\n'
    )
    newer = make_project(tmp_path, "newer-pandas")
    (newer / "kernelenv.toml").write_text(f'python = "{new[0]}.{new[1]}"\npackages = ["pandas"]\n')

    for project in (older, newer):
        res = cli("create", project, "--json", env=REAL_ENV)
        assert res.rc == 0, res
    assert {p.name for p in jupyter.kernels.iterdir()} >= {"older-numpy", "newer-pandas"}

    k_old = kernel("older-numpy")
    k_new = kernel("newer-pandas")  # both running at the same time
    v_old = k_old.run("import sys, numpy; print(sys.version_info[:2]); print(numpy.__version__)").split()
    v_new = k_new.run("import sys, pandas; print(sys.version_info[:2]); print(pandas.__version__)").split()
    assert "".join(v_old[:2]) == f"({old[0]},{old[1]})"
    assert "".join(v_new[:2]) == f"({new[0]},{new[1]})"
    assert v_old[2][0].isdigit() and v_new[2][0].isdigit()

    # isolation: each kernel lacks the other's package, and lives in its own venv
    assert k_old.run("import importlib.util as u; print(u.find_spec('pandas') is None)").strip() == "True"
    # pandas pulls numpy into the newer venv, but the old one never has pandas; the new one has no
    # numpy *of the old venv*: its numpy is its own
    where_old = k_old.run("import numpy, sys; print(numpy.__file__); print(sys.prefix)").split()
    where_new = k_new.run("import numpy, sys; print(numpy.__file__); print(sys.prefix)").split()
    assert where_old[0].startswith(str(older / ".venv")) and where_old[1] == str(older / ".venv")
    assert where_new[0].startswith(str(newer / ".venv")) and where_new[1] == str(newer / ".venv")
    with pytest.raises(AssertionError, match="ModuleNotFoundError"):
        k_old.run("import pandas")
    # and the older one still answers while the newer one works
    assert k_new.run("import pandas as pd; print(pd.DataFrame({'a': [1, 2]})['a'].sum())").strip() == "3"
    assert k_old.run("import numpy as np; print(int(np.arange(4).sum()))").strip() == "6"
