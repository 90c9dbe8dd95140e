"""Encrypted kernels: CurveZMQ transport encryption (Jupyter's transport-encryption JEP).

ipykernel 7.3+ (PR #1515) loads ``curve_publickey``/``curve_secretkey`` from its connection
file; jupyter_client 8.9+ provisions them when ``KernelManager.transport_encryption`` is
auto or required *and* the kernelspec has ``metadata.supported_encryption: ["curve"]``.
kernelenv writes that stanza when the venv's ipykernel supports it. The proof is on the
wire: with keys the kernel answers and does not print ipykernel's "without encryption"
warning; a client holding the HMAC key and ports but not the curve keys gets nothing.
"""

from __future__ import annotations

import json
import queue
import tempfile

import faults
import pytest

WARNING = "without encryption"


def _start(name: str, mode: str):
    from jupyter_client.manager import KernelManager

    log = tempfile.TemporaryFile(mode="w+")
    km = KernelManager(kernel_name=name, transport_encryption=mode)
    km.start_kernel(stdout=log, stderr=log)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc, log


def _stop(km, kc, log) -> str:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    log.seek(0)
    return log.read()


def _keyless_client_answered(info: dict) -> bool:
    import zmq
    from jupyter_client.blocking import BlockingKernelClient

    bad = BlockingKernelClient()
    bad.load_connection_info({k: v for k, v in info.items() if not k.startswith("curve")})
    bad.start_channels(hb=False)
    # a keyless peer's handshake keeps failing, so at times there is no pipe to queue on: a plain send would
    # block for ever (seen once in a CI run); give up after 5 s as the reply wait does
    bad.shell_channel.socket.setsockopt(zmq.SNDTIMEO, 5000)
    try:
        bad.kernel_info(reply=True, timeout=5)
        return True
    except (TimeoutError, queue.Empty, zmq.Again):
        return False
    finally:
        bad.stop_channels()


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory):
    root = tmp_path_factory.mktemp("enc")
    env = faults.cli_env(root)
    project = root / "proj"
    project.mkdir()
    rc, envelope, err = faults.run(["create", project, "--json"], env)
    assert rc == 0, err
    return root, env, project


@pytest.mark.timeout(180)
def test_kernel_advertises_curve_and_its_traffic_is_encrypted(encrypted, monkeypatch):
    root, env, project = encrypted
    for k in ("JUPYTER_DATA_DIR", "JUPYTER_PATH", "JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "HOME"):
        monkeypatch.setenv(k, env[k])
    spec = json.loads((root / "jupyter-data" / "kernels" / "proj" / "kernel.json").read_text())
    assert spec["metadata"]["supported_encryption"] == ["curve"]
    km, kc, log = _start("proj", "required")
    try:
        info = json.loads(open(km.connection_file).read())
        assert info["transport"] == "tcp" and info["curve_publickey"] and info["curve_secretkey"]
        assert kc.kernel_info(reply=True, timeout=10)["content"]["status"] == "ok"  # the keyed client talks
        assert not _keyless_client_answered(info)  # a client without the keys cannot
    finally:
        text = _stop(km, kc, log)
    assert WARNING not in text, text
    # the same kernel started without encryption: the warning is there and anyone can talk
    km, kc, log = _start("proj", "disabled")
    try:
        info = json.loads(open(km.connection_file).read())
        assert "curve_publickey" not in info
        assert _keyless_client_answered(info)
    finally:
        text = _stop(km, kc, log)
    assert WARNING in text


@pytest.mark.slow
def test_old_ipykernel_gets_no_stanza_and_still_works(tmp_path, monkeypatch):
    env = faults.cli_env(tmp_path)
    project = tmp_path / "old"
    project.mkdir()
    rc, envelope, err = faults.run(["create", project, "--with", "ipykernel<7.3", "--json"], env)
    assert rc == 0, (envelope, err)
    spec = json.loads((tmp_path / "jupyter-data" / "kernels" / "old" / "kernel.json").read_text())
    assert "supported_encryption" not in spec["metadata"]
    for k in ("JUPYTER_DATA_DIR", "JUPYTER_PATH", "JUPYTER_RUNTIME_DIR", "JUPYTER_CONFIG_DIR", "HOME"):
        monkeypatch.setenv(k, env[k])
    km, kc, log = _start("old", "auto")  # auto: no stanza, no keys, the kernel runs as before
    try:
        assert "curve_publickey" not in json.loads(open(km.connection_file).read())
        assert kc.kernel_info(reply=True, timeout=10)["content"]["status"] == "ok"
    finally:
        _stop(km, kc, log)
    rc, doc, err = faults.run(["doctor", project, "--json"], env)
    assert rc == 0 and doc["data"]["problems"] == 0, doc
    row = doc["data"]["kernels"][0]
    assert row["encryption"] == "off"
