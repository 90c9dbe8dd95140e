"""Installed templates (kernelenv/templates.py): a venv cloned by hard links is a complete venv of its
own, a template is used only for exactly the same pins, and a template changed in any way is refused.

Everything is real: `kernelenv create` as a subprocess, uv resolving against the index (PyPI, and a
local PEP 503 index made here for the index-change cases), kernels started with jupyter_client.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import make_project, run_cli

from kernelenv import identity, lockfile, pythons, templates
from kernelenv import venv as venvmod

PROBE = "kenv-h7-probe"  # a name no index but the test's own has


# helpers ------------------------------------------------------------------------------------
def _mark(venv: Path) -> dict:
    return json.loads((venv / ".kernelenv.json").read_text())


def _template_root(jupyter) -> Path:
    return jupyter.home / ".cache" / "kernelenv" / "templates"


def _manifest(jupyter, tid: str) -> dict:
    return json.loads((_template_root(jupyter) / tid / "manifest.json").read_text())


def _site(venv: Path) -> Path:
    return venvmod.site_packages(venv)[0]


def _record_problems(venv: Path) -> list[str]:
    """Every RECORD entry with a hash names a file with that sha256 and size."""
    bad = []
    site = _site(venv)
    for rec in site.glob("*.dist-info/RECORD"):
        for row in csv.reader(rec.read_text(encoding="utf-8").splitlines()):
            if len(row) < 3 or not row[1]:
                continue
            path = Path(os.path.normpath(site / row[0]))
            data = path.read_bytes()
            algo, digest = row[1].split("=", 1)
            want = base64.urlsafe_b64encode(hashlib.new(algo, data).digest()).rstrip(b"=").decode()
            if want != digest or len(data) != int(row[2]):
                bad.append(f"{rec.parent.name}: {row[0]}")
    return bad


def _run(argv: list, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300, **kw)


def _wheel(folder: Path, version: str, content: str, name: str = PROBE, requires: tuple[str, ...] = ()) -> Path:
    """A minimal pure-Python wheel of ``name`` (PROBE unless told), written by hand."""
    mod, dist = name.replace("-", "_"), f"{name.replace('-', '_')}-{version}"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    members = {
        f"{mod}.py": content,
        f"{dist}.dist-info/METADATA": meta,
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: kernelenv-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    rows = []
    for member, text in members.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{member},sha256={digest},{len(data)}")
    members[f"{dist}.dist-info/RECORD"] = "\n".join([*rows, f"{dist}.dist-info/RECORD,,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for member, text in members.items():  # fixed timestamps: the same release is the same file
            z.writestr(zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0)), text)
    return path


Release = tuple  # (content, yanked) or (content, yanked, requires)


def _publish(index: Path, releases: dict[str, Release], name: str = PROBE) -> None:
    """A PEP 503 index at ``index`` offering ``name`` (PROBE unless told) at {version: (content, yanked[, requires])};
    the projects published before stay listed."""
    page = index / name
    for old in page.glob("*.whl") if page.exists() else []:
        old.unlink()
    links = []
    for version, (content, yanked, *requires) in releases.items():
        whl = _wheel(page, version, content, name, tuple(requires[0]) if requires else ())
        sha = hashlib.sha256(whl.read_bytes()).hexdigest()
        mark = ' data-yanked=""' if yanked else ""
        links.append(f'<a href="{whl.name}#sha256={sha}"{mark}>{whl.name}</a>')
    (page / "index.html").write_text("<html><body>\n" + "\n".join(links) + "\n</body></html>\n")
    projects = sorted(p.name for p in index.iterdir() if (p / "index.html").is_file())
    (index / "index.html").write_text("".join(f'<a href="{p}/">{p}</a>\n' for p in projects))


def _create(project: Path, *args) -> dict:
    res = run_cli("create", project, *args, "--json")
    assert res.rc == 0, res
    return res.data


# a clone is a complete venv of its own ------------------------------------------------------
def test_second_project_is_a_clone_that_works_as_its_own_venv(jupyter, cli, kernel, tmp_path):
    a, b = make_project(tmp_path, "alpha"), make_project(tmp_path, "beta")
    _create(a)
    first = _mark(a / ".venv")["template"]
    d = _create(b)
    vb = b / ".venv"
    mark = _mark(vb)
    assert mark["template"] == first, "the second project did not reuse the first one's template"
    assert mark["venv"] == str(vb) and mark["project"] == str(b) and mark["state"] == "ready"
    assert "ipykernel" in d["installed"] and "pip" in d["installed"]
    assert identity.inspect(vb).kind == identity.Kind.OURS
    man = _manifest(jupyter, first)
    tvenv = man["venv"]

    # its own place everywhere: scripts, activate scripts, pyvenv.cfg; nothing names the template
    python = str(vb / "bin" / "python")
    scripts = [p for p in (vb / "bin").iterdir() if p.is_file() and not p.is_symlink() and p.read_bytes().startswith(b"#!")]
    assert scripts and all(venvmod.script_interpreter(p) == python for p in scripts)
    assert venvmod.scripts_elsewhere(vb) == []
    for p in [*(vb / "bin").iterdir(), vb / "pyvenv.cfg"]:
        if p.is_file() and not p.is_symlink():
            text = p.read_bytes()
            assert tvenv.encode() not in text and b"kernelenv-template-" not in text, p
    assert 'prompt = "beta"' in (vb / "pyvenv.cfg").read_text()
    assert f"VIRTUAL_ENV={vb}\n" in (vb / "bin" / "activate").read_text()
    activated = _run(["bash", "-c", f". {vb}/bin/activate && echo $VIRTUAL_ENV $VIRTUAL_ENV_PROMPT && command -v pip"])
    assert activated.stdout.split() == [str(vb), "beta", str(vb / "bin" / "pip")]

    # package files are shared with the template (hard links), what names the place is not
    site_a, site_b = _site(a / ".venv"), _site(vb)
    assert (site_b / "ipykernel" / "kernelapp.py").stat().st_ino == (site_a / "ipykernel" / "kernelapp.py").stat().st_ino
    assert (vb / "bin" / "pip").stat().st_ino != (a / ".venv" / "bin" / "pip").stat().st_ino
    assert (vb / "pyvenv.cfg").stat().st_ino != (a / ".venv" / "pyvenv.cfg").stat().st_ino

    # RECORD files are right (the rewritten scripts' hashes too); pip sees a clean venv
    assert _record_problems(vb) == []
    assert _run([vb / "bin" / "pip", "--version"]).stdout.split()[3].startswith(str(vb))
    check = _run([vb / "bin" / "pip", "check"])
    assert check.returncode == 0, check.stdout + check.stderr

    # the kernel runs this venv, !pip and %pip included
    k = kernel("beta")
    assert k.run("import sys; print(sys.executable)").strip() == python
    assert k.run("!pip --version").split()[3].startswith(str(vb))
    assert f"Location: {site_b}" in k.run("%pip show ipykernel")
    k.run("%pip install -q six")
    assert (site_b / "six.py").exists() and not (site_a / "six.py").exists()
    assert not (Path(tvenv) / site_b.relative_to(vb) / "six.py").exists()


def test_uninstalling_from_a_clone_leaves_the_template_and_other_venvs_intact(jupyter, cli, tmp_path):
    a, b, c = (make_project(tmp_path, n) for n in ("one", "two", "three"))
    _create(a)
    _create(b)
    vb = b / ".venv"
    uv = _run([sys.executable, "-c", "from kernelenv.installer import uv_binary; print(uv_binary())"]).stdout.strip()
    done = _run([vb / "bin" / "pip", "uninstall", "-y", "pure-eval"])
    assert done.returncode == 0, done.stderr
    done = _run(
        [uv, "pip", "uninstall", "--python", vb / "bin" / "python", "asttokens"], env={**os.environ, "VIRTUAL_ENV": str(vb)}
    )
    assert done.returncode == 0, done.stderr
    for gone in ("pure_eval", "asttokens"):
        assert not (_site(vb) / gone).exists()
        assert (_site(a / ".venv") / gone).is_dir()
    res = cli("remove", "two", "--json")
    assert res.rc == 0, res
    assert not vb.exists()
    _create(c)  # the template still verifies: nothing the uninstalls or the removal did changed it
    assert _mark(c / ".venv")["template"] == _mark(a / ".venv")["template"]
    assert (_site(c / ".venv") / "pure_eval").is_dir() and (_site(c / ".venv") / "asttokens").is_dir()
    assert _run([a / ".venv" / "bin" / "python", "-c", "import pure_eval, asttokens, ipykernel"]).returncode == 0


def test_activate_scripts_and_pyvenv_cfg_are_what_virtualenv_writes_there(jupyter, cli, tmp_path):
    a, b = make_project(tmp_path, "first"), make_project(tmp_path, "second")
    _create(a)
    _create(b)
    vb = b / ".venv"
    cloned = {p.name: p.read_bytes() for p in (vb / "bin").glob("activate*")}
    cloned["deactivate.csh"] = (vb / "bin" / "deactivate.csh").read_bytes()
    cfg = (vb / "pyvenv.cfg").read_text().splitlines()
    os.rename(vb, b / "clone")
    venvmod.create(vb, str(Path(os.path.realpath(b / "clone" / "bin" / "python"))), with_pip=False)
    direct = {n: (vb / "bin" / n).read_bytes() for n in cloned}
    assert cloned == direct
    assert [ln for ln in cfg if not ln.startswith("command")] == [
        ln for ln in (vb / "pyvenv.cfg").read_text().splitlines() if not ln.startswith("command")
    ]


def test_a_long_venv_path_gets_the_sh_wrapper_uv_writes(jupyter, cli, tmp_path):
    a = make_project(tmp_path, "short")
    deep = make_project(tmp_path / ("d" * 60) / ("e" * 40), "long-project")
    _create(a)
    _create(deep)
    vd = deep / ".venv"
    python = str(vd / "bin" / "python")
    assert len(python) > 124
    head = (vd / "bin" / "pip").read_bytes().split(b"\n")[:3]
    assert head == [b"#!/bin/sh", b"'''exec' '" + python.encode() + b'\' "$0" "$@"', b"' '''"]
    assert _mark(vd)["template"] == _mark(a / ".venv")["template"]
    assert _run([vd / "bin" / "pip", "--version"]).returncode == 0
    assert _record_problems(vd) == []


def test_what_templates_do_not_apply_to_is_made_as_before(jupyter, cli, tmp_path):
    spaced = make_project(tmp_path, "with space")  # activate scripts would have to quote it
    d = _create(spaced)
    assert "template" not in _mark(spaced / ".venv") and "ipykernel" in d["installed"]
    assert (
        "VIRTUAL_ENV='" in (spaced / ".venv" / "bin" / "activate").read_text()
        or "with space" in (spaced / ".venv" / "bin" / "activate").read_text()
    )
    by_pip = make_project(tmp_path, "bypip")
    _create(by_pip, "--installer", "pip")
    assert "template" not in _mark(by_pip / ".venv")


# exact invalidation -------------------------------------------------------------------------
def _info(version: tuple[int, int, int], path: str = sys.executable) -> pythons.PythonInfo:
    return pythons.PythonInfo(
        path=path, version=version, implementation="CPython", prefix=sys.base_prefix, base_prefix=sys.base_prefix, has_venv=True
    )


def test_the_key_is_the_pins_with_hashes_the_interpreter_uv_and_the_warm_up():
    pins = [lockfile.Pin("six", "1.16.0", ["sha256:" + "a" * 64]), lockfile.Pin("idna", "3.7", ["sha256:" + "b" * 64])]
    base = sys.executable
    key = templates.template_key(_info((3, 11, 7)), base, "uv:1", pins, "w1")
    assert key == templates.template_key(_info((3, 11, 7)), base, "uv:1", list(reversed(pins)), "w1")
    others = [
        templates.template_key(_info((3, 11, 8)), base, "uv:1", pins, "w1"),  # another patch version
        templates.template_key(_info((3, 11, 7)), "/usr/bin/python3", "uv:1", pins, "w1"),  # another interpreter
        templates.template_key(_info((3, 11, 7)), base, "uv:2", pins, "w1"),  # another uv
        templates.template_key(_info((3, 11, 7)), base, "uv:1", pins, "w2"),  # another warm-up
        templates.template_key(_info((3, 11, 7)), base, "uv:1", pins[:1], "w1"),  # another set
        templates.template_key(_info((3, 11, 7)), base, "uv:1", [pins[0], lockfile.Pin("idna", "3.8", pins[1].hashes)], "w1"),
        templates.template_key(
            _info((3, 11, 7)), base, "uv:1", [pins[0], lockfile.Pin("idna", "3.7", ["sha256:" + "c" * 64])], "w1"
        ),
    ]
    assert len({key, *others}) == len(others) + 1


def test_another_python_version_gets_another_template(jupyter, cli, tmp_path):
    other = next((v for v in ("3.12", "3.10", "3.13") if v != f"{sys.version_info[0]}.{sys.version_info[1]}" and _probe(v)), None)
    if other is None:
        pytest.skip("no second Python version here")
    a, b = make_project(tmp_path, "here"), make_project(tmp_path, "there")
    _create(a)
    _create(b, "--python", other)
    assert _mark(b / ".venv")["template"] != _mark(a / ".venv")["template"]
    out = _run([b / ".venv" / "bin" / "python", "-c", "import sys, ipykernel; print('%d.%d' % sys.version_info[:2])"])
    assert out.stdout.strip() == other


def _probe(version: str) -> bool:
    try:
        pythons.resolve(version)
        return True
    except Exception:
        return False


def test_an_upgraded_yanked_or_rebuilt_release_changes_the_template(jupyter, cli, tmp_path, monkeypatch):
    index = tmp_path / "index"
    monkeypatch.setenv("UV_EXTRA_INDEX_URL", index.as_uri())
    _publish(index, {"1.0": ("V = '1.0'\n", False)})
    projects = [make_project(tmp_path, f"p{i}") for i in range(4)]

    def made(i: int) -> tuple[str, str]:
        _create(projects[i], "--with", PROBE)
        venv = projects[i] / ".venv"
        out = _run([venv / "bin" / "python", "-c", "import kenv_h7_probe as m; print(m.V)"]).stdout.strip()
        return _mark(venv)["template"], out

    t1, v = made(0)
    assert v == "1.0"
    _publish(index, {"1.0": ("V = '1.0'\n", False), "1.1": ("V = '1.1'\n", False)})  # upgraded
    t2, v = made(1)
    assert v == "1.1" and t2 != t1
    _publish(index, {"1.0": ("V = '1.0'\n", False), "1.1": ("V = '1.1'\n", True)})  # 1.1 yanked
    t3, v = made(2)
    assert v == "1.0" and t3 == t1  # the same pins as the first: its template again
    _publish(index, {"1.0": ("V = '1.0 rebuilt'\n", False)})  # the same version, another file
    t4, v = made(3)
    assert v == "1.0 rebuilt" and t4 not in (t1, t2)


DEP, DEP2 = "kenv-h7-dep", "kenv-h7-dep-two"  # names no index but the test's own has


def test_what_the_index_now_resolves_to_is_what_a_clone_gets(jupyter, cli, tmp_path, monkeypatch):
    """A create whose request made a template before clones it while uv resolves the request again; the
    pins are those of the request now: a package an upgrade no longer needs is not installed, one it
    needs now is."""
    index = tmp_path / "index"
    monkeypatch.setenv("UV_EXTRA_INDEX_URL", index.as_uri())
    _publish(index, {"1.0": ("D = 1\n", False)}, DEP)
    _publish(index, {"1.0": ("D = 2\n", False)}, DEP2)
    _publish(index, {"1.0": ("V = '1.0'\n", False, [DEP])})
    projects = [make_project(tmp_path, f"p{i}") for i in range(3)]

    def made(i: int) -> set[str]:
        _create(projects[i], "--with", PROBE)
        return set(venvmod.installed(projects[i] / ".venv"))

    assert {PROBE, DEP} <= made(0)
    _publish(index, {"1.0": ("V = '1.0'\n", False, [DEP]), "1.1": ("V = '1.1'\n", False)})  # DEP no longer needed
    got = made(1)
    assert PROBE in got and DEP not in got, sorted(got)
    assert venvmod.installed(projects[1] / ".venv")[PROBE] == "1.1"
    _publish(index, {"1.1": ("V = '1.1'\n", False), "1.2": ("V = '1.2'\n", False, [DEP2])})  # DEP2 needed now
    got = made(2)
    assert {PROBE, DEP2} <= got and DEP not in got, sorted(got)
    assert _mark(projects[1] / ".venv")["template"] != _mark(projects[2] / ".venv")["template"]


# a changed template is refused ---------------------------------------------------------------
def _warmed_pyc(venv: Path) -> Path:
    return next((_site(venv) / "ipykernel" / "__pycache__").glob("kernelapp.*.pyc"))


def test_a_template_changed_through_a_venv_that_shares_it_is_refused_and_made_again(jupyter, cli, tmp_path):
    a, b = make_project(tmp_path, "a"), make_project(tmp_path, "b")
    _create(a)
    tid = _mark(a / ".venv")["template"]
    pyc = _warmed_pyc(a / ".venv")
    clean = pyc.read_bytes()
    with open(pyc, "r+b") as f:  # in place, same size, through project a's venv: the shared inode changes
        f.seek(len(clean) - 4)
        f.write(b"XXXX")
    res = run_cli("create", b, "--json")
    assert res.rc == 0, res
    assert "changed since the template was made" in res.stderr
    tid_b = _mark(b / ".venv")["template"]
    assert tid_b != tid and not (_template_root(jupyter) / tid).exists()
    assert _warmed_pyc(b / ".venv").read_bytes() == clean
    assert _run([b / ".venv" / "bin" / "python", "-c", "import ipykernel.kernelapp"]).returncode == 0


@pytest.mark.parametrize("how", ["copied file", "mode", "manifest"])
def test_a_tampered_template_is_not_used(jupyter, cli, tmp_path, how):
    a, b = make_project(tmp_path, "a"), make_project(tmp_path, "b")
    _create(a)
    tid = _mark(a / ".venv")["template"]
    tdir = _template_root(jupyter) / tid
    if how == "copied file":  # a file a clone copies: its sha256 no longer matches
        with open(tdir / "venv" / "bin" / "activate", "a") as f:
            f.write("echo injected\n")
    elif how == "mode":  # a linked file (the template's own bytecode, not uv's cache) made writable by others
        os.chmod(_warmed_pyc(tdir / "venv"), 0o666)
    else:  # a manifest others could have written is not read at all
        os.chmod(tdir / "manifest.json", 0o666)
    _create(b)
    assert _mark(b / ".venv")["template"] != tid
    assert "injected" not in (b / ".venv" / "bin" / "activate").read_text()
    assert not stat.S_IMODE(_warmed_pyc(b / ".venv").stat().st_mode) & 0o022


def test_a_templates_folder_others_can_write_is_refused(jupyter, cli, tmp_path):
    a, b = make_project(tmp_path, "a"), make_project(tmp_path, "b")
    _create(a)
    os.chmod(_template_root(jupyter), 0o777)
    res = cli("create", b, "--json")
    assert res.rc != 0 and res.codes == ["CACHE_UNSAFE"], res
    assert not (b / ".venv").exists()


def test_umask_000_makes_nothing_group_or_world_writable(jupyter, tmp_path):
    a, b = make_project(tmp_path, "a"), make_project(tmp_path, "b")
    for p in (a, b):
        done = subprocess.run(
            [sys.executable, "-m", "kernelenv", "create", str(p), "--json"],
            capture_output=True,
            text=True,
            preexec_fn=lambda: os.umask(0),
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    assert _mark(b / ".venv")["template"] == _mark(a / ".venv")["template"]
    root = _template_root(jupyter)
    loose = []
    for top in (b / ".venv", root):
        for dirpath, dirnames, filenames in os.walk(top):
            for n in [*dirnames, *filenames]:
                st = os.lstat(os.path.join(dirpath, n))
                if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o022:
                    loose.append(os.path.join(dirpath, n))
    assert loose == []
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in root.iterdir() if p.is_dir())
    assert stat.S_IMODE((root / "index.json").stat().st_mode) == 0o600


def test_a_local_path_pin_or_uv_copy_mode_is_installed_as_before(jupyter, cli, tmp_path, monkeypatch):
    wheel = _wheel(tmp_path / "wheels", "2.0", "V = 'local'\n")
    local = make_project(tmp_path, "local")
    (local / "requirements.txt").write_text(f"{wheel}\n")
    _create(local, "-r", local / "requirements.txt")
    assert "template" not in _mark(local / ".venv")  # uv resolves it to a file: URL, not an index pin
    out = _run([local / ".venv" / "bin" / "python", "-c", "import kenv_h7_probe as m; print(m.V)"])
    assert out.stdout.strip() == "local"
    monkeypatch.setenv("UV_LINK_MODE", "copy")
    copied = make_project(tmp_path, "copied")
    _create(copied)
    assert "template" not in _mark(copied / ".venv")


def _full_spare(jupyter, tid: str) -> None:
    """A spare tree with every folder and link made, as a create whose resolution took long leaves one."""
    store = templates.Store(jupyter.home / ".cache" / "kernelenv")
    templates.grow_spare(store, store.manifest(tid), lambda: True)
    assert [p.name for p in (store.root / tid).iterdir() if p.name.startswith(templates.SPARE)]


def test_a_clone_from_a_spare_tree_is_the_same_complete_venv(jupyter, cli, tmp_path):
    a, b = make_project(tmp_path, "a"), make_project(tmp_path, "b")
    _create(a)
    tid = _mark(a / ".venv")["template"]
    _full_spare(jupyter, tid)
    _create(b)
    vb = b / ".venv"
    assert _mark(vb)["template"] == tid
    assert not [p for p in (_template_root(jupyter) / tid).iterdir() if p.name.startswith(".taken-")]
    assert identity.inspect(vb).kind == identity.Kind.OURS and venvmod.scripts_elsewhere(vb) == []
    assert _record_problems(vb) == []
    assert sorted(str(p.relative_to(vb)) for p in vb.rglob("*") if ".kernelenv.json" not in p.name) == sorted(
        str(p.relative_to(a / ".venv")) for p in (a / ".venv").rglob("*") if ".kernelenv.json" not in p.name
    )
    assert _run([vb / "bin" / "pip", "check"]).returncode == 0


def test_a_spare_tree_linked_before_the_template_changed_is_refused_too(jupyter, cli, tmp_path):
    a, b = make_project(tmp_path, "a"), make_project(tmp_path, "b")
    _create(a)
    tid = _mark(a / ".venv")["template"]
    _full_spare(jupyter, tid)
    pyc = _warmed_pyc(a / ".venv")
    clean = pyc.read_bytes()
    with open(pyc, "r+b") as f:  # the spare's link is the same inode: it changes too
        f.seek(len(clean) - 4)
        f.write(b"XXXX")
    res = run_cli("create", b, "--json")
    assert res.rc == 0, res
    assert "changed since the template was made" in res.stderr
    assert _mark(b / ".venv")["template"] != tid
    assert _warmed_pyc(b / ".venv").read_bytes() == clean
