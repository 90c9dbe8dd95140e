"""pythons: discovery of real interpreters, its cache (no process on a warm call), --python forms."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kernelenv import pythons
from kernelenv.result import OperationError

# Where the real interpreters live, read before any fixture isolates HOME.
REAL_ENV = dict(os.environ)
REAL_ENV.setdefault("PYENV_ROOT", str(Path.home() / ".pyenv"))


@pytest.fixture(scope="module")
def found(tmp_path_factory) -> list[pythons.Found]:
    return pythons.discover(tmp_path_factory.mktemp("cache"), REAL_ENV)


def supported(found):
    return [f for f in found if f.info and f.info.supported and f.info.implementation == "CPython"]


def test_discovery_finds_several_pythons_once_each(found):
    ok = supported(found)
    assert len(ok) >= 3, [f.to_json() for f in found]
    reals = [f.real_path for f in found]
    assert len(reals) == len(set(reals))
    for f in found:
        j = f.to_json()
        assert set(j) >= {"version", "implementation", "path", "real_path", "source", "found_in", "can_venv", "venv_module"}
        assert os.path.realpath(j["path"]) == j["real_path"]
        assert j["source"] in {"pyenv", "asdf", "mise", "uv", "conda", "path", "system"} or j["source"].endswith("(shim)")
    versions = [f.info.version for f in found if f.info]
    assert versions == sorted(versions, reverse=True)  # newest first


def test_pyenv_shims_resolve_to_real_installs(tmp_path):
    """A pyenv shim on PATH (even of a version that is not selected) is followed to its install."""
    real = os.path.realpath(sys.executable)
    root = tmp_path / "pyenv"
    bindir = root / "versions" / "3.99.1" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python3.99").symlink_to(real)
    (bindir / "python3").symlink_to(real)
    shims = root / "shims"
    shims.mkdir()
    shim = shims / "python3.99"
    shim.write_text(
        f'#!/usr/bin/env bash\nset -e\nexport PYENV_ROOT="{root}"\nexec "{root}/libexec/pyenv" exec "$program" "$@"\n'
    )
    shim.chmod(0o755)
    env = {"PATH": str(shims), "HOME": str(tmp_path / "home"), "PYENV_ROOT": str(root)}
    got = pythons.candidates(env)
    assert ("pyenv (shim)", str(bindir / "python3.99")) in got
    assert ("path", str(shim)) not in got  # the shim itself is never probed (it exits 127 for unselected versions)
    assert ("pyenv", str(bindir / "python3")) in got


def _wrapper(path: Path, target: str, log: Path) -> None:
    path.write_text(f'#!/bin/sh\necho probed >> "{log}"\nexec "{target}" "$@"\n')
    path.chmod(0o755)


def test_cache_spawns_nothing_warm_and_notices_changes(found, tmp_path):
    ok = supported(found)
    a, b = ok[0].real_path, ok[-1].real_path
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "probes.log"
    wrapper = bindir / "python3.77"
    _wrapper(wrapper, a, log)
    env = {**REAL_ENV, "PATH": f"{bindir}{os.pathsep}{REAL_ENV['PATH']}"}
    cache = tmp_path / "cache"

    def mine():
        return next((f for f in pythons.discover(cache, env) if f.path == str(wrapper)), None)

    first = mine()
    assert first is not None and first.sources == ["path"] and first.info.version == ok[0].info.version
    assert pythons.last_probed() >= 3
    assert log.read_text().count("probed") == 1
    again = mine()
    assert pythons.last_probed() == 0 and log.read_text().count("probed") == 1
    assert again.info == first.info
    # upgraded in place: the file changes, so it is probed again
    _wrapper(wrapper, b, log)
    later = wrapper.stat().st_mtime_ns + 10**9
    os.utime(wrapper, ns=(later, later))
    upgraded = mine()
    assert pythons.last_probed() == 1 and log.read_text().count("probed") == 2
    assert upgraded.info.version == ok[-1].info.version
    # removed: gone from the list and from the cache file
    wrapper.unlink()
    assert mine() is None and pythons.last_probed() == 0
    data = json.loads((cache / pythons.CACHE_FILE).read_text())
    assert str(wrapper) not in data["interpreters"]


def test_cli_warm_call_starts_no_process(jupyter, tmp_path):
    """`kernelenv pythons --json` twice: the second starts no process at all (audit hook)."""
    script = textwrap.dedent(
        """
        import sys
        spawned = []
        def hook(event, args):
            if event in ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.fork", "os.system"):
                spawned.append(event)
        sys.addaudithook(hook)
        from kernelenv.cli import main
        rc = main(["pythons", "--json"])
        sys.stderr.write("SPAWNED=%d\\n" % len(spawned))
        sys.exit(rc)
        """
    )
    env = {**os.environ, "PYENV_ROOT": REAL_ENV["PYENV_ROOT"], "PATH": REAL_ENV["PATH"]}
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120) for _ in range(2)
    ]
    for r in runs:
        assert r.returncode == 0, r.stderr
    cold, warm = (int(r.stderr.split("SPAWNED=")[1].split()[0]) for r in runs)
    assert cold >= 3 and warm == 0
    data = json.loads(runs[1].stdout)["data"]
    assert data["cache"]["probed"] == 0 and data["cache"]["cached"] == len(data["pythons"])
    assert data["cache"]["path"].startswith(str(jupyter.home))


def test_version_forms_pick_the_newest_match(found, tmp_path):
    ok = supported(found)
    newest = ok[0].info
    oldest = ok[-1].info
    cache = tmp_path / "c"

    def r(spec):
        return pythons.resolve(spec, cache_dir=cache, env=REAL_ENV)

    assert r(oldest.short).version[:2] == oldest.version[:2]
    assert r(oldest.version_str).version == oldest.version
    assert r(f"cpython{oldest.short}").version[:2] == oldest.version[:2]
    assert r(f"python{oldest.short}").version[:2] == oldest.version[:2]
    assert r(f">={oldest.short}").version == newest.version
    upper = f"{oldest.version[0]}.{oldest.version[1] + 1}"
    assert r(f">={oldest.short},<{upper}").version[:2] == oldest.version[:2]
    assert r(ok[1].path).version == ok[1].info.version
    assert r(None).path == sys.executable  # the default: the interpreter running kernelenv, no process


def test_nothing_matches_lists_what_exists(found, tmp_path):
    with pytest.raises(OperationError) as exc:
        pythons.resolve("3.99", cache_dir=tmp_path, env=REAL_ENV)
    info = exc.value.info
    assert info.code == "PYTHON_NOT_FOUND"
    for f in supported(found):
        assert f.info.version_str in info.message
    assert {d["version"] for d in info.details["available"]} >= {f.info.version_str for f in supported(found)}
    with pytest.raises(OperationError) as exc:
        pythons.resolve("banana", cache_dir=tmp_path, env=REAL_ENV)
    assert exc.value.info.code == "PYTHON_NOT_FOUND" and "3.12" in exc.value.info.message


def test_too_old_pythons_name_the_oldest_supported(found, jupyter, cli, tmp_path):
    old = [f for f in found if f.info and not f.info.supported]
    if not old:
        pytest.fail("machines of this kind have a Python older than 3.7 (pyenv's 3.6, 2.7); none found")
    for f in old:
        with pytest.raises(OperationError) as exc:
            pythons.resolve(f.info.short, cache_dir=tmp_path, env=REAL_ENV)
        assert exc.value.info.code == "PYTHON_UNSUPPORTED" and "oldest supported is 3.7" in exc.value.info.message
        # the message names the Pythons that would do
        assert all(f.info.version_str in exc.value.info.message for f in supported(found))
    project = tmp_path / "p"
    project.mkdir()
    res = cli("create", project, "--python", old[0].info.short, "--json", env={"PYENV_ROOT": REAL_ENV["PYENV_ROOT"]})
    assert res.rc == 1 and res.codes == ["PYTHON_UNSUPPORTED"], res
    assert "3.7" in res.envelope["errors"][0]["message"] and not (project / ".venv").exists()
    hint = res.envelope["errors"][0]["hint"]  # what to do, without the message's list again
    assert "usable here" not in hint and "--python" in hint and "kernelenv pythons" in hint, hint
    res = cli("create", project, "--python", old[0].path, "--json", env={"PYENV_ROOT": REAL_ENV["PYENV_ROOT"]})
    assert res.codes == ["PYTHON_UNSUPPORTED"], res
    newest = supported(found)[0].info
    assert f"usable here: {newest.implementation} {newest.version_str}" in res.envelope["errors"][0]["message"], res


def test_cli_human_table(jupyter, cli):
    res = cli("pythons", env={"PYENV_ROOT": REAL_ENV["PYENV_ROOT"]})
    assert res.rc == 0, res
    assert res.stdout.splitlines()[0].split()[:2] == ["VERSION", "IMPL"]
    assert "oldest supported: 3.7" in res.stdout


def test_register_with_python_version(found, jupyter, cli, tmp_path):
    """register --python 3.X finds the interpreter; without ipykernel it says so."""
    target = supported(found)[-1].info
    res = cli("register", "--python", target.short, "--name", "old", "--json", env={"PYENV_ROOT": REAL_ENV["PYENV_ROOT"]})
    if res.rc == 0:
        assert res.data["python"]["version"] == target.version_str
    else:
        assert res.codes == ["IPYKERNEL_MISSING"], res
        assert target.short in res.envelope["errors"][0]["message"]
    both = cli("register", sys.executable, "--python", "3.12", "--json")
    assert both.codes == ["USAGE"]
