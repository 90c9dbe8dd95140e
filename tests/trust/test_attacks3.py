"""A third attack on kernelenv's trust guarantees (task H10): the speed changes of issue 15 (folders and
links cloned on threads, a new template's pins from an offline resolution after uv's install, the
bytecode cache in pack files harvested on a thread, ``--python PATH`` answered from the pythons cache).

Each test is one sequence a user can really run, with the real CLI (``python -m kernelenv``), real
venvs and an isolated HOME/Jupyter/cache (the ``jupyter`` fixture); its docstring says the sequence
and what went wrong before the fix. The invariants attacked: a broken cache only costs speed (never
an error, never a traceback); a template's key names exactly what it holds; a cached interpreter
answer is the interpreter's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import make_project, run_cli

pytestmark = pytest.mark.skipif(os.name != "posix", reason="Unix modes and hard links")


def _bytecode_cache() -> Path:
    """The bytecode cache folder of the running Python (one per implementation and version)."""
    root = Path(os.environ["XDG_CACHE_HOME"]) / "kernelenv" / "bytecode"
    (found,) = [p for p in root.iterdir() if p.is_dir()]
    return found


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr


@pytest.mark.slow
def test_a_bytecode_manifest_with_a_non_number_offset_only_costs_speed(jupyter, tmp_path):
    """`kernelenv create A`; the bytecode cache's manifest.json gets an entry whose offset is not a
    number (an edit, a bad merge by a sync tool); `kernelenv create B --with six` (a new template: its
    bytecode restored from the cache); the same with an offset of Infinity. Before the fix B failed
    with INTERNAL (ValueError: invalid literal for int()) from the manifest's reading: a broken cache
    must only cost speed."""
    a = make_project(tmp_path, "A")
    assert run_cli("create", a, "--json").rc == 0
    manifest = _bytecode_cache() / "manifest.json"
    data = json.loads(manifest.read_text())
    for i, (bad, package) in enumerate((("x", "six"), (float("inf"), "idna"))):  # a new template each
        key = next(iter(data["entries"]))
        data["entries"][key][1] = bad
        manifest.write_text(json.dumps(data))
        b = make_project(tmp_path, f"B{i}")
        r = run_cli("create", b, "--with", package, "--json")
        assert r.rc == 0, r.stdout
        _no_traceback(r.stderr)
        data = json.loads(manifest.read_text())


@pytest.mark.slow
def test_a_bytecode_cache_whose_packs_folder_cannot_be_made_prints_no_traceback(jupyter, tmp_path):
    """`kernelenv create A`; the bytecode cache's packs/ is replaced by a file (or a folder that cannot
    be made); `kernelenv create B --with six` (a new template, its bytecode harvested on a thread).
    Before the fix the harvest thread died on CACHE_UNWRITABLE and Python printed its traceback into
    create's stderr (which --json keeps for JSON lines); a cache that cannot be written only costs speed."""
    a = make_project(tmp_path, "A")
    assert run_cli("create", a, "--json").rc == 0
    cache = _bytecode_cache()
    (cache / "manifest.json").unlink()  # nothing restored: B compiles, then harvests
    for p in (cache / "packs").iterdir():
        p.unlink()
    (cache / "packs").rmdir()
    (cache / "packs").write_text("not a folder")
    os.chmod(cache / "packs", 0o600)
    b = make_project(tmp_path, "B")
    r = run_cli("create", b, "--with", "six", "--json")
    assert r.rc == 0, r.stdout
    _no_traceback(r.stderr)
