"""adopt: notebooks' kernelspec metadata pointed at the project's kernel, every other byte kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import Jupyter, make_project, run_cli
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PY3 = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _lesson(kernelspec: dict | None = PY3, language: str = "python"):
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Prices · 价格\n\nA short lesson. 一节短课。"),
            new_code_cell("import sys\nprint(sys.executable)"),
            new_code_cell("total = sum([1, 2, 3])\ntotal"),
        ]
    )
    if kernelspec is not None:
        nb.metadata["kernelspec"] = kernelspec
    nb.metadata["language_info"] = {"name": language}
    return nb


def _write_json(path: Path, nb, **dumps) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(json.dumps(nb, **dumps).encode("utf-8"))
    return path


def _kernelspec_span(text: str) -> tuple[int, int]:
    """Where the "kernelspec" member (key to the end of its value) is in ``text``; (-1, -1) if absent."""
    key = text.find('"kernelspec"')
    if key < 0:
        return -1, -1
    colon = text.index(":", key + len('"kernelspec"'))
    start = colon + 1 + (len(text[colon + 1 :]) - len(text[colon + 1 :].lstrip()))
    _, end = json.JSONDecoder().raw_decode(text, start)
    return key, end


def _only_kernelspec_changed(old: str, new: str) -> None:
    """Every byte outside the kernelspec member is the same (an added member brings only a comma and
    whitespace with it)."""
    p = len(os.path.commonprefix([old, new]))
    q = len(os.path.commonprefix([old[p:][::-1], new[p:][::-1]]))
    for text, (lo, hi) in ((old, (p, len(old) - q)), (new, (p, len(new) - q))):
        a, b = _kernelspec_span(text)
        if a < 0:  # nothing there before: nothing removed
            assert hi <= lo, (text[lo:hi],)
            continue
        outside = text[min(lo, a) : a] + text[b : max(hi, b)]
        assert outside.strip(' \t\r\n,"') == "", (text[lo:hi], outside)  # (a diff may shift by a quote)


@pytest.fixture
def project(jupyter, cli, tmp_path):
    p = make_project(tmp_path, "prices")
    r = cli("create", p, "--json")
    assert r.rc == 0, r
    return p


def test_adopts_the_project_notebooks_and_changes_nothing_else(project, cli):
    nbformat_style = project / "lesson.ipynb"
    nbformat.write(_lesson(), str(nbformat_style))
    styles = {
        "indent2-no-kernelspec.ipynb": dict(indent=2),
        "indent4.ipynb": dict(indent=4, sort_keys=True),
        "tabs.ipynb": dict(indent="\t"),
        "compact.ipynb": dict(separators=(",", ":")),
        "ascii-escapes.ipynb": dict(indent=1, ensure_ascii=True),
    }
    written = {"lesson.ipynb": nbformat_style}
    for name, kw in styles.items():
        nb = _lesson(None if "no-kernelspec" in name else PY3)
        written[name] = _write_json(project / "analysis" / "deep" / name, nb, **kw)
    crlf = project / "windows.ipynb"
    crlf.write_bytes(nbformat.writes(_lesson()).replace("\n", "\r\n").encode("utf-8"))
    written["windows.ipynb"] = crlf
    os.chmod(crlf, 0o600)
    # never searched: the venv, hidden folders, kernelenv's own files, installed packages, other venvs
    ignored = [
        project / ".venv" / "share" / "x.ipynb",
        project / ".ipynb_checkpoints" / "lesson-checkpoint.ipynb",
        project / ".kernelenv" / "verify" / "lesson.ipynb",
        project / "lib" / "site-packages" / "pkg" / "demo.ipynb",
        project / "env2" / "demo.ipynb",
    ]
    for p in ignored:
        p.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(_lesson(), str(p))
    (project / "env2" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    r_nb = _write_json(project / "r-analysis.ipynb", _lesson({"display_name": "R", "language": "R", "name": "ir"}, "R"), indent=1)
    broken = project / "broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    before = {p: p.read_bytes() for p in [*written.values(), *ignored, r_nb, broken]}

    dry = cli("adopt", "--project", project, "--dry-run", "--json")
    assert dry.rc == 1, dry  # two notebooks cannot be adopted
    assert {p: p.read_bytes() for p in before} == before  # a dry run writes nothing
    states = {Path(n["path"]).name: n["state"] for n in dry.data["notebooks"]}
    assert states == {**{n: "would-adopt" for n in written}, "r-analysis.ipynb": "failed", "broken.ipynb": "failed"}
    assert dry.data["dry_run"] is True and (dry.data["adopted"], dry.data["failed"]) == (len(written), 2)

    r = cli("adopt", "--json", cwd=project)
    assert r.rc == 1, r
    kernel = r.data["kernel"]
    assert kernel["name"] == "prices" and kernel["display_name"].endswith("(prices)")
    rows = {Path(n["path"]).name: n for n in r.data["notebooks"]}
    assert {n: rows[n]["state"] for n in written} == {n: "adopted" for n in written}
    assert rows["lesson.ipynb"]["previous"] == {"name": "python3", "display_name": "Python 3 (ipykernel)"}
    assert rows["indent2-no-kernelspec.ipynb"]["previous"] is None
    assert "R notebook" in rows["r-analysis.ipynb"]["error"] and rows["broken.ipynb"]["error"]
    assert (r.data["adopted"], r.data["unchanged"], r.data["failed"], r.data["dry_run"]) == (len(written), 0, 2, False)
    want = {"display_name": kernel["display_name"], "language": "python", "name": "prices"}
    # nbformat's own writer gives the same bytes: its indentation and key order are kept
    expected_nb = nbformat.read(str(nbformat_style), as_version=4)
    assert nbformat_style.read_text(encoding="utf-8").rstrip("\n") == nbformat.writes(expected_nb).rstrip("\n")
    for name, path in written.items():
        new = path.read_bytes().decode("utf-8")
        old = before[path].decode("utf-8")
        assert json.loads(new)["metadata"]["kernelspec"] == want, name
        old_doc = json.loads(old)
        old_doc["metadata"]["kernelspec"] = want
        assert json.loads(new) == old_doc, name  # nothing else in the document changed
        _only_kernelspec_changed(old, new)
    for name, kw in styles.items():  # each file's own style, byte for byte
        doc = json.loads(before[written[name]])
        doc["metadata"]["kernelspec"] = want
        if "no-kernelspec" in name:
            doc["metadata"] = {"kernelspec": want, **doc["metadata"]}
        assert written[name].read_bytes() == json.dumps(doc, **kw).encode("utf-8"), name
    assert b"\n" not in crlf.read_bytes().replace(b"\r\n", b"")  # the file's newlines, also in what was written
    assert os.stat(crlf).st_mode & 0o777 == 0o600
    for p in [*ignored, r_nb, broken]:
        assert p.read_bytes() == before[p], p

    again = cli("adopt", "--project", project, *[str(p) for p in written.values()], "--json")
    assert again.rc == 0 and {n["state"] for n in again.data["notebooks"]} == {"unchanged"}, again
    human = cli("adopt", nbformat_style, "--project", project, "--dry-run")
    assert human.rc == 0 and "unchanged" in human.stdout and "prices" in human.stdout


def test_an_adopted_notebook_opens_on_the_project_kernel(project, cli, tmp_path):
    """What adopt writes is what Jupyter uses: nbconvert, given no kernel, runs it in the project's venv."""
    nb = project / "lesson.ipynb"
    nbformat.write(_lesson(), str(nb))
    assert cli("adopt", nb, "--project", project, "--json").rc == 0
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(nb), "--output-dir", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    executed = nbformat.read(str(out / "lesson.ipynb"), as_version=4)
    assert executed.cells[1].outputs[0]["text"].strip() == str(project / ".venv" / "bin" / "python")


def test_same_project_on_two_machines_writes_identical_metadata(jupyter, tmp_path):
    """Two clones, two HOMEs and Jupyter folders, two venv paths: the same bytes (no metadata churn)."""
    source = tmp_path / "committed.ipynb"
    nbformat.write(_lesson(), str(source))
    results = []
    for machine, venv in (("ada", "envs/one"), ("bob", "elsewhere/venvs/two")):
        root = tmp_path / machine
        j = Jupyter(root / "iso")
        clone = make_project(root / "src", "prices")
        (clone / "notebooks").mkdir()
        (clone / "notebooks" / "lesson.ipynb").write_bytes(source.read_bytes())
        env = j.env()
        r = run_cli("create", clone, "--venv", root / venv, "--json", env=env)
        assert r.rc == 0, r
        r = run_cli("adopt", "--json", cwd=clone, env=env)
        assert r.rc == 0 and r.data["adopted"] == 1, r
        results.append((clone / "notebooks" / "lesson.ipynb").read_bytes())
    assert results[0] == results[1]
    text = results[0].decode("utf-8")
    assert str(tmp_path) not in text and "/home/" not in text  # nothing machine-specific


def test_bad_input_and_links(project, cli, tmp_path):
    nb = project / "lesson.ipynb"
    nbformat.write(_lesson(), str(nb))
    before = nb.read_bytes()
    r = cli("adopt", nb, project / "missing.ipynb", "--project", project, "--json")
    assert r.rc == 2 and r.codes == ["USAGE"] and nb.read_bytes() == before, r  # nothing written
    assert "a relative path is from the current folder" in r.envelope["errors"][0]["hint"], r  # not from --project
    r = cli("adopt", nb, "--project", tmp_path / "no-kernel-here", "--json")
    assert r.rc == 1 and r.codes in (["KERNEL_NOT_FOUND"], ["PROJECT_NOT_FOUND"]) and nb.read_bytes() == before, r
    r = cli("adopt", nb, "--kernel", "nope", "--json")
    assert r.codes == ["KERNEL_NOT_FOUND"]
    # a link: its target is edited, the link stays a link
    shared = tmp_path / "shared" / "common.ipynb"
    shared.parent.mkdir()
    nbformat.write(_lesson(), str(shared))
    link = project / "common.ipynb"
    link.symlink_to(shared)
    r = cli("adopt", link, "--project", project, "--json")
    assert r.rc == 0 and r.data["notebooks"][0]["state"] == "adopted", r
    assert link.is_symlink() and json.loads(shared.read_text())["metadata"]["kernelspec"]["name"] == "prices"
    # --kernel: any kernelspec by name, without a project
    r = cli("adopt", nb, "--kernel", "prices", "--dry-run", "--json", cwd=tmp_path)
    assert r.rc == 0 and r.data["notebooks"][0]["state"] == "would-adopt", r
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("adopt", empty, "--project", project, "--json")
    assert r.rc == 0 and r.data["notebooks"] == [], r
