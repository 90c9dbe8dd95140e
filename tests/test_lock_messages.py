"""What a run that waits for another one says: the venv or kernel folder in words, not a lock key."""

from __future__ import annotations

import threading

import pytest
from conftest import make_project

from kernelenv import locks
from kernelenv.context import Context
from kernelenv.result import OperationError


def test_a_waiting_run_names_the_venv_in_words_and_gives_up_with_locked(jupyter, tmp_path):
    project = make_project(tmp_path)
    said: list[str] = []
    waiter = Context.build(project, progress=lambda stage, message, *_: said.append(message))
    holder = Context.build(project)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # another run: the same venv's lock, held in another thread on its own file handle
        with locks.venv_and_kernels(holder, project / ".venv", []):
            held.set()
            release.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert held.wait(30)
        with pytest.raises(OperationError) as exc:
            with locks.locked(waiter, f"venv:{(project / '.venv').resolve()}", wait=0.2):
                pass
    finally:
        release.set()
        t.join(30)
    venv = (project / ".venv").resolve()
    assert said == [f"waiting for another kernelenv run on the venv {venv} to finish"], said
    assert exc.value.info.code == "LOCKED"
    assert exc.value.info.message == f"another kernelenv run holds the venv {venv}; gave up after 0.2 s"
    assert "venv:" not in exc.value.info.message
