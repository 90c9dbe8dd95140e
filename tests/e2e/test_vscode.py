"""The VS Code extension end to end: code-server from npm, the .vsix the build made, headless Chromium.

F1 "Kernelenv: Create Project Environment" on a workspace folder makes the kernelspec in the
test's JUPYTER_DATA_DIR, and that kernel (started with jupyter_client) runs in the project's
venv; F1 "Kernelenv: Remove Kernel" removes it and the venv. On a project made with the CLI:
F1 "Open Tutorial Notebooks" opens the four notebooks as four tabs; F1 "Run Verification
Notebooks" on a minimal project reports the data/dl notebooks as skipped with the fix as a
button; opening a notebook that names another kernel asks "Use Python 3.X (proj) for this
notebook?" and "Use It" changes its metadata on disk.

Tools: scripts/install-e2e-tools.sh. Missing tools fail the test unless KERNELENV_SKIP_E2E=1.
KERNELENV_SCREENSHOTS=1 writes docs/vscode-palette.png, docs/vscode-result.png,
docs/vscode-notebooks.png and docs/vscode-adopt.png.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import vscode_helpers as vs

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

PROJECT = "vsdemo"


@pytest.fixture(scope="module")
def cli_venv(tmp_path_factory) -> Path:
    """kernelenv installed from this checkout into its own venv, as a user would have it.

    The extension finds it through the `kernelenv.path` user setting: the extension host's
    PATH is the login shell's, not ours."""
    vs.require_tools()
    venv = tmp_path_factory.mktemp("cli") / "venv"
    uv = [sys.executable, "-m", "uv"]
    try:
        subprocess.run([*uv, "--version"], check=True, capture_output=True)
    except (subprocess.CalledProcessError, FileNotFoundError):
        uv = ["uv"]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    subprocess.run([*uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=env, stdin=subprocess.DEVNULL)
    subprocess.run(
        [*uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(vs.REPO)],
        check=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    exe = venv / "bin" / "kernelenv"
    assert exe.exists(), exe
    return exe


@pytest.fixture
def browser_page(jupyter):
    """A headless Chromium page; its HOME is the test's."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(vs.CHROMIUM),
            headless=True,
            args=vs.CHROMIUM_ARGS,
            env={**os.environ, "HOME": str(jupyter.home)},
        )
        context = browser.new_context(viewport={"width": 1400, "height": 860})
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


@pytest.fixture
def code_server(jupyter, cli_venv, tmp_path):
    """code-server with the extension installed, opened on an empty project folder."""
    vs.require_tools()
    vsix = vs.ensure_vsix()
    folder = tmp_path / "work" / PROJECT
    folder.mkdir(parents=True)
    settings = {
        "kernelenv.path": str(cli_venv),
        "kernelenv.defaultProfile": "minimal",
        "kernelenv.scope": "user",
    }
    env = vs.code_server_env(jupyter.env())  # HOME and JUPYTER_* of the test
    server = vs.start_code_server(tmp_path, folder, vsix, settings, env)
    server.folder = folder  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()


def _fail(page, server, tmp_path: Path, why: str) -> None:
    try:
        page.screenshot(path=str(tmp_path / "failure.png"))
    except Exception:
        pass
    pytest.fail(
        f"{why}\nscreenshot: {tmp_path / 'failure.png'}\n--- Kernelenv output\n{server.extension_output()}\n"
        f"--- code-server log\n{server.log_tail()}",
        pytrace=False,
    )


def test_create_and_remove_from_the_palette(code_server, browser_page, jupyter, kernel, tmp_path):
    page = browser_page
    folder: Path = code_server.folder
    kernelspec_dir = jupyter.kernels / PROJECT
    venv = folder / ".venv"

    page.goto(code_server.url, wait_until="domcontentloaded")
    vs.wait_workbench(page)

    # The palette lists the extension's commands (once the extension host has scanned them).
    try:
        vs.wait_palette_lists(page, "Kernelenv", "Kernelenv: Create Project Environment")
    except AssertionError as e:
        _fail(page, code_server, tmp_path, str(e))
    page.wait_for_timeout(300)
    vs.screenshot(page, "vscode-palette.png")
    page.keyboard.press("Escape")

    # Create Project Environment on the workspace folder.
    try:
        vs.run_command(page, "Kernelenv: Create Project Environment")
        note = vs.wait_toast(page, "Open a Notebook", timeout_s=300, answer_picks=True)
    except AssertionError as e:
        _fail(page, code_server, tmp_path, str(e))
    assert PROJECT in note, note
    assert "Select Kernel > Jupyter Kernel… > Python 3." in note, note  # where VS Code lists it
    page.wait_for_timeout(1000)  # the status bar refresh after create
    vs.screenshot(page, "vscode-result.png")

    spec_file = kernelspec_dir / "kernel.json"
    assert spec_file.exists(), f"no kernelspec in {jupyter.kernels}: {list(jupyter.kernels.glob('*'))}"
    spec = json.loads(spec_file.read_text())
    assert Path(spec["argv"][0]).parent.parent == venv, spec["argv"]
    assert (venv / "pyvenv.cfg").exists()

    # That kernel, started by jupyter_client from the test's JUPYTER_DATA_DIR, runs in the project's venv.
    k = kernel(PROJECT, kernel_dirs=[jupyter.kernels])
    out = k.run("import sys, os; print(sys.prefix); print(os.environ.get('VIRTUAL_ENV', ''))")
    prefix, virtual_env = out.split()[:2]
    assert Path(prefix).resolve() == venv.resolve(), out
    assert Path(virtual_env).resolve() == venv.resolve(), out
    k.shutdown()

    # The status bar shows the project's kernel.
    status = page.locator(".part.statusbar", has_text=PROJECT)
    assert status.count() >= 1, page.locator(".part.statusbar").inner_text()

    # Remove Kernel: pick it, confirm (the question names the kernelspec and the venv), gone.
    for t in page.locator(f"{vs.TOAST} .codicon-notifications-clear, {vs.TOAST} .codicon-close").all():
        try:
            t.click(timeout=1000)
        except Exception:
            pass
    try:
        vs.run_command(page, "Kernelenv: Remove Kernel")
        page.locator(f"{vs.QUICK_INPUT} .monaco-list-row", has_text=PROJECT).first.wait_for(timeout=30000)
        page.keyboard.type(PROJECT, delay=10)
        page.wait_for_timeout(300)
        page.keyboard.press("Enter")
        dialog = page.locator(".monaco-dialog-box")
        dialog.wait_for(timeout=30000)
        question = dialog.inner_text()
        assert str(kernelspec_dir) in question and str(venv) in question, question
        dialog.get_by_role("button", name="Remove").click()
        vs.wait_toast(page, f"removed kernel '{PROJECT}'", timeout_s=120)
    except AssertionError as e:
        _fail(page, code_server, tmp_path, str(e))
    except Exception as e:  # noqa: BLE001  (playwright timeouts)
        _fail(page, code_server, tmp_path, f"{type(e).__name__}: {e}")

    assert not kernelspec_dir.exists(), list(kernelspec_dir.iterdir())
    assert not venv.exists(), list(venv.iterdir())


@pytest.fixture
def made_project(jupyter, cli_venv, tmp_path) -> Path:
    """A minimal project created with the CLI (no UI), before code-server opens it."""
    folder = tmp_path / "work" / "nbproj"
    folder.mkdir(parents=True)
    done = subprocess.run(
        [str(cli_venv), "create", str(folder), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **jupyter.env()},
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return folder


@pytest.fixture
def code_server_on_project(jupyter, cli_venv, made_project, tmp_path):
    vs.require_tools()
    settings = {"kernelenv.path": str(cli_venv), "kernelenv.defaultProfile": "minimal", "kernelenv.scope": "user"}
    server = vs.start_code_server(tmp_path, made_project, vs.ensure_vsix(), settings, vs.code_server_env(jupyter.env()))
    try:
        yield server
    finally:
        server.stop()


def _cli_json(cli_venv: Path, jupyter, *args: str) -> tuple[int, dict | None]:
    done = subprocess.run(
        [str(cli_venv), *args, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **jupyter.env()},
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        return done.returncode, None


def test_notebooks_open_as_tabs_skipped_ones_reported_and_a_notebook_adopted(
    code_server_on_project, browser_page, made_project, cli_venv, jupyter, tmp_path
):
    page, server, project = browser_page, code_server_on_project, made_project
    page.goto(server.url, wait_until="domcontentloaded")
    vs.wait_workbench(page)
    try:
        # Open Tutorial Notebooks: four real tabs (not one preview tab replacing the others), 00-environment in front.
        vs.run_command(page, "Kernelenv: Open Tutorial Notebooks")
        vs.wait_toast(page, "tutorial notebooks in notebooks", timeout_s=120)
        tabs = vs.wait_tabs(page, ".ipynb", 4, timeout_s=60)
        assert sorted(tabs) == ["00-environment.ipynb", "01-numpy.ipynb", "02-pandas.ipynb", "03-tensorflow.ipynb"], tabs
        assert vs.active_tab(page) == "00-environment.ipynb"
        assert not page.locator(".tabs-container .tab.preview").count(), "a notebook opened as a preview tab"
        vs.screenshot(page, "vscode-notebooks.png")
        vs.dismiss_toasts(page)

        # Run Verification Notebooks on a minimal project: the data/dl notebooks are skipped, not failed.
        rc, env = _cli_json(cli_venv, jupyter, "verify", str(project))
        rows = (env or {}).get("data", {}).get("notebooks", [])
        cli_skips = any(r.get("status") == "skipped" and r.get("skip") for r in rows)
        if cli_skips:
            vs.run_command(page, "Kernelenv: Run Verification Notebooks")
            note = vs.wait_toast(page, "skipped", timeout_s=600)
            assert "failed" not in note and "Install the" in note, note
            vs.dismiss_toasts(page)

        # A notebook inside the project that names another kernel: the adopt question.
        nb = project / "analysis.ipynb"
        nb.write_text(
            json.dumps(
                {
                    "cells": [
                        {
                            "cell_type": "code",
                            "source": "import sys\nprint(sys.executable)",
                            "metadata": {},
                            "outputs": [],
                            "execution_count": None,
                        }
                    ],
                    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}},
                    "nbformat": 4,
                    "nbformat_minor": 5,
                }
            )
        )
        vs.open_file(page, "analysis.ipynb")
        question = vs.wait_toast(page, "for this notebook?", timeout_s=60, fail_on=())
        assert "Use Python 3." in question and "(nbproj) for this notebook?" in question, question
        vs.screenshot(page, "vscode-adopt.png")
    except AssertionError as e:
        _fail(page, server, tmp_path, str(e))
    except Exception as e:  # noqa: BLE001  (playwright timeouts)
        _fail(page, server, tmp_path, f"{type(e).__name__}: {e}")
    untested = []
    if not cli_skips:
        untested.append(
            "the CLI on this branch does not report skipped notebooks with `skip`/`action` yet (verify rows: "
            f"{[(r.get('name'), r.get('status')) for r in rows]})"
        )
    rc, _ = _cli_json(cli_venv, jupyter, "adopt", "--help")
    if rc == 2:
        untested.append("the CLI on this branch has no `kernelenv adopt` yet: the question was shown, Use It not tried")
    else:
        try:
            vs.click_toast_button(page, "for this notebook?", "Use It")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and json.loads(nb.read_text())["metadata"]["kernelspec"]["name"] != "nbproj":
                time.sleep(0.5)
        except Exception as e:  # noqa: BLE001
            _fail(page, server, tmp_path, f"{type(e).__name__}: {e}")
        assert json.loads(nb.read_text())["metadata"]["kernelspec"]["name"] == "nbproj", nb.read_text()
    if untested:
        pytest.skip("; ".join(untested))
