"""Shared fixtures: an isolated Jupyter/HOME per test, the real CLI, a real kernel.

Nothing here mocks kernelenv's work: the CLI runs as a subprocess (`python -m kernelenv`),
venvs are real, kernels are started with jupyter_client. The real user's folders are
never touched: every test gets its own HOME and JUPYTER_* folders. Package caches
(uv, virtualenv's app data) are shared between tests so that warm runs stay fast.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CACHE = Path(os.environ.get("KERNELENV_TEST_CACHE", REPO / ".cache"))


@pytest.fixture(scope="session", autouse=True)
def _shared_caches():
    """uv and virtualenv caches survive the per-test HOME, so only the first install downloads."""
    (CACHE / "uv").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("UV_CACHE_DIR", str(CACHE / "uv"))
    os.environ.setdefault("VIRTUALENV_OVERRIDE_APP_DATA", str(CACHE / "virtualenv"))
    os.environ.pop("VIRTUAL_ENV", None)
    # tests isolate HOME: keep pyenv's interpreters discoverable as they are for the user
    if "PYENV_ROOT" not in os.environ and (Path.home() / ".pyenv").is_dir():
        os.environ["PYENV_ROOT"] = str(Path.home() / ".pyenv")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    yield


class Jupyter:
    """The isolated folders of one test."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home"
        self.data = root / "jupyter-data"
        self.path = root / "jupyter-path"
        self.config = root / "jupyter-config"
        self.runtime = root / "jupyter-runtime"
        for d in (self.home, self.data, self.path, self.config, self.runtime):
            d.mkdir(parents=True, exist_ok=True)

    @property
    def kernels(self) -> Path:
        return self.data / "kernels"

    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "JUPYTER_DATA_DIR": str(self.data),
            "JUPYTER_PATH": str(self.path),
            "JUPYTER_CONFIG_DIR": str(self.config),
            "JUPYTER_RUNTIME_DIR": str(self.runtime),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "JUPYTER_PLATFORM_DIRS": "0",
        }


@pytest.fixture
def jupyter(tmp_path, monkeypatch) -> Jupyter:
    j = Jupyter(tmp_path / "iso")
    for k, v in j.env().items():
        monkeypatch.setenv(k, v)
    return j


class CLIResult:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.envelope = None
        if self.stdout.strip().startswith("{"):
            self.envelope = json.loads(self.stdout)

    @property
    def data(self) -> dict:
        return self.envelope["data"]

    @property
    def codes(self) -> list[str]:
        return [e["code"] for e in self.envelope["errors"]]

    def __repr__(self) -> str:
        return f"<rc={self.rc} stdout={self.stdout[-2000:]!r} stderr={self.stderr[-2000:]!r}>"


def run_cli(*args: str, cwd=None, env=None, timeout=900, python=sys.executable) -> CLIResult:
    """Run the real CLI in a subprocess with the current (isolated) environment."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [python, "-m", "kernelenv", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return CLIResult(proc)


@pytest.fixture
def cli(jupyter):
    """``cli("create", path, "--json")`` -> CLIResult; the test's Jupyter folders are in the environment."""
    return run_cli


class RunningKernel:
    """A kernel started by jupyter_client from its kernelspec, driven by a blocking client."""

    def __init__(self, name: str, kernel_dirs: list[Path] | None = None, timeout: float = 60):
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager

        ksm = KernelSpecManager()
        if kernel_dirs:
            ksm.kernel_dirs = [str(d) for d in kernel_dirs]
        self.km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
        self.km.start_kernel()
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=timeout)

    def run(self, code: str, timeout: float = 120) -> str:
        """Execute code; return everything it printed. Raises AssertionError on an error."""
        msg_id = self.kc.execute(code)
        out: list[str] = []
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no answer from the kernel running {code!r}") from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            t, c = msg["msg_type"], msg["content"]
            if t == "stream":
                out.append(c["text"])
            elif t in ("execute_result", "display_data"):
                out.append(c["data"].get("text/plain", "") + "\n")
            elif t == "error":
                raise AssertionError(f"kernel error running {code!r}: {c['ename']}: {c['evalue']}")
            elif t == "status" and c["execution_state"] == "idle":
                return "".join(out)

    def shutdown(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@pytest.fixture
def kernel(jupyter):
    """``k = kernel("name")`` starts that kernelspec; every kernel is shut down after the test."""
    started: list[RunningKernel] = []

    def start(name: str, **kw) -> RunningKernel:
        k = RunningKernel(name, **kw)
        started.append(k)
        return k

    yield start
    for k in started:
        try:
            k.shutdown()
        except Exception:
            pass


def make_project(parent: Path, name: str = "demo") -> Path:
    p = parent / name
    p.mkdir(parents=True, exist_ok=True)
    return p
