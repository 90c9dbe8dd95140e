"""verify on notebooks that look like users' (tests/sample_notebooks.py), checked against `pytest --nbval-lax`.

Issue 11's report bugs, each on a real kernel: the failing cell's own line when the error is
raised in code of another cell (1), a tagged expected error hiding the real failure (2), colour
codes and empty bare-assert messages (3), one malformed notebook aborting the run (4), cell
numbers counting markdown (5); and --keep-going reporting every failing cell as nbval does.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sample_notebooks
from conftest import make_project

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FRAME = re.compile(r"^Cell In\[\d+\], line (\d+)(?:, in (.+))?$", re.M)
ARROW = re.compile(r"^-+> ?(\d+) (.*)$", re.M)
FINAL = re.compile(r"^([A-Za-z_]\w*): ?(.*)$", re.M)


@pytest.fixture
def analysis(jupyter, cli, tmp_path):
    project = make_project(tmp_path, "analysis")
    r = cli("create", project, "--profile", "data", "--json")
    assert r.rc == 0, r
    return project


def nbval_failures(nb: Path, kernel: str, work: Path) -> dict[int, dict]:
    """{code cell number: {"frames": [(line, function, source)], "ename", "evalue"}} from nbval."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "pytest.ini").write_text("[pytest]\n")
    xml = work / "nbval.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-kernel-name",
            kernel,
            "-p",
            "no:cacheprovider",
            "-p",
            "no:kernelenv",
            f"--junitxml={xml}",
            "-q",
            str(nb),
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert xml.exists(), done.stdout + done.stderr
    out = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            continue
        n = int(case.get("name").split()[-1])
        text = ANSI.sub("", (failure.text or "").replace("#x1B", "\x1b"))  # junit xml escapes ESC
        tb = text.split("Traceback:", 1)[1]
        heads = list(FRAME.finditer(tb))
        frames = []
        for i, h in enumerate(heads):
            body = tb[h.end() : heads[i + 1].start() if i + 1 < len(heads) else len(tb)]
            arrow = ARROW.search(body)
            frames.append((int(h.group(1)), h.group(2), arrow.group(2).strip() if arrow else None))
        last_arrow = list(ARROW.finditer(tb))[-1]
        final = [m for m in FINAL.finditer(tb) if m.start() > last_arrow.end()][0]
        out[n] = {"frames": frames, "ename": final.group(1), "evalue": final.group(2).strip()}
    return out


def _ours_by_code_cell(nb: Path, row: dict) -> dict[int, dict]:
    return {sample_notebooks.code_index(nb, e["cell"]): e for e in row["errors"]}


def _same_as_nbval(ours: dict, theirs: dict, source: str) -> None:
    assert ours["ename"] == theirs["ename"], (ours, theirs)
    if theirs["evalue"]:
        assert ours["evalue"].splitlines()[0].strip() == theirs["evalue"], (ours, theirs)
    else:  # a bare assert: nbval shows nothing, kernelenv the asserted statement
        assert ours["ename"] == "AssertionError" and ours["evalue"].startswith("assert "), ours
        assert ours["evalue"] in " ".join(source.split()), ours
    frames = theirs["frames"]
    module_level = [f for f in frames if f[1] is None]
    if module_level:
        assert ours["line"] == module_level[0][0], (ours, frames)
        assert ours["source"] == module_level[0][2], (ours, frames)
    else:  # raised while Jupyter showed the cell's value: no frame of its own
        assert ours["raised_in"] is not None and ours["line"] == len(source.rstrip().splitlines()), ours
    if ours["raised_in"] is not None:
        deepest = frames[-1]
        assert (ours["raised_in"]["line"], ours["raised_in"]["source"]) == (deepest[0], deepest[2]), (ours, frames)
    else:
        assert frames[-1][1] is None or all(f[1] is None for f in frames), (ours, frames)


def test_reports_match_nbval_on_real_looking_notebooks(analysis, cli, tmp_path):
    paths = sample_notebooks.write(tmp_path / "course")
    keep = cli("verify", analysis, "--notebooks", tmp_path / "course", "--keep-going", "--json")
    first = cli("verify", analysis, "--notebooks", tmp_path / "course", "--json")
    assert keep.rc == 1 and first.rc == 1, (keep, first)
    assert keep.data["keep_going"] is True
    rows_keep = {r["name"]: r for r in keep.data["notebooks"]}
    rows_first = {r["name"]: r for r in first.data["notebooks"]}
    for name, nb in paths.items():
        theirs = nbval_failures(nb, "analysis", tmp_path / f"nbval-{name}")
        ours = _ours_by_code_cell(nb, rows_keep[name])
        # --keep-going fails exactly the cells nbval fails; the tagged teaching errors in neither
        assert sorted(ours) == sorted(theirs), (name, sorted(ours), sorted(theirs))
        import nbformat

        sources = [c.source for c in nbformat.read(str(nb), as_version=4).cells if c.cell_type == "code"]
        for n in theirs:
            _same_as_nbval(ours[n], theirs[n], sources[n])
        # without --keep-going: the first failure that is not a tagged cell, and only that one
        row = rows_first[name]
        expected = sample_notebooks.EXPECTED[name]["first"]
        assert len(row["errors"]) == 1 and row["error"] == row["errors"][0]
        e = row["error"]
        assert (sample_notebooks.code_index(nb, e["cell"]), e["line"], e["ename"]) == (
            expected["code_cell"],
            expected["line"],
            expected["ename"],
        )
        assert min(theirs) == expected["code_cell"]
        _same_as_nbval(e, theirs[min(theirs)], sources[min(theirs)])


def _first_failure(cli, project: Path, tmp_path: Path, variant: str) -> tuple[dict, str]:
    """(the JSON error, the human report) of verify without --keep-going on one lesson variant."""
    nb = sample_notebooks.write_cells(tmp_path / "lessons" / f"{variant}.ipynb", sample_notebooks.variants()[variant])
    r = cli("verify", project, "--notebooks", nb, "--json")
    assert r.rc == 1, r
    assert "\x1b" not in r.stdout and "\\u001b" not in r.stdout
    human = cli("verify", project, "--notebooks", nb)
    assert human.rc == 1 and "\x1b" not in human.stdout + human.stderr
    return r.data["notebooks"][0]["error"], human.stdout


def test_error_raised_in_another_cell_names_both_cells(analysis, cli, tmp_path):
    """1: `may` is line 3 of its own 3-line cell (not line 11); the error comes from Ledger.mean in cell 5."""
    e, out = _first_failure(cli, analysis, tmp_path, "display-raises-in-class")
    assert (e["cell"], e["execution_count"], e["line"], e["source"], e["ename"]) == (12, 5, 3, "may", "ZeroDivisionError"), e
    assert e["raised_in"] == {
        "cell": 5,
        "execution_count": 2,
        "line": 8,
        "source": "return sum(self.amounts) / len(self.amounts)",
    }
    assert "In [5] (cell 12), line 3: may" in out
    assert "raised in In [2] (cell 5), line 8: return sum(self.amounts) / len(self.amounts)" in out


def test_tagged_teaching_error_does_not_hide_the_real_failure(analysis, cli, tmp_path):
    """2: the KeyError of the cell tagged raises-exception is expected; DataFrame.append (removed) is the failure."""
    e, out = _first_failure(cli, analysis, tmp_path, "tagged-then-removed-api")
    assert (e["cell"], e["line"], e["ename"]) == (12, 2, "AttributeError"), e
    assert e["source"] == "with_april = sales.append(april, ignore_index=True)"
    assert e["evalue"] == "'DataFrame' object has no attribute 'append'"
    assert "KeyError" not in out


def test_bare_assert_shows_its_statement_without_colour_codes(analysis, cli, tmp_path):
    """3: no colour codes anywhere; an assert without a message shows the asserted statement."""
    e, out = _first_failure(cli, analysis, tmp_path, "bare-assert")
    assert (e["ename"], e["evalue"], e["line"], e["raised_in"]) == ("AssertionError", "assert total == 100.0", 3, None), e
    assert "AssertionError: assert total == 100.0" in out


def test_cell_named_by_its_prompt_and_its_position(analysis, cli, tmp_path):
    """5: markdown cells count in the position, not in the [n] Jupyter shows: both are given."""
    e, out = _first_failure(cli, analysis, tmp_path, "bare-assert")
    assert (e["cell"], e["execution_count"]) == (13, 5), e
    assert "In [5] (cell 13), line 3: assert total == 100.0" in out


def test_keep_going_reports_every_failing_cell_on_one_screen(analysis, cli, tmp_path):
    paths = sample_notebooks.write(tmp_path / "course")
    r = cli("verify", analysis, "--notebooks", paths["sales-ledger"], "--keep-going", "--json")
    assert r.rc == 1, r
    row = r.data["notebooks"][0]
    by_count = {e["execution_count"]: e for e in row["errors"]}
    assert sorted(by_count) == [6, 7, 8, 9, 10, 11, 12]  # the tagged In [5] is not there
    assert row["error"] == row["errors"][0] == by_count[6]
    assert by_count[8]["raised_in"]["cell"] == 5 and by_count[9]["evalue"] == "assert total == 100.0"
    assert by_count[11]["ename"] == by_count[12]["ename"] == "NameError"  # failed because In [6] did

    text = cli("verify", analysis, "--notebooks", paths["sales-ledger"], "--keep-going")
    out = text.stdout
    assert "\x1b" not in out and "(7 failing cells)" in out
    assert "AttributeError: 'DataFrame' object has no attribute 'append'" in out
    assert "AttributeError: 'DataFrame' object has no attribute 'iteritems'" in out
    assert "AttributeError: module 'numpy' has no attribute 'float'." in out
    assert out.count("NameError: name 'with_april' is not defined") == 1
    assert "(the same error in In [12] (cell 20))" in out
    assert len(out.splitlines()) < 30, out  # one screen says which API changes broke it


def test_malformed_notebook_fails_alone(analysis, cli, tmp_path):
    """4: a broken .ipynb is one failed row with the parse error; the others still run."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nbformat.write(new_notebook(cells=[new_code_cell("print('fine')")]), str(folder / "a-good.ipynb"))
    (folder / "b-truncated.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "1"', encoding="utf-8")
    (folder / "c-list.ipynb").write_text("[1, 2, 3]", encoding="utf-8")
    (folder / "d-invalid.ipynb").write_text(
        json.dumps(
            {"cells": [{"cell_type": "cod", "source": "1", "metadata": {}}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        )
    )
    r = cli("verify", analysis, "--notebooks", folder, "--json")
    assert r.rc == 1 and r.codes == [], r
    rows = {n["name"]: n for n in r.data["notebooks"]}
    assert rows["a-good"]["status"] == "passed"
    for name, words in (("b-truncated", "not valid JSON"), ("c-list", "not a notebook"), ("d-invalid", "not a valid notebook")):
        assert rows[name]["status"] == "failed", rows[name]
        assert rows[name]["error"]["ename"] == "NotebookInvalid" and words in rows[name]["error"]["evalue"], rows[name]
    assert (r.data["passed"], r.data["failed"]) == (1, 3)
    assert all(json.loads(line) for line in r.stderr.splitlines() if line.strip())  # nothing but progress on stderr
    r = cli("verify", analysis, "--notebooks", folder / "b-truncated.ipynb")
    assert r.rc == 1 and "FAILED" in r.stdout and "not valid JSON" in r.stdout, r


def test_verify_offers_adopt_for_notebooks_naming_another_kernel(analysis, cli, tmp_path):
    paths = sample_notebooks.write(tmp_path / "course")
    r = cli("verify", analysis, "--notebooks", paths["signal-helpers"], "--json")
    row = r.data["notebooks"][0]
    assert row["other_kernel"] == {"name": "python3", "display_name": "Python 3 (ipykernel)"}
    offer = r.data["adopt"]
    assert offer["count"] == 1
    assert offer["action"]["argv"] == ["adopt", str(paths["signal-helpers"]), "--project", str(analysis)]
    assert offer["fix"] == f"kernelenv adopt {paths['signal-helpers']} --project {analysis}"
    assert cli(*offer["action"]["argv"], "--json").rc == 0
    r = cli("verify", analysis, "--notebooks", paths["signal-helpers"], "--json")
    assert r.data["adopt"] is None and r.data["notebooks"][0]["other_kernel"] is None
    human = cli("verify", analysis, "--notebooks", paths["sales-ledger"])
    assert f"kernelenv adopt {paths['sales-ledger']} --project {analysis}" in human.stdout
    # the tutorial notebooks (inside the package) are never offered
    r = cli("verify", analysis, "--only", "numpy", "--json")
    assert r.data["adopt"] is None
