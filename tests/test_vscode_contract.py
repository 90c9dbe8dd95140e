"""The VS Code contract: every kernelspec kernelenv writes is listed by VS Code's Jupyter extension
under its folder name, and a notebook naming it gets it as the Recommended kernel.

The rules are kernelenv/vscode.py's restatement of the Jupyter extension's source (v2025.9.1, the
files named there). The first tests pin the rules on hand-made kernel.json files (what the
extension was seen to do in code-server); the rest apply them to everything kernelenv writes:
``kernelspec.build`` for every input it takes, and, for real, ``create`` with every option that
changes kernel.json on every CPython found, ``register`` of an existing venv, and the notebooks
``kernelenv notebooks`` writes, among several projects' kernels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import Jupyter, make_project, run_cli

from kernelenv import kernelspec, pythons, specstore, vscode

REAL_ENV = {"PYENV_ROOT": os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")}
OLD_STYLE = {
    "argv": ["/w/proj/.venv/bin/python", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    "display_name": "Python 3.11 (proj)",
    "language": "python",
    "env": {"PATH": "/w/proj/.venv/bin:${PATH}", "VIRTUAL_ENV": "/w/proj/.venv"},
    "metadata": {"debugger": True},
}
ALL = lambda _p: True  # noqa: E731  (every path exists)


def spec_like(**kw):
    d = json.loads(json.dumps(OLD_STYLE))
    d["argv"] = ["/w/proj/.venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    d.update(kw)
    return d


def nb_meta(name: str | None, language: str = "python") -> dict:
    meta: dict = {"language_info": {"name": language}}
    if name is not None:
        meta["kernelspec"] = {"name": name, "display_name": name, "language": language}
    return meta


# ---- the rules, on kernel.json files seen in code-server ----------------------------------------
def test_the_old_kernelenv_spec_is_renamed_as_code_server_showed():
    """kernelenv's kernel.json before this contract: VS Code called it 'undefined.-xfrozen_modules=off'."""
    assert vscode.spec_id("proj", OLD_STYLE) == "undefined.-xfrozen_modules=off"
    assert [f.code for f in vscode.findings("/k/proj", OLD_STYLE, exists=ALL)] == ["vscode-renamed"]
    assert vscode.spec_id("proj", spec_like()) == "proj"
    assert vscode.findings("/k/proj", spec_like(), exists=ALL) == []


@pytest.mark.parametrize(
    "display,argv_tail,name,expected",
    [
        ("Python 3.11 (proj)", ["-m", "ipykernel", "-f", "{connection_file}"], None, "proj"),  # old ipykernel argv
        ("Python 3.11", ["-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"], None, "proj"),
        ("Python 3", ["-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"], None, "proj"),
        (
            "Python 3.11 (proj)",
            ["-X", "frozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            None,
            "undefined.-x#frozen_modules=off",
        ),
        (
            "Python 3.11 (proj)",
            ["-m", "ipykernel_launcher", "-f", "{connection_file}", "--matplotlib=inline"],
            "mine",
            "mine.--matplotlib=inline",
        ),
        ("Python 3.11 (proj)", ["-m", "ipykernel_launcher", "-f", "{connection_file}"], "mine", "mine"),
        ("Python 3.11 (proj)", ["-m", "ipykernel_launcher", "-f", "{connection_file}"], "", "proj"),
    ],
)
def test_spec_id(display, argv_tail, name, expected):
    data = spec_like(display_name=display, argv=["/w/proj/.venv/bin/python", *argv_tail])
    if name is not None:
        data["name"] = name
    assert vscode.spec_id("proj", data) == expected


def test_a_non_python_spec_is_never_renamed():
    data = {
        "argv": ["/opt/julia", "-i", "--startup-file=no", "{connection_file}"],
        "display_name": "Julia 1.10",
        "language": "julia",
    }
    assert vscode.spec_id("julia-1.10", data) == "julia-1.10"


def test_hidden_specs():
    exists = lambda p: not p.startswith("/gone")  # noqa: E731
    ok = spec_like()
    assert vscode.hidden_reason("/k/proj", ok, exists=exists) is None
    assert "interpreter.path" in vscode.hidden_reason(
        "/k/proj", spec_like(metadata={"interpreter": {"path": "/gone/python"}}), exists=exists
    )
    assert "cannot load" in vscode.hidden_reason("/k/proj", {"argv": ["x"]}, exists=exists)
    assert "xeus" in vscode.hidden_reason(
        "/k/xpy", spec_like(argv=["/opt/bin/xpython", "-f", "{connection_file}"]), exists=exists
    )
    assert vscode.hidden_reason("/k/__old_vscode_kernelspecs/proj", ok, exists=exists)
    stock = {
        "argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    assert vscode.hidden_reason("/k/python3", stock, exists=exists) is None  # listed without the Python extension
    assert "stock" in vscode.hidden_reason("/k/python3", stock, exists=exists, python_extension=True)
    assert vscode.hidden_reason("/k/python3", {**stock, "env": {"A": "1"}}, exists=exists, python_extension=True) is None
    gone = spec_like(argv=["/gone/.venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    assert vscode.hidden_reason("/k/proj", gone, exists=exists) is None
    assert "does not exist" in vscode.hidden_reason("/k/proj", gone, exists=exists, python_extension=True)


def test_listing_drops_a_second_spec_with_the_same_display_name_and_interpreter():
    listed = vscode.listing([("/a/proj", spec_like()), ("/b/copy", spec_like())], exists=ALL)
    assert [(k.folder, k.shown) for k in listed] == [("proj", True), ("copy", False)]
    other = spec_like(argv=["/w/other/.venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    listed = vscode.listing([("/a/proj", spec_like()), ("/b/other", other)], exists=ALL)
    assert all(k.shown for k in listed)


def test_recommended_is_the_exact_name_else_the_first_of_the_language():
    """With the old spec the notebook of 'proj' got 'other' starred (code-server, two projects)."""
    other_old = {
        **OLD_STYLE,
        "argv": ["/w/other/.venv/bin/python", *OLD_STYLE["argv"][1:]],
        "display_name": "Python 3.11 (other)",
    }
    old = vscode.listing([("/k/other", other_old), ("/k/proj", OLD_STYLE)], exists=ALL)
    assert vscode.recommended(old, nb_meta("proj")).folder == "other"
    new = vscode.listing(
        [("/k/other", {**other_old, "argv": ["/w/other/.venv/bin/python", *spec_like()["argv"][1:]]}), ("/k/proj", spec_like())],
        exists=ALL,
    )
    assert vscode.recommended(new, nb_meta("proj")).folder == "proj"
    assert vscode.recommended(new, nb_meta("unknown")).folder == "other"
    assert vscode.recommended(new, nb_meta(None)).folder == "other"
    assert vscode.recommended(new, nb_meta("proj", "julia")).folder == "proj"
    assert vscode.recommended(new, nb_meta("x", "julia")) is None


def test_controller_id():
    data = spec_like()
    assert vscode.controller_id("proj", data) == ".proj./w/proj/.venv/python..-m#ipykernel_launcher"
    assert vscode.controller_id("proj", data, "/w/proj/.venv/bin/python") == (
        ".proj./w/proj/.venv/python./w/proj/.venv/python.-m#ipykernel_launcher"
    )
    assert vscode.controller_id(
        "x", spec_like(argv=["/usr/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
    ) == (".x./usr/bin/python..-m#ipykernel_launcher")  # short paths keep their /bin


def test_the_ids_the_extension_checks_too():
    """tests/fixtures/vscode/ids.json: the same cases the extension's mocha tests give its TypeScript
    restatement (extension/src/vscodeRules.ts), which selects the kernel by controller id."""
    from conftest import FIXTURES

    cases = json.loads((FIXTURES / "vscode" / "ids.json").read_text())
    assert len(cases) >= 8
    for c in cases:
        assert vscode.spec_id(c["folder"], c["kernel_json"]) == c["spec_id"], c["case"]
        assert vscode.controller_id(c["spec_id"], c["kernel_json"], c["interpreter"]) == c["controller_id"], c["case"]


def test_searched_dirs_and_the_not_searched_finding(tmp_path):
    home = "/home/ada"
    dirs = vscode.searched_dirs(home, "/opt/share/jupyter:/srv/j/")
    assert dirs == [
        "/opt/share/jupyter/kernels",
        "/srv/j/kernels",
        "/usr/share/jupyter/kernels",
        "/usr/local/share/jupyter/kernels",
        "/home/ada/.local/share/jupyter/kernels",
    ]
    assert vscode.findings("/home/ada/.local/share/jupyter/kernels/proj", spec_like(), exists=ALL, searched=dirs) == []
    found = vscode.findings("/home/ada/.kernelenv/share/jupyter/kernels/proj", spec_like(), exists=ALL, searched=dirs)
    assert [f.code for f in found] == ["vscode-not-searched"]


# ---- everything kernelspec.build can write -------------------------------------------------------
VERSIONS = [(3, 8, 18), (3, 9, 18), (3, 10, 13), (3, 11, 7), (3, 12, 1), (3, 13, 0), (3, 14, 0)]


def _built(folder: str, version=(3, 12, 1), implementation="CPython", venv=True, **kw) -> tuple[str, dict]:
    root = Path("/w") / folder
    python = (root / ".venv" / "bin" / "python") if venv else Path(f"/usr/bin/python{version[0]}.{version[1]}")
    spec = kernelspec.build(
        python=python,
        python_version=version,
        implementation=implementation,
        venv=(root / ".venv") if venv else None,
        display_name=kw.pop("display_name", f"Python {version[0]}.{version[1]} ({folder})"),
        project=root,
        created="2026-01-01T00:00:00+00:00",
        kernelenv_version="0.1.0",
        **kw,
    )
    return f"/k/{folder}", spec


BUILDS = {
    **{f"cpython-{v[0]}.{v[1]}": dict(version=v) for v in VERSIONS},
    "pypy-3.10": dict(version=(3, 10, 14), implementation="PyPy"),
    "plain-interpreter": dict(venv=False, version=(3, 11, 2)),
    "extra-env": dict(extra_env={"MPLBACKEND": "agg", "PYDEVD_DISABLE_FILE_VALIDATION": "0"}),
    "encryption": dict(encryption=True),
    "display-python-3": dict(display_name="Python 3"),
    "display-unicode": dict(display_name="数据分析 (Python 3.12)"),
    "display-lookalike": dict(display_name="python 3.12 -X dev"),
}


@pytest.mark.parametrize("python_extension", [False, True], ids=["jupyter-only", "with-python-extension"])
@pytest.mark.parametrize("case", sorted(BUILDS))
def test_every_built_spec_is_listed_by_its_folder_and_recommended(case, python_extension):
    folder = case.replace(".", "-") if case[0] != "c" else "proj"
    mine = _built(folder, **dict(BUILDS[case]))
    others = [_built(n) for n in ("aaa", "zzz")]
    listed = vscode.listing([others[0], mine, others[1]], exists=ALL, python_extension=python_extension)
    me = listed[1]
    assert me.shown, me.hidden
    assert me.id == folder, f"VS Code names {folder!r} {me.id!r}"
    assert vscode.findings(mine[0], mine[1], exists=ALL, python_extension=python_extension) == []
    assert vscode.recommended(listed, nb_meta(folder)).folder == folder
    assert vscode.recommended(listed, nb_meta("aaa")).folder == "aaa"


# ---- for real: create, register, notebooks ---------------------------------------------------------
def _cpythons() -> dict[tuple[int, int], pythons.PythonInfo]:
    import tempfile

    out: dict[tuple[int, int], pythons.PythonInfo] = {}
    for f in pythons.discover(Path(tempfile.mkdtemp(prefix="kernelenv-pythons-")), {**os.environ, **REAL_ENV}):
        if f.info and f.info.implementation == "CPython" and (3, 7) <= f.info.version[:2] <= (3, 14):
            out.setdefault(f.info.version[:2], f.info)
    return out


class World:
    """Projects made with every option that changes kernel.json, in one isolated Jupyter set-up
    where the user's kernels go where VS Code looks (HOME's ~/.local/share/jupyter)."""

    def __init__(self, root: Path):
        self.j = Jupyter(root / "iso")
        self.user_data = self.j.home / ".local" / "share" / "jupyter"
        self.prefix = root / "prefix"
        self.env = {
            **self.j.env(),
            **REAL_ENV,
            "JUPYTER_DATA_DIR": str(self.user_data),
            "JUPYTER_PATH": str(self.prefix / "share" / "jupyter"),
        }
        self.root = root / "work"
        self.root.mkdir()
        self.expected: dict[str, Path] = {}  # kernel name -> project whose notebooks name it
        self.notebooks: list[tuple[Path, str]] = []

    def cli(self, *args, cwd=None):
        res = run_cli(*args, "--json", env=self.env, cwd=cwd)
        assert res.rc == 0, res
        return res

    def create(self, folder: str, *args: str, files: dict[str, str] | None = None, kernel: str | None = None) -> None:
        project = make_project(self.root, folder)
        for name, text in (files or {}).items():
            (project / name).write_text(text)
        res = self.cli("create", project, *args)
        name = res.data["kernel"]["name"]
        assert kernel is None or name == kernel
        self.expected[name] = project
        nbs = self.cli("notebooks", project, *(["--kernel", name] if "--prefix" in args else []))
        self.notebooks += [(Path(n["path"]), name) for n in nbs.data["notebooks"]]

    def kernel_dirs(self) -> list[Path]:
        return [Path(d) for d in vscode.searched_dirs(str(self.j.home), self.env["JUPYTER_PATH"])]

    def specs(self) -> list[tuple[str, dict | None]]:
        return [(str(s.resource_dir), s.data) for s in specstore.scan(self.kernel_dirs())]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    w = World(tmp_path_factory.mktemp("vscode-contract"))
    found = _cpythons()
    assert len(found) >= 3, f"only {sorted(found)} found: machines of this kind have CPython 3.7 to 3.13"
    for minor, info in sorted(found.items()):
        w.create(f"py{minor[0]}{minor[1]}", "--python", str(info.path))
    newest = str(found[max(found)].path)
    w.create("flags", "--python", newest, "--name", "flag-kernel", "--display-name", "Flags (my analysis)", kernel="flag-kernel")
    w.create(
        "projfile",
        files={
            "pyproject.toml": (
                '[project]\nname = "pf"\nrequires-python = ">=3.9"\n[tool.kernelenv]\n'
                f'python = "{newest}"\nname = "pf-kernel"\ndisplay-name = "Python 3"\n'
                '[tool.kernelenv.env]\nMPLBACKEND = "agg"\nPYDEVD_DISABLE_FILE_VALIDATION = "0"\n'
            )
        },
        kernel="pf-kernel",
    )
    w.create("venv-elsewhere", "--python", newest, "--venv", str(w.root / "envs" / "elsewhere"))
    w.create("in-prefix", "--python", newest, "--prefix", str(w.prefix))
    # register an existing venv made without kernelenv
    venv = w.root / "registered" / "env"
    subprocess.run(
        [sys.executable, "-m", "uv", "venv", "-q", "--python", newest, str(venv)],
        check=True,
        env={**os.environ, **w.env},
        stdin=subprocess.DEVNULL,
    )
    w.cli("register", venv, "--install-ipykernel", "--name", "registered-env")
    w.expected["registered-env"] = venv
    return w


def _shown(world: World, python_extension: bool) -> list[vscode.Listed]:
    return vscode.listing(
        world.specs(), exists=os.path.exists, python_extension=python_extension, user_kernels_dir=str(world.user_data / "kernels")
    )


@pytest.mark.slow
@pytest.mark.parametrize("python_extension", [False, True], ids=["jupyter-only", "with-python-extension"])
def test_every_spec_kernelenv_wrote_is_listed_under_its_folder_name(world, python_extension):
    listed = _shown(world, python_extension)
    ours = {k.folder: k for k in listed if isinstance(k.data, dict) and k.data.get("metadata", {}).get("kernelenv")}
    assert set(ours) == set(world.expected), sorted(ours)
    bad = {f: (k.id, k.hidden) for f, k in ours.items() if not k.shown or k.id != f}
    assert not bad, f"VS Code would hide or rename: {bad}"
    for k in ours.values():
        assert (
            vscode.findings(
                k.resource_dir,
                k.data,
                exists=os.path.exists,
                searched=[str(d) for d in world.kernel_dirs()],
                python_extension=python_extension,
            )
            == []
        )


@pytest.mark.slow
@pytest.mark.parametrize("python_extension", [False, True], ids=["jupyter-only", "with-python-extension"])
def test_every_notebook_kernelenv_wrote_gets_its_kernel_recommended(world, python_extension):
    listed = _shown(world, python_extension)
    assert len([k for k in listed if k.shown]) >= 6
    assert len(world.notebooks) >= 4 * 5
    wrong = {}
    for path, name in world.notebooks:
        meta = nbformat.read(str(path), as_version=4).metadata
        got = vscode.recommended(listed, meta)
        if got is None or got.folder != name:
            wrong[str(path)] = getattr(got, "folder", None)
    assert not wrong, f"VS Code would recommend another kernel: {wrong}"


@pytest.mark.slow
def test_the_sys_prefix_scope_is_where_vscode_does_not_look(world):
    """``--sys-prefix`` puts the spec in kernelenv's own environment, which the Jupyter extension
    searches only as a Python environment's own kernels (renamed after it): doctor can say so."""
    resource_dir, data = world.specs()[0]
    where = Path(sys.prefix) / "share" / "jupyter" / "kernels" / Path(resource_dir).name
    codes = [
        f.code for f in vscode.findings(str(where), data, exists=os.path.exists, searched=[str(d) for d in world.kernel_dirs()])
    ]
    assert codes == ["vscode-not-searched"]
