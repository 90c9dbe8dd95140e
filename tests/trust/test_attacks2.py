"""A second, independent attack on kernelenv's trust guarantees (task H8): what was merged after the
first one (installed templates and hard-linked clones, run/shell/add/drop, team kernels, Python 3.7).

Each test is one sequence a user can really run, with the real CLI (``python -m kernelenv``), real
venvs and an isolated HOME/Jupyter/cache (the ``jupyter`` fixture); its docstring says the sequence
and what went wrong before the fix. The invariant attacked throughout: nothing done in or for one
project changes a byte, a mode or an owner of another project's venv, of kernelenv's templates or
of any other file of the user's.
"""

from __future__ import annotations

import grp
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest
from conftest import Jupyter, make_project, run_cli

from kernelenv import venv as venvmod

pytestmark = pytest.mark.skipif(os.name != "posix", reason="Unix modes, groups and hard links")


def _files(venv: Path) -> dict[str, os.stat_result]:
    """Every regular file under ``venv``: its venv-relative path and lstat."""
    out = {}
    for root, _, names in os.walk(venv):
        for n in names:
            p = os.path.join(root, n)
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                out[os.path.relpath(p, venv)] = st
    return out


def _team_python() -> str | None:
    """An interpreter every member of a group can run (not one under a private home), or None."""
    for cand in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(cand, os.X_OK):
            return cand
    return None


def _a_group() -> str:
    """A group this user may give files to: another one than its own when it is root (so a chgrp shows)."""
    if os.geteuid() == 0:
        for g in grp.getgrall():
            if g.gr_gid != os.getegid():
                return g.gr_name
    return grp.getgrgid(os.getegid()).gr_name


@pytest.fixture
def own_uv_cache(tmp_path, monkeypatch):
    """A uv cache of this test's own: the attacks below change (or, when they find the bug, changed)
    files uv hard-links from its cache, which must never be the cache other tests share."""
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))


@pytest.fixture
def reachable(tmp_path, monkeypatch):
    """An isolated HOME/Jupyter/cache under a folder every user may pass (a pytest tmp_path is 0700,
    which a team kernel's members could not reach): (root, its Jupyter folders)."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="kenv-h8-", dir="/tmp"))
    os.chmod(root, 0o755)
    j = Jupyter(root / "iso")
    for k, v in j.env().items():
        monkeypatch.setenv(k, v)
    yield root, j
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_a_team_venv_never_changes_the_modes_or_group_of_another_venvs_files(reachable, own_uv_cache):
    """``create A; create T --group G --python /usr/bin/python3`` (same Python, so the same wheels).

    Before: uv hard-links the packages' files from its cache into both venvs (and A may be a clone
    of a template, linked to it), and giving T to the group chmod-ed and chgrp-ed those very inodes:
    a file of A's ``ipykernel`` went from 644 root:root to 640 root:G, as did uv's cache, the
    template and every other venv with that file. With two teams, the second ``--group`` took the
    first team's files away from its members (their kernel could no longer import). Now a team's
    venv owns every file it gives away (a file with other links is copied first)."""
    python = _team_python()
    if python is None:
        pytest.skip("no interpreter outside a private home")
    root, _ = reachable
    a, t = make_project(root, "A"), make_project(root, "T")
    r = run_cli("create", a, "--python", python, "--json")
    assert r.rc == 0, r
    before = {rel: (st.st_ino, stat.S_IMODE(st.st_mode), st.st_gid) for rel, st in _files(a / ".venv").items()}
    r = run_cli("create", t, "--python", python, "--group", _a_group(), "--json")
    assert r.rc == 0, r
    after = {rel: (st.st_ino, stat.S_IMODE(st.st_mode), st.st_gid) for rel, st in _files(a / ".venv").items()}
    changed = [rel for rel in before if before[rel] != after.get(rel)]
    assert not changed, f"{len(changed)} files of A changed by T's --group, e.g. {changed[:3]}"
    a_inodes = {v[0] for v in after.values()}
    shared = [rel for rel, st in _files(t / ".venv").items() if st.st_ino in a_inodes]
    assert not shared, f"{len(shared)} files of the team venv are A's inodes, e.g. {shared[:3]}"
    linked = [rel for rel, st in _files(t / ".venv").items() if st.st_nlink > 1]
    assert not linked, f"{len(linked)} files of the team venv have other links, e.g. {linked[:3]}"


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="by design: uv (UV_LINK_MODE=hardlink, its default) and templates hard-link the "
    "packages' files into every venv, so a write in place through one link is seen by all (README "
    "'What is linked'); only copies or reflinks (UV_LINK_MODE=copy/clone) would keep venvs apart",
)
def test_an_edit_in_place_in_one_projects_site_packages_leaves_another_project_alone(jupyter, tmp_path, own_uv_cache):
    """``create A; create B`` (B cloned from the template A's create made); in A, an editor that keeps
    hard links (vim's backupcopy=auto, VS Code, ``open(f, 'r+')``) adds a debug line to
    ``site-packages/traitlets/utils/__init__.py``. B's file has that line too (and ``chmod`` in A
    changes B's mode the same way): the next create refuses the changed template, but A's change
    already is in B, in the template and in uv's cache."""
    a, b = make_project(tmp_path, "A"), make_project(tmp_path, "B")
    for p in (a, b):
        r = run_cli("create", p, "--json")
        assert r.rc == 0, r
    rel = Path("traitlets") / "utils" / "__init__.py"
    fa, fb = venvmod.site_packages(a / ".venv")[0] / rel, venvmod.site_packages(b / ".venv")[0] / rel
    before = fb.read_bytes()
    with open(fa, "r+b") as f:
        f.seek(0, os.SEEK_END)
        f.write(b"\nprint('debugging A')\n")
    assert fb.read_bytes() == before


@pytest.mark.slow
def test_two_creates_making_templates_at_once_both_keep_theirs(jupyter, tmp_path):
    """``create A & create B --with toolz`` at once (an empty template cache), then ``create C``
    and ``create D --with toolz``.

    Before: each run read the template index when it started and wrote back its own copy when it
    finished, so the second write dropped the first run's entry: its template (a whole venv) was
    left unnamed on disk for a day and the next create of that request installed and made a
    third one. Now the index is re-read and merged under a lock when saved: C and D are clones."""
    import subprocess

    projects = [make_project(tmp_path, n) for n in ("A", "B", "C", "D")]
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "kernelenv", "create", str(p), *extra, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for p, extra in ((projects[0], []), (projects[1], ["--with", "toolz"]))
    ]
    for run in runs:
        out, _ = run.communicate(timeout=900)
        assert run.returncode == 0, out
    root = jupyter.home / ".cache" / "kernelenv" / "templates"
    made = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert len(made) == 2, made
    for p, extra in ((projects[2], []), (projects[3], ["--with", "toolz"])):
        r = run_cli("create", p, *extra, "--json")
        assert r.rc == 0, r
    now = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert now == made, f"a create made another template: {sorted(set(now) - set(made))}"


@pytest.mark.slow
def test_add_to_a_team_venv_gives_what_it_installed_to_the_group(reachable, own_uv_cache):
    """``create T --group G --python /usr/bin/python3; kernelenv add toolz --project T``.

    Before: ``sync`` gave what its installer added to the group, ``add`` did not: toolz's files
    kept the owner's group and were uv's cache inodes (hard links), outside the contract of a
    team's venv ("everything under it the group's, nobody's else"); a later ``--group`` run
    would then have had to change uv's cache to give them. Now ``add`` (and ``drop``) give the
    venv to its group again, as ``sync`` does."""
    python = _team_python()
    if python is None:
        pytest.skip("no interpreter outside a private home")
    root, _ = reachable
    t = make_project(root, "T")
    group = _a_group()
    r = run_cli("create", t, "--python", python, "--group", group, "--json")
    assert r.rc == 0, r
    r = run_cli("add", "toolz", "--project", t, "--json")
    assert r.rc == 0, r
    gid = grp.getgrnam(group).gr_gid
    site = venvmod.site_packages(t / ".venv")[0]
    toolz = {rel: st for rel, st in _files(site).items() if rel.startswith("toolz")}
    assert toolz
    wrong = [rel for rel, st in toolz.items() if st.st_gid != gid or st.st_nlink > 1 or st.st_mode & 0o007]
    assert not wrong, f"{len(wrong)} of toolz's files are not the group's alone, e.g. {wrong[:3]}"


@pytest.mark.slow
def test_a_uv_cache_filled_at_umask_002_still_gives_templates(jupyter, tmp_path, own_uv_cache):
    """The user's own ``uv pip install ipykernel`` at umask 002 (Debian and Ubuntu's default for a
    user with a private group) fills uv's cache with 0664 files; then ``create A; create B``.

    Before: the template linked those files' inodes nowhere (group-writable: copied instead, as
    designed) but then refused every such copy at clone time ("not a file of yours that only you
    can write"), so each create built a whole template, threw it away and installed as before:
    templates never worked for that user and every create paid for a template build. Now a copied
    file is trusted by the sha256 its manifest recorded (the bytes checked are the bytes written,
    with the group/other write bits cleared), and B is a clone."""
    import subprocess

    throw = tmp_path / "throwaway"
    old = os.umask(0o002)
    try:
        for argv in (
            ["venv", "-q", str(throw)],
            ["pip", "install", "-q", "--python", str(throw / "bin" / "python"), "ipykernel", "pip"],
        ):
            done = subprocess.run([sys.executable, "-m", "uv", *argv], capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
    finally:
        os.umask(old)
    a, b = make_project(tmp_path, "A"), make_project(tmp_path, "B")
    for p in (a, b):
        r = run_cli("create", p, "--json")
        assert r.rc == 0, r
    root = jupyter.home / ".cache" / "kernelenv" / "templates"
    assert [p.name for p in root.iterdir() if p.is_dir()], "no template was kept"
    mark = venvmod.read_mark(b / ".venv") or {}
    assert mark.get("template"), "B was installed, not cloned"
    bad = [
        f"{oct(stat.S_IMODE(st.st_mode))} {rel}"
        for rel, st in _files(b / ".venv").items()
        if st.st_nlink == 1 and st.st_mode & 0o022
    ]
    assert not bad, f"B's own files are group/other writable: {bad[:3]}"
