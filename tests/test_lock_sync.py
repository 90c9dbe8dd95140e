"""lock and sync: real uv resolutions and installs; errors leave the venv as it was."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import make_project

from kernelenv import lockfile
from kernelenv import venv as venvmod
from kernelenv.result import OperationError

SAMPLE = """# kernelenv-lock: 1
# python: 3.11
# requested: ipykernel, pip
six==1.17.0 \\
    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274
"""


def py_env() -> dict:
    """The interpreter running the tests, first on PATH, so `--python 3.X` finds it in an isolated HOME."""
    base = Path(sys.base_prefix) / "bin"
    return {"PATH": f"{base}{os.pathsep}{os.environ['PATH']}"}


# the format --------------------------------------------------------------------
def test_lock_round_trips():
    lock = lockfile.loads(SAMPLE)
    assert lock.python == "3.11" and lock.requested == ["ipykernel", "pip"]
    assert [(p.name, p.version) for p in lock.pins] == [("six", "1.17.0")]
    assert lockfile.loads(lock.dumps()).pins == lock.pins


@pytest.mark.parametrize(
    "text, why",
    [
        ("six==1.17.0 --hash=sha256:" + "a" * 64, "header"),
        (SAMPLE.replace("# python: 3.11", "# python: three"), "python"),
        (SAMPLE.replace("six==1.17.0", "six>=1.17.0"), "pinned"),
        (SAMPLE.replace("--hash=sha256:4721", "--hash=md5:4721"), "hash"),
        (SAMPLE.rstrip("\n").rsplit("\n", 1)[0] + "\n", "truncated"),
        (SAMPLE + SAMPLE.split("\n", 3)[3], "twice"),
        ("\n".join(SAMPLE.splitlines()[:3]) + "\n", "no package"),
        (SAMPLE.replace("six==1.17.0 \\", "six==1.17.0 --index-url http://x \\"), "options"),
    ],
)
def test_corrupt_lock_is_lock_invalid(text, why):
    with pytest.raises(OperationError) as exc:
        lockfile.loads(text)
    assert exc.value.info.code == "LOCK_INVALID"
    assert why in exc.value.info.message


# real lock + sync ----------------------------------------------------------------
@pytest.fixture
def locked_project(tmp_path, cli):
    proj = make_project(tmp_path, "locked")
    r = cli("create", proj, "--with", "six", "--json", env=py_env())
    assert r.rc == 0, r
    r = cli("lock", proj, "--json")
    assert r.rc == 0, r
    return proj


def _pins(proj: Path) -> dict[str, str]:
    return {p.canonical: p.version for p in lockfile.read(proj / "kernelenv.lock").pins}


def test_lock_pins_every_package_with_hashes(locked_project, cli):
    proj = locked_project
    lock = lockfile.read(proj / "kernelenv.lock")
    pins = _pins(proj)
    assert {"ipykernel", "pip", "six", "jupyter-client", "pyzmq", "tornado"} <= set(pins)
    assert all(p.hashes for p in lock.pins)
    assert lock.python == f"{sys.version_info[0]}.{sys.version_info[1]}"
    # the lock is the venv as it is: same packages, same versions
    assert pins == venvmod.installed(proj / ".venv")
    again = cli("lock", proj, "--json")
    assert again.rc == 0 and again.data["changed"] is False


def test_sync_makes_the_venv_match_exactly(locked_project, cli):
    proj = locked_project
    venv = proj / ".venv"
    uv = venvmod.python_of(venv)
    import subprocess

    from kernelenv.installer import uv_binary

    subprocess.run([uv_binary(), "pip", "uninstall", "--python", str(uv), "six"], check=True, capture_output=True)
    subprocess.run([uv_binary(), "pip", "install", "--python", str(uv), "idna"], check=True, capture_output=True)
    r = cli("sync", proj, "--json")
    assert r.rc == 0, r
    assert "six" in r.data["installed"] and "idna" in r.data["removed"]
    assert venvmod.installed(venv) == _pins(proj)
    r = cli("sync", proj, "--offline", "--json")  # from the cache alone; nothing to do
    assert r.rc == 0 and r.data["installed"] == [] and r.data["removed"] == []


def test_sync_errors_leave_the_venv_as_it_was(locked_project, cli):
    proj = locked_project
    venv = proj / ".venv"
    lock_path = proj / "kernelenv.lock"
    good = lock_path.read_text()
    before = venvmod.installed(venv)

    lock_path.write_text(good.replace("# kernelenv-lock: 1", "# kernelenv-lock: 7"))
    r = cli("sync", proj, "--json")
    assert r.rc == 1 and r.codes == ["LOCK_INVALID"]

    lock_path.write_text(good.replace(f"# python: {sys.version_info[0]}.{sys.version_info[1]}", "# python: 3.99"))
    r = cli("sync", proj, "--json")
    assert r.rc == 1 and r.codes == ["LOCK_INVALID"] and "3.99" in r.envelope["errors"][0]["message"]

    # another version of six with the old version's hash: the download cannot match
    lines = good.splitlines()
    i = next(n for n, ln in enumerate(lines) if ln.startswith("six=="))
    lines[i] = "six==1.16.0 \\"
    lock_path.write_text("\n".join(lines) + "\n")
    r = cli("sync", proj, "--json")
    assert r.rc == 1 and r.codes == ["HASH_MISMATCH"], r
    assert venvmod.installed(venv) == before

    lock_path.write_text(good)
    r = cli("create", proj, "--with", "numpy", "--json")  # create with a lock installs only the lock
    assert r.rc == 1 and r.codes == ["LOCK_INVALID"] and "kernelenv lock --with" in r.envelope["errors"][0]["hint"]
    assert venvmod.installed(venv) == before


def test_create_uses_the_lock(locked_project, tmp_path, cli, kernel):
    other = make_project(tmp_path, "colleague")
    (other / "kernelenv.lock").write_text((locked_project / "kernelenv.lock").read_text())
    r = cli("create", other, "--json")  # no --with six: the lock brings it
    assert r.rc == 0, r
    assert venvmod.installed(other / ".venv") == _pins(locked_project)
    k = kernel(r.data["kernel"]["name"])
    assert k.run("import six; print(six.__version__)").strip() == _pins(locked_project)["six"]


def test_sync_without_a_lock_or_venv(tmp_path, cli):
    proj = make_project(tmp_path, "nolock")
    r = cli("sync", proj, "--json")
    assert r.rc == 1 and r.codes == ["LOCK_NOT_FOUND"]
    (proj / "kernelenv.lock").write_text("garbage\n")
    r = cli("sync", proj, "--json")
    assert r.rc == 1 and r.codes == ["LOCK_INVALID"]
    assert not (proj / ".venv").exists()


def test_a_profile_the_lock_does_not_cover_is_refused(locked_project, cli):
    """With a lock, --profile data (numpy, pandas not locked) is LOCK_INVALID, not a silent no-op."""
    before = venvmod.installed(locked_project / ".venv")
    r = cli("create", locked_project, "--profile", "data", "--json")
    assert r.rc == 1 and r.codes == ["LOCK_INVALID"], r
    assert "kernelenv lock" in r.envelope["errors"][0]["hint"]
    assert venvmod.installed(locked_project / ".venv") == before
