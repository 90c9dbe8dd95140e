"""The pytest plugin (kernelenv/pytest_plugin.py): notebooks as tests in the project's kernel, in a user's own pytest run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import sample_notebooks
from conftest import make_project
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def _pytest(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """A user's pytest run in ``cwd`` (its own rootdir and ini file), the plugin loaded from its entry point."""
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--color=no", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _summary(out: str) -> dict[str, int]:
    last = [ln for ln in out.splitlines() if re.search(r"\d+ (passed|failed)", ln)][-1]
    return {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|error)", last)}


@pytest.fixture
def user_repo(tmp_path):
    """A user's repository: tests/, a notebooks folder of real-looking lessons and a passing one."""
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_unit.py").write_text("def test_unit():\n    assert 1 + 1 == 2\n")
    (repo / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    sample_notebooks.write(repo / "notebooks")
    nb = new_notebook(
        cells=[new_markdown_cell("# Works · 能运行"), new_code_cell("import numpy as np\nprint(np.arange(3).sum())")]
    )
    (repo / "notebooks" / "basics").mkdir()
    nbformat.write(nb, str(repo / "notebooks" / "basics" / "works.ipynb"))
    (repo / "notebooks" / ".ipynb_checkpoints").mkdir()
    nbformat.write(nb, str(repo / "notebooks" / ".ipynb_checkpoints" / "works-checkpoint.ipynb"))
    return repo


def test_the_plugin_is_inert_without_its_option(user_repo):
    code = (
        "import sys, kernelenv.pytest_plugin\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('nbclient', 'nbformat', 'jupyter_client')"
        " or m in ('kernelenv.nbrun', 'kernelenv.context')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"  # importing the plugin costs nothing beyond pytest
    (user_repo / "pytest.ini").write_text("[pytest]\n")  # collect everything under the repo
    r = _pytest(user_repo, "--co", "-q")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "tests/test_unit.py::test_unit" in r.stdout and ".ipynb" not in r.stdout
    helped = _pytest(user_repo, "--help")
    assert "--kernelenv-notebooks=DIR" in helped.stdout  # registered through the pytest11 entry point


def test_notebooks_run_as_tests_with_verify_report(jupyter, cli, user_repo):
    project = make_project(user_repo.parent, "analysis")
    assert cli("create", project, "--profile", "data", "--json").rc == 0
    r = _pytest(user_repo, "--kernelenv-notebooks", "notebooks", "--kernelenv-project", str(project))
    out = r.stdout
    assert r.returncode == 1, out + r.stderr
    assert _summary(out) == {"passed": 2, "failed": 2}, out  # test_unit, works; two lessons fail
    assert "checkpoint" not in out and "collected 4 items" in out
    # the same lines verify prints for the same notebooks
    verify = cli("verify", project, "--notebooks", user_repo / "notebooks")
    expected = [ln.strip() for ln in verify.stdout.splitlines() if ln.startswith(" " * 11)]
    assert len(expected) == 4, verify.stdout  # cell, line and error of each failing lesson
    for ln in expected:
        assert ln in out, (ln, out)
    assert "FAILED notebooks/sales-ledger.ipynb::sales-ledger - sales-ledger.ipynb: " in out, out

    # every failing cell with --kernelenv-keep-going; in parallel with pytest-xdist
    r = _pytest(
        user_repo, "--kernelenv-notebooks", "notebooks", "--kernelenv-project", str(project), "--kernelenv-keep-going", "-n", "2"
    )
    assert r.returncode == 1 and _summary(r.stdout) == {"passed": 2, "failed": 2}, r.stdout + r.stderr
    assert "raised in In [2] (cell 5), line 8: return sum(self.amounts) / len(self.amounts)" in r.stdout
    assert (
        "raised in In [2] (cell 4), line 3: raise ValueError(f'window {size} is longer than the signal ({n} samples)')"
        in r.stdout
    )
    assert "\x1b" not in r.stdout

    # the ini option; explicit paths narrow it; -k selects notebooks too
    (user_repo / "pytest.ini").write_text(
        f"[pytest]\ntestpaths = tests\nkernelenv_notebooks = notebooks\nkernelenv_project = {project}\n"
    )
    r = _pytest(user_repo, "-k", "works or unit")
    assert r.returncode == 0 and _summary(r.stdout) == {"passed": 2}, r.stdout + r.stderr
    r = _pytest(user_repo, "tests")
    assert r.returncode == 0 and _summary(r.stdout) == {"passed": 1}, r.stdout + r.stderr
    r = _pytest(user_repo, "notebooks/basics/works.ipynb")
    assert r.returncode == 0 and _summary(r.stdout) == {"passed": 1}, r.stdout + r.stderr


def test_no_kernel_for_the_project_says_how_to_make_one(jupyter, user_repo, tmp_path):
    nothing = make_project(tmp_path, "nothing")
    r = _pytest(user_repo, "--kernelenv-notebooks", "notebooks/basics", "--kernelenv-project", str(nothing))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "KERNEL_NOT_FOUND" in r.stdout and f"kernelenv create {nothing}" in r.stdout


def test_a_tutorial_notebook_the_kernel_cannot_run_is_skipped_as_verify_skips_it(jupyter, cli, tmp_path):
    """A minimal project (no numpy): the tutorial notebooks copied by `kernelenv notebooks` say what they import;
    pytest skips those the kernel cannot run, with the fix, as verify does (before: they failed)."""
    project = make_project(tmp_path, "lean")
    assert cli("create", project, "--json").rc == 0
    assert cli("notebooks", project, "--json").rc == 0
    (project / "pytest.ini").write_text("[pytest]\n")
    r = _pytest(project, "--kernelenv-notebooks", "notebooks", "--kernelenv-project", str(project), "-rs", "notebooks")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"1 passed, 3 skipped", r.stdout), r.stdout
    assert "has no numpy" in r.stdout and "--profile data" in r.stdout, r.stdout
