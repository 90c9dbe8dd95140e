"""Issue 10, case by case: every verb acts on verified identity, never on a name or path that looks right.

Each test reproduces one case the issue reports (reproduced on the main of 2026-11-29, where each
of these failed) with the real CLI, real venvs and kernels started by jupyter_client.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_project, run_cli

from kernelenv import identity
from kernelenv import venv as venvmod

from .conftest import shebang, world_writable


def spec_of(jupyter, name: str) -> dict:
    return json.loads((jupyter.kernels / name / "kernel.json").read_text())


# 1. remove ARG: a kernel name or a folder, never guessed, never case-folded ---------------------
def test_remove_folder_is_not_a_kernel_name_of_other_case(jupyter, cli, tmp_path):
    x, p = make_project(tmp_path, "X"), make_project(tmp_path, "P")
    assert cli("create", x, "--name", "p", "--json").rc == 0
    assert cli("create", p, "--name", "mykernel", "--json").rc == 0
    dry = cli("remove", p, "--dry-run", "--json", cwd=tmp_path)
    assert dry.rc == 0 and dry.data["name"] == "mykernel", dry
    res = cli("remove", "P", "--json", cwd=tmp_path)
    assert res.rc == 0 and res.data["name"] == "mykernel", res
    assert (x / ".venv").is_dir() and (jupyter.kernels / "p").is_dir()
    assert not (p / ".venv").exists()


def test_remove_refuses_an_argument_with_two_readings(jupyter, cli, tmp_path):
    other = make_project(tmp_path / "elsewhere", "X")
    assert cli("create", other, "--name", "p", "--json").rc == 0
    here = make_project(tmp_path, "p")
    assert cli("create", here, "--name", "mine", "--json").rc == 0
    res = cli("remove", "p", "--json", cwd=tmp_path)
    assert res.rc == 2 and res.codes == ["TARGET_AMBIGUOUS"], res
    details = res.envelope["errors"][0]["details"]
    assert details["kernel"] == "p" and details["project"] == str(here)
    assert (other / ".venv").is_dir() and (here / ".venv").is_dir()
    assert cli("remove", "--kernel", "p", "--json", cwd=tmp_path).data["name"] == "p"
    assert (here / ".venv").is_dir() and not (other / ".venv").exists()
    assert cli("remove", "--project", "p", "--json", cwd=tmp_path).data["name"] == "mine"


# 2. a copied or moved project never runs another project's venv ----------------------------------
def test_copied_project_gets_its_own_venv(jupyter, cli, kernel, tmp_path):
    m = make_project(tmp_path, "M")
    assert cli("create", m, "--json").rc == 0
    m2 = tmp_path / "M2"
    shutil.move(str(m), m2)
    assert cli("repair", m2, "--json").rc == 0
    m3 = tmp_path / "M3"
    subprocess.run(["cp", "-a", str(m2), str(m3)], check=True)
    res = cli("create", m3, "--json")
    assert res.rc == 0, res
    assert res.data["venv_created"] is True and res.data["kernel"]["name"] == "m3"
    assert shebang(m3 / ".venv" / "bin" / "pip") == f"#!{m3 / '.venv' / 'bin' / 'python'}"
    k = kernel("m3")
    out = k.run("import subprocess; print(subprocess.run(['pip', '--version'], capture_output=True, text=True).stdout)")
    assert str(m3 / ".venv") in out and str(m2) not in out
    pip_cmd = k.run("%pip --version")
    assert str(m3 / ".venv") in pip_cmd
    assert spec_of(jupyter, "m")["argv"][0] == str(m2 / ".venv" / "bin" / "python")  # M2 untouched
    assert cli("doctor", m3, "--json").rc == 0


def test_moved_project_keeps_its_kernel_name_and_no_stale_spec(jupyter, cli, kernel, tmp_path):
    m = make_project(tmp_path, "M")
    assert cli("create", m, "--json").rc == 0
    m4 = tmp_path / "M4"
    shutil.move(str(m), m4)
    res = cli("create", m4, "--json")
    assert res.rc == 0, res
    assert res.data["kernel"]["name"] == "m"
    assert sorted(p.name for p in jupyter.kernels.iterdir() if not p.name.startswith(".")) == ["m"]
    assert spec_of(jupyter, "m")["argv"][0] == str(m4 / ".venv" / "bin" / "python")
    out = kernel("m").run("import subprocess; print(subprocess.run(['pip', '--version'], capture_output=True, text=True).stdout)")
    assert str(m4 / ".venv") in out
    assert identity.inspect(m4 / ".venv").ours
    rem = cli("remove", "m", "--json")
    assert rem.data["venv_removed"] == str(m4 / ".venv"), rem


def test_doctor_sees_pip_of_another_venv(jupyter, cli, tmp_path):
    a = make_project(tmp_path, "A")
    assert cli("create", a, "--json").rc == 0
    b = tmp_path / "B"
    subprocess.run(["cp", "-a", str(a), str(b)], check=True)
    # kernelenv refuses to register the copy; a user registers it with ipykernel itself
    res = cli("register", b / ".venv", "--name", "bcopy", "--json")
    assert res.rc == 1 and res.codes == ["VENV_ELSEWHERE"], res
    subprocess.run(
        [str(b / ".venv" / "bin" / "python"), "-m", "ipykernel", "install", "--user", "--name", "bcopy"],
        check=True,
        capture_output=True,
        env={**os.environ, "HOME": str(jupyter.home)},
    )
    res = cli("doctor", "bcopy", "--json")
    assert res.rc == 1, res
    codes = {p["code"] for k in res.data["kernels"] for p in k["problems"]}
    assert "scripts-elsewhere" in codes or "pip-outside-venv" in codes, res.data


# 3. prune never deletes what repair could recover ----------------------------------------------
def test_prune_keeps_a_venv_whose_base_python_was_uninstalled(jupyter, cli, tmp_path, removable_python):
    p = make_project(tmp_path, "P")
    assert cli("create", p, "--python", removable_python, "--with", "six", "--json").rc == 0
    shutil.rmtree(removable_python.parent.parent)  # pyenv uninstall
    doc = cli("doctor", p, "--json")
    assert doc.rc == 1 and any("repair" in f for f in doc.data["fixes"]), doc
    res = cli("prune", "--json")
    assert res.rc == 0, res
    assert (p / ".venv" / "pyvenv.cfg").exists(), "prune deleted a venv repair could rebuild"
    assert "six" in venvmod.installed(p / ".venv")
    rep = cli("repair", p, "--python", sys.executable, "--json")
    assert rep.rc == 0, rep
    assert rep.data["kernel"]["name"] == "p" and "six" in venvmod.installed(p / ".venv")


# 4. a symlink planted in kernelenv's own spec folder is never written through --------------------
def test_planted_logo_symlink_is_not_written_through(jupyter, cli, tmp_path):
    p = make_project(tmp_path, "P")
    assert cli("create", p, "--json").rc == 0
    secret = tmp_path / "secret.txt"
    secret.write_text("mine\n")
    os.chmod(secret, 0o600)
    logo = jupyter.kernels / "p" / "logo-32x32.png"
    logo.unlink()
    logo.symlink_to(secret)
    assert cli("create", p, "--display-name", "Other name", "--json").rc == 0
    assert secret.read_text() == "mine\n" and stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert not logo.is_symlink()


# 5. umask 000 and the bytecode cache ------------------------------------------------------------
def _umask_cli(umask: int, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kernelenv", *map(str, args)],
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(umask),
        timeout=600,
        stdin=subprocess.DEVNULL,
    )


def test_umask_000_makes_nothing_group_or_world_writable(jupyter, tmp_path):
    p = make_project(tmp_path, "P")
    done = _umask_cli(0, "create", p, "--json")
    assert done.returncode == 0, done.stderr
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "kernelenv"
    for root in (jupyter.kernels, p / ".venv", cache):
        assert world_writable(root) == [], root
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


def test_a_tampered_cached_pyc_is_never_used(jupyter, cli, kernel, tmp_path):
    a = make_project(tmp_path, "A")
    assert cli("create", a, "--json").rc == 0
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "kernelenv" / "bytecode"
    packs = sorted(cache.glob("*/packs/*.pack"))
    assert packs, "create keeps no bytecode cache"
    # find the cached .pyc of a module every kernel start imports, and put other code in its place
    site = venvmod.site_packages(a / ".venv")[0]
    target = next(site.glob("ipykernel/__pycache__/kernelapp.*.pyc")).read_bytes()
    victim = next(p for p in packs if target in p.read_bytes())
    flag = tmp_path / "pwned"
    import marshal

    code = compile(f"open({str(flag)!r}, 'w').write('x')", "x", "exec")
    evil = (target[:16] + marshal.dumps(code)).ljust(len(target), b"\0")  # same size: the pack's offsets still fit
    assert len(evil) == len(target)
    whole = victim.read_bytes()
    os.chmod(victim, 0o600)
    victim.write_bytes(whole.replace(target, evil, 1))
    b = make_project(tmp_path, "B")  # other packages: a new template, its bytecode restored from the cache
    assert cli("create", b, "--with", "six", "--json").rc == 0
    kernel("b").run("print(1)")
    assert not flag.exists(), "a tampered cached .pyc ran in a new kernel"


# 6. every requirement is a PEP 508 requirement, checked before anything is touched ---------------
@pytest.mark.parametrize("value", ["--target={evil}", "-e.", "numpy; rm -rf /", "numpy ;; x"])
def test_with_values_are_requirements(jupyter, cli, tmp_path, value):
    p = make_project(tmp_path, "P")
    evil = tmp_path / "evil"
    res = cli("create", p, f"--with={value.format(evil=evil)}", "--json")
    assert res.rc == 1 and res.codes == ["REQUIREMENT_INVALID"], res
    assert list(p.iterdir()) == [] and not jupyter.kernels.exists()
    assert not evil.exists()


def test_requirements_file_options_are_refused(jupyter, cli, tmp_path):
    p = make_project(tmp_path, "P")
    req = tmp_path / "req.txt"
    req.write_text(f"six\n--target {tmp_path / 'evil'}\n")
    res = cli("create", p, "-r", req, "--json")
    assert res.rc == 1 and res.codes == ["REQUIREMENT_INVALID"], res
    assert "req.txt" in res.envelope["errors"][0]["message"] and list(p.iterdir()) == []


# 7. a name another spec shadows earlier on Jupyter's path ----------------------------------------
def test_create_refuses_a_name_shadowed_earlier_on_the_path(jupyter, cli, tmp_path):
    other = jupyter.path / "kernels" / "p"
    other.mkdir(parents=True)
    (other / "kernel.json").write_text(
        json.dumps(
            {
                "argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "System",
                "language": "python",
            }
        )
    )
    p = make_project(tmp_path, "P")
    res = cli("create", p, "--json")
    assert res.rc == 1 and res.codes == ["KERNEL_SHADOWED"], res
    assert str(other) in res.envelope["errors"][0]["message"]
    assert not (p / ".venv").exists()
    assert cli("create", p, "--name", "p2", "--json").rc == 0


def test_doctor_never_suggests_deleting_our_working_spec(jupyter, cli, tmp_path):
    p = make_project(tmp_path, "P")
    assert cli("create", p, "--json").rc == 0
    other = jupyter.path / "kernels" / "p"  # appears later, earlier on the path
    other.mkdir(parents=True)
    (other / "kernel.json").write_text(
        json.dumps(
            {
                "argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "System",
                "language": "python",
            }
        )
    )
    res = cli("doctor", p, "--json")
    assert res.rc == 1
    fixes = " ".join(res.data["fixes"])
    assert f"rm -r {jupyter.kernels / 'p'}" not in fixes and str(jupyter.kernels / "p") not in fixes.split("rm -r")[-1]
    ver = cli("verify", p, "--only", "environment", "--json")
    assert ver.rc != 0 and ver.codes == ["KERNEL_SHADOWED"], ver


# 8. faults: an unwritable cache, a kill during a rebuild, a spec left aside -----------------------
def test_unwritable_cache_is_not_internal(jupyter, cli, tmp_path):
    p = make_project(tmp_path, "P")
    cache = tmp_path / "rocache"
    cache.mkdir()
    os.chmod(cache, 0o555)
    env = {"XDG_CACHE_HOME": str(cache)}
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere") if shutil.which("unshare") is None else None
    res = cli("create", p, "--json", env=env)
    assert "INTERNAL" not in (res.codes if res.envelope and res.rc else []), res


def test_kill_during_rebuild_for_another_python_is_recovered(jupyter, cli, tmp_path):
    import signal
    import time

    p = make_project(tmp_path, "P")
    assert cli("create", p, "--with", "six", "--json").rc == 0
    other = "3.12" if sys.version_info[:2] != (3, 12) else "3.11"
    child = subprocess.Popen(
        [sys.executable, "-m", "kernelenv", "create", str(p), "--python", other, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the working venv has been moved aside
        if any(".kernelenv-" in x.name for x in p.iterdir()):
            break
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    res = cli("list", "--json")
    row = next(r for r in res.data["kernels"] if r["name"] == "p")
    assert row["status"] != "ok" or venvmod.read_mark(p / ".venv").get("state") == "ready"
    again = cli("create", p, "--json")
    assert again.rc == 0, again
    assert [x.name for x in p.iterdir()] == [".venv"], list(p.iterdir())
    assert "six" in venvmod.installed(p / ".venv")


def test_a_spec_left_aside_is_restored(jupyter, cli, tmp_path):
    make_project(tmp_path, "P")
    foreign = jupyter.kernels / "p"
    foreign.mkdir(parents=True)
    (foreign / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "theirs",
                "language": "python",
            }
        )
    )
    # what a kill between the two renames of a --force replacement leaves
    aside = jupyter.kernels / ".p~abc.old"
    aside.mkdir()
    os.rename(foreign, aside / "p")
    res = cli("list", "--json")
    row = next((r for r in res.data["kernels"] if r["name"] == "p"), None)
    assert row is not None and row["status"] == "left-aside", "the spec left aside is not even reported"
    assert cli("prune", "--json").rc == 0
    assert json.loads((foreign / "kernel.json").read_text())["display_name"] == "theirs" and not aside.exists()


# 9. --prefix kernels are seen and undone by every verb -------------------------------------------
def test_prefix_kernels_are_seen_by_every_verb(jupyter, cli, tmp_path):
    p = make_project(tmp_path, "P")
    prefix = tmp_path / "pfx"
    res = cli("create", p, "--prefix", prefix, "--json")
    assert res.rc == 0, res
    assert res.data["kernel"]["on_jupyter_path"] is False
    listed = cli("list", "--prefix", prefix, "--json")
    assert any(r["name"] == "p" for r in listed.data["kernels"]), listed
    assert cli("doctor", p, "--prefix", prefix, "--json").rc == 0
    assert cli("remove", p, "--prefix", prefix, "--json").rc == 0
    assert not (prefix / "share" / "jupyter" / "kernels" / "p").exists()


# 10. control characters in a path ----------------------------------------------------------------
def test_project_path_with_a_newline_is_refused(jupyter, cli, tmp_path):
    p = make_project(tmp_path, "bad\nname")
    res = cli("create", p, "--json")
    assert res.rc == 1 and res.codes == ["PATH_INVALID"], res
    assert list(p.iterdir()) == []


# 11. smaller ones ------------------------------------------------------------------------------
def test_json_without_a_verb_is_an_envelope(jupyter):
    res = run_cli("--json")
    assert res.rc == 2 and res.envelope is not None and res.codes == ["USAGE"], res


def test_register_does_not_take_over_creates_kernel(jupyter, cli, tmp_path):
    a = make_project(tmp_path, "A")
    assert cli("create", a, "--json").rc == 0
    res = cli("register", a / ".venv", "--json")
    assert res.rc == 1 and res.codes == ["KERNEL_EXISTS"], res
    assert spec_of(jupyter, "a")["metadata"]["kernelenv"]["project"] == str(a)


def test_doctor_does_not_suggest_registering_a_non_python_program(jupyter, cli):
    d = jupyter.kernels / "sleepy"
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(json.dumps({"argv": ["/bin/sleep", "1"], "display_name": "sleep", "language": "python"}))
    res = cli("doctor", "sleepy", "--json")
    assert res.rc == 1
    assert not any("register /bin/sleep" in f for f in res.data["fixes"]), res.data["fixes"]


def test_symlinked_own_spec_message_is_clear(jupyter, cli, tmp_path):
    p = make_project(tmp_path, "P")
    assert cli("create", p, "--json").rc == 0
    real = tmp_path / "elsewhere-spec"
    shutil.move(str(jupyter.kernels / "p"), real)
    (jupyter.kernels / "p").symlink_to(real)
    res = cli("create", p, "--json")
    msg = res.envelope["errors"][0]["message"] if res.rc else ""
    assert f"not to {p}" not in msg or "link" in msg, res


def test_a_kernel_dying_at_start_keeps_stderr_json(jupyter, cli):
    d = jupyter.kernels / "dies"
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-c", "import sys; sys.exit(3)", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "dies",
                "language": "python",
            }
        )
    )
    for argv in (["doctor", "dies"], ["verify", "--kernel", "dies", "--only", "environment"]):
        res = cli(*argv, "--json")
        assert res.rc == 1 and res.envelope is not None, res
        for line in res.stderr.splitlines():
            assert isinstance(json.loads(line), dict), line
