"""Helpers of the trust tests: a Python install that can be uninstalled, shebangs, modes."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest


def base_python_install() -> Path:
    """The install prefix of the interpreter running the tests (not a venv)."""
    return Path(sys.base_prefix)


@pytest.fixture
def removable_python(tmp_path):
    """A copy of the running Python's install (hard links where possible) that a test may delete,
    like `pyenv uninstall`. Returns its interpreter path."""
    src = base_python_install()
    dest = tmp_path / "pyinstall"
    done = subprocess.run(["cp", "-al", str(src), str(dest)], capture_output=True)
    if done.returncode != 0:
        shutil.copytree(src, dest, symlinks=True)
    exe = dest / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    assert exe.exists(), exe
    return exe


def shebang(script: Path) -> str:
    with open(script, "rb") as f:
        return f.readline().decode("utf-8", "replace").strip()


def world_writable(root: Path) -> list[str]:
    bad = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & (stat.S_IWOTH | stat.S_IWGRP):
                bad.append(f"{oct(st.st_mode & 0o7777)} {p}")
    return bad
