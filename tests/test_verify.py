"""verify: real venvs, real kernels, notebooks executed with nbclient."""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest
from conftest import make_project
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from kernelenv import nbrun


def _write_nb(path: Path, *cells: str, markdown_first: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = [new_code_cell(c) for c in cells]
    if markdown_first:
        body.insert(0, new_markdown_cell("# title"))
    nbformat.write(new_notebook(cells=body), str(path))
    return path


def _by_name(data: dict) -> dict:
    return {nb["name"]: nb for nb in data["notebooks"]}


@pytest.fixture
def data_project(jupyter, cli, tmp_path):
    project = make_project(tmp_path, "analysis")
    r = cli("create", project, "--profile", "data", "--json")
    assert r.rc == 0, r
    return project


def test_tutorial_notebooks_shipped():
    names = sorted(p.name for p in nbrun.tutorial_dir().glob("*.ipynb"))
    assert names == ["00-environment.ipynb", "01-numpy.ipynb", "02-pandas.ipynb", "03-tensorflow.ipynb"]
    for p in nbrun.tutorial_dir().glob("*.ipynb"):
        nb = nbformat.read(str(p), as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelenv"]["topic"]
        text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), f"{p.name} has no Chinese text"
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{p.name} ships outputs"


def test_data_profile_passes_and_tensorflow_is_skipped_with_fix(data_project, cli):
    r = cli("verify", data_project, "--json")
    assert r.rc == 0, r  # a notebook the kernel cannot run, not asked for by name, is skipped
    assert r.envelope["status"] == "ok" and r.envelope["errors"] == []
    rows = _by_name(r.data)
    for name in ("00-environment", "01-numpy", "02-pandas"):
        assert rows[name]["status"] == "passed", rows[name]
        assert Path(rows[name]["output"]).is_file()
        assert rows[name]["skip"] is None and rows[name]["action"] is None
    tf = rows["03-tensorflow"]
    assert tf["status"] == "skipped" and tf["duration"] == 0 and tf["error"] is None
    assert tf["skip"]["reason"] == "missing-modules" and "tensorflow" in tf["skip"]["message"]
    assert tf["fix"] == f"kernelenv create {data_project} --profile dl"
    assert tf["action"] == {"label": "Install the dl profile", "argv": ["create", str(data_project), "--profile", "dl"]}
    assert (r.data["passed"], r.data["failed"], r.data["skipped"]) == (3, 0, 1)
    # asked for by name, it is a failure
    by_name = cli("verify", data_project, "--only", "tensorflow", "--json")
    assert by_name.rc == 1 and by_name.data["notebooks"][3]["status"] == "failed", by_name
    assert by_name.data["notebooks"][3]["error"]["fix"] == f"kernelenv create {data_project} --profile dl"
    out = Path(r.data["output_dir"])
    assert out == data_project / ".kernelenv" / "verify"
    assert (data_project / ".kernelenv" / ".gitignore").read_text().strip().endswith("*")
    executed = nbformat.read(str(out / "01-numpy.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "[1 2 3 4 5]" in printed
    assert executed.metadata["kernelspec"]["name"] == "analysis"
    # the progress lines on stderr are JSON, one per line, and nothing else
    events = [json.loads(line) for line in r.stderr.splitlines() if line.strip()]
    assert all("progress" in e for e in events) and any("passed" in e["progress"]["message"] for e in events)

    # --only runs what was asked for and skips the rest
    r = cli("verify", data_project, "--only", "numpy,pandas", "--json")
    assert r.rc == 0, r
    rows = _by_name(r.data)
    assert [rows[n]["status"] for n in sorted(rows)] == ["skipped", "passed", "passed", "skipped"]
    assert rows["00-environment"]["skip"] == {"reason": "not-selected", "message": "not selected with --only"}


def test_environment_notebook_shows_the_venv_python(data_project, cli):
    r = cli("verify", data_project, "--only", "environment", "--json")
    assert r.rc == 0, r
    nb = nbformat.read(r.data["notebooks"][0]["output"], as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert str(data_project / ".venv" / "bin" / "python") in first.outputs[0]["text"]


def test_minimal_env_gets_the_data_profile_fix(jupyter, cli, tmp_path):
    project = make_project(tmp_path, "bare")
    assert cli("create", project, "--json").rc == 0
    r = cli("verify", project, "--only", "numpy")
    assert r.rc == 1
    assert "FAILED" in r.stdout and "01-numpy" in r.stdout
    assert f"fix: kernelenv create {project} --profile data" in r.stdout


def test_minimal_env_skips_what_it_cannot_run(jupyter, cli, tmp_path):
    """Issue 14: notebooks never run for a missing profile are skipped (with the fix), not failed."""
    project = make_project(tmp_path, "bare")
    assert cli("create", project, "--json").rc == 0
    r = cli("verify", project, "--json")
    assert r.rc == 0, r
    rows = _by_name(r.data)
    assert rows["00-environment"]["status"] == "passed"
    for name, profile in (("01-numpy", "data"), ("02-pandas", "data"), ("03-tensorflow", "dl")):
        row = rows[name]
        assert row["status"] == "skipped" and row["error"] is None, row
        assert row["skip"]["reason"] == "missing-modules"
        assert row["action"] == {
            "label": f"Install the {profile} profile",
            "argv": ["create", str(project), "--profile", profile],
        }
        assert row["fix"] == f"kernelenv create {project} --profile {profile}"
    assert (r.data["passed"], r.data["failed"], r.data["skipped"]) == (1, 0, 3)
    r = cli("verify", project)
    assert r.rc == 0 and "1 passed, 0 failed, 3 skipped" in r.stdout
    assert "skipped" in r.stdout and f"fix: kernelenv create {project} --profile data" in r.stdout
    assert "the kernel's environment has no numpy (the data profile)" in r.stdout


def test_user_notebooks_failure_names_cell_line_and_error(data_project, cli, tmp_path):
    mine = tmp_path / "mine"
    _write_nb(mine / "a-good.ipynb", "open('made-here.txt', 'w').write('x')\nprint('fine')")
    _write_nb(mine / "b-bad.ipynb", "x = 1", "y = 2\nassert y == 3, 'y should be 3'\nprint('never')", markdown_first=True)
    _write_nb(mine / "c-needs.ipynb", "import numpy\nimport sklearn")
    r = cli("verify", data_project, "--notebooks", mine)
    assert r.rc == 1, r
    out = r.stdout
    assert "passed" in out and "a-good" in out
    assert "In [2] (cell 3), line 2: assert y == 3, 'y should be 3'" in out
    assert "AssertionError: y should be 3" in out
    assert "In [1] (cell 1), line 2: import sklearn" in out
    assert f"fix: kernelenv create {data_project} --with scikit-learn" in out
    assert "Traceback" not in out and "\x1b[" not in out
    assert (mine / "made-here.txt").exists()  # a user's notebook runs in its own folder
    r = cli("verify", data_project, "--notebooks", mine / "b-bad.ipynb", "--json")
    e = r.data["notebooks"][0]["error"]
    assert (e["cell"], e["execution_count"], e["line"], e["ename"], e["fix"]) == (3, 2, 2, "AssertionError", None)
    r = cli("verify", data_project, "--notebooks", mine / "c-needs.ipynb", "--json")
    row = r.data["notebooks"][0]
    assert row["action"] == {"label": "Install scikit-learn", "argv": ["create", str(data_project), "--with", "scikit-learn"]}
    assert row["fix"] == row["error"]["fix"] == f"kernelenv create {data_project} --with scikit-learn"


def test_notebooks_run_in_parallel(data_project, cli, tmp_path):
    mine = tmp_path / "sleepers"
    for i in range(2):
        _write_nb(mine / f"s{i}.ipynb", "import time\ntime.sleep(3)")
    t = time.monotonic()
    r = cli("verify", data_project, "--notebooks", mine, "--json")
    wall = time.monotonic() - t
    assert r.rc == 0, r
    durations = [nb["duration"] for nb in r.data["notebooks"]]
    if r.data["jobs"] > 1:
        assert wall < sum(durations), (wall, durations)


def test_timeout_fails_the_notebook_and_stops_its_kernel(data_project, cli, tmp_path):
    nb = _write_nb(
        tmp_path / "slow" / "slow.ipynb", "import os\nopen('pid', 'w').write(str(os.getpid()))\nimport time\ntime.sleep(120)"
    )
    t = time.monotonic()
    r = cli("verify", data_project, "--notebooks", nb, "--timeout", "6", "--json")
    assert r.rc == 1 and time.monotonic() - t < 60, r
    e = r.data["notebooks"][0]["error"]
    assert "Timeout" in e["ename"] or "timed out" in e["evalue"].lower() or "timeout" in e["evalue"].lower(), e
    pid = int((tmp_path / "slow" / "pid").read_text())
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists(), "the kernel outlived verify"


def test_errors(jupyter, cli, tmp_path, data_project):
    r = cli("verify", make_project(tmp_path, "nothing-here"), "--json")
    assert r.rc == 1 and r.codes == ["KERNEL_NOT_FOUND"], r
    r = cli("verify", "--kernel", "no-such-kernel", "--json")
    assert r.codes == ["KERNEL_NOT_FOUND"]
    r = cli("verify", data_project, "--only", "pytorch", "--json")
    assert r.rc == 2 and r.codes == ["USAGE"] and "numpy" in r.envelope["errors"][0]["hint"]
    r = cli("verify", data_project, "--notebooks", tmp_path / "empty-dir-missing", "--json")
    assert r.codes == ["USAGE"]


def test_by_kernel_name_and_own_output_folder(data_project, cli, tmp_path):
    out = tmp_path / "executed"
    r = cli("verify", "--kernel", "analysis", "--only", "numpy", "--output", out, "--json", cwd=tmp_path)
    assert r.rc == 0, r
    assert (out / "01-numpy.ipynb").is_file()


@pytest.mark.slow
def test_dl_profile_runs_all_four_notebooks(jupyter, cli, tmp_path):
    project = make_project(tmp_path, "deep")
    r = cli("create", project, "--profile", "dl", "--json", timeout=1800)
    assert r.rc == 0, r
    assert "tensorflow-cpu" in r.data["installed"] or "tensorflow" in r.data["installed"]
    r = cli("verify", project, "--json")
    assert r.rc == 0, r
    rows = _by_name(r.data)
    assert all(nb["status"] == "passed" for nb in rows.values()), rows
    assert rows["03-tensorflow"]["duration"] < 60
    nb = nbformat.read(rows["03-tensorflow"]["output"], as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "TensorFlow 2." in printed and "CPUs:" in printed


def test_ctrl_c_stops_verify_with_interrupted_and_no_kernel_left(jupyter, cli, tmp_path):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) during verify: exit 130 with
    INTERRUPTED, no notebook started after it, no traceback, and every kernel it started stopped.
    Before: the running notebook was reported FAILED (KeyboardInterrupt), the others still ran, exit 1,
    and asyncio printed 'Task exception was never retrieved'."""
    import os
    import signal
    import subprocess
    import sys

    project = make_project(tmp_path, "stop")
    assert cli("create", project, "--json").rc == 0
    folder = tmp_path / "nbs"
    for name in ("a", "b", "c", "d", "e"):
        _write_nb(
            folder / f"{name}.ipynb",
            f"import os, time\nopen({str(folder / (name + '.pid'))!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)",
        )
    child = subprocess.Popen(
        [sys.executable, "-m", "kernelenv", "verify", str(project), "--notebooks", str(folder), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not (folder / "a.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (folder / "a.pid").exists(), "the first notebook never ran"
    time.sleep(0.5)
    os.killpg(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, (out, err)
    assert [e["code"] for e in json.loads(out)["errors"]] == ["INTERRUPTED"]
    assert "Traceback" not in err and "never retrieved" not in err, err
    assert not (folder / "e.pid").exists(), "notebooks ran after Ctrl-C"  # at most cpu_count run at once
    pids = [int(f.read_text()) for f in folder.glob("*.pid") if f.read_text()]
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()], "a kernel outlived verify"
