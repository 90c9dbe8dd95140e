"""A team's kernel on a real JupyterHub (issue 16, part 3).

`kernelenv create --prefix P --group G --python /usr/bin/python3` makes the team's venv and spec on
the Hub's JUPYTER_PATH. Two users in G (made with useradd) log in through the Hub's REST API with
tokens; each one's own server (LocalProcessSpawner: it runs as that user) lists the kernel, starts
it and runs `import sys; print(sys.executable)` over the kernel websocket. Neither they nor a third
user outside G can change the venv; the outsider does not even see it. A Python other users cannot
run (a copy in a folder only root enters, as pyenv's under /root) is refused for a team, and doctor
reports a shared kernel made from one, with the command that fixes it. Root only (useradd).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from kernelenv import venv as venvmod

from . import hub as hubmod
from .support import TIMINGS

pytestmark = pytest.mark.slow

SYSTEM_PYTHON = "/usr/bin/python3"
KERNEL = "teamdemo"


def _cli(*args: str, env: dict):
    from conftest import run_cli

    return run_cli(*args, env=env)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(tools, team, shared root, the iso env for kernelenv): users made, a folder every user can enter."""
    tools = hubmod.tools_or_skip()
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip(f"{SYSTEM_PYTHON} is missing (apt-get install python3)")
    from conftest import Jupyter

    iso = Jupyter(tmp_path_factory.mktemp("hub-iso"))
    root = Path(tempfile.mkdtemp(prefix="kernelenv-hub-", dir="/tmp"))
    os.chmod(root, 0o755)  # the users' servers must reach the shared prefix and venv below it
    try:
        with hubmod.team() as t:
            yield tools, t, root, iso.env()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def shared(world):
    """The team's kernel made by kernelenv: (project, venv, prefix, create's data)."""
    _, t, root, env = world
    project = root / KERNEL
    project.mkdir()
    venv, prefix = root / "venvs" / KERNEL, root / "prefix"
    t0 = time.monotonic()
    r = _cli(
        "create", project, "--prefix", prefix, "--venv", venv, "--group", t.group, "--python", SYSTEM_PYTHON, "--json", env=env
    )
    assert r.rc == 0, r
    TIMINGS["team kernel: create --group (Python 3.11, ipykernel)"] = time.monotonic() - t0
    return project, venv, prefix, r.data


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_the_team_owns_nothing_but_reads_everything(world, shared):
    _, t, _, _ = world
    project, venv, prefix, data = shared
    spec = prefix / "share" / "jupyter" / "kernels" / KERNEL
    assert data["group"] == t.group and data["warnings"] == [] and data["kernel"]["resource_dir"] == str(spec)
    import grp

    gid = grp.getgrnam(t.group).gr_gid
    for top in (venv, spec):
        for dirpath, dirs, names in os.walk(top):
            for p in [Path(dirpath), *(Path(dirpath) / n for n in dirs + names)]:
                st = os.lstat(p)
                assert st.st_gid == gid, p
                if stat.S_ISLNK(st.st_mode):
                    continue
                mode = stat.S_IMODE(st.st_mode)
                assert not mode & 0o027, f"{p} is {mode:o}: group-writable or open to others"
                assert mode & 0o040, f"{p} is {mode:o}: the group cannot read it"
                if stat.S_ISDIR(st.st_mode):
                    assert mode & stat.S_ISGID and mode & 0o010, f"{p} is {mode:o}"
    assert _mode(spec / "kernel.json") == 0o640 and _mode(spec) == 0o2750
    # re-running create changes nothing and keeps the group
    r = _cli("create", project, "--prefix", prefix, "--venv", venv, "--json", env=world[3])
    assert r.rc == 0 and r.data["kernelspec"] == "unchanged" and r.data["group"] == t.group and not r.data["rebuilt"], r


def test_a_private_python_is_refused_for_a_team(world):
    """A Python in a folder only root can enter (pyenv's under /root is the common case): SHARE_UNREACHABLE, nothing made."""
    _, t, root, env = world
    private = root / "private"
    (private / "bin").mkdir(parents=True)
    os.chmod(private, 0o700)
    python = private / "bin" / "python3"
    shutil.copy2(os.path.realpath(SYSTEM_PYTHON), python)
    project = root / "refused"
    project.mkdir()
    r = _cli(
        "create",
        project,
        "--prefix",
        root / "prefix",
        "--venv",
        root / "venvs" / "refused",
        "--group",
        t.group,
        "--python",
        python,
        "--json",
        env=env,
    )
    assert r.rc == 1 and r.codes == ["SHARE_UNREACHABLE"], r
    err = r.envelope["errors"][0]
    assert err["details"]["path"] == str(private) and t.group in err["message"]
    assert "--python /usr/bin/python3" in err["hint"] or "--python /usr/bin/python3.11" in err["hint"]
    assert not (root / "venvs" / "refused").exists()
    assert not (root / "prefix" / "share" / "jupyter" / "kernels" / "refused").exists()
    r = _cli("create", project, "--group", "no-such-group-kernelenv", "--json", env=env)
    assert r.codes == ["GROUP_INVALID"], r


def test_doctor_reports_a_shared_kernel_others_cannot_run(world):
    """No --group, a prefix every user reads, a private Python: create warns, doctor reports it and its fix works."""
    _, t, root, env = world
    private = root / "private2"
    (private / "bin").mkdir(parents=True)
    os.chmod(private, 0o700)
    python = private / "bin" / "python3"
    shutil.copy2(os.path.realpath(SYSTEM_PYTHON), python)
    project, venv, prefix = root / "solo", root / "venvs" / "solo", root / "open-prefix"
    project.mkdir()
    r = _cli("create", project, "--prefix", prefix, "--venv", venv, "--python", python, "--json", env=env)
    assert r.rc == 0 and r.data["warnings"] and "every user" in r.data["warnings"][0], r
    r = _cli("doctor", "--prefix", prefix, "--kernel", "solo", "--json", env=env)
    assert r.rc == 1, r
    problems = [p for k in r.data["kernels"] for p in k["problems"]]
    assert [p["code"] for p in problems] == ["python-private"], problems
    assert str(private) in problems[0]["message"] and "--python /usr/bin/python3" in problems[0]["fix"]
    action = problems[0]["action"]["argv"]
    assert action[:2] == ["create", str(project)] and "--prefix" in action
    r = _cli(*action, "--json", env=env)  # the fix, as an editor's button runs it
    assert r.rc == 0 and r.data["rebuilt"] and r.data["warnings"] == [], r
    r = _cli("doctor", "--prefix", prefix, "--kernel", "solo", "--json", env=env)
    assert r.rc == 0, r
    # as another user: the rebuilt kernel's python runs
    done = hubmod.as_user(t.outsider, str(venv / "bin" / "python"), "-c", "import sys; print(sys.prefix)")
    assert done.returncode == 0 and done.stdout.strip() == str(venv), done.stderr


def _probe_wheel(folder: Path) -> Path:
    """A tiny wheel, so pip's refusal is about writing the venv, not about the network."""
    whl = folder / "kernelenv_probe-1.0-py3-none-any.whl"
    files = {
        "kernelenv_probe.py": "X = 1\n",
        "kernelenv_probe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: kernelenv-probe\nVersion: 1.0\n",
        "kernelenv_probe-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: kernelenv-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{n},,\n" for n in files) + "kernelenv_probe-1.0.dist-info/RECORD,,\n"
    with zipfile.ZipFile(whl, "w") as z:
        for n, text in {**files, "kernelenv_probe-1.0.dist-info/RECORD": record}.items():
            z.writestr(n, text)
    os.chmod(whl, 0o644)
    return whl


def test_only_the_owner_changes_the_venv(world, shared):
    tools, t, root, _ = world
    _, venv, prefix, _ = shared
    whl = _probe_wheel(root)
    site = venvmod.site_packages(venv)[0]
    before = venvmod.installed(venv)
    own_pip = str(tools.venv / "bin" / "python")  # a pip the user can run, aimed at the venv with --target
    for user in [*t.members, t.outsider]:
        for path in (venv / "x", site / "x.py"):
            done = hubmod.as_user(user, "touch", str(path))
            assert done.returncode != 0 and "Permission denied" in done.stderr, (user, path, done.stderr)
        for python, extra in ((str(venv / "bin" / "python"), []), (own_pip, ["--target", str(site)])):
            done = hubmod.as_user(user, python, "-m", "pip", "install", "--no-index", "--no-deps", *extra, str(whl))
            said = done.stdout + done.stderr
            assert done.returncode != 0 and "Permission denied" in said, (user, python, said)
    assert venvmod.installed(venv) == before and not (venv / "x").exists()
    # members run the venv's python; the outsider cannot even enter the venv, nor see the spec
    for user in t.members:
        done = hubmod.as_user(user, str(venv / "bin" / "python"), "-c", "import ipykernel, sys; print(sys.prefix)")
        assert done.returncode == 0 and done.stdout.strip() == str(venv), (user, done.stderr)
    assert hubmod.as_user(t.outsider, str(venv / "bin" / "python"), "-c", "pass").returncode != 0
    listed = hubmod.as_user(
        t.outsider,
        "env",
        f"JUPYTER_PATH={prefix / 'share' / 'jupyter'}",
        str(tools.venv / "bin" / "jupyter"),
        "kernelspec",
        "list",
        "--json",
    )
    assert listed.returncode == 0, listed.stderr
    assert KERNEL not in json.loads(listed.stdout)["kernelspecs"]


def test_every_members_server_lists_starts_and_runs_the_team_kernel(world, shared):
    tools, t, root, _ = world
    _, venv, prefix, _ = shared
    hub = hubmod.Hub(tools, root / "hub", [*t.members, t.outsider], prefix / "share" / "jupyter")
    try:
        TIMINGS["JupyterHub: start until its API answers"] = hub.start()
        tokens = {u: hub.user_token(u) for u in t.members}
        t0 = time.monotonic()
        for user in t.members:
            hub.spawn(user)
        for user in t.members:
            hub.wait_ready(user)
        TIMINGS["JupyterHub: both members' servers spawned and ready"] = time.monotonic() - t0
        for user in t.members:
            token = tokens[user]
            specs = hub.api("GET", f"/user/{user}/api/kernelspecs", token=token)["kernelspecs"]
            assert KERNEL in specs, (user, sorted(specs))
            assert specs[KERNEL]["spec"]["argv"][0] == str(venv / "bin" / "python")
            t1 = time.monotonic()
            kernel = hub.api("POST", f"/user/{user}/api/kernels", {"name": KERNEL}, token=token)
            out = hubmod.execute(
                hub,
                user,
                token,
                kernel["id"],
                "import sys, os, pwd; print(sys.executable); print(pwd.getpwuid(os.getuid()).pw_name)",
            )
            TIMINGS[f"JupyterHub: kernel start + first execute ({user})"] = time.monotonic() - t1
            executable, who = out.split()
            assert executable == str(venv / "bin" / "python") and who == user, out
            hub.api("DELETE", f"/user/{user}/api/kernels/{kernel['id']}", token=token)
        # a user's token reaches that user's server only
        hub.api("GET", f"/user/{t.members[1]}/api/kernelspecs", token=tokens[t.members[0]], expect=(403,))
    finally:
        hub.stop()
    for user in t.users:  # the Hub stopped its users' servers with it
        left = hubmod.run("ps", "-u", user, "-o", "pid=,args=", check=False).stdout.strip()
        assert "jupyterhub-singleuser" not in left and "ipykernel" not in left, left


def test_sync_keeps_the_venv_the_groups(world, shared):
    """What the installer adds later (sync from a lock) is given to the group too."""
    _, t, _, env = world
    project, venv, _, _ = shared
    r = _cli("lock", project, "--venv", venv, "--with", "six", "--json", env=env)
    assert r.rc == 0, r
    r = _cli("sync", project, "--venv", venv, "--json", env=env)
    assert r.rc == 0 and "six" in r.data["installed"], r
    import grp

    gid = grp.getgrnam(t.group).gr_gid
    site = venvmod.site_packages(venv)[0]
    added = [site / "six.py", *site.glob("six-*.dist-info"), *(site / "__pycache__").glob("six*")]
    assert added
    for p in added:
        st = os.lstat(p)
        assert st.st_gid == gid and not stat.S_IMODE(st.st_mode) & 0o027, (p, oct(st.st_mode))
    for user in t.members:
        done = hubmod.as_user(user, str(venv / "bin" / "python"), "-c", "import six")
        assert done.returncode == 0, (user, done.stderr)
