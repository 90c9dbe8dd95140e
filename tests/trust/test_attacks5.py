"""A fifth attack on kernelenv's trust guarantees (task H12): how a new template is made (commits
96c2952, 46db478, 9a134de): the request resolved by ``uv pip compile --generate-hashes`` while the
template's venv is made, then the hash-checked ``uv pip sync`` of the pins, the warm-up, the clone.

Each test is one sequence a user can really run, with the real CLI (``python -m kernelenv``), real
venvs and an isolated HOME/Jupyter/cache (the ``jupyter`` fixture); its docstring says the sequence
and what went wrong before the fix. Invariants attacked: a template holds exactly what its request
resolves to (installed the way the request asks); a template that cannot be made costs nothing but
the install that would have run anyway.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import make_project, run_cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="Unix modes and hard links")


def _messages(stderr: str) -> list[str]:
    out = []
    for line in stderr.splitlines():
        try:
            out.append(str(json.loads(line)["progress"]["message"]))
        except (ValueError, KeyError, TypeError):
            continue
    return out


@pytest.mark.slow
def test_a_requirement_file_naming_an_index_is_not_installed_twice(jupyter, tmp_path):
    """A local PEP 503 index offers probe 1.0; req.txt says `--extra-index-url file://<index>` and
    `kenv-h7-probe` (uv's environment names no such index); `kernelenv create p -r req.txt`, twice in
    two projects. Before the fix each create resolved the request with the file's index (uv pip compile
    reads the file's options) but made the template by `uv pip sync` of the bare pins, which does not
    know that index: the sync failed, the template was thrown away and the venv installed again as
    without templates, every time (a template's venv, sync and clean-up paid for nothing). A
    requirement file's index options (and other install options) are part of how the request installs."""
    from test_templates import PROBE, _publish

    index = tmp_path / "index"
    index.mkdir()
    _publish(index, {"1.0": ("V = '1.0'\n", False)})
    for name in ("p1", "p2"):
        project = make_project(tmp_path, name)
        req = project / "req.txt"
        req.write_text(f"--extra-index-url {index.as_uri()}\n{PROBE}\n")
        r = run_cli("create", project, "-r", req, "--json")
        assert r.rc == 0, r.stdout
        said = _messages(r.stderr)
        tried = any("kept as a template" in m for m in said)
        again = any(m.startswith("installing ") and "with uv" in m for m in said)
        assert not (tried and again), f"{name}: a template was installed, failed, and the venv installed again: {said}"
        got = subprocess.run(
            [str(project / ".venv" / "bin" / "python"), "-c", "import kenv_h7_probe as m; print(m.V)"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert got == "1.0"
