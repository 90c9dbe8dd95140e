"""templates._in_parallel and the clone's folder maker: real threads, real folders.

A clone makes ~1,300 folders and ~9,000 hard links on several threads; when one part fails (a link
that is not the file the manifest recorded) or the run is interrupted (Ctrl-C, SIGTERM), every thread
must have stopped before the caller deletes what was made, or a thread could go on making files in a
folder being deleted.
"""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest

from kernelenv import templates


def test_a_failing_part_stops_the_others_and_its_error_is_raised():
    done: list[int] = []

    def job(stop, n: int, fail: bool) -> None:
        if fail:
            raise ValueError("part two failed")
        for i in range(n):
            if stop.is_set():
                done.append(i)
                return
            time.sleep(0.001)
        done.append(n)

    with pytest.raises(ValueError, match="part two failed"):
        templates._in_parallel(job, [(10_000, False), (0, True)])
    assert done and done[0] < 10_000  # stopped early, and had stopped when the error was raised


def test_an_interrupt_stops_every_thread_before_it_is_raised():
    alive: list[threading.Thread] = []

    def job(stop, role: str) -> None:
        if role == "main":
            time.sleep(0.05)
            raise KeyboardInterrupt
        alive.append(threading.current_thread())
        while not stop.is_set():
            time.sleep(0.001)

    with pytest.raises(KeyboardInterrupt):
        templates._in_parallel(job, [("main",), ("other",), ("other",)])
    assert len(alive) == 2 and not any(t.is_alive() for t in alive)


def test_an_interrupt_wins_over_another_parts_error():
    def job(stop, role: str) -> None:
        if role == "main":
            time.sleep(0.05)
            raise KeyboardInterrupt
        raise ValueError("other")

    with pytest.raises(KeyboardInterrupt):
        templates._in_parallel(job, [("main",), ("other",)])


def test_folders_are_made_depth_by_depth_with_their_modes(tmp_path):
    dirs = []
    for a in range(5):
        dirs.append([f"a{a}", 0o755])
        for b in range(40):  # more than one thread's share at this depth
            dirs.append([f"a{a}/b{b}", 0o700 if b % 2 else 0o755])
            dirs.append([f"a{a}/b{b}/c", 0o755])
    dest = tmp_path / "venv"
    dest.mkdir()
    templates._make_folders(str(dest) + "/", dirs)
    for rel, mode in dirs:
        st = os.lstat(dest / rel)
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == mode & ~_umask(), rel


def test_a_folder_that_is_there_already_fails_the_clone_and_nothing_runs_on(tmp_path):
    dirs = [[f"d{i}", 0o755] for i in range(200)]
    dest = tmp_path / "venv"
    dest.mkdir()
    (dest / "d150").mkdir()  # planted
    with pytest.raises(FileExistsError):
        templates._make_folders(str(dest) + "/", dirs)
    time.sleep(0.05)
    made = set(os.listdir(dest))
    time.sleep(0.05)
    assert set(os.listdir(dest)) == made  # no thread still making folders


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old
