"""A real JupyterHub on loopback with real Unix users, for the team-kernel tests (issue 16, part 3).

What scripts/install-sharing-tools.sh installed (hub.env: JupyterHub in a venv every user can run,
configurable-http-proxy from npm) is started as root with LocalProcessSpawner (each user's server
runs as that user) and the dummy authenticator; the tests drive it through the Hub's REST API with
tokens and run code over the kernel websocket. Users and groups are made with useradd/groupadd
and removed again, with whatever processes of theirs are left (by pid), when the test ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .support import SHARING

HUB_ENV = SHARING / "hub.env"


@dataclass
class HubTools:
    venv: Path
    proxy: Path


def tools_or_skip() -> HubTools:
    """The Hub's venv and proxy, or a skip saying what is missing (root, useradd, the install script's work)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("the JupyterHub tests make Unix users: they run as root (as CI does)")
    for tool in ("useradd", "userdel", "groupadd", "groupdel", "runuser"):
        if not _which(tool):
            pytest.skip(f"{tool} is missing")
    if not HUB_ENV.is_file():
        pytest.skip("JupyterHub is not installed: run scripts/install-sharing-tools.sh")
    env = dict(line.split("=", 1) for line in HUB_ENV.read_text().splitlines() if "=" in line)
    hub = HubTools(Path(env["HUB_VENV"]), Path(env["CHP"]))
    if not (hub.venv / "bin" / "jupyterhub").exists() or not hub.proxy.exists():
        pytest.skip(f"JupyterHub or its proxy is gone from {hub.venv} / {hub.proxy}: run scripts/install-sharing-tools.sh")
    return hub


def _which(tool: str) -> str | None:
    import shutil

    return shutil.which(tool) or next((p for p in (f"/usr/sbin/{tool}", f"/sbin/{tool}") if os.path.exists(p)), None)


def run(*argv: str, check: bool = True, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    if check:
        assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])
    return done


def as_user(user: str, *argv: str, **kw) -> subprocess.CompletedProcess:
    """``argv`` run as ``user`` (runuser: no password; HOME and USER are the user's), from /, in a plain environment."""
    kw.setdefault("env", {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    return run(_which("runuser") or "runuser", "-u", user, "--", *argv, check=False, cwd="/", **kw)


@dataclass
class Team:
    """Unix users made for one test run: ``members`` in ``group``, ``outsider`` not."""

    group: str
    members: list[str]
    outsider: str
    made: list[str] = field(default_factory=list)

    @property
    def users(self) -> list[str]:
        return [*self.members, self.outsider]


@contextlib.contextmanager
def team() -> Team:
    tag = secrets.token_hex(3)
    t = Team(group=f"ketm-{tag}", members=[f"kea-{tag}", f"keb-{tag}"], outsider=f"kec-{tag}")
    try:
        run(_which("groupadd") or "groupadd", t.group)
        for user in t.members:
            run(_which("useradd") or "useradd", "-m", "-s", "/bin/sh", "-G", t.group, user)
            t.made.append(user)
        run(_which("useradd") or "useradd", "-m", "-s", "/bin/sh", t.outsider)
        t.made.append(t.outsider)
        yield t
    finally:
        for user in t.made:
            _end_processes(user)
            run(_which("userdel") or "userdel", "-r", user, check=False)
        run(_which("groupdel") or "groupdel", t.group, check=False)


def _end_processes(user: str) -> None:
    """Whatever the test's users still run (the Hub started it for them): SIGTERM, then SIGKILL, by pid."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = [int(p) for p in run("ps", "-u", user, "-o", "pid=", check=False).stdout.split()]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        time.sleep(1.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """One JupyterHub (and its proxy) on loopback, started by :meth:`start`, stopped by :meth:`stop`."""

    def __init__(self, tools: HubTools, root: Path, users: list[str], jupyter_path: Path):
        self.tools = tools
        self.root = root
        self.port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(32)
        self.users = users
        self.jupyter_path = jupyter_path
        self.proc: subprocess.Popen | None = None
        self.log = root / "jupyterhub.log"

    def config(self) -> str:
        venv = self.tools.venv
        return (
            "\n".join(
                [
                    "c = get_config()  # noqa",
                    "c.JupyterHub.ip = '127.0.0.1'",
                    f"c.JupyterHub.port = {self.port}",
                    "c.JupyterHub.hub_ip = '127.0.0.1'",
                    f"c.JupyterHub.hub_port = {self.hub_port}",
                    f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{self.api_port}'",
                    f"c.ConfigurableHTTPProxy.command = [{str(self.tools.proxy)!r}]",
                    f"c.ConfigurableHTTPProxy.pid_file = {str(self.root / 'proxy.pid')!r}",
                    f"c.JupyterHub.db_url = 'sqlite:///{self.root / 'jupyterhub.sqlite'}'",
                    f"c.JupyterHub.cookie_secret_file = {str(self.root / 'cookie_secret')!r}",
                    "c.JupyterHub.spawner_class = 'localprocess'",
                    "c.JupyterHub.authenticator_class = 'dummy'",
                    f"c.Authenticator.allowed_users = {set(self.users)!r}",
                    f"c.Spawner.cmd = [{str(venv / 'bin' / 'jupyterhub-singleuser')!r}]",
                    "c.Spawner.ip = '127.0.0.1'",
                    "c.Spawner.http_timeout = 60",
                    "c.Spawner.start_timeout = 120",
                    f"c.Spawner.environment = {{'JUPYTER_PATH': {str(self.jupyter_path)!r}}}",
                    f"c.JupyterHub.services = [{{'name': 'kernelenv-test', 'api_token': {self.token!r}}}]",
                    "c.JupyterHub.load_roles = [{'name': 'kernelenv-test', 'services': ['kernelenv-test'], 'scopes': "
                    "['admin:users', 'admin:servers', 'access:servers', 'tokens', 'list:users', 'read:users']}]",
                ]
            )
            + "\n"
        )

    def start(self, timeout: float = 60) -> float:
        """Start the Hub; the seconds until its API answered."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "jupyterhub_config.py").write_text(self.config())
        t0 = time.monotonic()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV", "PYTHON"))}
        env["PATH"] = f"{self.tools.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [str(self.tools.venv / "bin" / "jupyterhub"), "-f", "jupyterhub_config.py"],
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise AssertionError(f"the Hub exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                self.api("GET", "/hub/api/")
                return time.monotonic() - t0
            except (OSError, AssertionError):
                time.sleep(0.3)
        raise AssertionError(f"the Hub did not answer within {timeout} s:\n{self.tail()}")

    def tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM the Hub (it stops the users' servers and the proxy); SIGKILL its process group if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        proxy_pid = self.root / "proxy.pid"
        if proxy_pid.is_file():  # the proxy is the Hub's child in another session: end it if it outlived the Hub
            with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
                os.kill(int(proxy_pid.read_text().strip()), signal.SIGTERM)

    # REST ---------------------------------------------------------------------------------
    def api(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        token: str | None = None,
        expect: tuple[int, ...] = (200, 201, 202, 204),
    ) -> dict | list | None:
        req = urllib.request.Request(
            self.url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {token or self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        assert status in expect, (method, path, status, raw[:500])
        return json.loads(raw) if raw.strip() else None

    def user_token(self, user: str) -> str:
        return self.api("POST", f"/hub/api/users/{user}/tokens", {"note": "kernelenv test", "expires_in": 3600})["token"]

    def spawn(self, user: str) -> None:
        self.api("POST", f"/hub/api/users/{user}/server", {})

    def wait_ready(self, user: str, timeout: float = 120) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            server = (self.api("GET", f"/hub/api/users/{user}")["servers"] or {}).get("")
            if server and server.get("ready"):
                return time.monotonic() - t0
            time.sleep(0.3)
        raise AssertionError(f"{user}'s server was not ready within {timeout} s:\n{self.tail()}")


def execute(hub: Hub, user: str, token: str, kernel_id: str, code: str, timeout: float = 60) -> str:
    """Run ``code`` in the kernel over its websocket (through the proxy, as the user); everything it printed."""
    import uuid

    import websocket

    ws = websocket.create_connection(
        f"ws://127.0.0.1:{hub.port}/user/{user}/api/kernels/{kernel_id}/channels",
        header=[f"Authorization: token {token}"],
        timeout=timeout,
    )
    try:
        msg_id = uuid.uuid4().hex
        ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": user,
                        "session": uuid.uuid4().hex,
                        "msg_type": "execute_request",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                    },
                }
            )
        )
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                raise AssertionError(f"{content['ename']}: {content['evalue']}")
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out)
        raise AssertionError(f"no idle status within {timeout} s; got {''.join(out)!r}")
    finally:
        ws.close()
