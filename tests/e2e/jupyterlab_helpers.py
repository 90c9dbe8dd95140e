"""A real JupyterLab server on 127.0.0.1 and headless Chromium driven by Playwright.

The server runs from the test's own Python (jupyterlab is a test dependency) with the
test's isolated HOME and JUPYTER_* folders, on a free port, and is killed at the end.
Chromium is /usr/bin/chromium (apt); ``playwright install`` is never used.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str | None:
    env = os.environ.get("KERNELENV_CHROMIUM")
    for cand in ([env] if env else []) + list(CHROMIUM_CANDIDATES) + [shutil.which("chromium") or ""]:
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, root_dir: Path, port: int, token: str, proc: subprocess.Popen, log: Path):
        self.root_dir, self.port, self.token, self.proc, self.log = root_dir, port, token, proc, log

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}{sep}token={self.token}"


@contextlib.contextmanager
def jupyterlab(root_dir: Path, env: dict[str, str], startup: float = 60) -> Iterator[Lab]:
    port, token = free_port(), secrets.token_hex(16)
    log = root_dir.parent / f"jupyterlab-{port}.log"
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.port_retries=0",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=root_dir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(root_dir, port, token, proc, log)
    try:
        deadline = time.monotonic() + startup
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited ({proc.returncode}): {log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(lab.url("/api/status"), timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not answer in {startup:g} s: {log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield lab
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (its kernels included), SIGKILL after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def browser_page(home: Path):
    """A Playwright page in a fresh headless Chromium profile under ``home``."""
    from playwright.sync_api import sync_playwright

    exe = chromium()
    assert exe, "chromium is missing: apt-get install -y chromium (or scripts/install-e2e-tools.sh)"
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(home / "chromium-profile"),
            executable_path=exe,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            ctx.close()
