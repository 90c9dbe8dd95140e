"""specstore.py: spec folders on disk, written atomically and never through a link, scanned as Jupyter does."""

from __future__ import annotations

import json
import os

import pytest
from test_kernelspec import build

from kernelenv import health, specstore
from kernelenv.health import Reason


def test_write_read_roundtrip_atomic_replace(tmp_path):
    kdir = tmp_path / "kernels"
    path = specstore.write(kdir, "k", build(), None)
    assert json.loads((path / "kernel.json").read_text()) == build()
    assert oct(os.stat(path / "kernel.json").st_mode & 0o777) == "0o644"
    specstore.write(kdir, "k", build(display_name="new"), None)
    assert specstore.read(path).display_name == "new"
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
    spec = specstore.read(d)
    assert error in spec.error
    assert [p.reason for p in health.static(spec)] == [Reason.INVALID_SPEC]


def test_scan_in_order_with_dangling_link(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for base in (a, b):
        specstore.write(base, "same", build(), None)
    (a / "dangling").symlink_to(tmp_path / "gone")
    specs = specstore.scan([a, b, tmp_path / "missing"])
    assert [(s.resource_dir.parent.name, s.name) for s in specs] == [("a", "dangling"), ("a", "same"), ("b", "same")]
    assert specs[0].error == "spec folder is a dangling link"


def test_remove_symlinked_spec_removes_only_link(tmp_path):
    real = tmp_path / "elsewhere"
    specstore.write(tmp_path, "elsewhere", build(), None)
    link = tmp_path / "kernels" / "k"
    link.parent.mkdir()
    link.symlink_to(real)
    specstore.remove(link)
    assert not link.exists() and (real / "kernel.json").exists()


def test_rewrite_of_own_spec_is_in_place_and_sweeps_leftovers(tmp_path):
    kdir = tmp_path / "kernels"
    path = specstore.write(kdir, "k", build(), None)
    inode = path.stat().st_ino
    (kdir / ".k~abc.old").mkdir()  # what a run killed mid-replace leaves
    (path / "kernel.js").write_text("// a file of the user's")
    specstore.write(kdir, "k", build(display_name="new"), None)
    assert path.stat().st_ino == inode  # the folder never went away
    assert specstore.read(path).display_name == "new"
    assert sorted(p.name for p in kdir.iterdir()) == ["k"]


def test_replacing_a_foreign_spec_gives_a_clean_folder(tmp_path):
    kdir = tmp_path / "kernels"
    foreign = kdir / "k"
    foreign.mkdir(parents=True)
    (foreign / "kernel.json").write_text(json.dumps({"argv": ["python"], "display_name": "theirs"}))
    (foreign / "kernel.js").write_text("// theirs")
    specstore.write(kdir, "k", build(), None)
    assert sorted(p.name for p in foreign.iterdir()) == ["kernel.json"]
