"""kernelenv/bytecode.py: the start-up warm-up's children, real processes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from kernelenv import bytecode


def test_a_warm_up_past_its_timeout_is_stopped_and_only_costs_speed(tmp_path, monkeypatch):
    """A warming child that does not end in time (an import that hangs) is stopped; wait() returns,
    still runs what it was given to run beside, and raises nothing (create then goes on)."""
    (tmp_path / "kenv_hangs_on_import.py").write_text("import time\ntime.sleep(60)\n")
    monkeypatch.chdir(tmp_path)  # `python -c` imports from the working folder
    monkeypatch.setattr(bytecode, "WARM_GROUPS", (("kenv_hangs_on_import",),))
    monkeypatch.setattr(bytecode, "WARM_TIMEOUT", 1.0)
    site = tmp_path / "site"
    site.mkdir()
    ran: list[str] = []
    t = time.monotonic()
    warming = bytecode.warm_start(Path(sys.executable), site, None, harvest_after=True, progress=lambda _: None)
    warming.wait(beside=lambda: ran.append("beside"))
    assert time.monotonic() - t < 20
    assert ran == ["beside"]
