"""notebooks: tutorial copies set to the project's kernel; a notebook the user changed is kept."""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import make_project


@pytest.fixture
def project(jupyter, cli, tmp_path):
    p = make_project(tmp_path, "lab-work")
    r = cli("create", p, "--json")
    assert r.rc == 0, r
    return p


def test_copies_with_the_project_kernel(project, cli):
    r = cli("notebooks", "--json", cwd=project)
    assert r.rc == 0, r
    assert r.data["dest"] == str(project / "notebooks")
    assert [n["state"] for n in r.data["notebooks"]] == ["written"] * 4
    display = r.data["kernel"]["display_name"]
    for n in r.data["notebooks"]:
        nb = nbformat.read(n["path"], as_version=4)
        assert nb.metadata["kernelspec"] == {"name": "lab-work", "display_name": display, "language": "python"}
        assert nb.metadata["kernelenv"]["sources_sha256"]
    # again: nothing to do
    r = cli("notebooks", "--json", cwd=project)
    assert [n["state"] for n in r.data["notebooks"]] == ["unchanged"] * 4


def test_keeps_what_the_user_changed(project, cli):
    dest = project / "nb"
    assert cli("notebooks", project, "--dest", dest, "--json").rc == 0
    edited = dest / "01-numpy.ipynb"
    nb = nbformat.read(str(edited), as_version=4)
    nb.cells[2].source += "\nprint('my own line')"
    nbformat.write(nb, str(edited))
    ran = dest / "02-pandas.ipynb"  # run (outputs added) but not edited: kernelenv may refresh it
    nb2 = json.loads(ran.read_text())
    nb2["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "pandas 2\n"}]
    ran.write_text(json.dumps(nb2))
    foreign = dest / "03-tensorflow.ipynb"
    foreign.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))

    r = cli("notebooks", project, "--dest", dest)
    assert r.rc == 0, r
    assert "kept" in r.stdout and "--force" in r.stderr
    r = cli("notebooks", project, "--dest", dest, "--json")
    states = {n["name"]: n["state"] for n in r.data["notebooks"]}
    assert states == {"00-environment": "unchanged", "01-numpy": "kept", "02-pandas": "unchanged", "03-tensorflow": "kept"}
    assert "my own line" in edited.read_text()
    assert "pandas 2" not in ran.read_text()  # refreshed on the run before
    r = cli("notebooks", project, "--dest", dest, "--force", "--json")
    assert {n["name"]: n["state"] for n in r.data["notebooks"]}["01-numpy"] == "updated"
    assert "my own line" not in edited.read_text()


def test_copied_notebooks_verify_on_the_project_kernel(project, cli):
    assert cli("notebooks", "--json", cwd=project).rc == 0
    r = cli("verify", project, "--notebooks", project / "notebooks" / "00-environment.ipynb", "--json")
    assert r.rc == 0, r


def test_no_kernel_for_the_project(jupyter, cli, tmp_path):
    p = make_project(tmp_path, "nothing")
    r = cli("notebooks", "--json", cwd=p)
    assert r.rc == 1 and r.codes == ["KERNEL_NOT_FOUND"]
    assert "kernelenv create" in r.envelope["errors"][0]["hint"]
    assert not (p / "notebooks").exists()


def test_positional_argument_is_the_project(project, cli, tmp_path):
    """Issue 11 (6): `kernelenv notebooks PROJECT` means the project, as for create and verify."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = cli("notebooks", project, "--json", cwd=elsewhere)
    assert r.rc == 0, r
    assert r.data["dest"] == str(project / "notebooks")
    assert sorted(p.name for p in (project / "notebooks").iterdir()) == [
        "00-environment.ipynb",
        "01-numpy.ipynb",
        "02-pandas.ipynb",
        "03-tensorflow.ipynb",
    ]
    assert not list(elsewhere.iterdir())
    r = cli("notebooks", project, "--project", elsewhere, "--json", cwd=elsewhere)  # no second spelling of PROJECT
    assert r.rc == 2 and r.codes == ["USAGE"], r
