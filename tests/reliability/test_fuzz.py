"""Property-based tests (hypothesis): hostile names, folder names, project files, lock files, flags.

The real CLI entry point (``kernelenv.cli.main``) runs in-process for speed; whatever it
gets, it either does the job or exits 1/2 with one envelope whose codes are stable ones
(never INTERNAL: no uncaught exception), and it never writes outside the places it owns
(the Jupyter data folder, its cache, the project folder). Commands that would install get
``--python`` pointing nowhere, so a run stops before any download; a few real creates
with hostile folder names run to the end.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import unicodedata
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import faults
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernelenv import cli
from kernelenv.result import ERROR_CODES

NOWHERE = "/nonexistent-kernelenv-fuzz/bin/python"
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class World:
    """One isolated tree: HOME, Jupyter folders, a project (the cwd), the user's files."""

    def __init__(self, root: Path, monkeypatch):
        self.root = root
        self.env = faults.cli_env(root)
        for k in (
            "HOME",
            "JUPYTER_DATA_DIR",
            "JUPYTER_PATH",
            "JUPYTER_CONFIG_DIR",
            "JUPYTER_RUNTIME_DIR",
            "XDG_CACHE_HOME",
            "JUPYTER_PLATFORM_DIRS",
        ):
            monkeypatch.setenv(k, self.env[k])
        self.project = root / "projects" / "here" / "cwd"  # "../.." (a flag value) is still a project folder of the world
        self.project.mkdir(parents=True)
        monkeypatch.chdir(self.project)
        self.user = faults.user_files(root)
        (root / "home" / ".cache" / "kernelenv").mkdir(parents=True)
        self.owned = (
            root / "jupyter-data",
            root / "home" / ".cache" / "kernelenv",
            root / "projects",
            root / "jupyter-runtime",
            root / "home" / ".ipython",
        )  # the last: IPython's profile, made by kernels doctor starts
        self.before = faults.tree(root, skip=self.owned)

    def main(self, argv: list[str]) -> tuple[int, dict]:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            rc = cli.main(["--json", *argv])  # before the verb: after a "--" it would be an argument
        text = out.getvalue()
        envelope = json.loads(text)  # exactly one envelope on stdout
        codes = [e["code"] for e in envelope["errors"]]
        assert rc in (0, 1, 2), (argv, rc)
        assert "INTERNAL" not in codes, (argv, envelope["errors"])
        assert all(c in ERROR_CODES for c in codes), codes
        assert (rc == 0) == (envelope["status"] == "ok"), envelope
        after = faults.tree(self.root, skip=self.owned)
        assert after == self.before, (argv, set(after) ^ set(self.before))
        return rc, envelope


@pytest.fixture
def world(tmp_path, monkeypatch):
    return World(tmp_path, monkeypatch)


any_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"), max_size=300)


@settings(max_examples=150, **SETTINGS)
@given(name=any_text)
def test_kernel_names(world, name):
    rc, env = world.main(["create", str(world.project), "--name", name, "--python", NOWHERE])
    assert env["errors"][0]["code"] in ("NAME_INVALID", "PYTHON_NOT_FOUND", "USAGE")
    for verb in (["remove", name], ["doctor", name]):
        if name.startswith("-"):
            verb.insert(1, "--")
        rc, env = world.main(verb)
        assert rc != 0 and env["errors"][0]["code"] in ("KERNEL_NOT_FOUND", "USAGE")


def _folder_name() -> st.SearchStrategy[str]:
    def fits(s: str) -> bool:
        return s not in (".", "..") and len(s.encode("utf-8", "surrogateescape")) <= 255

    chars = st.characters(exclude_categories=("Cs",), exclude_characters="/\0")
    return st.one_of(
        st.text(chars, min_size=1, max_size=80),
        st.text(chars, min_size=200, max_size=255),
        st.builds(lambda s: "-" + s, st.text(chars, max_size=20)),
        st.builds(lambda a, b: f"{a}\n{b}", st.text(chars, max_size=10), st.text(chars, max_size=10)),
    ).filter(fits)


@settings(max_examples=120, **SETTINGS)
@given(folder=_folder_name())
def test_project_folder_names(world, folder):
    project = world.project.parent / folder
    try:
        project.mkdir()
    except OSError:
        return  # not a name this file system takes
    try:
        rc, env = world.main(["create", str(project), "--python", NOWHERE])
        assert env["errors"][0]["code"] in ("PYTHON_NOT_FOUND", "PATH_INVALID"), env
        assert not (project / ".venv").exists()
    finally:
        shutil.rmtree(project)


@pytest.mark.slow
@settings(max_examples=6, **SETTINGS)
@given(folder=_folder_name())
def test_real_create_and_remove_with_hostile_folder_names(world, folder):
    project = world.project.parent / folder
    try:
        project.mkdir()
    except OSError:
        return
    try:
        rc, env = world.main(["create", str(project)])
        if rc == 0:
            name = env["data"]["kernel"]["name"]
            spec = json.loads((world.root / "jupyter-data" / "kernels" / name / "kernel.json").read_text())
            assert spec["metadata"]["kernelenv"]["project"] == str(project)
            rc, env = world.main(["remove", name])
            assert rc == 0 and not (project / ".venv").exists()
        elif any(unicodedata.category(c) == "Cc" for c in str(project)):  # a newline would split a shebang
            assert env["errors"][0]["code"] == "PATH_INVALID" and not (project / ".venv").exists(), env
        elif os.pathsep in str(project):  # virtualenv refuses it: PATH would break
            assert env["errors"][0]["code"] == "VENV_CREATE_FAILED" and not (project / ".venv").exists(), env
        else:
            assert env["errors"][0]["code"] in ("KERNEL_EXISTS",), env
    finally:
        shutil.rmtree(project, ignore_errors=True)


toml_keys = st.sampled_from(
    ["python", "name", "display-name", "packages", "requirements", "profile", "env", "installer", "venv", "bogus"]
)
toml_values = st.one_of(
    any_text.map(json.dumps),
    st.integers().map(str),
    st.just("true"),
    st.just("[1, 2]"),
    st.lists(any_text, max_size=3).map(json.dumps),
    st.just('{a = "b"}'),
    any_text,
)


@settings(max_examples=150, **SETTINGS)
@given(
    body=st.one_of(
        any_text,
        st.lists(st.tuples(toml_keys, toml_values), max_size=6).map(
            lambda kv: "[tool.kernelenv]\n" + "\n".join(f"{k} = {v}" for k, v in kv)
        ),
    ),
    where=st.sampled_from(["kernelenv.toml", "pyproject.toml"]),
)
def test_project_files(world, body, where):
    f = world.project / where
    f.write_text(body, encoding="utf-8")
    try:
        rc, env = world.main(["create", str(world.project), "--python", NOWHERE])
        assert rc != 0
        rc, env = world.main(["init", str(world.project), "--python", "3.11"])
        assert rc in (0, 1)
    finally:
        for p in ("kernelenv.toml", "pyproject.toml"):
            (world.project / p).unlink(missing_ok=True)


@settings(max_examples=150, **SETTINGS)
@given(
    body=st.one_of(
        st.binary(max_size=400),
        any_text.map(lambda s: s.encode()),
        st.dictionaries(any_text, st.one_of(any_text, st.integers(), st.lists(any_text)), max_size=4).map(
            lambda d: json.dumps(d).encode()
        ),
        st.just(b'version = 1\n[python]\nversion = "3.11.7"\n[[package]]\nname = "x"\n'),
    )
)
def test_lock_files(world, body):
    (world.project / "kernelenv.lock").write_bytes(body)
    try:
        for argv in (["create", str(world.project), "--python", NOWHERE], ["sync", str(world.project)]):
            rc, env = world.main(argv)
            assert rc != 0
    finally:
        (world.project / "kernelenv.lock").unlink()


def _verbs() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


VERBS = _verbs()
flag_value = st.one_of(
    any_text, st.sampled_from(["0", "-1", "1e9", "nan", "..", "../..", "x" * 300, "a b", "--json"]), st.integers(-5, 100).map(str)
).filter(lambda v: not v.startswith("/"))


@st.composite
def command_lines(draw):
    verb = draw(st.sampled_from(sorted(VERBS)))
    actions = [a for a in VERBS[verb]._actions if a.option_strings and a.dest not in ("help", "json")]
    argv = [verb]
    for a in draw(st.lists(st.sampled_from(actions), max_size=5, unique_by=id)) if actions else []:
        flag = draw(st.sampled_from(a.option_strings))
        if a.nargs == 0:
            argv.append(flag)
        elif a.choices:
            argv += [flag, draw(st.one_of(st.sampled_from(list(a.choices)), flag_value))]
        else:
            argv += [flag, draw(flag_value)]
    if draw(st.booleans()):
        argv.append(draw(flag_value))  # a positional
    if any(a.dest == "python" for a in actions):
        argv += ["--python", NOWHERE]  # wins over any earlier --python: never installs
    return argv


@settings(max_examples=300, **SETTINGS)
@given(argv=command_lines())
def test_every_cli_flag(world, argv):
    if argv[0] in ("verify", "doctor") and "--timeout" in argv:
        i = argv.index("--timeout") + 1
        if i < len(argv):
            try:
                if float(argv[i]) > 5:
                    argv[i] = "5"
            except ValueError:
                pass
    world.main(argv)
