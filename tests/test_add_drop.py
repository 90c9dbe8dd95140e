"""``add`` and ``drop``: real installs into real venvs, the project file kept byte for byte but the list,
the lock re-locked, and a kernel that is running while it happens (jupyter_client)."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import make_project

from kernelenv import lockfile, projectfile

PYPROJECT = """\
# the team's project
[project]
name = "demo"   # keep this comment
version = "0.1"

[tool.kernelenv]
# what the kernel needs besides ipykernel
packages = []
"""


def _installed(project, name: str) -> str | None:
    from kernelenv import venv as venvmod

    return venvmod.installed(project / ".venv").get(name)


@pytest.mark.slow
def test_add_into_a_running_kernel_then_an_upgrade_needs_a_restart(jupyter, cli, kernel, tmp_path):
    project = make_project(tmp_path)
    (project / "pyproject.toml").write_text(PYPROJECT)
    assert cli("create", project, "--json").rc == 0
    k = kernel("demo")
    with pytest.raises(AssertionError, match="ModuleNotFoundError"):
        k.run("import tabulate")  # a failed import first: the kernel must not remember it

    res = cli("add", "tabulate==0.8.10", "--project", project, "--json")
    assert res.rc == 0, res
    assert {"name": "tabulate", "version": "0.8.10"} in res.data["installed"]
    assert res.data["recorded"] and res.data["packages"] == ["tabulate==0.8.10"]
    assert res.data["restart"]["needed"] is False and res.data["kernel"] == "demo"
    assert res.data["lock"] is None  # no lock in this project: none is made
    text = (project / "pyproject.toml").read_text()
    assert text == PYPROJECT.replace("packages = []", 'packages = ["tabulate==0.8.10"]')  # nothing else changed
    # the running kernel imports it, no restart
    assert k.run("import tabulate; print(tabulate.__version__)").strip() == "0.8.10"

    # an upgrade of something the kernel imported: said, in data and in one human line
    res = cli("add", "tabulate==0.9.0", "--project", project)
    assert res.rc == 0, res
    assert "changed tabulate 0.8.10 -> 0.9.0" in res.stdout
    assert res.stderr.count("restart a running kernel 'demo' that already imported tabulate 0.8.10 -> 0.9.0") == 1, res
    assert projectfile.load(project).settings["packages"] == ["tabulate==0.9.0"]  # replaced, not appended
    assert k.run("import tabulate; print(tabulate.__version__)").strip() == "0.8.10"  # why it needs one
    assert k.run("import importlib.metadata as m; print(m.version('tabulate'))").strip() == "0.9.0"
    res = cli("add", "tabulate==0.9.0", "--project", project, "--json")
    assert res.rc == 0 and res.data["installed"] == res.data["changed"] == [] and not res.data["recorded"], res


@pytest.mark.slow
def test_add_and_drop_keep_the_lock_and_a_teammate_gets_the_packages(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    assert cli("lock", project, "--json").rc == 0
    res = cli("add", "tabulate", "--project", project, "--json")
    assert res.rc == 0 and res.data["lock_changed"], res
    assert (project / "kernelenv.toml").read_text().endswith('packages = ["tabulate"]\n')
    lock = lockfile.read(project / "kernelenv.lock")
    assert lock.by_name()["tabulate"].version == _installed(project, "tabulate")
    assert "tabulate" in lock.requested
    res = cli("sync", project, "--json")  # the venv is exactly the lock
    assert res.rc == 0 and res.data["installed"] == [] and res.data["removed"] == [], res

    # a teammate: the project file and the lock, no venv
    mate = make_project(tmp_path, "mate")
    for f in ("kernelenv.toml", "kernelenv.lock"):
        shutil.copy(project / f, mate / f)
    res = cli("create", mate, "--name", "mate", "--json")
    assert res.rc == 0 and "tabulate" in res.data["installed"], res

    res = cli("drop", "tabulate", "--project", project, "--json")
    assert res.rc == 0, res
    assert res.data["removed"][0]["name"] == "tabulate" and res.data["lock_changed"] and res.data["packages"] == []
    assert "tabulate" not in lockfile.read(project / "kernelenv.lock").by_name()
    assert _installed(project, "tabulate") is None
    res = cli("sync", project, "--json")
    assert res.rc == 0 and res.data["installed"] == [] and res.data["removed"] == [], res


def test_add_refuses_bad_input_and_changes_nothing(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    res = cli("add", "tabulate", "--project", project, "--json")  # no venv yet
    assert res.rc == 1 and res.codes == ["KERNEL_NOT_FOUND"], res
    assert f"kernelenv create {project}" in res.envelope["errors"][0]["hint"]
    assert not (project / "kernelenv.toml").exists()
    assert cli("create", project, "--json").rc == 0
    res = cli("add", "--project", project, "--json")
    assert res.rc == 2 and res.codes == ["USAGE"], res
    res = cli("add", "tabulate; rm -rf /", "--project", project, "--json")
    assert res.rc == 1 and res.codes == ["REQUIREMENT_INVALID"], res
    res = cli("add", "kernelenv-no-such-package-0b6f", "--project", project, "--json")
    assert res.rc == 1 and res.codes == ["INSTALL_FAILED"], res
    assert not (project / "kernelenv.toml").exists()  # nothing recorded for a failed install
    (project / "kernelenv.toml").write_text('packages = "tabulate"\n')
    res = cli("add", "tabulate", "--project", project, "--json")
    assert res.rc == 1 and res.codes == ["PROJECT_FILE_INVALID"], res
    assert _installed(project, "tabulate") is None  # refused before anything was installed
    assert (project / "kernelenv.toml").read_text() == 'packages = "tabulate"\n'


def test_drop_refuses_what_comes_back_and_reports_the_rest(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\ndependencies = ["six"]\n')
    assert cli("create", project, "--json").rc == 0
    for name in ("ipykernel", "pip", "six", "traitlets"):
        res = cli("drop", name, "--project", project, "--json")
        assert res.rc == 1 and res.codes == ["PACKAGE_REQUIRED"], res
        assert _installed(project, name) is not None
    assert "[project].dependencies" in cli("drop", "six", "--project", project, "--json").envelope["errors"][0]["message"]
    # what ipykernel needs, however deep: the chain is named
    assert "ipykernel -> " in cli("drop", "traitlets", "--project", project, "--json").envelope["errors"][0]["message"]
    before = (project / "pyproject.toml").read_bytes()
    res = cli("drop", "nothere", "--project", project)
    assert res.rc == 0 and "nothere is not installed" in res.stderr, res
    assert (project / "pyproject.toml").read_bytes() == before
    # what another installed package (not the kernel) needs: dropped, and the breakage said
    assert cli("add", "requests", "--project", project, "--json").rc == 0
    res = cli("drop", "idna", "--project", project, "--json")
    assert res.rc == 0 and [r["name"] for r in res.data["removed"]] == ["idna"], res
    assert [b["package"] for b in res.data["broken"]] == ["requests"], res.data["broken"]


@pytest.mark.slow
def test_add_and_drop_with_the_pip_backend(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    res = cli("create", project, "--installer", "pip", "--json")
    assert res.rc == 0 and res.data["installer"] == "pip", res
    res = cli("add", "tabulate==0.9.0", "--project", project, "--json")
    assert res.rc == 0 and res.data["installer"] == "pip" and _installed(project, "tabulate") == "0.9.0", res
    res = cli("drop", "tabulate", "--project", project, "--json")
    assert res.rc == 0 and res.data["installer"] == "pip" and _installed(project, "tabulate") is None, res


def _stages(res) -> list[str]:
    """The progress stages a --json run reported on stderr."""
    return [json.loads(line)["progress"]["stage"] for line in res.stderr.splitlines() if line.startswith('{"progress"')]


@pytest.mark.slow
def test_add_and_drop_say_they_update_the_lock_only_when_there_is_one(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    res = cli("add", "tabulate", "--project", project, "--json")
    assert res.rc == 0 and "install" in _stages(res), res
    assert "lock" not in _stages(res) and not (project / "kernelenv.lock").exists(), res
    res = cli("drop", "tabulate", "--project", project, "--json")
    assert res.rc == 0 and "lock" not in _stages(res), res
    assert cli("lock", project, "--json").rc == 0
    res = cli("add", "tabulate", "--project", project, "--json")
    assert res.rc == 0 and "lock" in _stages(res), res
    res = cli("drop", "tabulate", "--project", project, "--json")
    assert res.rc == 0 and "lock" in _stages(res), res
