"""Hostile file systems: a read-only Jupyter data dir, a data dir that is a dangling symlink,
kernel.json truncated / not JSON / not UTF-8 / empty, a venv whose pyvenv.cfg is missing
or garbage. ``list``, ``doctor``, ``remove`` and ``prune`` report them and never crash
(no INTERNAL code, always one envelope).
"""

from __future__ import annotations

import shutil

import faults
import pytest

VERBS = ("list", "doctor", "remove", "prune")


def _ok_envelope(rc, envelope, err, allowed=(0, 1)):
    assert envelope is not None, err
    assert rc in allowed, (rc, envelope["errors"])
    assert "INTERNAL" not in [e["code"] for e in envelope["errors"]], envelope["errors"]
    return envelope


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """One good kernel, four corrupt kernel.json files, two venvs with a bad pyvenv.cfg."""
    root = tmp_path_factory.mktemp("hostile")
    env = faults.cli_env(root)
    kernels = root / "jupyter-data" / "kernels"
    for name in ("good", "nocfg", "badcfg"):
        (root / name).mkdir()
        assert faults.run(["create", root / name, "--json"], env)[0] == 0
    raw = (kernels / "good" / "kernel.json").read_bytes()
    corrupt = {
        "truncated": raw[: len(raw) // 2],
        "notjson": b"argv = ['python']\n",
        "notutf8": b'{"argv": ["\xff\xfe"], "display_name": "\xc3\x28"}',
        "empty": b"",
    }
    for name, data in corrupt.items():
        (kernels / name).mkdir()
        (kernels / name / "kernel.json").write_bytes(data)
    (root / "nocfg" / ".venv" / "pyvenv.cfg").unlink()
    (root / "badcfg" / ".venv" / "pyvenv.cfg").write_bytes(b"\xff\x00garbage\n=\n==home\nversion = banana\n")
    return root, env, kernels, sorted(corrupt)


def test_list_reports_corrupt_specs(broken):
    root, env, kernels, corrupt = broken
    listing = _ok_envelope(*faults.run(["list", "--json"], env), allowed=(0,))
    rows = {r["name"]: r for r in listing["data"]["kernels"]}
    for name in corrupt:
        assert rows[name]["status"] == "invalid-spec" and rows[name]["problems"], rows[name]
    assert "not UTF-8" in rows["notutf8"]["problems"][0]
    assert rows["good"]["status"] == "ok"


def test_doctor_reports_every_broken_kernel(broken):
    root, env, kernels, corrupt = broken
    doc = _ok_envelope(*faults.run(["doctor", "--all", "--json", "--timeout", "30"], env), allowed=(1,))
    rows = {r["name"]: r for r in doc["data"]["kernels"]}
    for name in corrupt:
        assert [p["code"] for p in rows[name]["problems"]] == ["invalid-spec"]
    for name in ("nocfg", "badcfg"):  # the venv's python runs as its base interpreter, without ipykernel
        assert rows[name]["problems"], rows[name]
        assert all(p["fix"] for p in rows[name]["problems"])
    assert rows["good"]["problems"] == []


def test_remove_refuses_corrupt_specs_and_force_removes_only_the_folder(broken):
    root, env, kernels, corrupt = broken
    for name in corrupt:
        rc, envelope, err = faults.run(["remove", name, "--json"], env)
        _ok_envelope(rc, envelope, err, allowed=(1,))
        assert [e["code"] for e in envelope["errors"]] == ["NOT_OWNED"]
        assert (kernels / name / "kernel.json").exists()
    outside = faults.tree(root, skip=(kernels / "truncated", root / "home"))
    rc, envelope, err = faults.run(["remove", "truncated", "--force", "--json"], env)
    _ok_envelope(rc, envelope, err, allowed=(0,))
    assert envelope["data"]["venv_removed"] is None
    assert not (kernels / "truncated").exists()
    assert faults.tree(root, skip=(root / "home",)) == outside  # only that folder went


def test_prune_keeps_corrupt_specs_and_does_not_crash(broken):
    root, env, kernels, corrupt = broken
    _ok_envelope(*faults.run(["prune", "--json"], env), allowed=(0,))
    for name in corrupt:
        if name != "truncated":
            assert (kernels / name / "kernel.json").exists()


def test_remove_of_a_venv_with_bad_pyvenv_cfg(broken):
    root, env, kernels, corrupt = broken
    for name in ("nocfg", "badcfg"):
        _ok_envelope(*faults.run(["remove", name, "--json"], env), allowed=(0,))
        assert not (kernels / name).exists() and not (root / name / ".venv").exists()
        assert (root / name).is_dir()  # the project folder itself is the user's


@pytest.mark.skipif(not faults.can_mount(), reason="needs root to mount a tmpfs")
def test_read_only_jupyter_data_dir(tmp_path):
    env = faults.cli_env(tmp_path)
    data = tmp_path / "jupyter-data"
    mount = faults.tmpfs(data, "50m")
    with mount:
        a, b, c = (tmp_path / n for n in "abc")
        for p in (a, b, c):
            p.mkdir()
        assert faults.run(["create", a, "--json"], env)[0] == 0
        assert faults.run(["create", b, "--json"], env)[0] == 0
        shutil.rmtree(b / ".venv")  # b's interpreter is gone: material for prune
        mount.remount_ro()
        before = faults.tree(data)
        listing = _ok_envelope(*faults.run(["list", "--json"], env), allowed=(0,))
        assert {r["name"]: r["status"] for r in listing["data"]["kernels"] if r["owned"]} == {
            "a": "ok",
            "b": "interpreter-missing",
        }
        doc = _ok_envelope(*faults.run(["doctor", a, "--json"], env), allowed=(0,))
        assert doc["data"]["problems"] == 0
        rc, envelope, err = faults.run(["remove", "a", "--json"], env)
        _ok_envelope(rc, envelope, err, allowed=(1,))
        assert envelope["errors"][0]["code"] == "JUPYTER_DIR_UNWRITABLE"
        assert "Read-only file system" in envelope["errors"][0]["message"]
        assert (a / ".venv" / "pyvenv.cfg").exists()  # the spec could not go, so the venv stays
        rc, envelope, err = faults.run(["create", c, "--json"], env)
        _ok_envelope(rc, envelope, err, allowed=(1,))
        assert envelope["errors"][0]["code"] == "JUPYTER_DIR_UNWRITABLE"
        assert not (c / ".venv").exists()
        assert faults.tree(data) == before


@pytest.mark.skipif(not faults.can_mount(), reason="needs root to mount a tmpfs")
def test_prune_on_a_read_only_jupyter_data_dir(tmp_path):
    env = faults.cli_env(tmp_path)
    data = tmp_path / "jupyter-data"
    mount = faults.tmpfs(data, "50m")
    with mount:
        b = tmp_path / "b"
        b.mkdir()
        assert faults.run(["create", b, "--json"], env)[0] == 0
        shutil.rmtree(b / ".venv")
        mount.remount_ro()
        rc, envelope, err = faults.run(["prune", "--json"], env)
        _ok_envelope(rc, envelope, err, allowed=(1,))
        assert envelope["errors"][0]["code"] == "JUPYTER_DIR_UNWRITABLE"


@pytest.mark.parametrize("which", ["data-dir", "kernels-dir"])
def test_dangling_symlink_data_dir(tmp_path, which):
    env = faults.cli_env(tmp_path)
    nowhere = tmp_path / "nowhere"
    if which == "data-dir":
        link = tmp_path / "dangling-data"
        env["JUPYTER_DATA_DIR"] = str(link)
    else:
        link = tmp_path / "jupyter-data" / "kernels"
    link.symlink_to(nowhere)
    project = tmp_path / "proj"
    project.mkdir()
    for args in (["list"], ["doctor", "--all"], ["remove", "x"], ["prune"]):
        _ok_envelope(*faults.run([*args, "--json"], env))
    rc, envelope, err = faults.run(["create", project, "--json"], env)
    _ok_envelope(rc, envelope, err, allowed=(1,))
    assert envelope["errors"][0]["code"] == "JUPYTER_DIR_UNWRITABLE"
    assert not (project / ".venv").exists()
    assert link.is_symlink() and not nowhere.exists()  # kernelenv did not make the link's target
