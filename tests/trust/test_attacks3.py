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


_SLOW = "kenv-h10-slow"  # an sdist whose wheel build takes seconds: uv's install is still running meanwhile
_SLOW_BACKEND = """import base64, hashlib, os, time, zipfile
DIST = "kenv_h10_slow-1.0"
MEMBERS = {"kenv_h10_slow.py": "S = 1\\n",
           DIST + ".dist-info/METADATA": "Metadata-Version: 2.1\\nName: kenv-h10-slow\\nVersion: 1.0\\n",
           DIST + ".dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
def prepare_metadata_for_build_wheel(d, config_settings=None):
    os.makedirs(os.path.join(d, DIST + ".dist-info"))
    for k, v in MEMBERS.items():
        if k.startswith(DIST):
            open(os.path.join(d, k), "w").write(v)
    return DIST + ".dist-info"
def build_wheel(d, config_settings=None, metadata_directory=None):
    open(MARKER, "w").close()
    time.sleep(6)
    rows = [k + ",sha256=" + base64.urlsafe_b64encode(hashlib.sha256(v.encode()).digest()).rstrip(b"=").decode()
            + "," + str(len(v)) for k, v in MEMBERS.items()]
    members = {**MEMBERS, DIST + ".dist-info/RECORD": "\\n".join(rows + [DIST + ".dist-info/RECORD,,"]) + "\\n"}
    with zipfile.ZipFile(os.path.join(d, DIST + "-py3-none-any.whl"), "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    return DIST + "-py3-none-any.whl"
"""


def _publish_slow_sdist(index: Path, marker: Path) -> None:
    """``_SLOW`` 1.0 as an sdist on the PEP 503 index at ``index``; its build touches ``marker``, then sleeps."""
    import hashlib
    import io
    import tarfile

    page = index / _SLOW
    page.mkdir(parents=True)
    members = {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "kenv-h10-slow"\nversion = "1.0"\n',
        "PKG-INFO": "Metadata-Version: 2.1\nName: kenv-h10-slow\nVersion: 1.0\n",
        "backend.py": f"MARKER = {str(marker)!r}\n" + _SLOW_BACKEND,
    }
    sdist = page / "kenv_h10_slow-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"kenv_h10_slow-1.0/{name}")
            info.size, info.mtime = len(data), 1577836800
            tar.addfile(info, io.BytesIO(data))
    sha = hashlib.sha256(sdist.read_bytes()).hexdigest()
    (page / "index.html").write_text(f'<a href="{sdist.name}#sha256={sha}">{sdist.name}</a>\n')


@pytest.mark.slow
def test_a_release_file_replaced_during_a_new_templates_install_is_not_what_later_projects_get(jupyter, tmp_path, monkeypatch):
    """A local PEP 503 index (UV_EXTRA_INDEX_URL=file://...) offers probe 1.0 and an sdist that takes
    seconds to build; `kernelenv create p1 --with probe --with slow` (no template: uv installs the
    request into a new one); while uv builds the sdist, probe 1.0's wheel is replaced by a rebuilt one
    (same version, another file, as `test_an_upgraded_yanked_or_rebuilt_release_changes_the_template`
    publishes); then `kernelenv create p2 --with probe --with slow`. Before: p1's template held the old
    file but its key named the new file's hash (the offline compile after the install read the index
    again), so p2 resolved to that key and was cloned with the old probe, not what the index offers.
    Now the pins are resolved first and the template installed by the hash-checked sync of them: a file
    replaced meanwhile either fails that sync (p1 installed without a template) or leaves a key naming
    the old file, which p2's resolution does not match."""
    import threading
    import time

    from test_templates import PROBE, _publish

    index, marker = tmp_path / "index", tmp_path / "building"
    index.mkdir()
    _publish_slow_sdist(index, marker)
    _publish(index, {"1.0": ("V = '1.0'\n", False)})
    monkeypatch.setenv("UV_EXTRA_INDEX_URL", index.as_uri())
    p1, p2 = make_project(tmp_path, "p1"), make_project(tmp_path, "p2")

    def rebuild_during_the_install() -> None:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # uv has the probe's wheel by now; the sdist's build sleeps 6 s
        _publish(index, {"1.0": ("V = '1.0 rebuilt'\n", False)})

    flipper = threading.Thread(target=rebuild_during_the_install)
    flipper.start()
    try:
        assert run_cli("create", p1, "--with", PROBE, "--with", _SLOW, "--json").rc == 0
    finally:
        flipper.join()
    assert marker.exists(), "uv did not build the slow sdist: the race was not set up"
    assert run_cli("create", p2, "--with", PROBE, "--with", _SLOW, "--json").rc == 0
    import subprocess

    got = subprocess.run(
        [str(p2 / ".venv" / "bin" / "python"), "-c", "import kenv_h7_probe as m; print(m.V)"], capture_output=True, text=True
    ).stdout.strip()
    assert got == "1.0 rebuilt", f"p2 got probe {got!r}, but the index offers '1.0 rebuilt' (a stale template's key)"
