"""`export --format enterprise-gateway`: EG's own schema for the Kubernetes spec, and the Docker one for real.

The real run: Jupyter Enterprise Gateway (PyPI, a venv of its own made by
scripts/install-sharing-tools.sh) on loopback, its DockerProcessProxy talking to podman's
Docker-compatible API; a kernel started through EG's REST API from kernelenv's spec, in the
image kernelenv's Dockerfile adds EG's launcher to; code over the websocket, interrupt, restart,
delete, and no container left. The settings that are not EG's defaults, each from an error seen
(../shared/notes/enterprise-gateway.md): KERNEL_USERNAME in the request (root is refused),
EG_DOCKER_NETWORK=podman, EG_RESPONSE_ADDR_ANY=true, and EG_INHERITED_ENVS=PATH,DOCKER_HOST so
the launcher gets them from EG rather than from a machine-specific kernelspec.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from kernelenv import gateway

from . import support
from .test_images import build_args

pytestmark = pytest.mark.slow


def eg_or_skip() -> None:
    if not (support.EG_VENV / "bin" / "jupyter-enterprisegateway").exists() or not (support.EG_SRC / ".version").is_file():
        pytest.skip("Enterprise Gateway is not installed: run scripts/install-sharing-tools.sh")


def export(cli, project: Path, image: str, folder: Path) -> dict:
    r = cli("export", project, "--format", "enterprise-gateway", "--image", image, "--output", folder, "--json")
    assert r.rc == 0, r
    return r.data


def schema_of(sample):
    """A JSON schema that a document has the shape of ``sample``: every key of each object, with
    its type, recursively; lists of the first item's type; argv's items strings."""
    if isinstance(sample, dict):
        return {"type": "object", "required": sorted(sample), "properties": {k: schema_of(v) for k, v in sample.items()}}
    if isinstance(sample, list):
        return {"type": "array", "items": schema_of(sample[0]) if sample else {}}
    if isinstance(sample, bool):
        return {"type": "boolean"}
    if isinstance(sample, str):
        return {"type": "string"}
    if isinstance(sample, (int, float)):
        return {"type": "number"}
    return {}


def test_kubernetes_spec_has_the_shape_of_egs_own_sample(cli, tmp_path, kernel_image):
    eg_or_skip()
    import jsonschema

    project, image = kernel_image
    data = export(cli, project, image, tmp_path / "eg")
    for kind in ("kubernetes", "docker"):
        sample_name = "python_kubernetes" if kind == "kubernetes" else "python_docker"
        sample = json.loads((support.EG_SRC / "etc" / "kernelspecs" / sample_name / "kernel.json").read_text())
        ours = json.loads((tmp_path / "eg" / "kernels" / f"sharedemo-{kind}" / "kernel.json").read_text())
        jsonschema.validate(ours, schema_of(sample))  # every key EG's sample has, with its type
        assert ours["metadata"]["process_proxy"]["class_name"] == gateway.PROXIES[kind]
        assert ours["metadata"]["process_proxy"]["config"]["image_name"] == data["eg_image"]
        # the same launcher arguments and EG placeholders as the sample, the launcher found via {resource_dir}
        assert ours["argv"][2:] == sample["argv"][2:] and ours["argv"][0] == sample["argv"][0] == "python"
        assert ours["argv"][1] == "{resource_dir}/scripts/" + os.path.basename(sample["argv"][1])
    assert (
        json.loads((support.EG_SRC / "etc" / "kernelspecs" / "python_kubernetes" / "kernel.json").read_text())["metadata"][
            "process_proxy"
        ]["class_name"]
        == gateway.PROXIES["kubernetes"]
    )
    for launcher in data["launchers"]:  # what each spec's scripts/ needs is in EG's source distribution
        name, _, inner = launcher["source"].partition(":")
        assert name == gateway.EG_SDIST and (support.EG_SRC / inner).is_file() and not launcher["present"]
    again = cli("export", project, "--format", "enterprise-gateway", "--image", image, "--output", tmp_path / "eg", "--json")
    assert {f["state"] for f in again.data["files"]} == {"unchanged"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(pred, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Channels:
    """Jupyter's kernel websocket protocol (JSON messages) to one kernel through the gateway."""

    def __init__(self, url: str):
        import websocket

        self.ws = websocket.create_connection(url, timeout=60)
        self.session = uuid.uuid4().hex

    def send(self, msg_type: str, content: dict, channel: str = "shell") -> str:
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "session": self.session,
            "username": "alice",
            "version": "5.3",
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        self.ws.send(json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": channel}))
        return msg_id

    def execute(self, code: str, timeout: float = 60) -> tuple[str, dict]:
        """(printed text, the execute_reply content)."""
        msg_id = self.send(
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": False,
            },
        )
        return self.collect(msg_id, timeout)

    def collect(self, msg_id: str, timeout: float = 60) -> tuple[str, dict]:
        out, reply, idle = [], None, False
        end = time.monotonic() + timeout
        while not (reply is not None and idle):
            assert time.monotonic() < end, f"no reply to {msg_id}"
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "execute_reply":
                reply = msg["content"]
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        return "".join(out), reply

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def podman_api(tmp_path, podman):
    """podman's Docker-compatible API on a unix socket of this test's."""
    sock = tmp_path / "podman.sock"
    log = open(tmp_path / "podman-service.log", "wb")
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{sock}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(lambda: sock.exists(), 30, "podman's API socket")
        yield f"unix://{sock}"
    finally:
        service.terminate()
        try:
            service.wait(timeout=15)
        except subprocess.TimeoutExpired:
            service.kill()
        log.close()


def test_docker_kernel_through_the_gateway(kernel_image, cli, tmp_path, podman_api):
    eg_or_skip()
    import requests

    project, image = kernel_image
    folder = tmp_path / "eg"
    data = export(cli, project, image, folder)
    for launcher in data["launchers"]:  # the deployment step: EG's launchers into each spec's scripts/
        dest = Path(launcher["path"])
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(support.EG_SRC / launcher["source"].partition(":")[2], dest)
    t = time.monotonic()
    support.podman("build", *build_args(), "-t", data["eg_image"], "-f", str(folder / "Dockerfile"), str(folder), timeout=1800)
    support.TIMINGS["EG image build (FROM the kernel image)"] = time.monotonic() - t
    network = json.loads(support.podman("network", "inspect", "podman").stdout)[0]
    gateway_ip = network["subnets"][0]["gateway"]

    port = _free_port()
    home = tmp_path / "eg-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV"))}
    env.update(
        {
            "HOME": str(home),
            "JUPYTER_PATH": str(folder),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "DOCKER_HOST": podman_api,
            "EG_DOCKER_NETWORK": "podman",
            "EG_RESPONSE_IP": gateway_ip,
            "EG_RESPONSE_ADDR_ANY": "true",
            "EG_INHERITED_ENVS": "PATH,DOCKER_HOST",
            "PATH": f"{support.EG_VENV / 'bin'}{os.pathsep}{os.environ['PATH']}",
        }
    )
    log = open(tmp_path / "eg.log", "wb")
    t = time.monotonic()
    eg = subprocess.Popen(
        [
            str(support.EG_VENV / "bin" / "jupyter-enterprisegateway"),
            "--ip=127.0.0.1",
            f"--port={port}",
            "--EnterpriseGatewayApp.allowed_kernels=['sharedemo-docker']",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    kid = None
    try:

        def specs():
            try:
                r = requests.get(f"{base}/api/kernelspecs", timeout=5)
            except requests.ConnectionError:
                return None
            return r.json() if r.ok else None

        listed = _wait(specs, 60, "the gateway")
        support.TIMINGS["EG start to answering /api/kernelspecs"] = time.monotonic() - t
        assert "sharedemo-docker" in listed["kernelspecs"], listed
        t = time.monotonic()
        r = requests.post(
            f"{base}/api/kernels", json={"name": "sharedemo-docker", "env": {"KERNEL_USERNAME": "alice"}}, timeout=180
        )
        assert r.status_code == 201, (r.status_code, r.text, (tmp_path / "eg.log").read_text()[-4000:])
        kid = r.json()["id"]
        support.TIMINGS["EG: POST /api/kernels to a kernel in a podman container"] = time.monotonic() - t
        assert len(support.containers_of(f"kernel_id={kid}")) == 1
        ch = Channels(f"ws://127.0.0.1:{port}/api/kernels/{kid}/channels")
        try:
            out, reply = ch.execute("import os, sys; x = 41; print(sys.executable, os.getuid(), os.environ.get('VIRTUAL_ENV'))")
            assert reply["status"] == "ok" and out.split() == ["/opt/kernelenv/venv/bin/python", "1000", "/opt/kernelenv/venv"], (
                out
            )
            busy = ch.send(
                "execute_request",
                {
                    "code": "while True: pass",
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": False,
                },
            )
            time.sleep(1.0)
            t = time.monotonic()
            assert requests.post(f"{base}/api/kernels/{kid}/interrupt", timeout=30).status_code == 204
            _, reply = ch.collect(busy, 30)
            support.TIMINGS["EG: interrupt of `while True: pass`"] = time.monotonic() - t
            assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
            out, reply = ch.execute("print(x + 1)")
            assert out.strip() == "42"
        finally:
            ch.close()
        t = time.monotonic()
        r = requests.post(f"{base}/api/kernels/{kid}/restart", timeout=180)
        assert r.status_code == 200, r.text
        support.TIMINGS["EG: restart"] = time.monotonic() - t
        ch = Channels(f"ws://127.0.0.1:{port}/api/kernels/{kid}/channels")
        try:
            out, reply = _wait(lambda: _try(ch, "print('x' in dir())"), 60, "the restarted kernel")
            assert out.strip() == "False"  # a fresh kernel
        finally:
            ch.close()
        t = time.monotonic()
        assert requests.delete(f"{base}/api/kernels/{kid}", timeout=60).status_code == 204
        deleted, kid = kid, None
        _wait(lambda: support.containers_of(f"kernel_id={deleted}") == [], 30, "the kernel's container to go")
        support.TIMINGS["EG: DELETE to no container"] = time.monotonic() - t
    finally:
        if kid is not None:
            requests.delete(f"{base}/api/kernels/{kid}", timeout=60)
        os.killpg(eg.pid, signal.SIGTERM)
        try:
            eg.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(eg.pid, signal.SIGKILL)
        log.close()
        for cid in support.containers_of("app=enterprise-gateway"):
            support.podman("rm", "-f", "-t", "0", cid, check=False)
        support.podman("rmi", data["eg_image"], check=False)
    assert support.containers_of("app=enterprise-gateway") == []


def _try(ch: Channels, code: str):
    out, reply = ch.execute(code)
    return (out, reply) if reply and reply.get("status") == "ok" else None
