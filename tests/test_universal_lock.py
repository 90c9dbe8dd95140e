"""lock --universal: one lock for Linux, macOS and Windows and the project's Python range (issue 16, part 2).

Real uv resolutions against the index; the per-platform installs download each platform's real
wheels and check them against the lock's hashes. The format tests need no network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_project
from packaging.markers import Marker

from kernelenv import installer, lockfile
from kernelenv import venv as venvmod
from kernelenv.result import OperationError

PLATFORMS = {  # sys_platform: (uv's --python-platform, marker values that differ from this machine's)
    "linux": (
        "x86_64-unknown-linux-gnu",
        {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"},
    ),
    "darwin": (
        "aarch64-apple-darwin",
        {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"},
    ),
    "win32": (
        "x86_64-pc-windows-msvc",
        {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
    ),
}
H = "sha256:" + "a" * 64
UNIVERSAL = f"""# kernelenv-lock: 1
# python: 3.11
# requested: ipykernel, pip
# requires-python: >=3.10
# universal: true
colorama==0.4.6 ; sys_platform == 'win32' \\
    --hash={H}
ipykernel==7.3.0 ; python_full_version < '3.11' \\
    --hash={H}
ipykernel==7.4.0 ; python_full_version >= '3.11' \\
    --hash={H}
six==1.17.0 \\
    --hash={H}
"""


def env_for(platform: str, version: tuple[int, int, int], implementation: str = "CPython") -> dict[str, str]:
    env = lockfile.environment(version, implementation)
    env.update(PLATFORMS[platform][1])
    return env


def py_env() -> dict:
    base = Path(sys.base_prefix) / "bin"
    return {"PATH": f"{base}{os.pathsep}{os.environ['PATH']}"}


def uv() -> str:
    exe = installer.uv_binary()
    assert exe, "uv must run here (a dependency of kernelenv)"
    return exe


# the format: no network ------------------------------------------------------------------
def test_universal_lock_reads_markers_and_forks():
    lock = lockfile.loads(UNIVERSAL)
    assert lock.universal and lock.requires_python == ">=3.10"
    assert [p.name for p in lock.pins].count("ipykernel") == 2
    assert lockfile.loads(lock.dumps()).pins == lock.pins  # written with its markers, read back the same
    assert "# universal: true" in lock.dumps() and "# requires-python: >=3.10" in lock.dumps()
    for platform in PLATFORMS:
        for version, kernel in (((3, 10, 13), "7.3.0"), ((3, 12, 1), "7.4.0")):
            here = lockfile.applicable(lock, version, "CPython", env_for(platform, version)).by_name()
            assert here["ipykernel"].version == kernel
            assert ("colorama" in here) == (platform == "win32")
            assert "six" in here


def test_one_name_twice_needs_markers():
    with pytest.raises(OperationError) as exc:
        lockfile.loads(UNIVERSAL.replace("ipykernel==7.4.0 ; python_full_version >= '3.11'", "ipykernel==7.4.0"))
    assert exc.value.info.code == "LOCK_INVALID" and "named twice" in exc.value.info.message
    overlapping = lockfile.loads(UNIVERSAL.replace("python_full_version >= '3.11'", "python_full_version >= '3.10'"))
    with pytest.raises(OperationError) as exc:  # both forks hold for 3.10: refused, not one picked at random
        lockfile.applicable(overlapping, (3, 10, 13), "CPython")
    assert exc.value.info.code == "LOCK_INVALID" and "twice" in exc.value.info.message


def test_a_universal_lock_takes_any_python_of_its_range():
    lock = lockfile.loads(UNIVERSAL)
    lockfile.check_python(lock, (3, 13, 0), Path("kernelenv.lock"), Path("venv"))
    lockfile.check_python(lock, (3, 10, 2), Path("kernelenv.lock"), Path("venv"))
    with pytest.raises(OperationError) as exc:
        lockfile.check_python(lock, (3, 9, 18), Path("kernelenv.lock"), Path("venv"))
    assert exc.value.info.code == "LOCK_INVALID" and ">=3.10" in exc.value.info.message
    assert lockfile.lowest_python(">=3.10,<3.13", (3, 8)) == "3.10"
    assert lockfile.lowest_python("~=3.11", (3, 8)) == "3.11"
    assert lockfile.lowest_python("<3.13", (3, 8)) == "3.8"


def test_universal_with_pip_is_refused(tmp_path, cli):
    proj = make_project(tmp_path, "uni")
    r = cli("lock", proj, "--universal", "--installer", "pip", "--json")
    assert r.rc == 2 and r.codes == ["UNIVERSAL_NEEDS_UV"], r
    assert not (proj / "kernelenv.lock").exists()


# real resolutions ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def universal(tmp_path_factory):
    """A project (requires-python >=3.10, six) locked with `lock --universal`, and uv's own universal lock of the same input."""
    from conftest import Jupyter, run_cli

    root = tmp_path_factory.mktemp("universal")
    iso = Jupyter(root / "iso")
    proj = make_project(root, "uni")
    (proj / "pyproject.toml").write_text('[project]\nname = "uni"\nversion = "0"\nrequires-python = ">=3.10"\n')
    r = run_cli("lock", proj, "--universal", "--with", "six", "--json", env={**iso.env(), **py_env()})
    assert r.rc == 0, r
    req = root / "requirements.in"
    req.write_text("six\nipykernel\npip\n")
    out = root / "uv-universal.txt"
    done = subprocess.run(
        [
            uv(),
            "pip",
            "compile",
            str(req),
            "--universal",
            "--generate-hashes",
            "--python-version",
            "3.10",
            "-o",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return proj, r.data, out


def test_universal_lock_pins_every_platform_with_hashes(universal):
    proj, data, _ = universal
    lock = lockfile.read(proj / "kernelenv.lock")
    assert lock.universal and lock.requires_python == ">=3.10" and data["universal"] and data["requires_python"] == ">=3.10"
    text = (proj / "kernelenv.lock").read_text()
    assert "# universal: true" in text and "# platform:" not in text
    assert all(p.hashes for p in lock.pins)
    assert any(p.marker for p in lock.pins) and any(m["marker"] for m in data["packages"])
    seen = {}
    for platform in PLATFORMS:
        for version in ((3, 10, 13), (3, 11, 2), (3, 13, 0)):
            here = lockfile.applicable(lock, version, "CPython", env_for(platform, version)).by_name()
            assert {"ipykernel", "pyzmq", "tornado", "jupyter-client", "six", "pip"} <= set(here), (platform, version)
            assert all(p.hashes for p in here.values())
            seen[platform, version] = here
    assert "colorama" in seen["win32", (3, 11, 2)] and "colorama" not in seen["linux", (3, 11, 2)]
    assert "appnope" in seen["darwin", (3, 11, 2)] and "appnope" not in seen["win32", (3, 11, 2)]
    assert "pexpect" in seen["linux", (3, 11, 2)] and "pexpect" not in seen["win32", (3, 11, 2)]
    # the range is the project's: pins for 3.10 exist (a fork where the newest releases need 3.11)
    assert seen["linux", (3, 10, 13)]["ipykernel"].version
    pypy = lockfile.applicable(lock, (3, 10, 13), "PyPy", {**env_for("linux", (3, 10, 13), "PyPy")}).by_name()
    assert "cffi" in pypy  # pyzmq needs cffi on PyPy: the lock has it under its marker


def test_uv_universal_lock_round_trips(universal):
    """uv's own `pip compile --universal --generate-hashes` of the same input: kernelenv reads it, writes an equivalent lock."""
    proj, _, uv_out = universal

    def key(pins):
        return sorted((p.canonical, p.version, str(Marker(p.marker)) if p.marker else "", tuple(sorted(p.hashes))) for p in pins)

    ours = lockfile.read(proj / "kernelenv.lock")
    theirs = lockfile.parse_pins(uv_out.read_text(), uv_out)
    assert key(theirs) == key(ours.pins)
    written = lockfile.Lock("3.11", theirs, ["six"], {"universal": "true", "requires-python": ">=3.10"})
    again = lockfile.loads(written.dumps())
    assert key(again.pins) == key(theirs) and again.universal and again.requires_python == ">=3.10"


@pytest.mark.slow
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_each_platforms_wheels_install_hash_checked(universal, platform, tmp_path):
    """uv installs the lock for Linux, macOS and Windows (their real wheels, every one checked against a lock hash)."""
    proj, _, _ = universal
    target = tmp_path / "target"
    done = subprocess.run(
        [
            uv(),
            "pip",
            "install",
            "--require-hashes",
            "--no-deps",
            "-r",
            str(proj / "kernelenv.lock"),
            "--python-platform",
            PLATFORMS[platform][0],
            "--python-version",
            "3.12",
            "--target",
            str(target),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "UV_NO_PROGRESS": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    names = {p.name.split("-")[0].lower() for p in target.glob("*.dist-info")}
    assert {"ipykernel", "pyzmq", "six"} <= names
    assert ("colorama" in names) == (platform == "win32") and ("appnope" in names) == (platform == "darwin")
    # pyzmq's compiled wheel is the platform's own (its WHEEL file names the platform tag)
    wheel = next(target.glob("pyzmq-*.dist-info")) / "WHEEL"
    tags = [ln.split(":", 1)[1].strip() for ln in wheel.read_text().splitlines() if ln.startswith("Tag:")]
    word = {"linux": "linux", "darwin": "macosx", "win32": "win_amd64"}[platform]
    assert tags and all(word in t for t in tags), tags


def test_create_and_sync_install_this_machines_subset(universal, tmp_path, cli, kernel):
    """The same lock on Python 3.10 here: that fork's pins, nothing for other platforms; sync is then a no-op."""
    proj, _, _ = universal
    mine = make_project(tmp_path, "uni")
    for name in ("pyproject.toml", "kernelenv.lock"):
        (mine / name).write_text((proj / name).read_text())
    r = cli("create", mine, "--python", "3.10", "--json", env=py_env())
    assert r.rc == 0, r
    lock = lockfile.read(mine / "kernelenv.lock")
    info_version = tuple(int(x) for x in r.data["python"]["version"].split("."))
    want = {p.canonical: p.version for p in lockfile.applicable(lock, info_version, "CPython").pins}
    have = venvmod.installed(mine / ".venv")
    assert have == want
    assert "colorama" not in have and "appnope" not in have
    r = cli("sync", mine, "--json")
    assert r.rc == 0 and r.data["installed"] == [] and r.data["removed"] == [], r
    k = kernel("uni")
    assert k.run("import sys, six; print(sys.version_info[:2])").strip() == "(3, 10)"


def test_a_python_outside_the_range_is_refused(universal, tmp_path, cli):
    proj, _, _ = universal
    mine = make_project(tmp_path, "uni")
    (mine / "kernelenv.lock").write_text((proj / "kernelenv.lock").read_text())
    r = cli("create", mine, "--python", "3.9", "--json", env=py_env())
    if r.codes == ["PYTHON_NOT_FOUND"]:
        pytest.skip("no Python 3.9 here")
    assert r.rc == 1 and r.codes == ["LOCK_INVALID"], r
    assert ">=3.10" in r.envelope["errors"][0]["message"]
    assert not (mine / ".venv").exists()


def test_a_venvs_own_packages_are_locked_for_every_platform_at_their_versions(tmp_path, cli):
    """What the venv holds beyond what was asked (a notebook's !pip install) is locked, at its version where it fits."""
    proj = make_project(tmp_path, "held")
    r = cli("create", proj, "--with", "idna==3.6", "--json", env=py_env())
    assert r.rc == 0, r
    r = cli("lock", proj, "--universal", "--json")
    assert r.rc == 0 and r.data["universal"], r
    pins = [p for p in lockfile.read(proj / "kernelenv.lock").pins if p.name == "idna"]
    assert [(p.version, p.marker) for p in pins] == [("3.6", None)], pins
    assert "idna" not in lockfile.read(proj / "kernelenv.lock").requested  # resolved by name, kept by preference
