"""Every bad input and fault of the core: a one-line error, a stable code, a non-zero exit, nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import make_project, run_cli


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file under root with its bytes (folders as None), to prove nothing changed."""
    out: dict[str, bytes | None] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if "__pycache__" in rel:
            continue
        out[rel] = None if p.is_dir() else (p.readlink().as_posix().encode() if p.is_symlink() else p.read_bytes())
    return out


def one_line_error(res, code: str) -> None:
    assert res.rc == 1, res
    assert res.codes == [code], res
    msg = res.envelope["errors"][0]["message"]
    assert "\n" not in msg and len(msg) < 400
    assert json.loads(res.stdout) == res.envelope  # nothing but the envelope on stdout


def test_project_folder_missing(jupyter, cli, tmp_path):
    res = cli("create", tmp_path / "nope", "--json")
    one_line_error(res, "PROJECT_NOT_FOUND")
    assert not (tmp_path / "nope").exists()
    # the hint says what to do: a typo, or a new project whose folder is not made yet
    assert (
        res.envelope["errors"][0]["hint"]
        == f"check the path; for a new project, make its folder first: mkdir -p {tmp_path / 'nope'}"
    )
    for argv in (["run", "--project", tmp_path / "nope", "--", "python"], ["adopt", "--project", tmp_path / "nope", "--json"]):
        res = cli(*argv)
        assert res.rc == 1 and "PROJECT_NOT_FOUND" in res.stderr + res.stdout and "mkdir -p" in res.stderr + res.stdout, res
    human = cli("create", tmp_path / "nope")
    assert human.rc == 1 and human.stdout == ""
    assert human.stderr.startswith("kernelenv: error [PROJECT_NOT_FOUND]:")


@pytest.mark.parametrize("name", ["my kernel", "a/b", "..", "../evil", "Upper", "x" * 80, ""])
def test_invalid_names(jupyter, cli, tmp_path, name):
    project = make_project(tmp_path)
    res = cli("create", project, "--name", name, "--json")
    one_line_error(res, "NAME_INVALID")
    assert res.envelope["errors"][0]["hint"].startswith("try --name ")
    assert not (project / ".venv").exists()
    assert not jupyter.kernels.exists() or not any(jupyter.kernels.iterdir())


def test_python_pointing_nowhere(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    res = cli("create", project, "--python", tmp_path / "no" / "python", "--json")
    one_line_error(res, "PYTHON_NOT_FOUND")
    assert not (project / ".venv").exists()


def _python27() -> str | None:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for cand in sorted(root.glob("2.7*/bin/python2.7")):
        return str(cand)
    for name in ("/usr/bin/python2.7", "/usr/local/bin/python2.7"):
        if os.path.exists(name):
            return name
    return None


def test_python_27_is_unsupported(jupyter, cli, tmp_path):
    py27 = _python27()
    if py27 is None:
        pytest.fail("machines of this kind have a Python 2.7 (pyenv); none found")
    project = make_project(tmp_path)
    res = cli("create", project, "--python", py27, "--json")
    one_line_error(res, "PYTHON_UNSUPPORTED")
    assert "oldest supported is 3.7" in res.envelope["errors"][0]["message"]
    # the hint says what to do; it does not repeat the message's list of usable Pythons
    hint = res.envelope["errors"][0]["hint"]
    assert "usable here" not in hint and "--python" in hint and "kernelenv pythons" in hint, hint
    assert not (project / ".venv").exists()


def test_venv_path_that_is_not_a_venv_is_refused_and_kept(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    keep = project / "data"
    keep.mkdir()
    (keep / "precious.csv").write_text("a,b\n1,2\n")
    before = snapshot(project)
    res = cli("create", project, "--venv", keep, "--json")
    one_line_error(res, "VENV_NOT_A_VENV")
    (project / "file").write_text("x")
    res2 = cli("create", project, "--venv", project / "file", "--json")
    one_line_error(res2, "VENV_NOT_A_VENV")
    (project / "file").unlink()
    assert snapshot(project) == before


def test_missing_requirements_file(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    res = cli("create", project, "-r", tmp_path / "nope.txt", "--json")
    one_line_error(res, "REQUIREMENTS_NOT_FOUND")


def test_package_that_does_not_exist_new_project(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    res = cli("create", project, "--with", "no-such-package-kernelenv", "--json")
    one_line_error(res, "INSTALL_FAILED")
    assert "no-such-package-kernelenv" in res.envelope["errors"][0]["message"]
    assert "check its spelling" in res.envelope["errors"][0]["hint"]  # the usual cause: a typo
    assert not (project / ".venv").exists()
    assert not (jupyter.kernels / "demo").exists()
    assert [k for k in run_cli("list", "--json").data["kernels"] if k["owned"]] == []


def test_package_that_does_not_exist_existing_project(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    before = snapshot(project / ".venv")
    spec_before = (jupyter.kernels / "demo" / "kernel.json").read_bytes()
    res = cli("create", project, "--with", "no-such-package-kernelenv", "--json")
    one_line_error(res, "INSTALL_FAILED")
    assert snapshot(project / ".venv") == before
    assert (jupyter.kernels / "demo" / "kernel.json").read_bytes() == spec_before


def _start_create(project: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kernelenv", "create", str(project), "--json", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_ctrl_c_during_install_removes_what_the_run_made(jupyter, tmp_path):
    project = make_project(tmp_path)
    child = _start_create(project, "--installer", "pip")  # pip takes seconds: time to interrupt
    for line in child.stderr:
        if '"stage": "install"' in line:
            break
    time.sleep(0.5)
    os.killpg(child.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 130, out
    env = json.loads(out)
    assert [e["code"] for e in env["errors"]] == ["INTERRUPTED"]
    assert not (project / ".venv").exists()
    assert not (jupyter.kernels / "demo").exists()


def test_sigterm_during_install_of_existing_project_keeps_its_kernel(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    assert cli("create", project, "--json").rc == 0
    spec_before = (jupyter.kernels / "demo" / "kernel.json").read_bytes()
    child = _start_create(project, "--installer", "pip", "--with", "six")
    for line in child.stderr:
        if '"stage": "install"' in line:
            break
    time.sleep(0.3)
    child.terminate()  # an editor's "cancel"
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 130, out
    assert (project / ".venv" / "pyvenv.cfg").exists()
    assert (jupyter.kernels / "demo" / "kernel.json").read_bytes() == spec_before
    assert cli("create", project, "--json").rc == 0


def test_two_creates_on_one_project_at_once(jupyter, kernel, tmp_path):
    project = make_project(tmp_path)
    children = [_start_create(project) for _ in range(2)]
    results = [c.communicate(timeout=600) for c in children]
    assert [c.returncode for c in children] == [0, 0], results
    created = sorted(json.loads(out)["data"]["venv_created"] for out, _ in results)
    assert created == [False, True]  # the second waited, then found the venv ready
    json.loads((jupyter.kernels / "demo" / "kernel.json").read_text())
    k = kernel("demo")
    assert k.run("import sys; print(sys.prefix)").strip() == str(project / ".venv")


def test_unwritable_jupyter_data_dir(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    res = cli("create", project, "--json", env={"JUPYTER_DATA_DIR": str(blocker / "jupyter")})
    one_line_error(res, "JUPYTER_DIR_UNWRITABLE")
    assert not (project / ".venv").exists()
    assert blocker.read_text() == "not a folder"


def test_foreign_kernel_is_never_replaced_silently(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    foreign = jupyter.kernels / "demo"
    foreign.mkdir(parents=True)
    (foreign / "kernel.json").write_text(
        json.dumps(
            {
                "argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Mine",
                "language": "python",
            }
        )
    )
    before = snapshot(jupyter.kernels)
    res = cli("create", project, "--json")
    one_line_error(res, "KERNEL_EXISTS")
    assert str(foreign) in res.envelope["errors"][0]["message"]
    assert snapshot(jupyter.kernels) == before
    assert not (project / ".venv").exists()
    forced = cli("create", project, "--force", "--json")
    assert forced.rc == 0, forced
    assert json.loads((foreign / "kernel.json").read_text())["metadata"]["kernelenv"]["project"] == str(project)


def test_another_projects_kernel_is_a_clash_naming_both(jupyter, cli, tmp_path):
    first = make_project(tmp_path / "one")
    second = make_project(tmp_path / "two")
    assert cli("create", first, "--json").rc == 0
    res = cli("create", second, "--json")
    one_line_error(res, "KERNEL_EXISTS")
    msg = res.envelope["errors"][0]["message"]
    assert str(first) in msg and str(second) in msg
    assert not (second / ".venv").exists()
    ok = cli("create", second, "--name", "demo-2", "--json")
    assert ok.rc == 0


def test_usage_errors_are_envelopes_too(jupyter, cli):
    res = cli("create", "--installer", "conda", "--json")
    assert res.rc == 2 and res.codes == ["USAGE"]
    res = cli("frobnicate", "--json")
    assert res.rc == 2 and res.codes == ["USAGE"]


def test_a_mistyped_verb_or_option_names_what_was_meant(cli):
    """`kernelenv crete` and `kernelenv create --pyton 3.11`: one USAGE line naming the close match
    (before: every verb listed, and 'kernelenv: unrecognized arguments' with no verb and no guess)."""
    r = cli("crete", "--json")
    assert r.rc == 2, r
    err = r.envelope["errors"][0]
    assert err["code"] == "USAGE" and "did you mean create?" in err["message"] and "\n" not in err["message"], err
    r = cli("create", "--pyton", "3.11", "--json")
    err = r.envelope["errors"][0]
    assert r.rc == 2 and err["code"] == "USAGE", r
    assert (
        err["message"].startswith("kernelenv create: unrecognized arguments: --pyton")
        and "did you mean --python?" in err["message"]
    )
    assert "create --help" in err["hint"]


def test_doctor_all_with_a_target_is_refused(cli):
    """`doctor --all --kernel x` checked everything and ignored --kernel; now USAGE, nothing run."""
    for extra in (["--kernel", "x"], ["--project", "."], ["x"]):
        r = cli("doctor", "--all", *extra, "--json")
        assert r.rc == 2 and r.codes == ["USAGE"] and "--all" in r.envelope["errors"][0]["message"], r


def test_an_interrupt_after_the_spec_is_written_takes_the_spec_back_with_the_venv(jupyter, tmp_path, monkeypatch):
    """SIGTERM (an editor's Cancel) between writing the kernelspec and finishing a new venv's mark: the venv
    this run made is deleted, and so is the spec it wrote (bench_faults found a kernel left pointing at a venv
    that no longer existed)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from kernelenv import cli as climod
    from kernelenv import provision

    project = make_project(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(provision, "record_specs", interrupted)
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        rc = climod.main(["create", str(project), "--json"])
    assert rc == 130 and json.loads(out.getvalue())["errors"][0]["code"] == "INTERRUPTED"
    assert not (project / ".venv").exists()
    assert not (jupyter.kernels / "demo").exists(), "a spec was left pointing at the deleted venv"
