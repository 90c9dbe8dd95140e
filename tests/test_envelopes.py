"""Real CLI envelopes against tests/fixtures/envelopes (the contract the extension's tests read too).

PRODUCERS maps each fixture file to a function that makes the real envelope; every
fixture must have one, so a fixture can't drift from what the CLI really prints.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, make_project, run_cli
from envelope_match import envelope_mismatches, mismatches

ENVELOPES = FIXTURES / "envelopes"


def _project(tmp: Path, created: bool = False) -> Path:
    p = make_project(tmp)
    if created:
        assert run_cli("create", p, "--json").rc == 0
    return p


def _foreign(jupyter, name: str = "demo") -> None:
    d = jupyter.kernels / name
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "x",
                "language": "python",
            }
        )
    )


PRODUCERS = {
    "create-ok.json": lambda j, t: run_cli("create", _project(t), "--json"),
    "create-error-name-invalid.json": lambda j, t: run_cli("create", _project(t), "--name", "My Kernel", "--json"),
    "create-error-kernel-exists.json": lambda j, t: (_foreign(j), run_cli("create", _project(t), "--json"))[1],
    "list-ok.json": lambda j, t: (_project(t, True), run_cli("list", "--json"))[1],
    "register-ok.json": lambda j, t: run_cli("register", _project(t, True) / ".venv", "--name", "reg", "--json"),
    "remove-ok.json": lambda j, t: (_project(t, True), run_cli("remove", "demo", "--json"))[1],
    "remove-error-not-found.json": lambda j, t: run_cli("remove", "nope", "--json"),
    "pythons-ok.json": lambda j, t: (run_cli("pythons", "--json"), run_cli("pythons", "--json"))[1],
    "init-ok.json": lambda j, t: (
        (_project(t) / "pyproject.toml").write_text('[project]\nname = "demo"\n'),
        run_cli("init", t / "demo", "--python", "3.12", "--with", "numpy", "--json"),
    )[1],
    "init-error-project-file-invalid.json": lambda j, t: (
        (_project(t) / "pyproject.toml").write_text('[tool.kernelenv]\npackages = "numpy"\n'),
        run_cli("init", t / "demo", "--python", "3.12", "--json"),
    )[1],
    "create-error-python-not-found.json": lambda j, t: run_cli("create", _project(t), "--python", "3.99", "--json"),
    "verify-ok.json": lambda j, t: (
        run_cli("create", _project(t), "--profile", "data", "--json"),
        run_cli("verify", t / "demo", "--only", "numpy,pandas", "--json"),
    )[1],
    "verify-failed.json": lambda j, t: (
        _project(t, True),
        (t / "bad.ipynb").write_text(
            json.dumps(
                {
                    "cells": [
                        {
                            "cell_type": "code",
                            "source": "y = 2\nassert y == 3, 'y is not 3'",
                            "metadata": {},
                            "outputs": [],
                            "execution_count": None,
                        }
                    ],
                    "metadata": {},
                    "nbformat": 4,
                    "nbformat_minor": 4,
                }
            )
        ),
        run_cli("verify", t / "demo", "--notebooks", t / "bad.ipynb", "--json"),
    )[2],
    "verify-error-kernel-not-found.json": lambda j, t: run_cli("verify", "--kernel", "nope", "--json"),
    "notebooks-ok.json": lambda j, t: (_project(t, True), run_cli("notebooks", "--json", cwd=t / "demo"))[1],
}


def _broken(t: Path) -> Path:
    """A created project whose venv python was deleted."""
    p = _project(t, True)
    (p / ".venv" / "bin" / "python").unlink()
    return p


def _locked(t: Path) -> Path:
    p = _project(t, True)
    assert run_cli("lock", p, "--json").rc == 0
    return p


PRODUCERS.update(
    {
        "doctor-ok.json": lambda j, t: run_cli("doctor", _project(t, True), "--json"),
        "doctor-problems.json": lambda j, t: run_cli("doctor", _broken(t), "--json"),
        "prune-ok.json": lambda j, t: (_broken(t), run_cli("prune", "--json"))[1],
        "repair-ok.json": lambda j, t: run_cli("repair", _broken(t), "--json"),
        "lock-ok.json": lambda j, t: run_cli("lock", _project(t, True), "--json"),
        "sync-ok.json": lambda j, t: run_cli("sync", _locked(t), "--json"),
        "sync-error-lock-invalid.json": lambda j, t: (
            (_project(t) / "kernelenv.lock").write_text("garbage\n"),
            run_cli("sync", t / "demo", "--json"),
        )[1],
        "export-ok.json": lambda j, t: run_cli("export", _locked(t), "--format", "dockerfile", "--json"),
    }
)


def _user_notebook(path: Path, *cells: str) -> Path:
    """A notebook of the user's that names the server's python3 kernel, as real ones do."""
    nb = {
        "cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None} for c in cells],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    path.write_text(json.dumps(nb, indent=1))
    return path


PRODUCERS.update(
    {
        "adopt-ok.json": lambda j, t: (
            _user_notebook(_project(t, True) / "analysis.ipynb", "print(1)"),
            run_cli("adopt", "--project", t / "demo", "--json"),
        )[1],
        "verify-skipped.json": lambda j, t: run_cli("verify", _project(t, True), "--json"),
        "verify-keep-going.json": lambda j, t: run_cli(
            "verify",
            _project(t, True),
            "--notebooks",
            _user_notebook(t / "demo" / "mine.ipynb", "def half(x):\n    return x / 0", "half(3)", "y + 1"),
            "--keep-going",
            "--json",
        ),
    }
)


def _container_image() -> str:
    """The image tests/sharing builds (podman; a skip where podman cannot run)."""
    from sharing import support

    return support.kernel_image()[1]


PRODUCERS.update(
    {
        "container-ok.json": lambda j, t: run_cli("container", _locked(t), "--image", _container_image(), "--json"),
        "container-error-engine-unavailable.json": lambda j, t: run_cli(
            "container", _locked(t), "--engine", "docker", "--json", env={"PATH": str(t)}
        ),
        "export-enterprise-gateway-ok.json": lambda j, t: run_cli(
            "export",
            _locked(t),
            "--format",
            "enterprise-gateway",
            "--image",
            "localhost/kernelenv-demo-container:latest",
            "--json",
        ),
    }
)
SLOW = {"container-ok.json"}  # builds (once) and runs a container image


def _added(t: Path) -> Path:
    """A created, locked project with tabulate 0.8.10 added."""
    p = _locked(t)
    assert run_cli("add", "tabulate==0.8.10", "--project", p, "--json").rc == 0
    return p


PRODUCERS.update(
    {
        # an upgrade (tabulate: changed, restart needed) and a new package (six: installed), the lock updated
        "add-ok.json": lambda j, t: run_cli("add", "tabulate==0.9.0", "six", "--project", _added(t), "--json"),
        "add-error-kernel-not-found.json": lambda j, t: run_cli("add", "numpy", "--project", _project(t), "--json"),
        "drop-ok.json": lambda j, t: run_cli("drop", "tabulate", "nothere", "--project", _added(t), "--json"),
        "drop-error-package-required.json": lambda j, t: run_cli("drop", "ipykernel", "--project", _project(t, True), "--json"),
        "run-error-usage.json": lambda j, t: run_cli("run", "--project", _project(t, True), "--json", "--", "python"),
        "shell-error-usage.json": lambda j, t: run_cli("shell", "--project", _project(t), "--json"),
    }
)

PRODUCERS.update(
    {  # issue 16 part 2: one lock for every platform
        "lock-universal-ok.json": lambda j, t: run_cli("lock", _project(t), "--universal", "--python", ">=3.10", "--json"),
        "lock-error-universal-needs-uv.json": lambda j, t: run_cli(
            "lock", _project(t), "--universal", "--installer", "pip", "--json"
        ),
    }
)

PRODUCERS.update(
    {  # issue 16 part 3: team kernels (--group)
        "create-error-group-invalid.json": lambda j, t: run_cli("create", _project(t), "--group", "no-such-group", "--json"),
        # the group of the project's folder, which pytest's own private tmp folder keeps out
        "create-error-share-unreachable.json": lambda j, t: run_cli("create", _project(t), "--group", "--json"),
    }
)

# Each new verb adds its fixtures' producers to PRODUCERS above.


def test_every_fixture_has_a_producer():
    files = sorted(p.name for p in ENVELOPES.glob("*.json"))
    assert files, "no fixtures"
    assert sorted(set(files) - set(PRODUCERS)) == []
    assert sorted(set(PRODUCERS) - set(files)) == []


@pytest.mark.parametrize(
    "fixture",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(p.name for p in ENVELOPES.glob("*.json"))],
)
def test_real_envelope_matches_fixture(fixture, jupyter, tmp_path):
    expected = json.loads((ENVELOPES / fixture).read_text())
    real = PRODUCERS[fixture](jupyter, tmp_path)
    assert real.envelope is not None, real
    assert envelope_mismatches(expected, real.envelope) == [], real.envelope
    assert real.rc == (0 if expected["status"] == "ok" else real.rc or 1) and (real.rc == 0) == (expected["status"] == "ok")


def test_matcher_catches_a_renamed_key():
    fixture = {"a": {"b": 1}, "l": [{"x": ""}]}
    assert mismatches(fixture, {"a": {"b": 2}, "l": [{"x": "y"}], "extra": 1}) == []
    assert mismatches(fixture, {"a": {"c": 2}, "l": [{"x": 1}]}) == ["$.a.b: missing", "$.l[0].x: int is not a string"]
