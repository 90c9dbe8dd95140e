"""The real client: JupyterLab in headless Chromium sees and runs the project's kernel.

Fails (does not skip) when Chromium is missing, unless KERNELENV_SKIP_E2E=1.
"""

from __future__ import annotations

import os
import re

import pytest
from conftest import make_project

from .jupyterlab_helpers import browser_page, chromium, jupyterlab

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def e2e_ready():
    if os.environ.get("KERNELENV_SKIP_E2E") == "1":
        pytest.skip("KERNELENV_SKIP_E2E=1")
    assert chromium(), (
        "chromium is missing: run scripts/install-e2e-tools.sh (apt-get install -y chromium), or set KERNELENV_SKIP_E2E=1"
    )
    # playwright and jupyterlab are test dependencies: an ImportError here is a failure, not a skip
    import jupyterlab  # noqa: F401
    import playwright  # noqa: F401


def test_kernel_in_launcher_and_notebook_runs_in_venv(e2e_ready, jupyter, cli, tmp_path):
    from playwright.sync_api import expect

    project = make_project(tmp_path, "lab-demo")
    r = cli("create", project, "--json")
    assert r.rc == 0, r
    display = r.data["kernel"]["display_name"]
    venv_python = r.data["kernel"]["python"]
    r = cli("notebooks", "--json", cwd=project)
    assert r.rc == 0, r

    env = dict(os.environ)  # the jupyter fixture put the isolated HOME and JUPYTER_* here
    env.pop("VIRTUAL_ENV", None)
    with jupyterlab(project, env) as lab, browser_page(jupyter.home) as page:
        page.goto(lab.url("/lab?reset"))
        card = page.locator(f'.jp-LauncherCard[data-category="Notebook"][title="{display}"]')
        expect(card).to_be_visible(timeout=60_000)

        page.goto(lab.url("/lab/tree/notebooks/00-environment.ipynb?reset"))
        status = page.locator(".jp-StatusBar-Widget", has_text=re.compile(re.escape(display) + r"\s*\|\s*Idle"))
        expect(status.first).to_be_visible(timeout=60_000)

        first_code = page.locator(".jp-Notebook .jp-CodeCell").first
        first_code.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        output = first_code.locator(".jp-OutputArea-output")
        expect(output.first).to_contain_text(venv_python, timeout=60_000)
        assert "Error" not in output.first.inner_text()
