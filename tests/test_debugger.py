"""The debugger works in a kernelenv kernel: the Jupyter debug protocol over the control channel.

kernel.json carries no interpreter argument (VS Code renames specs that do, see
test_vscode_contract.py), so ``-Xfrozen_modules=off`` is gone; the spec's ``env`` keeps what it
was for. Per CPython found (3.7, 3.8, and 3.11 or newer): ``initialize``, ``attach``, ``debugInfo``,
``dumpCell``, ``setBreakpoints``, ``configurationDone``, run the cell, a ``stopped`` event at the
breakpoint, ``stackTrace`` in the dumped file, ``continue``, the cell finishes. The kernel's stderr
has no debugpy warning about frozen modules, and on 3.13+ (``PYTHON_FROZEN_MODULES=off``) the
standard library runs from its files as under ``-Xfrozen_modules=off``. On 3.11/3.12 the spec sets
ipykernel's own fallback, ``PYDEVD_DISABLE_FILE_VALIDATION=1`` (with ipykernel 7.4 and debugpy
1.8 no warning reaches the kernel's stderr or iopub either way, so that is not asserted apart).
"""

from __future__ import annotations

import json
import os
import queue
import tempfile
import time
from pathlib import Path

import pytest
from conftest import make_project

from kernelenv import pythons

pytestmark = pytest.mark.slow
REAL_ENV = {"PYENV_ROOT": os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")}
CELL = "a = 1\nb = a + 1\nprint('b is', b)\n"


def _found() -> dict[tuple[int, int], pythons.PythonInfo]:
    out: dict[tuple[int, int], pythons.PythonInfo] = {}
    for f in pythons.discover(Path(tempfile.mkdtemp(prefix="kernelenv-pythons-")), {**os.environ, **REAL_ENV}):
        if f.info and f.info.implementation == "CPython":
            out.setdefault(f.info.version[:2], f.info)
    return out


FOUND = _found()
WANTED = [(3, 7), (3, 8), *sorted(v for v in FOUND if v >= (3, 11))]


class Debugging:
    """A kernel started by jupyter_client from its kernelspec, with its stderr in a file."""

    def __init__(self, name: str, kernel_dirs: list[Path], stderr: Path):
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager

        ksm = KernelSpecManager()
        ksm.kernel_dirs = [str(d) for d in kernel_dirs]
        self.km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
        self._err = open(stderr, "w")
        self.km.start_kernel(stderr=self._err)
        self.kc = self.km.blocking_client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=90)
        self.seq = 0
        self.events: list[dict] = []

    def request(self, command: str, arguments: dict | None = None, timeout: float = 30) -> dict:
        self.seq += 1
        msg = self.kc.session.msg(
            "debug_request", {"type": "request", "seq": self.seq, "command": command, "arguments": arguments or {}}
        )
        self.kc.control_channel.send(msg)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                reply = self.kc.control_channel.get_msg(timeout=1)
            except queue.Empty:
                continue
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                content = reply["content"]
                assert content.get("success"), f"{command}: {content}"
                return content
        raise AssertionError(f"no reply to the debug request {command!r} in {timeout} s")

    def wait_event(self, event: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if msg["msg_type"] == "debug_event":
                self.events.append(msg["content"])
                if msg["content"].get("event") == event:
                    return msg["content"]
        raise AssertionError(f"no {event!r} debug event in {timeout} s; saw {[e.get('event') for e in self.events]}")

    def run(self, code: str, timeout: float = 60) -> str:
        """Execute code; what it printed."""
        msg_id = self.kc.execute(code)
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                raise AssertionError(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
        raise AssertionError(f"no answer running {code!r}")

    def stop(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)
        self._err.close()


@pytest.mark.parametrize("minor", WANTED, ids=[f"{a}.{b}" for a, b in WANTED])
def test_the_debugger_stops_at_a_breakpoint(minor, jupyter, cli, tmp_path):
    if minor not in FOUND:
        pytest.skip(f"CPython {minor[0]}.{minor[1]} is not on this machine (pyenv install {minor[0]}.{minor[1]})")
    project = make_project(tmp_path, f"dbg{minor[0]}{minor[1]}")
    res = cli("create", project, "--python", str(FOUND[minor].path), "--json", env=REAL_ENV)
    assert res.rc == 0, res
    spec = res.data["kernel"]
    kernel_json = json.loads((Path(spec["resource_dir"]) / "kernel.json").read_text())
    assert kernel_json["argv"][1:] == ["-m", "ipykernel_launcher", "-f", "{connection_file}"]
    stderr = tmp_path / "kernel-stderr.txt"
    k = Debugging(spec["name"], [jupyter.kernels], stderr)
    try:
        k.request(
            "initialize",
            {
                "clientID": "kernelenv-test",
                "clientName": "kernelenv",
                "adapterID": "",
                "pathFormat": "path",
                "linesStartAt1": True,
                "columnsStartAt1": True,
                "supportsVariableType": True,
                "supportsVariablePaging": True,
                "supportsRunInTerminalRequest": True,
                "locale": "en",
            },
        )
        k.request("attach")
        info = k.request("debugInfo")["body"]
        assert info["isStarted"] is True, info
        source = k.request("dumpCell", {"code": CELL})["body"]["sourcePath"]
        assert Path(source).is_file() and Path(source).read_text() == CELL
        bps = k.request("setBreakpoints", {"breakpoints": [{"line": 2}], "source": {"path": source}, "sourceModified": False})
        assert bps["body"]["breakpoints"][0]["verified"] is True, bps
        assert k.request("debugInfo")["body"]["breakpoints"][0]["source"] == source
        k.request("configurationDone")

        msg_id = k.kc.execute(CELL)
        stopped = k.wait_event("stopped")
        thread = stopped["body"]["threadId"]
        frames = k.request("stackTrace", {"threadId": thread})["body"]["stackFrames"]
        assert frames[0]["source"]["path"] == source and frames[0]["line"] == 2, frames[0]
        k.request("continue", {"threadId": thread})
        reply = k.kc.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = k.kc.get_shell_msg(timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        k.request("disconnect", {"restart": False, "terminateDebuggee": True})

        where = k.run("import os; print(os.path.realpath.__code__.co_filename)").strip()
    finally:
        k.stop()
    err = stderr.read_text()
    assert "frozen modules" not in err, err
    if minor >= (3, 13):  # PYTHON_FROZEN_MODULES=off: the standard library runs from its .py files
        assert os.path.isabs(where) and where.endswith("posixpath.py"), where
