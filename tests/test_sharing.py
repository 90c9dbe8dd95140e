"""sharing.py on real folders and modes: who reaches what, and what giving a tree to a group does.

Real files with real modes in the test's folder (no users are made: the JupyterHub test in
tests/sharing does that as root). The group is the test runner's own, which it may give files to.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kernelenv import sharing
from kernelenv.result import OperationError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="Unix modes and groups")


@pytest.fixture
def open_dir():
    """A folder every user may enter (pytest's own tmp folder is private to the runner)."""
    import shutil
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="kernelenv-sharing-"))
    os.chmod(d, 0o755)
    if _private_above(d):
        shutil.rmtree(d)
        pytest.skip(f"{d.parent} is a folder other users cannot enter")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _tree(root: Path) -> Path:
    (root / "venv" / "bin").mkdir(parents=True)
    (root / "venv" / "lib" / "site-packages").mkdir(parents=True)
    (root / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "venv" / "bin" / "tool").write_text("#!/bin/sh\n")
    os.chmod(root / "venv" / "bin" / "tool", 0o755)
    os.symlink("tool", root / "venv" / "bin" / "link")
    return root / "venv"


def test_give_makes_a_tree_the_groups_to_read_and_nobody_elses(tmp_path):
    venv = _tree(tmp_path)
    os.chmod(venv / "pyvenv.cfg", 0o666)  # even a world-writable file comes out closed
    group = sharing.Group(os.getegid(), sharing.group_name(os.getegid()))
    sharing.give(venv, group)
    for p in [venv, *venv.rglob("*")]:
        st = os.lstat(p)
        assert st.st_gid == group.gid
        if stat.S_ISLNK(st.st_mode):
            continue
        mode = stat.S_IMODE(st.st_mode)
        assert not mode & 0o027 and mode & 0o040, (p, oct(mode))
        if p.is_dir():
            assert mode == 0o2750, (p, oct(mode))
    assert stat.S_IMODE(os.stat(venv / "bin" / "tool").st_mode) == 0o750  # runnable by the group, as by the owner
    assert stat.S_IMODE(os.stat(venv / "pyvenv.cfg").st_mode) == 0o640
    before = {p: os.lstat(p) for p in venv.rglob("*")}
    sharing.give(venv, group)  # idempotent
    assert {p: os.lstat(p).st_mode for p in venv.rglob("*")} == {p: s.st_mode for p, s in before.items()}


def test_blocked_names_the_folder_that_stops_them(open_dir):
    tmp_path = open_dir
    venv = _tree(tmp_path)
    everyone = sharing.EVERY_USER
    assert sharing.blocked(venv / "bin" / "tool", everyone, "x") is None
    os.chmod(venv / "bin", 0o700)
    found = sharing.blocked(venv / "bin" / "tool", everyone, "x")
    assert found is not None and found.path == venv / "bin" and found.mode == 0o700
    assert "keeps every user from" in found.describe(everyone)
    os.chmod(venv / "bin", 0o755)
    os.chmod(venv / "pyvenv.cfg", 0o600)
    found = sharing.blocked(venv / "pyvenv.cfg", everyone, "r")
    assert found is not None and found.path == venv / "pyvenv.cfg"
    # group bits apply to members when the file is their group's, other bits otherwise
    members = sharing.Audience(os.getegid(), "members")
    os.chmod(venv / "pyvenv.cfg", 0o640)
    assert sharing.blocked(venv / "pyvenv.cfg", members, "r") is None
    assert sharing.blocked(venv / "pyvenv.cfg", everyone, "r") is not None
    os.chmod(venv / "pyvenv.cfg", 0o604)  # others may read, the group may not: members are refused
    assert sharing.blocked(venv / "pyvenv.cfg", members, "r") is not None
    # a folder not made yet counts as made with this process's umask
    for umask, closed in ((0o077, True), (0o022, False)):
        old = os.umask(umask)
        try:
            assert (sharing.blocked(tmp_path / "new" / "kernels", everyone, "x") is not None) == closed
        finally:
            os.umask(old)


def _private_above(path: Path) -> bool:
    return any(not stat.S_IMODE(os.stat(p).st_mode) & 0o001 for p in path.parents)


def test_audience_of_a_spec(open_dir):
    tmp_path = open_dir
    spec = tmp_path / "kernel.json"
    spec.write_text("{}")
    os.chmod(spec, 0o644)
    assert sharing.audience(spec) == sharing.EVERY_USER
    os.chmod(spec, 0o640)
    who = sharing.audience(spec)
    assert who is not None and who.gid == os.getegid()
    os.chmod(spec, 0o600)
    assert sharing.audience(spec) is None


def test_an_unknown_group_is_group_invalid(tmp_path):
    with pytest.raises(OperationError) as exc:
        sharing.group_for("no-such-group-kernelenv", tmp_path / "venv")
    assert exc.value.info.code == "GROUP_INVALID"
    parent = sharing.group_for("", tmp_path / "venv")  # the folder's own group
    assert parent.gid == os.stat(tmp_path).st_gid
