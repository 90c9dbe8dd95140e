"""The tutorial's case study (examples/case-study/README.md), for real, exactly as the README says.

A on Python 3.7 with numpy, B on Python 3.8 with pandas, from the example's own project files;
both kernels started at once with jupyter_client, each importing its own package and reporting
its own ``sys.version``; ``add`` of a package that the running A kernel then imports without a
restart; ``remove A`` leaves B (its venv, its kernelspec, its running kernel) untouched.
Every ``kernelenv`` line of the README's steps is run here, in order; a README line this test
does not run fails it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from conftest import REPO

EXAMPLE = REPO / "examples" / "case-study"
REAL_ENV = {"PYENV_ROOT": os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")}


def readme_steps() -> list[list[str]]:
    """The ``kernelenv`` lines of the README's first ```sh block, as argv lists (without "kernelenv")."""
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "the README has no ```sh block of steps"
    return [shlex.split(line)[1:] for line in block.group(1).splitlines() if line.startswith("kernelenv ")]


def _answer(text: str) -> list[str]:
    """[sys.version (it may span lines), then the last two lines] of what a kernel or command printed."""
    lines = text.rstrip("\n").split("\n")
    return ["\n".join(lines[:-2]), *lines[-2:]]


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a digest of its bytes (links by their target)."""
    out = {}
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for n in names:
            p = Path(root) / n
            rel = str(p.relative_to(folder))
            out[rel] = os.readlink(p) if p.is_symlink() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.mark.slow
def test_the_case_study(jupyter, cli, kernel, tmp_path):
    work = tmp_path / "case-study"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns(".venv", "kernelenv.lock"))
    steps = iter(readme_steps())

    def step(expected: list[str]):
        got = next(steps)
        assert got == expected, f"the README's next step is {got}, this test runs {expected}"
        res = cli(*got, cwd=work, env=REAL_ENV)
        assert res.rc == 0, res
        return res

    res = step(["create", "A"])
    assert "Python 3.7 reached its end of life" in res.stderr and "Python 3.7 (A)" in res.stdout, res
    step(["create", "B"])
    res = step(["list"])
    rows = {ln.split()[0]: ln.split()[1:4] for ln in res.stdout.splitlines()[1:] if ln.strip()}
    assert rows["a"] == ["ok", "kernelenv:", str(work / "A")] and rows["b"] == ["ok", "kernelenv:", str(work / "B")], res

    # both kernels at once, each on its own Python with its own package
    k_a, k_b = kernel("a"), kernel("b")
    ver_a = _answer(k_a.run("import sys, numpy; print(sys.version); print(numpy.__version__); print(sys.prefix)"))
    ver_b = _answer(k_b.run("import sys, pandas; print(sys.version); print(pandas.__version__); print(sys.prefix)"))
    assert ver_a[0].startswith("3.7.") and ver_b[0].startswith("3.8."), (ver_a, ver_b)
    assert ver_a[2] == str(work / "A" / ".venv") and ver_b[2] == str(work / "B" / ".venv")
    with pytest.raises(AssertionError, match="ModuleNotFoundError"):
        k_a.run("import pandas")
    res = step(["run", "--project", "A", "--", "python", "-c", "import sys, numpy; print(sys.version); print(numpy.__version__)"])
    assert _answer(res.stdout + "-") == [*ver_a[:2], "-"], res  # "-": the prefix line run does not print
    res = step(
        ["run", "--project", "B", "--", "python", "-c", "import sys, pandas; print(sys.version); print(pandas.__version__)"]
    )
    assert _answer(res.stdout + "-") == [*ver_b[:2], "-"], res

    # add a package; the running A kernel imports it, no restart
    with pytest.raises(AssertionError, match="ModuleNotFoundError"):
        k_a.run("import tabulate")
    step(["add", "--project", "A", "tabulate"])
    text = (work / "A" / "kernelenv.toml").read_text()
    assert text.startswith("# Project A of the case study") and 'packages = ["numpy", "tabulate"]' in text, text
    version = k_a.run("import tabulate; print(tabulate.__version__)").strip()
    res = step(["run", "--project", "A", "--", "python", "-c", "import tabulate; print(tabulate.__version__)"])
    assert res.stdout.strip() == version, res

    # remove A: B untouched, its running kernel still answers and a new one starts
    b_venv, b_spec = _tree(work / "B" / ".venv"), _tree(jupyter.kernels / "b")
    step(["remove", "A"])
    assert not (work / "A" / ".venv").exists() and not (jupyter.kernels / "a").exists()
    assert (work / "A" / "kernelenv.toml").read_text() == text  # the project itself is the user's
    assert _tree(work / "B" / ".venv") == b_venv and _tree(jupyter.kernels / "b") == b_spec
    assert k_b.run("import pandas as pd; print(pd.DataFrame({'x': [1, 2, 3]}).x.sum())").strip() == "6"
    assert kernel("b").run("import sys; print(sys.version)").strip() == ver_b[0].strip()
    res = step(["run", "--project", "B", "--", "python", "-c", "import pandas; print(pandas.__version__)"])
    assert res.stdout.strip() == ver_b[1]
    assert next(steps, None) is None, "the README has steps this test does not run"
