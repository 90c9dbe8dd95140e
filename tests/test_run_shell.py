"""``run`` and ``shell`` for real: exit codes and signals through ``run``, the kernel's own environment,
and ``shell`` typed into a real terminal (tmux) in bash, sh (dash), zsh and fish.

One project (a real venv, its activate scripts deleted: ``shell`` must not need them) serves the
module. The shells start from an isolated HOME whose start-up files put a fake ``python`` first
on PATH, as version-manager shims do: inside ``kernelenv shell`` the venv's must still win.
``scripts/install-shell-tools.sh`` installs tmux, zsh and fish (``scripts/test`` runs it): a
missing one fails, it does not skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import Jupyter, RunningKernel, make_project, run_cli

SHELLS = {"bash": "bash", "sh": "dash", "zsh": "zsh", "fish": "fish"}


class Project:
    def __init__(self, root: Path):
        self.j = Jupyter(root / "iso")
        self.env = self.j.env()
        self.dir = make_project(root, "demo")
        (self.dir / "kernelenv.toml").write_text('[env]\nKERNELENV_TEST_GREETING = "hello ${HOME}"\n')
        res = self.cli("create", self.dir, "--json")
        assert res.rc == 0, res
        self.venv = self.dir / ".venv"
        for script in (self.venv / "bin").glob("activate*"):
            script.unlink()

    def cli(self, *args, **kw):
        return run_cli(*args, env={**self.env, **kw.pop("env", {})}, **kw)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project(tmp_path_factory.mktemp("run-shell"))


def _py(code: str) -> list[str]:
    return ["python", "-c", code]


def test_run_prints_the_venv_and_passes_arguments_through(project):
    res = project.cli(
        "run",
        "--project",
        project.dir,
        "--",
        *_py("import sys; print(sys.prefix); print(sys.argv[1:])"),
        "--json",
        "--project",
        "x",
    )
    assert res.rc == 0, res
    assert res.stdout.splitlines() == [str(project.venv), "['--json', '--project', 'x']"]
    # from inside the project, without --project
    res = project.cli("run", "--", "python", "-c", "import sys; print(sys.prefix)", cwd=project.dir)
    assert res.rc == 0 and res.stdout.strip() == str(project.venv), res


def test_run_gives_exactly_the_kernels_environment(project):
    keys = ["PATH", "VIRTUAL_ENV", "KERNELENV_TEST_GREETING", "PYDEVD_DISABLE_FILE_VALIDATION", "PYTHON_FROZEN_MODULES"]
    code = f"import json, os; print(json.dumps({{k: os.environ.get(k) for k in {keys!r}}}))"
    res = project.cli("run", "--project", project.dir, "--", *_py(code))
    assert res.rc == 0, res
    from_run = json.loads(res.stdout)
    old = dict(os.environ)
    os.environ.update(project.env)
    try:
        k = RunningKernel("demo", kernel_dirs=[project.j.kernels])
        try:
            from_kernel = json.loads(k.run(code))
        finally:
            k.shutdown()
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert from_run == from_kernel, (from_run, from_kernel)
    assert from_run["PATH"].split(os.pathsep)[0] == str(project.venv / "bin")
    assert from_run["VIRTUAL_ENV"] == str(project.venv)
    assert from_run["KERNELENV_TEST_GREETING"] == f"hello {project.env['HOME']}"


@pytest.mark.parametrize("code", [0, 1, 2, 130])
def test_run_passes_the_exit_code_through(project, code):
    res = project.cli("run", "--project", project.dir, "--", *_py(f"import sys; sys.exit({code})"))
    assert res.rc == code, res
    res = project.cli("run", "--project", project.dir, "--", "sh", "-c", f"exit {code}")
    assert res.rc == code, res


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_kernelenv_reaches_the_command(project, sig):
    code = (
        "import os, signal, sys, time\n"
        "def got(n, f):\n"
        "    print('got', n, flush=True); sys.exit(100 + n)\n"
        "signal.signal(signal.SIGTERM, got); signal.signal(signal.SIGINT, got)\n"
        "print('ready', os.getpid(), flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "kernelenv", "run", "--project", str(project.dir), "--", *_py(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **project.env},
    )
    try:
        line = child.stdout.readline().split()
        assert line[:1] == ["ready"], (line, child.stderr.read() if child.poll() is not None else "")
        assert int(line[1]) == child.pid  # kernelenv became the command: no process in between
        child.send_signal(sig)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert out.split() == ["got", str(int(sig))] and child.returncode == 100 + int(sig), (out, err)


def test_run_and_shell_refuse_what_they_cannot_do(project, tmp_path):
    empty = make_project(tmp_path, "empty")
    for verb in (["run", "--project", empty, "--", "python"], ["shell", "--project", empty]):
        res = project.cli(*verb)
        assert res.rc == 1 and "[KERNEL_NOT_FOUND]" in res.stderr and f"kernelenv create {empty}" in res.stderr, res
        assert res.stdout == ""
    for verb in (["run", "--project", project.dir, "--json", "--", "python"], ["shell", "--project", project.dir, "--json"]):
        res = project.cli(*verb)
        assert res.rc == 2 and res.codes == ["USAGE"] and "has no JSON envelope" in res.envelope["errors"][0]["message"]
    res = project.cli("--json", "run", "--project", project.dir, "--", "python")
    assert res.rc == 2 and res.codes == ["USAGE"], res
    res = project.cli("run", "--project", project.dir)
    assert res.rc == 2 and "[USAGE]" in res.stderr, res
    res = project.cli("run", "--project", project.dir, "--", "kernelenv-no-such-command")
    assert res.rc == 1 and "[COMMAND_NOT_FOUND]" in res.stderr, res
    res = project.cli("run", "--project", project.dir, "--", "")  # an empty name is said as one, not as nothing
    assert res.rc == 1 and "[COMMAND_NOT_FOUND]: '' is not in" in res.stderr, res
    res = project.cli("shell", "--project", project.dir, env={"KERNELENV_SHELL": str(project.dir)})
    assert res.rc == 1 and "[SHELL_NESTED]" in res.stderr and "exit" in res.stderr, res


# ---- a real terminal -----------------------------------------------------------------------------
class Terminal:
    """One tmux server of its own running ``shell`` in an isolated HOME."""

    def __init__(self, shell: str, home: Path, env: dict[str, str], cwd: Path):
        self.dir = Path(tempfile.mkdtemp(prefix="ke-tmux-"))  # short: a socket path has a length limit
        self.socket = str(self.dir / "sock")
        self.tmux = shutil.which("tmux")
        assert self.tmux, "tmux is missing: run scripts/install-shell-tools.sh"
        clean = {
            "HOME": str(home),
            "TERM": "xterm",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "SHELL": shell,
            "LANG": "C.UTF-8",
            **env,
        }
        argv = ["env", "-i", *(f"{k}={v}" for k, v in clean.items()), shell, "-i"]
        self._tmux("new-session", "-d", "-s", "t", "-x", "220", "-y", "60", "-c", str(cwd), " ".join(map(_q, argv)))

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            [self.tmux, "-S", self.socket, "-f", "/dev/null", *args], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def type(self, line: str) -> None:
        self._tmux("send-keys", "-t", "t", "-l", line)
        self._tmux("send-keys", "-t", "t", "Enter")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "t")

    def wait_for(self, text: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([self.tmux, "-S", self.socket, "kill-server"], capture_output=True, timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def _mark(name: str) -> str:
    """A command printing MARK-NAME, whose own text (echoed as it is typed) does not contain it."""
    return f"printf '%s-%s\\n' MARK {name}"


def _q(word: str) -> str:
    import shlex

    return shlex.quote(word)


def _home(root: Path, shims: Path) -> tuple[Path, dict[str, str]]:
    """A HOME whose start-up files put a shim folder (a fake python) first on PATH, as pyenv's do."""
    home = root / "home"
    (home / ".config" / "fish").mkdir(parents=True)
    line = f'export PATH="{shims}:$PATH"\n'
    (home / ".bashrc").write_text(line)
    (home / ".zshrc").write_text(line)
    (home / ".shrc").write_text(line)
    (home / ".config" / "fish" / "config.fish").write_text(f"set -gx PATH {shims} $PATH\n")
    return home, {"ENV": str(home / ".shrc")}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SHELLS))
def test_shell_in_a_real_terminal(project, name, tmp_path):
    shell = shutil.which(SHELLS[name])
    assert shell, f"{SHELLS[name]} is missing: run scripts/install-shell-tools.sh"
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "python").write_text("#!/bin/sh\necho not-the-venv\n")
    (shims / "python").chmod(0o755)
    home, extra = _home(tmp_path, shims)
    env = {**{k: v for k, v in project.env.items() if k != "HOME"}, **extra}
    term = Terminal(shell, home, env, tmp_path)
    try:
        term.type(f"{_mark('A')}; printenv PATH; {_mark('Z')}")
        before = term.wait_for("MARK-Z\n")  # (a line on the screen may still be being written: wait past it)
        term.type(f"{sys.executable} -m kernelenv shell --project {project.dir}")
        term.wait_for("(demo) ")
        term.type(f"which python; pip --version; {sys.executable} -m kernelenv shell; {_mark('EXIT')}; exit")
        term.wait_for("MARK-EXIT\n")
        time.sleep(1)  # the inner shell exits; what is typed next is the outer shell's
        term.type(f"{_mark('B')}; printenv PATH; {_mark('C')}")
        after = term.wait_for("MARK-C\n")
    finally:
        term.close()
    path_before = before.split("MARK-A\n", 1)[1].splitlines()[0]
    assert path_before.startswith(f"{shims}:"), before  # the user's start-up file ran
    inside = after.split("which python", 1)[1]
    assert f"\n{project.venv}/bin/python\n" in inside, after
    assert f"from {project.venv}/lib/" in inside and "/site-packages/pip " in inside, after
    assert "[SHELL_NESTED]" in inside, after  # a nested one says so instead of stacking
    path_after = after.split("MARK-B\n", 1)[1].splitlines()[0]
    shown = "\n".join(ln for ln in after.splitlines() if ln.strip())
    assert path_after == path_before, shown  # `exit` gave back the shell it came from, unchanged
