"""The project file: init's round trip, flags over file over defaults, and every invalid input."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import make_project

from kernelenv import projectfile, pythons
from kernelenv.projectfile import CreateOptions
from kernelenv.result import OperationError

REAL_ENV = {"PYENV_ROOT": os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")}

PYPROJECT = """\
# The team's project. Keep this comment.
[project]
name = "analysis"   # trailing comment
version = "0.1"
requires-python = ">=3.9"
dependencies = [
    "numpy>=1.20",  # pinned for a reason
]

[tool.black]
line-length = 100
"""


def test_init_keeps_the_rest_of_pyproject(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    (project / "pyproject.toml").write_text(PYPROJECT)
    res = cli("init", project, "--python", "3.11", "--with", "pandas", "--env", "MPLBACKEND=Agg", "--json")
    assert res.rc == 0, res
    assert res.data["file"] == str(project / "pyproject.toml") and res.data["file_created"] is False
    assert res.data["changed"] == ["python", "packages", "env"]
    text = (project / "pyproject.toml").read_text()
    assert text.startswith(PYPROJECT)  # every byte of the user's file is still there, comments included
    assert "[tool.kernelenv]" in text and 'python = "3.11"' in text and "[tool.kernelenv.env]" in text
    # a second init changes only the key it is given, and keeps a comment the user added
    (project / "pyproject.toml").write_text(text.replace('python = "3.11"', 'python = "3.11"  # our CI has 3.11'))
    res = cli("init", project, "--name", "analysis-kernel", "--json")
    assert res.rc == 0 and res.data["changed"] == ["name"], res
    text2 = (project / "pyproject.toml").read_text()
    assert text2.startswith(PYPROJECT) and "# our CI has 3.11" in text2 and 'name = "analysis-kernel"' in text2
    assert cli("init", project, "--name", "analysis-kernel", "--json").data["changed"] == []
    assert cli("init", project, "--json").data["warnings"] == []
    # a python outside requires-python (>=3.9) is written, with a warning
    old = cli("init", project, "--python", "3.8", "--json", env=REAL_ENV)
    assert old.rc == 0 and (old.data["python"] is None or "requires-python" in old.data["warnings"][0]), old
    assert cli("init", project, "--python", "3.11", "--json").rc == 0
    pf = projectfile.load(project)
    assert pf.settings == {
        "python": "3.11",
        "packages": ["pandas"],
        "env": {"MPLBACKEND": "Agg"},
        "name": "analysis-kernel",
    }
    assert pf.dependencies == ["numpy>=1.20"] and pf.requires_python == ">=3.9"


def test_init_writes_kernelenv_toml_without_pyproject(jupyter, cli, tmp_path):
    project = make_project(tmp_path, "Plain Folder")
    res = cli("init", project, "--json")
    assert res.rc == 0, res
    f = project / "kernelenv.toml"
    assert res.data["file"] == str(f) and res.data["file_created"] is True
    s = projectfile.load(project).settings
    assert s["name"] == "plain-folder" and s["packages"] == [] and pythons.parse(s["python"]) is not None
    assert s["python"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    human = cli("init", project, "--with", "six", "-r", "requirements.txt", "--profile", "data")
    assert human.rc == 0 and "updated" in human.stdout, human
    assert projectfile.load(project).settings["requirements"] == ["requirements.txt"]
    # the pyproject form, copied as is into kernelenv.toml, is accepted too
    other = make_project(tmp_path, "other")
    (other / "kernelenv.toml").write_text('[tool.kernelenv]\npython = "3.10"\n')
    assert projectfile.load(other).settings == {"python": "3.10"}


def test_precedence_flags_over_file_over_defaults(tmp_path):
    project = make_project(tmp_path)
    (project / "reqs.txt").write_text("six\n")
    (project / "pyproject.toml").write_text(
        PYPROJECT + '\n[tool.kernelenv]\nname = "from-file"\ndisplay-name = "From file"\npackages = ["pandas"]\n'
        'requirements = ["reqs.txt"]\nprofile = "data"\n\n[tool.kernelenv.env]\nA = "file"\nB = "file"\n'
    )
    # nothing on the command line: the file, then [project], then defaults
    opts, python, pf = projectfile.merge(project, CreateOptions(), None)
    assert (opts.name, opts.display_name, opts.profile) == ("from-file", "From file", "data")
    assert opts.packages == ["pandas", "numpy>=1.20"]
    assert opts.requirement_files == [project / "reqs.txt"]
    assert opts.extra_env == {"A": "file", "B": "file"}
    assert python == ">=3.9"  # requires-python, as no python key is set
    # flags win; packages add up
    flags = CreateOptions(name="flag", display_name="Flag", packages=["idna"], extra_env={"B": "flag"}, profile="minimal")
    opts, python, _ = projectfile.merge(project, flags, "3.12")
    assert (opts.name, opts.display_name, opts.profile, python) == ("flag", "Flag", "minimal", "3.12")
    assert opts.packages == ["pandas", "numpy>=1.20", "idna"] and opts.extra_env == {"A": "file", "B": "flag"}
    # the file's python beats requires-python
    (project / "pyproject.toml").write_text(PYPROJECT + '\n[tool.kernelenv]\npython = "cpython3.10"\n')
    assert projectfile.merge(project, CreateOptions(), None)[1] == "cpython3.10"
    # no file at all: defaults untouched
    bare = make_project(tmp_path, "bare")
    opts, python, pf = projectfile.merge(bare, CreateOptions(), None)
    assert opts == CreateOptions() and python is None and pf.path is None


INVALID = [
    ("pyproject.toml", "[tool.kernelenv\npython = 3\n", None, "valid TOML"),
    ("kernelenv.toml", "python = \n", None, "valid TOML"),
    ("pyproject.toml", '[tool.kernelenv]\npakages = ["x"]\n', "tool.kernelenv.pakages", "one of python, packages"),
    ("kernelenv.toml", "colour = 'red'\n", "colour", "one of python"),
    ("pyproject.toml", "[tool.kernelenv]\npython = 3.12\n", "tool.kernelenv.python", "a string"),
    ("pyproject.toml", '[tool.kernelenv]\npython = "three"\n', "tool.kernelenv.python", "a string"),
    ("pyproject.toml", '[tool.kernelenv]\npackages = "numpy"\n', "tool.kernelenv.packages", "a list of requirement"),
    ("pyproject.toml", "[tool.kernelenv]\npackages = [1]\n", "tool.kernelenv.packages[0]", "a list of requirement"),
    ("pyproject.toml", '[tool.kernelenv]\npackages = ["numpy>>1"]\n', "tool.kernelenv.packages[0]", "a requirement"),
    ("pyproject.toml", '[tool.kernelenv]\nrequirements = "r.txt"\n', "tool.kernelenv.requirements", "a list"),
    ("pyproject.toml", "[tool.kernelenv]\nprofile = 1\n", "tool.kernelenv.profile", "a string"),
    ("pyproject.toml", "[tool.kernelenv]\nname = true\n", "tool.kernelenv.name", "a string"),
    ("pyproject.toml", "[tool.kernelenv]\ndisplay-name = []\n", "tool.kernelenv.display-name", "a string"),
    ("pyproject.toml", '[tool.kernelenv]\nenv = "A=1"\n', "tool.kernelenv.env", "a table"),
    ("pyproject.toml", "[tool.kernelenv.env]\nA = 1\n", "tool.kernelenv.env.A", "a table of string"),
    ("pyproject.toml", "[tool]\nkernelenv = 1\n", "tool.kernelenv", "a table"),
    ("pyproject.toml", '[project]\nrequires-python = "3.9"\n', "project.requires-python", "a version specifier"),
    ("pyproject.toml", "[project]\nrequires-python = 3.9\n", "project.requires-python", "a version specifier"),
    ("pyproject.toml", '[project]\ndependencies = "numpy"\n', "project.dependencies", "a list of requirement"),
    ("pyproject.toml", '[project]\ndependencies = ["num py"]\n', "project.dependencies[0]", "a requirement"),
]


@pytest.mark.parametrize("fname,text,key,expected", INVALID, ids=[f"{i}-{c[2] or 'toml'}" for i, c in enumerate(INVALID)])
def test_invalid_project_files_name_file_key_and_expectation(tmp_path, fname, text, key, expected):
    project = make_project(tmp_path)
    (project / fname).write_text(text)
    with pytest.raises(OperationError) as exc:
        projectfile.load(project)
    info = exc.value.info
    # a requirement that is not PEP 508 has one code wherever it comes from (issue 10.6)
    assert info.code == ("REQUIREMENT_INVALID" if expected == "a requirement" else "PROJECT_FILE_INVALID")
    assert info.details["file"] == str(project / fname) and str(project / fname) in info.message
    assert info.details["key"] == key
    if key:
        assert key in info.message
    assert expected in info.details["expected"], info.details
    assert info.hint


def test_both_files_and_did_you_mean(tmp_path):
    project = make_project(tmp_path)
    (project / "pyproject.toml").write_text('[tool.kernelenv]\npython = "3.11"\n')
    (project / "kernelenv.toml").write_text('python = "3.12"\n')
    with pytest.raises(OperationError) as exc:
        projectfile.load(project)
    assert exc.value.info.code == "PROJECT_FILE_INVALID" and "both" in exc.value.info.message
    (project / "kernelenv.toml").unlink()
    (project / "pyproject.toml").write_text('[tool.kernelenv]\ndisplay_name = "x"\n')
    with pytest.raises(OperationError) as exc:
        projectfile.load(project)
    assert "did you mean 'display-name'" in exc.value.info.message


def test_cli_errors_are_envelopes_and_touch_nothing(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    bad = '[tool.kernelenv]\npackages = "numpy"  # should be a list\n'
    (project / "pyproject.toml").write_text(bad)
    res = cli("create", project, "--json")
    assert res.rc == 1 and res.codes == ["PROJECT_FILE_INVALID"], res
    err = res.envelope["errors"][0]
    assert err["details"]["key"] == "tool.kernelenv.packages" and err["details"]["file"] == str(project / "pyproject.toml")
    assert not (project / ".venv").exists() and not (jupyter.kernels / "demo").exists()
    res = cli("init", project, "--python", "3.11", "--json")
    assert res.codes == ["PROJECT_FILE_INVALID"], res
    assert (project / "pyproject.toml").read_text() == bad  # init does not edit an invalid file
    good = make_project(tmp_path, "good")
    res = cli("init", good, "--python", "x.y", "--json")
    assert res.codes == ["PROJECT_FILE_INVALID"] and "python" in res.envelope["errors"][0]["message"], res
    assert not (good / "kernelenv.toml").exists()
    human = cli("create", project)
    assert human.rc == 1 and "PROJECT_FILE_INVALID" in human.stderr and "tool.kernelenv.packages" in human.stderr


@pytest.mark.slow
def test_create_reads_the_file_and_flags_override_it(jupyter, cli, kernel, tmp_path):
    """A real create: python from requires-python, packages from [project] and the file, flags win."""
    found = [f for f in pythons.discover(tmp_path / "c", {**os.environ, **REAL_ENV}) if f.info and f.info.supported]
    older = sorted({f.info.version[:2] for f in found})
    assert len(older) >= 2, "needs two Python versions"
    low = older[0]
    upper = f"{low[0]}.{low[1] + 1}"
    project = make_project(tmp_path, "filed")
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "filed"\nrequires-python = "<{upper}"\ndependencies = ["six"]\n\n'
        '[tool.kernelenv]\nname = "from-file"\ndisplay-name = "From the file"\npackages = ["idna"]\n\n'
        '[tool.kernelenv.env]\nKE_FROM_FILE = "yes"\n'
    )
    res = cli("create", project, "--name", "from-flag", "--json", env=REAL_ENV)
    assert res.rc == 0, res
    assert res.data["python"]["version"].startswith(f"{low[0]}.{low[1]}.")
    assert res.data["kernel"]["name"] == "from-flag" and res.data["kernel"]["display_name"] == "From the file"
    spec = json.loads((jupyter.kernels / "from-flag" / "kernel.json").read_text())
    assert spec["env"]["KE_FROM_FILE"] == "yes"
    k = kernel("from-flag")
    out = k.run("import sys, six, idna, os; print(sys.version_info[:2]); print(os.environ['KE_FROM_FILE'])")
    assert out.split("\n")[:2] == [f"({low[0]}, {low[1]})", "yes"]
    # a second create is a sync: the venv satisfies requires-python, nothing is rebuilt
    again = cli("create", project, "--name", "from-flag", "--json", env=REAL_ENV)
    assert again.rc == 0 and again.data["venv_created"] is False and again.data["installed"] == [], again


def test_the_sample_project_file_is_valid():
    sample = Path(__file__).resolve().parent.parent / "examples" / "sample"
    if not (sample / "pyproject.toml").exists():
        pytest.skip("no examples/sample")
    pf = projectfile.load(sample)
    assert pf.path == sample / "pyproject.toml" and pf.settings["name"] == "sample"
    assert pf.python_spec() == pf.requires_python  # no python key: requires-python decides


def test_a_profile_typo_in_the_file_is_a_file_error(jupyter, cli, tmp_path):
    project = tmp_path / "typo"
    project.mkdir()
    (project / "kernelenv.toml").write_text('profile = "date"\n')
    res = cli("create", project, "--json")
    assert res.rc == 1 and res.codes == ["PROJECT_FILE_INVALID"], res
    msg = res.envelope["errors"][0]["message"]
    assert "kernelenv.toml" in msg and "profile" in msg and "data" in msg
    assert not (project / ".venv").exists()
