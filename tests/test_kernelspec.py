"""kernelspec.py: pure builders compared as dicts, names, reading broken specs."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kernelenv import kernelspec

CREATED = "2026-01-01T00:00:00+00:00"


def build(**kw):
    args = dict(
        python=Path("/p/.venv/bin/python"),
        python_version=(3, 12, 1),
        implementation="CPython",
        venv=Path("/p/.venv"),
        display_name="Python 3.12 (p)",
        project=Path("/p"),
        created=CREATED,
        kernelenv_version="0.1.0",
    )
    args.update(kw)
    return kernelspec.build(**args)


def test_build_venv_spec_exact():
    assert build() == {
        "argv": ["/p/.venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3.12 (p)",
        "language": "python",
        "interrupt_mode": "signal",
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1", "PATH": "/p/.venv/bin:${PATH}", "VIRTUAL_ENV": "/p/.venv"},
        "metadata": {
            "debugger": True,
            "kernelenv": {
                "project": "/p",
                "venv": "/p/.venv",
                "python": "/p/.venv/bin/python",
                "python_version": "3.12.1",
                "kernelenv_version": "0.1.0",
                "created": CREATED,
            },
        },
    }


@pytest.mark.parametrize(
    "version,impl,frozen_env",
    [
        ((3, 8, 18), "CPython", {}),
        ((3, 10, 13), "CPython", {}),
        ((3, 11, 0), "CPython", {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}),
        ((3, 12, 1), "CPython", {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}),
        ((3, 13, 0), "CPython", {"PYTHON_FROZEN_MODULES": "off"}),
        ((3, 14, 0), "CPython", {"PYTHON_FROZEN_MODULES": "off"}),
        ((3, 11, 0), "PyPy", {}),
    ],
)
def test_argv_is_the_default_python_argv_and_frozen_modules_go_to_env(version, impl, frozen_env):
    """VS Code renames a spec whose argv has any other argument (kernelenv/vscode.py)."""
    spec = build(python_version=version, implementation=impl)
    assert spec["argv"] == ["/p/.venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    assert {k: v for k, v in spec["env"].items() if k not in ("PATH", "VIRTUAL_ENV")} == frozen_env


def test_plain_interpreter_has_no_virtual_env_and_extra_env_kept():
    spec = build(venv=None, project=None, python=Path("/usr/bin/python3"), python_version=(3, 10, 1), extra_env={"FOO": "1"})
    assert spec["env"] == {"FOO": "1", "PATH": "/usr/bin:${PATH}"}


def test_a_project_env_setting_of_the_debugger_variables_wins():
    spec = build(python_version=(3, 11, 7), extra_env={"PYDEVD_DISABLE_FILE_VALIDATION": "0"})
    assert spec["env"]["PYDEVD_DISABLE_FILE_VALIDATION"] == "0"
    spec = build(python_version=(3, 13, 0), extra_env={"PYTHON_FROZEN_MODULES": "on"})
    assert spec["env"]["PYTHON_FROZEN_MODULES"] == "on"


def test_same_ignores_creation_time_and_version_only():
    a = build()
    assert kernelspec.same(a, build(created="2027-01-01", kernelenv_version="9"))
    assert not kernelspec.same(a, build(display_name="other"))
    assert not kernelspec.same(None, a)


@pytest.mark.parametrize(
    "folder,expected",
    [
        ("My Project", "my-project"),
        ("数据分析", "shujufenxi"),
        ("Café Crème", "cafe-creme"),
        ("--leading-dashes--", "leading-dashes"),
        ("a/b..c", "a-b..c"),
        ("Привет мир", "privet-mir"),
        ("x" * 100, None),
        ("🙂", None),
        ("...", None),
        ("line\nbreak", "line-break"),
    ],
)
def test_slug_is_valid_stable_readable(folder, expected):
    s = kernelspec.slug(folder)
    assert kernelspec.name_problem(s) is None, s
    assert s == kernelspec.slug(folder)  # stable
    if expected:
        assert s == expected


def test_slug_distinguishes_unreadable_names():
    assert kernelspec.slug("🙂") != kernelspec.slug("🙃")
    assert len(kernelspec.slug("x" * 100)) <= kernelspec.MAX_NAME
    assert kernelspec.slug("x" * 100) != kernelspec.slug("x" * 99 + "y")


@pytest.mark.parametrize("bad", ["", "My Kernel", "a/b", "..", ".hidden", "UPPER", "a b", "é", "x" * 65, "a\nb"])
def test_name_problem_rejects(bad):
    assert kernelspec.name_problem(bad)


@pytest.mark.parametrize("good", ["a", "py3.12", "my_kernel-1", "0"])
def test_name_problem_accepts(good):
    assert kernelspec.name_problem(good) is None


def test_write_read_roundtrip_atomic_replace(tmp_path):
    kdir = tmp_path / "kernels"
    path = kernelspec.write(kdir, "k", build(), None)
    assert json.loads((path / "kernel.json").read_text()) == build()
    assert oct(os.stat(path / "kernel.json").st_mode & 0o777) == "0o644"
    kernelspec.write(kdir, "k", build(display_name="new"), None)
    assert kernelspec.read(path).display_name == "new"
    assert sorted(p.name for p in kdir.iterdir()) == ["k"]  # no temp folders left


@pytest.mark.parametrize(
    "content,error",
    [
        (b'{"argv": ["x"', "not valid JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"display_name": "x"}', "argv"),
        (b'{"argv": [1]}', "argv"),
    ],
)
def test_read_broken_specs_reports_not_raises(tmp_path, content, error):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "kernel.json").write_bytes(content)
    spec = kernelspec.read(d)
    assert error in spec.error
    assert kernelspec.health(spec)[0] == "invalid-spec"


def test_health_interpreter_missing_and_ipykernel_missing(tmp_path):
    d = tmp_path / "k"
    d.mkdir()
    (d / "kernel.json").write_text(json.dumps(build(python=tmp_path / "nope" / "bin" / "python")))
    assert kernelspec.health(kernelspec.read(d))[0] == "interpreter-missing"
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    py = venv / "bin" / "python"
    py.write_text("#!/bin/sh\n")
    py.chmod(0o755)
    (d / "kernel.json").write_text(json.dumps(build(python=py)))
    assert kernelspec.health(kernelspec.read(d))[0] == "ipykernel-missing"
    (venv / "lib" / "python3.12" / "site-packages" / "ipykernel").mkdir(parents=True)
    assert kernelspec.health(kernelspec.read(d)) == ("ok", [])


def test_scan_in_order_with_dangling_link(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for base in (a, b):
        kernelspec.write(base, "same", build(), None)
    (a / "dangling").symlink_to(tmp_path / "gone")
    specs = kernelspec.scan([a, b, tmp_path / "missing"])
    assert [(s.resource_dir.parent.name, s.name) for s in specs] == [("a", "dangling"), ("a", "same"), ("b", "same")]
    assert specs[0].error == "spec folder is a dangling link"


def test_remove_symlinked_spec_removes_only_link(tmp_path):
    real = tmp_path / "elsewhere"
    kernelspec.write(tmp_path, "elsewhere", build(), None)
    link = tmp_path / "kernels" / "k"
    link.parent.mkdir()
    link.symlink_to(real)
    kernelspec.remove(link)
    assert not link.exists() and (real / "kernel.json").exists()


def test_rewrite_of_own_spec_is_in_place_and_sweeps_leftovers(tmp_path):
    kdir = tmp_path / "kernels"
    path = kernelspec.write(kdir, "k", build(), None)
    inode = path.stat().st_ino
    (kdir / ".k~abc.old").mkdir()  # what a run killed mid-replace leaves
    (path / "kernel.js").write_text("// a file of the user's")
    kernelspec.write(kdir, "k", build(display_name="new"), None)
    assert path.stat().st_ino == inode  # the folder never went away
    assert kernelspec.read(path).display_name == "new"
    assert sorted(p.name for p in kdir.iterdir()) == ["k"]


def test_replacing_a_foreign_spec_gives_a_clean_folder(tmp_path):
    kdir = tmp_path / "kernels"
    foreign = kdir / "k"
    foreign.mkdir(parents=True)
    (foreign / "kernel.json").write_text(json.dumps({"argv": ["python"], "display_name": "theirs"}))
    (foreign / "kernel.js").write_text("// theirs")
    kernelspec.write(kdir, "k", build(), None)
    assert sorted(p.name for p in foreign.iterdir()) == ["kernel.json"]
