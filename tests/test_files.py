"""files.py: the private cache folders."""

from __future__ import annotations

import os
import stat

from kernelenv import files


def test_cache_folders_are_private_at_every_level(tmp_path):
    """files.private_subdir(root, "bytecode", "cpython-3.11.7"): the folder between is 0700 too (it was 0755:
    mkdir(parents=True) gives the folders it makes on the way the umask's mode)."""
    old = os.umask(0o022)
    try:
        leaf = files.private_subdir(tmp_path / "cache", "bytecode", "cpython-3.11.7")
    finally:
        os.umask(old)
    for folder in (tmp_path / "cache", tmp_path / "cache" / "bytecode", leaf):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
