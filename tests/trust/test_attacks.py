"""Attacks on kernelenv's trust guarantees, found by an independent adversarial pass (task H4).

Each test is one sequence a user (or an adversary) can really run, with the real CLI, real venvs
and real kernels; its docstring says the sequence and what went wrong before the fix. The
guarantees attacked: no folder deleted that kernelenv did not make for that path; no venv
deleted while another spec uses it or repair could recover it; no file of the user changed;
every kernel ``list`` calls ok runs its own project's venv; ``--dry-run`` says what a run does.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_project

from kernelenv import venv as venvmod

OTHER_PYTHON = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"


def _kill_when(argv: list[str], ready, timeout: float = 180, must: bool = True) -> bool:
    """Run the CLI with ``argv`` and SIGKILL it (its whole group) as soon as ``ready()`` holds.
    Whether it was killed; a run that finishes first fails the test when ``must``."""
    child = subprocess.Popen(
        [sys.executable, "-m", "kernelenv", *map(str, argv)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while child.poll() is None and time.monotonic() < deadline:
            try:
                if ready():
                    break
            except OSError:
                pass
            time.sleep(0.001)
        killed = child.poll() is None
        assert killed or not must, f"the run {argv} finished before the moment to kill it"
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    return killed


def _aside_without_python(p: Path):
    """The moment of a rebuild when the working venv is aside and the new one has no python yet."""
    return lambda: any(".kernelenv-aside-" in x.name for x in p.iterdir()) and not (p / ".venv" / "bin" / "python").exists()


def _row(cli, name: str, *extra: str) -> dict | None:
    res = cli("list", *extra, "--json")
    return next((r for r in res.data["kernels"] if r["name"] == name), None)


# F1 ------------------------------------------------------------------------------------------------
def test_two_runs_through_a_symlinked_project_path_wait_for_each_other(jupyter, cli, tmp_path):
    """`ln -s R L; kernelenv create R & kernelenv create L`: both name the same venv, so the second
    must wait for the first. Before: the lock was keyed by the path as spelled, so the run through L
    did not wait; it saw R's half-made venv, called it unfinished, moved it aside and rebuilt it while
    R's run was installing into it (R's run then failed with INSTALL_FAILED, or both said ok)."""
    from kernelenv import locks
    from kernelenv.context import Context

    real = make_project(tmp_path, "R")
    link = tmp_path / "L"
    link.symlink_to(real)
    # the run on R holds its venv's lock (kernelenv's own lock, taken as its create takes it)
    ctx = Context.build(real)
    with locks.venv_and_kernels(ctx, real / ".venv", []):
        child = subprocess.Popen(
            [sys.executable, "-m", "kernelenv", "create", str(link), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        waited = False
        deadline = time.monotonic() + 60
        lines: list[str] = []
        while time.monotonic() < deadline and child.poll() is None:
            line = child.stderr.readline()
            lines.append(line)
            if "waiting for another kernelenv run" in line:
                waited = True
                break
        made_meanwhile = (real / ".venv").exists()
    out, err = child.communicate(timeout=600)
    assert waited and not made_meanwhile, f"create through the link did not wait for the run on {real}: {''.join(lines)}{err}"
    assert child.returncode == 0, out


# F2 ------------------------------------------------------------------------------------------------
def test_create_on_the_users_own_venv_keeps_its_file_modes(jupyter, cli, tmp_path):
    """`umask 002; python -m venv P/.venv; kernelenv create P`: the venv is the user's, used as it is.
    Before: create cleared the group-write bit of every entry in the venv's top folder (pyvenv.cfg,
    bin, lib, a notes file of the user's): files kernelenv did not make, changed."""
    p = make_project(tmp_path, "P")
    subprocess.run(["sh", "-c", f'umask 002 && "{sys.executable}" -m venv --without-pip "{p / ".venv"}"'], check=True)
    notes = p / ".venv" / "notes.txt"
    notes.write_text("mine\n")
    os.chmod(notes, 0o664)
    before = {e.name: stat.S_IMODE(os.lstat(e.path).st_mode) for e in os.scandir(p / ".venv")}
    res = cli("create", p, "--json")
    assert res.rc == 0, res
    after = {n: stat.S_IMODE(os.lstat(p / ".venv" / n).st_mode) for n in before}
    assert after == before, {n: (oct(before[n]), oct(after[n])) for n in before if before[n] != after[n]}
    assert venvmod.read_mark(p / ".venv") is None


# F3 ------------------------------------------------------------------------------------------------
def test_prune_keeps_the_spec_of_a_venv_it_puts_back(jupyter, cli, tmp_path):
    """`create P; create P --python OTHER` killed while the working venv is aside; `prune`.
    Before: prune put the working venv back, then removed kernel p anyway, because it had decided
    from the health seen before (interpreter missing): a kernel that runs, removed; `--dry-run`
    said the same."""
    p = make_project(tmp_path, "P")
    assert cli("create", p, "--json").rc == 0
    _kill_when(["create", p, "--python", OTHER_PYTHON, "--json"], _aside_without_python(p))
    assert _row(cli, "p")["status"] == "interpreter-missing"
    dry = cli("prune", "--dry-run", "--json")
    assert dry.rc == 0 and [r["name"] for r in dry.data["removed"]] == [], dry.data
    res = cli("prune", "--json")
    assert res.rc == 0 and [r["name"] for r in res.data["removed"]] == [], res.data
    assert res.data["restored"], res.data
    assert _row(cli, "p")["status"] == "ok"


# F4 ------------------------------------------------------------------------------------------------
def test_adopt_leaves_a_nested_projects_notebooks_alone(jupyter, cli, tmp_path):
    """`create A; create B; mv A B/A; create B/A; cd B; kernelenv adopt`: B/A is a project of its own
    (its own venv and kernel). Before: adopt rewrote B/A's notebooks to open on B's kernel, so they
    ran in the wrong environment."""
    import nbformat

    a, b = make_project(tmp_path, "A"), make_project(tmp_path, "B")
    for proj, name in ((a, "a"), (b, "b")):
        assert cli("create", proj, "--json").rc == 0
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": name, "display_name": name, "language": "python"}
        nbformat.write(nb, str(proj / f"{name}.ipynb"))
    nested = b / "A"
    a.rename(nested)
    assert cli("create", nested, "--json").rc == 0
    before = (nested / "a.ipynb").read_bytes()
    res = cli("adopt", "--json", cwd=b)
    assert res.rc == 0, res
    assert [Path(r["path"]).name for r in res.data["notebooks"]] == ["b.ipynb"], res.data["notebooks"]
    assert (nested / "a.ipynb").read_bytes() == before


# F6 ------------------------------------------------------------------------------------------------
def _lock_without(project: Path, names: tuple[str, ...]) -> None:
    out, skip = [], False
    for line in (project / "kernelenv.lock").read_text().splitlines(keepends=True):
        if any(line.startswith(f"{n}==") for n in names):
            skip = True
            continue
        if skip and line.startswith((" ", "\t")):
            continue
        skip = False
        out.append(line)
    (project / "kernelenv.lock").write_text("".join(out))


def test_a_lock_without_ipykernel_is_refused_before_anything_is_touched(jupyter, cli, tmp_path):
    """`create P; lock P`, then ipykernel's entry deleted from kernelenv.lock (a lock that lies);
    `sync P`, and `create Q` with that lock. Before: sync uninstalled ipykernel from P's working venv
    (the kernel could no longer start), and create Q exited 0 with a kernel that cannot start, for
    which doctor's fix was that same sync."""
    p = make_project(tmp_path, "P")
    assert cli("create", p, "--json").rc == 0
    assert cli("lock", p, "--json").rc == 0
    _lock_without(p, ("ipykernel",))
    res = cli("sync", p, "--json")
    assert res.rc != 0 and res.codes == ["LOCK_INVALID"], res
    assert "ipykernel" in venvmod.installed(p / ".venv")
    q = make_project(tmp_path, "Q")
    (q / "kernelenv.lock").write_text((p / "kernelenv.lock").read_text())
    res = cli("create", q, "--json")
    assert res.rc != 0 and res.codes == ["LOCK_INVALID"], res
    assert not (q / ".venv").exists() and _row(cli, "q") is None


def test_an_exact_sync_with_pip_never_uninstalls_pip(jupyter, cli, kernel, tmp_path):
    """`create P --installer pip; lock P`, pip's entry deleted from the lock; `sync P --installer pip`.
    Before: the pip backend's exact sync uninstalled pip itself (uv's keeps it), so `!pip` in the
    kernel failed while `list` said ok."""
    p = make_project(tmp_path, "P")
    assert cli("create", p, "--installer", "pip", "--json").rc == 0
    assert cli("lock", p, "--json").rc == 0
    _lock_without(p, ("pip",))
    res = cli("sync", p, "--installer", "pip", "--json")
    assert res.rc == 0, res
    assert "pip" in venvmod.installed(p / ".venv") and (p / ".venv" / "bin" / "pip").exists()
    assert _row(cli, "p")["status"] == "ok"
    assert str(p / ".venv") in kernel("p").run("%pip --version")


# F7 ------------------------------------------------------------------------------------------------
def test_remove_keeps_a_venv_that_a_spec_in_another_scope_uses(jupyter, cli, tmp_path):
    """`create P --prefix D; create P; remove p`: both specs are kernelenv's and run P/.venv.
    Before: remove (user scope) did not see D's spec, deleted P/.venv, and left D's kernel broken
    (interpreter missing); `--dry-run` said the same."""
    p = make_project(tmp_path, "P")
    prefix = tmp_path / "D"
    assert cli("create", p, "--prefix", prefix, "--json").rc == 0
    assert cli("create", p, "--json").rc == 0
    dry = cli("remove", "p", "--dry-run", "--json")
    assert dry.rc == 0 and dry.data["venv_removed"] is None, dry
    res = cli("remove", "p", "--json")
    assert res.rc == 0 and res.data["venv_removed"] is None, res
    assert str(prefix) in res.data["venv_kept_reason"], res.data
    assert (p / ".venv" / "bin" / "python").exists()
    assert _row(cli, "p", "--prefix", prefix)["status"] == "ok"
    # and once D's spec is gone, the venv goes with the last kernel
    res = cli("remove", "p", "--prefix", prefix, "--json")
    assert res.rc == 0 and res.data["venv_removed"] == str(p / ".venv"), res


# F8 ------------------------------------------------------------------------------------------------
def test_a_copy_whose_original_moved_does_not_take_the_originals_kernel(jupyter, cli, kernel, tmp_path):
    """`create A; cp -a A B; mv A A2; create B; create A2`. Before: B's venv (a copy of A's, whose
    origin is now gone) was taken for A's venv *moved* to B: B took kernel `a` and A2 got a new name
    `a2`, so A2's notebooks (which name kernel `a`) opened on B's venv. A `mv` keeps the venv folder's
    inode and a copy does not: the mark records it."""
    a = make_project(tmp_path, "A")
    assert cli("create", a, "--json").rc == 0
    b, a2 = tmp_path / "B", tmp_path / "A2"
    subprocess.run(["cp", "-a", str(a), str(b)], check=True)
    a.rename(a2)
    res = cli("create", b, "--json")
    assert res.rc == 0 and res.data["kernel"]["name"] == "b", res
    res = cli("create", a2, "--json")
    assert res.rc == 0 and res.data["kernel"]["name"] == "a", res
    assert str(a2 / ".venv") in kernel("a").run("%pip --version")
    assert str(b / ".venv") in kernel("b").run("%pip --version")


# F5 ------------------------------------------------------------------------------------------------
def test_remove_after_a_killed_rebuild_leaves_nothing_behind(jupyter, cli, tmp_path):
    """`create P; create P --python OTHER` killed while the working venv is aside; `remove P`.
    Before: remove said it removed kernel p, but the working venv (~90 MB) stayed hidden in
    P/..venv.kernelenv-aside-*, and a later `create P` brought that old venv back instead of
    making a new one. `--dry-run` must say the venv goes too."""
    p = make_project(tmp_path, "P")
    assert cli("create", p, "--json").rc == 0
    _kill_when(["create", p, "--python", OTHER_PYTHON, "--json"], _aside_without_python(p))
    dry = cli("remove", "--project", p, "--dry-run", "--json")
    assert dry.rc == 0 and dry.data["venv_removed"] == str(p / ".venv") and dry.data["recovered"], dry
    res = cli("remove", "--project", p, "--json")
    assert res.rc == 0 and res.data["venv_removed"] == str(p / ".venv"), res
    assert sorted(x.name for x in p.iterdir()) == [], sorted(x.name for x in p.iterdir())


def test_a_killed_remove_is_finished_by_the_next_remove_and_prune(jupyter, cli, tmp_path):
    """`create P; remove P` killed -9 once the venv is moved aside for deletion; `remove P`; `prune`.
    Before: the second remove said KERNEL_NOT_FOUND and the half-deleted venv stayed in
    P/..venv.kernelenv-aside-* for good; the spec's half-deleted folder (.p~*.del) stayed in the
    kernels folder, swept by nothing but a later `create` of that same name."""
    p = make_project(tmp_path, "P")
    assert cli("create", p, "--json").rc == 0
    # killed while deleting the venv, the spec already gone
    _kill_when(
        ["remove", p, "--json"],
        lambda: not (jupyter.kernels / "p").exists() and any(".kernelenv-aside-" in x.name for x in p.iterdir()),
    )
    res = cli("remove", "--project", p, "--json")
    assert res.rc == 0 and res.data["recovered"], res
    assert sorted(x.name for x in p.iterdir()) == []
    # what a kill between the spec's rename and its deletion leaves
    assert cli("create", p, "--json").rc == 0
    held = jupyter.kernels / ".p~kill.del"
    held.mkdir()
    (jupyter.kernels / "p").rename(held / "p")
    res = cli("prune", "--dry-run", "--json")
    assert res.rc == 0 and any(str(held) in m for m in res.data["restored"]), res.data
    res = cli("prune", "--json")
    assert res.rc == 0, res
    assert sorted(x.name for x in jupyter.kernels.iterdir()) == [], res.data


# F9 ------------------------------------------------------------------------------------------------
def test_pythons_does_not_trust_or_write_a_loose_cache_folder(jupyter, cli, tmp_path):
    """A cache folder others can write (`chmod 777 ~/.cache/kernelenv`, or XDG_CACHE_HOME in a shared
    place); `kernelenv pythons`. create and register refuse such a folder (CACHE_UNSAFE); before, the
    pythons verb (the editor's interpreter picker) read the interpreter facts planted there and wrote
    pythons.json through a fixed temporary name (`pythons.json.PID.tmp`) that a planted symlink
    redirects."""
    cache = jupyter.home / ".cache" / "kernelenv"
    cache.mkdir(parents=True)
    os.chmod(cache, 0o777)
    res = cli("pythons", "--json")
    assert res.rc != 0 and res.codes == ["CACHE_UNSAFE"], res
    assert list(cache.iterdir()) == []
    os.chmod(cache, 0o700)
    res = cli("pythons", "--json")
    assert res.rc == 0, res
    assert stat.S_IMODE((cache / "pythons.json").stat().st_mode) == 0o600


# F10 -----------------------------------------------------------------------------------------------
def _kill_twice_while_deleting_the_half_made_venv(p: Path) -> bool:
    """Kill a rebuild of ``p`` half-way, then the next run while it deletes that half-made venv.
    Whether the second kill landed in time."""

    def holders() -> list[Path]:
        return [x for x in p.iterdir() if ".kernelenv-aside-" in x.name]

    # killed while installing into the new venv (a big half-made venv: deleting it takes a while)
    _kill_when(
        ["create", p, "--python", OTHER_PYTHON, "--json"],
        lambda: bool(holders()) and venvmod.read_mark(p / ".venv") is not None and len(venvmod.dist_infos(p / ".venv")) >= 20,
    )
    half = os.stat(p / ".venv").st_ino  # the half-made venv, wherever the next run moves it

    def deleting_it() -> bool:  # it has lost its mark or its pyvenv.cfg: its deletion is under way
        for d in [p / ".venv", *(h / ".venv" for h in holders())]:
            if d.is_dir() and os.stat(d).st_ino == half:
                return venvmod.read_mark(d) is None or not (d / "pyvenv.cfg").exists()
        return False

    return _kill_when(["create", p, "--json"], deleting_it, must=False)


def test_a_kill_while_an_unfinished_venv_is_deleted_never_strands_the_working_one(jupyter, cli, tmp_path):
    """`create P --with six; create P --python OTHER` killed once the new venv is half made (the
    working one aside); `create P` (which deletes the half-made venv and puts the working one back)
    killed while it deletes; `create P`. Before: the half-deleted folder had lost its mark and its
    pyvenv.cfg, so every later create and repair refused it (VENV_NOT_A_VENV, "not touching it"),
    doctor's fix failed the same way, and the working venv stayed aside for good; or it had lost
    only its mark, looked like the user's own finished venv, and the next run deleted the working
    venv kept aside (six gone). (Found by the model test, seed 3969826229.)"""
    for attempt in range(4):  # the second kill must land while a deletion runs: retried when it came too late
        p = make_project(tmp_path / str(attempt), "P")
        assert cli("create", p, "--with", "six", "--name", "p", "--force", "--json").rc == 0
        if _kill_twice_while_deleting_the_half_made_venv(p):
            break
    else:
        pytest.fail("never killed a run while it deleted the half-made venv")
    res = cli("create", p, "--json")
    assert res.rc == 0, res
    assert "six" in venvmod.installed(p / ".venv") and _row(cli, "p")["status"] == "ok"
    assert [x.name for x in p.iterdir()] == [".venv"]


# F11 -----------------------------------------------------------------------------------------------
def test_remove_keeps_an_empty_folder_the_user_made(jupyter, cli, tmp_path):
    """`mkdir P/.venv` (the user's, say a mount point or a folder made for later); `remove --project P`.
    Before: an empty folder counted as what an interrupted kernelenv run abandoned, so remove (and
    its --dry-run) deleted it although kernelenv never made it."""
    p = make_project(tmp_path, "P")
    (p / ".venv").mkdir()
    for extra in (["--dry-run"], []):
        res = cli("remove", "--project", p, *extra, "--json")
        assert res.rc != 0 and res.codes == ["KERNEL_NOT_FOUND"], res
    assert (p / ".venv").is_dir()
    assert cli("create", p, "--json").rc == 0  # a venv may still be made there
    assert venvmod.is_venv(p / ".venv")


# F12 -----------------------------------------------------------------------------------------------
def test_a_jupyter_path_naming_the_data_folder_again_shadows_nothing(jupyter, cli, tmp_path):
    """`create P`, then JUPYTER_PATH set to the Jupyter data folder itself (through a link, or with a
    trailing slash: a common setting). Before: every spec was listed twice, the second `shadowed` by
    itself, doctor --all reported it with a fix that made a second kernel (`create P --name p-p`),
    and create refused or hid specs by comparing the two spellings."""
    p = make_project(tmp_path, "P")
    assert cli("create", p, "--json").rc == 0
    link = tmp_path / "datalink"
    link.symlink_to(jupyter.data)
    for value in (f"{link}", f"{jupyter.data}/", f"{jupyter.path}{os.pathsep}{jupyter.data}"):
        env = {"JUPYTER_PATH": value}
        res = cli("list", "--json", env=env)
        rows = [r for r in res.data["kernels"] if r["name"] == "p"]
        assert [r["status"] for r in rows] == ["ok"], (value, rows)
        res = cli("create", p, "--json", env=env)
        assert res.rc == 0 and res.data["kernelspec"] == "unchanged", (value, res)
        res = cli("doctor", "--all", "--json", env=env)
        assert "shadowed" not in {pr["code"] for k in res.data["kernels"] for pr in k["problems"]}, (value, res.data)


# F13 -----------------------------------------------------------------------------------------------
def test_verify_never_writes_through_links_planted_in_its_output_folder(jupyter, cli, tmp_path):
    """A cloned project ships `.kernelenv/verify/a.ipynb -> ~/thesis.ipynb` and
    `.kernelenv/verify/logs/a.kernel.log -> ~/notes.txt`; `kernelenv verify P --notebooks P`.
    Before: the executed copy of a.ipynb and the kernel's log were written through the links,
    replacing the user's thesis and notes. And with `.kernelenv -> ~/work` (a link to a folder of
    the user's), executed notebooks went into that folder, replacing same-named notebooks there."""
    import nbformat

    p = make_project(tmp_path, "P")
    assert cli("create", p, "--json").rc == 0
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('ran')")])
    nbformat.write(nb, str(p / "a.ipynb"))
    user = make_project(tmp_path, "user")
    thesis, notes = user / "thesis.ipynb", user / "notes.txt"
    thesis.write_text("my thesis\n")
    notes.write_text("my notes\n")
    out = p / ".kernelenv" / "verify"
    (out / "logs").mkdir(parents=True)
    (out / "a.ipynb").symlink_to(thesis)
    (out / "logs" / "a.kernel.log").symlink_to(notes)
    res = cli("verify", p, "--notebooks", p, "--json")
    assert res.rc == 0 and res.data["passed"] == 1, res
    assert thesis.read_text() == "my thesis\n" and notes.read_text() == "my notes\n"
    assert not (out / "a.ipynb").is_symlink() and "ran" in (out / "a.ipynb").read_text()
    # the output folder itself a link to the user's folder: refused, nothing written there
    work = make_project(tmp_path, "work")
    (work / "verify").mkdir()
    (work / "verify" / "a.ipynb").write_text("my own a\n")
    shutil.rmtree(p / ".kernelenv")
    (p / ".kernelenv").symlink_to(work)
    res = cli("verify", p, "--notebooks", p, "--json")
    assert res.rc != 0 and res.codes == ["USAGE"], res
    assert (work / "verify" / "a.ipynb").read_text() == "my own a\n" and sorted(os.listdir(work)) == ["verify"]


# F14 -----------------------------------------------------------------------------------------------
def test_a_venv_with_a_very_long_name_can_be_rebuilt_and_removed(jupyter, cli, tmp_path):
    """`create P --venv DIR/vvv…v` (a 240-character folder name: valid, and create made it);
    `create P --venv … --python OTHER`; `remove --project P`. Before: the rebuild ended as INTERNAL
    ("File name too long": the folder holding the old venv aside is named after it) and remove
    failed for good (REMOVE_FAILED), so kernelenv could neither rebuild nor delete its own venv."""
    p = make_project(tmp_path, "P")
    venv = tmp_path / ("v" * 240)
    assert cli("create", p, "--venv", venv, "--json").rc == 0
    res = cli("create", p, "--venv", venv, "--python", OTHER_PYTHON, "--json")
    assert res.rc == 0 and res.data["rebuilt"], res
    assert res.data["python"]["version"].startswith(OTHER_PYTHON)
    res = cli("remove", "--project", p, "--json")
    assert res.rc == 0 and res.data["venv_removed"] == str(venv), res
    assert sorted(os.listdir(tmp_path)) == ["P", "iso"]


# F15 -----------------------------------------------------------------------------------------------
@pytest.mark.xfail(
    strict=True,
    reason="the lock folder lives in the cache folder, which XDG_CACHE_HOME moves: "
    "serialising runs whatever their environment needs the lock beside what it protects (a design "
    "change: see the H4 report)",
)
def test_two_runs_with_different_cache_folders_wait_for_each_other(jupyter, cli, tmp_path):
    """A terminal with XDG_CACHE_HOME=/scratch/cache and an editor without it (common on clusters)
    both run `kernelenv create P`. The locks live in the cache folder, so the two runs take
    different lock files and do not wait for each other: the F1 race again."""
    from kernelenv import locks
    from kernelenv.context import Context

    p = make_project(tmp_path, "P")
    ctx = Context.build(p)  # this environment's cache folder
    other_cache = tmp_path / "scratch-cache"
    with locks.venv_and_kernels(ctx, p / ".venv", []):
        child = subprocess.Popen(
            [sys.executable, "-m", "kernelenv", "create", str(p), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "XDG_CACHE_HOME": str(other_cache)},
        )
        waited = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            if "waiting for another kernelenv run" in child.stderr.readline():
                waited = True
                break
    child.communicate(timeout=600)
    assert waited, "a run with another XDG_CACHE_HOME did not wait for the run holding the venv"
