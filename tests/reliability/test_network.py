"""The package index drops the connection mid-download: a clear error, the venv left as it was.

A real HTTP server on 127.0.0.1 serves a PEP 503 simple index whose every file download
announces 200 kB, then closes the socket. uv and pip are pointed at it through
their own environment variables (UV_INDEX_URL, PIP_INDEX_URL), as a user's config would.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading

import faults
import pytest


class _DroppingIndex(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.dropped = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/simple/"


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if parts[:1] == ["simple"] and len(parts) == 2:
            pkg = parts[1].replace("-", "_")
            body = (
                f'<html><body><a href="/files/{pkg}-99.0-py3-none-any.whl" data-dist-info-metadata="true"'
                f' data-core-metadata="true">{pkg}-99.0-py3-none-any.whl</a></body></html>'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if parts[:1] == ["files"] and parts[-1].endswith(".metadata"):  # PEP 658: resolving works
            name = parts[-1].split("-")[0].replace("_", "-")
            body = f"Metadata-Version: 2.1\nName: {name}\nVersion: 99.0\n".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if parts[:1] == ["files"]:  # downloading the wheel itself is cut
            self.server.dropped += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "200000")
            self.end_headers()
            self.connection.shutdown(socket.SHUT_RDWR)  # the drop
            self.close_connection = True
            return
        self.send_error(404)


@pytest.fixture
def index():
    server = _DroppingIndex()
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


def _point_at(env: dict, index: _DroppingIndex, tmp_path) -> dict:
    env = dict(env)
    env.update(
        UV_INDEX_URL=index.url,
        UV_DEFAULT_INDEX=index.url,
        UV_CACHE_DIR=str(tmp_path / "fresh-uv-cache"),
        UV_HTTP_RETRIES="0",
        PIP_INDEX_URL=index.url,
        PIP_RETRIES="0",
        PIP_NO_CACHE_DIR="1",
        PIP_TIMEOUT="10",
    )
    return env


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_index_drops_connection_existing_project(tmp_path, index, installer):
    env = faults.cli_env(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    assert faults.run(["create", project, "--installer", installer, "--json"], env)[0] == 0
    venv = project / ".venv"
    spec = tmp_path / "jupyter-data" / "kernels" / "proj" / "kernel.json"
    venv_before, spec_before = faults.tree(venv), spec.read_bytes()
    rc, envelope, err = faults.run(
        ["create", project, "--installer", installer, "--with", "kernelenv-probe-pkg", "--json"], _point_at(env, index, tmp_path)
    )
    assert rc == 1, (envelope, err)
    error = envelope["errors"][0]
    assert error["code"] == "INSTALL_FAILED", error
    print(error["message"])
    assert "\n" not in error["message"]
    assert any(w in error["message"].lower() for w in ("download", "connection", "network", "bytes")), error["message"]
    assert index.dropped >= 1  # the installer reached the download, and it was cut
    assert faults.tree(venv) == venv_before  # the venv is as it was
    assert spec.read_bytes() == spec_before
    assert json.loads((venv / ".kernelenv.json").read_text())["state"] == "ready"
    assert faults.consistency(env, [project]) == []


def test_index_drops_connection_new_project(tmp_path, index):
    env = faults.cli_env(tmp_path)
    project = tmp_path / "proj"
    project.mkdir()
    rc, envelope, err = faults.run(["create", project, "--json"], _point_at(env, index, tmp_path))
    assert rc == 1, (envelope, err)
    assert envelope["errors"][0]["code"] == "INSTALL_FAILED"
    assert index.dropped >= 1
    assert list(project.iterdir()) == []  # the venv this run made is gone
    assert not (tmp_path / "jupyter-data" / "kernels" / "proj").exists()
