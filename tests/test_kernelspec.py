"""kernelspec.py: pure builders compared as dicts, names, reading broken specs."""

from __future__ import annotations

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
