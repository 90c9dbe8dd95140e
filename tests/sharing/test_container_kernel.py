"""A kernel inside the project's image, started by the real clients' rules.

jupyter_client starts, runs, interrupts, restarts and shuts down the container kernel; the
launch VS Code's Jupyter extension makes from the same spec runs too; a killed launcher's
container is found and swept by the functions doctor and prune call; the tutorial notebooks
pass through `kernelenv verify`; `remove` leaves images it did not build.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
from jupyter_client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from kernelenv import containers, specstore

from . import support

pytestmark = pytest.mark.slow


def register(cli, project, image, name, *extra):
    r = cli("container", project, "--image", image, "--name", name, *extra, "--json")
    assert r.rc == 0, r
    for cid in support.containers_of(f"{containers.LABEL_KERNEL}={name}"):  # a crashed earlier run's
        support.podman("rm", "-f", "-t", "0", cid)
    return r


def start(name, jupyter, **kw) -> tuple[KernelManager, BlockingKernelClient]:
    ksm = KernelSpecManager()
    ksm.kernel_dirs = [str(jupyter.kernels)]
    km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
    km.start_kernel(**kw)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return km, kc


def run(kc, code: str, timeout: float = 60) -> str:
    msg_id = kc.execute(code)
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t, c = msg["msg_type"], msg["content"]
        if t == "stream":
            out.append(c["text"])
        elif t == "error":
            raise AssertionError(f"{c['ename']}: {c['evalue']}")
        elif t == "status" and c["execution_state"] == "idle":
            return "".join(out)


def interrupted(kc, msg_id: str) -> None:
    """Wait for the reply to ``msg_id``: an error, KeyboardInterrupt (the kernel goes on)."""
    while True:
        reply = kc.get_shell_msg(timeout=20)
        if reply["parent_header"].get("msg_id") == msg_id:
            assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt", reply["content"]
            return


def wait_until(pred, timeout: float = 30, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def test_spec_is_plain_argv_named_by_its_folder(kernel_image, jupyter, cli):
    project, image = kernel_image
    r = register(cli, project, image, "plain")
    spec = json.loads((jupyter.kernels / "plain" / "kernel.json").read_text())
    argv = spec["argv"]
    assert argv[0] == shutil.which("podman") and argv[1] == "run" and "metadata" in spec and "provisioner" not in spec["metadata"]
    assert not any(os.path.basename(a) in ("sh", "bash") for a in argv)  # no shell anywhere
    holders = [i for i, a in enumerate(argv) if "{connection_file}" in a]
    assert argv[holders[0] - 1] == "-v" and argv[holders[0]].endswith(f":{containers.CONNECTION}:ro")
    assert f"{containers.LABEL_KERNEL}=plain" in argv and "--network=host" in argv
    assert spec["language"] == "python" and spec["display_name"].endswith("Python 3.11")
    mark = spec["metadata"]["kernelenv"]
    assert mark["project"] == str(project) and mark["venv"] is None
    assert mark["container"]["image"] == image and mark["container"]["built"] is False  # given, not built
    assert r.data["vscode_id"] == "plain" == containers.vscode_kernel_id(spec, "plain")
    # the rule has teeth: kernelenv's usual display name would make VS Code rename this argv
    renamed = containers.vscode_kernel_id({**spec, "display_name": "Python 3.11 (sharedemo)"}, "plain")
    assert renamed.startswith("undefined.run#--rm#-i#--init")
    r = cli("container", project, "--image", image, "--name", "plain", "--display-name", "My kernel", "--json")
    assert r.rc == 2 and r.codes == ["USAGE"] and "VS Code" in r.envelope["errors"][0]["message"]
    assert json.loads((jupyter.kernels / "plain" / "kernel.json").read_text()) == spec  # nothing changed


def test_jupyter_client_lifecycle(kernel_image, jupyter, cli):
    project, image = kernel_image
    register(cli, project, image, "life")
    label = f"{containers.LABEL_KERNEL}=life"
    t = time.monotonic()
    km, kc = start("life", jupyter)
    support.TIMINGS["container kernel: start to kernel_info reply (jupyter_client)"] = time.monotonic() - t
    try:
        out = run(kc, "import os, sys; print(sys.executable); print(os.environ.get('VIRTUAL_ENV')); print(os.getcwd())").split()
        assert out == ["/opt/kernelenv/venv/bin/python", "/opt/kernelenv/venv", str(project)]
        assert len(support.containers_of(label)) == 1
        run(kc, "x = 41")
        busy = kc.execute("while True: pass")
        time.sleep(1.0)
        t = time.monotonic()
        km.interrupt_kernel()
        interrupted(kc, busy)
        support.TIMINGS["container kernel: interrupt of `while True: pass`"] = time.monotonic() - t
        assert run(kc, "print(x + 1)").strip() == "42"  # the kernel lived through the interrupt
        t = time.monotonic()
        km.restart_kernel()
        kc.wait_for_ready(timeout=120)
        support.TIMINGS["container kernel: restart"] = time.monotonic() - t
        with pytest.raises(AssertionError, match="NameError"):
            run(kc, "x")
        assert wait_until(lambda: len(support.containers_of(label)) == 1)  # the old container went with the old kernel
    finally:
        kc.stop_channels()
        km.shutdown_kernel()
    assert wait_until(lambda: support.containers_of(label) == [], 20), "graceful shutdown left a container"


def _vscode_launch(spec: dict, connection: dict, connection_file: str) -> list[str]:
    """The argv VS Code's Jupyter extension runs for a language=python kernelspec found on disk.

    Restated from microsoft/vscode-jupyter src/kernels/raw/launcher/kernelProcess.node.ts
    (updateConnectionArgs, addPythonConnectionArgs) and src/kernels/helpers.ts
    (findIndexOfConnectionFile): the first argument holding {connection_file} and the one before
    it are removed, and the connection is appended as arguments; no connection file is written.
    """
    argv = list(spec["argv"])
    i = next(i for i, a in enumerate(argv) if "{connection_file}" in a)
    del argv[i - 1 : i + 1]
    c = connection
    return argv + [
        f"--ip={c['ip']}",
        f"--stdin={c['stdin_port']}",
        f"--control={c['control_port']}",
        f"--hb={c['hb_port']}",
        f'--Session.signature_scheme="{c["signature_scheme"]}"',
        f'--Session.key=b"{c["key"]}"',
        f"--shell={c['shell_port']}",
        f'--transport="{c["transport"]}"',
        f"--iopub={c['iopub_port']}",
        f"--f={connection_file}",
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_used(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_vscode_launch_runs_and_a_killed_launcher_takes_its_container(kernel_image, jupyter, cli, tmp_path):
    project, image = kernel_image
    register(cli, project, image, "vsc")
    spec = json.loads((jupyter.kernels / "vsc" / "kernel.json").read_text())
    c = {
        "ip": "127.0.0.1",
        "transport": "tcp",
        "signature_scheme": "hmac-sha256",
        "key": "k-" + os.urandom(8).hex(),
        **{f"{ch}_port": _free_port() for ch in ("shell", "iopub", "stdin", "control", "hb")},
    }
    argv = _vscode_launch(spec, c, str(jupyter.runtime / "kernel-v2-4242.json"))
    assert (
        not any(a.startswith("{connection_file}:") for a in argv) and "-v" not in argv[: argv.index("--label")]
    )  # the mount pair is gone
    env = {**os.environ, **spec["env"]}
    log = open(tmp_path / "kernel.log", "wb")
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env)  # node's spawn: pipes
    try:
        # VS Code waits for the shell and iopub ports (tcp-port-used), then talks
        assert wait_until(lambda: _port_used(c["shell_port"]) and _port_used(c["iopub_port"]), 120), (
            tmp_path / "kernel.log"
        ).read_text()
        kc = BlockingKernelClient()
        kc.load_connection_info(c)
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        assert run(kc, "import sys; print(sys.executable)").strip() == "/opt/kernelenv/venv/bin/python"
        busy = kc.execute("while True: pass")
        time.sleep(1.0)
        os.kill(child.pid, signal.SIGINT)  # VS Code interrupts a signal-mode kernel with SIGINT to the process
        interrupted(kc, busy)
        kc.stop_channels()
        label = f"{containers.LABEL_KERNEL}=vsc"
        assert len(support.containers_of(label)) == 1
        child.kill()  # kill -9 of the launcher: its stdin closes, the container ends with it
        child.wait()
        assert wait_until(lambda: support.containers_of(label) == [], 20), "the container outlived its killed launcher"
    finally:
        if child.poll() is None:
            child.kill()
        log.close()


def test_kill9_leaves_an_orphan_that_the_sweep_removes(kernel_image, jupyter, cli):
    project, image = kernel_image
    register(cli, project, image, "orphan")
    register(cli, project, image, "alive")
    km, kc = start("orphan", jupyter)  # jupyter_client closes the launcher's stdin: nothing ends the container
    live_km, live_kc = start("alive", jupyter)
    try:
        assert run(kc, "print('up')").strip() == "up"
        [orphan] = support.containers_of(f"{containers.LABEL_KERNEL}=orphan")
        [alive] = support.containers_of(f"{containers.LABEL_KERNEL}=alive")
        assert containers.find_orphans() == [] or all(o["kernel"] not in ("orphan", "alive") for o in containers.find_orphans())
        os.kill(km.provisioner.process.pid, signal.SIGKILL)  # kill -9 of the podman client
        km.provisioner.process.wait()
        time.sleep(1.0)
        assert support.containers_of(f"{containers.LABEL_KERNEL}=orphan") == [orphan], "the container keeps running"
        t = time.monotonic()
        found = containers.find_orphans()
        support.TIMINGS["find_orphans"] = time.monotonic() - t
        mine = [o for o in found if o["kernel"] in ("orphan", "alive")]
        assert [(o["kernel"], o["full_id"][:12]) for o in mine] == [("orphan", orphan[:12])], found
        assert mine[0]["spec"] == str(jupyter.kernels / "orphan") and "gone" in mine[0]["reason"]
        swept = containers.remove_orphans()
        assert any(o["full_id"].startswith(orphan) and o["removed"] for o in swept), swept
        assert support.containers_of(f"{containers.LABEL_KERNEL}=orphan") == []
        assert support.containers_of(f"{containers.LABEL_KERNEL}=alive") == [alive]  # a live kernel is never swept
        assert run(live_kc, "print(6 * 7)").strip() == "42"
    finally:
        kc.stop_channels()
        km.cleanup_resources()
        live_kc.stop_channels()
        live_km.shutdown_kernel()
    assert wait_until(lambda: support.containers_of(f"{containers.LABEL_KERNEL}=alive") == [], 20)


def test_verify_runs_the_tutorial_notebooks_in_the_container(kernel_image, jupyter, cli, tmp_path):
    project, image = kernel_image
    register(cli, project, image, "verif")
    t = time.monotonic()
    r = cli("verify", project, "--kernel", "verif", "--only", "environment,numpy,pandas", "--output", tmp_path / "out", "--json")
    support.TIMINGS["verify: environment, numpy, pandas in the container kernel"] = time.monotonic() - t
    assert r.rc == 0, r
    status = {nb["topic"]: nb["status"] for nb in r.data["notebooks"]}
    assert status == {"environment": "passed", "numpy": "passed", "pandas": "passed", "tensorflow": "skipped"}, r.data
    # verify shuts its kernels down with now=True (SIGKILL to the launcher): what it leaves, the sweep removes
    containers.remove_orphans()
    assert support.containers_of(f"{containers.LABEL_KERNEL}=verif") == []


def test_remove_takes_only_the_image_kernelenv_built(kernel_image, base_image, jupyter, cli):
    project, image = kernel_image
    t = time.monotonic()
    r = cli("container", project, "--base-image", base_image, "--name", "rmtest", "--json")
    support.TIMINGS["`kernelenv container` build with the venv layer cached"] = time.monotonic() - t
    assert r.rc == 0, r
    built = r.data["image"]["name"]
    assert r.data["image"]["built_by_kernelenv"] and built != image and support.image_id(built)
    again = cli("container", project, "--base-image", base_image, "--name", "rmtest", "--json")
    assert again.data["image"]["state"] == "reused" and again.data["kernelspec"] == "unchanged"
    r = cli("container", project, "--image", built, "--name", "rmtest-2", "--json")  # the same image, given
    assert r.rc == 0, r
    search = [jupyter.kernels]
    first = specstore.read(jupyter.kernels / "rmtest")
    assert cli("remove", "rmtest", "--json").rc == 0
    kept = containers.remove_image(first, search)
    assert kept == {"image": built, "removed": False, "reason": "still used by kernel rmtest-2"} and support.image_id(built)
    second = specstore.read(jupyter.kernels / "rmtest-2")
    assert cli("remove", "rmtest-2", "--json").rc == 0
    assert containers.remove_image(second, search)["reason"] == "kernelenv did not build it" and support.image_id(built)
    assert containers.problems(first) == []
    assert containers.remove_image(first, search) == {"image": built, "removed": True, "reason": None}
    assert support.image_id(built) is None
    assert [p["code"] for p in containers.problems(first)] == ["image-missing"]  # what doctor would report
    assert support.image_id(image)  # the shared image is untouched
