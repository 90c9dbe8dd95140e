"""nbmetadata.set_kernelspec: only metadata.kernelspec changes, in the file's own style (pure, no kernel)."""

from __future__ import annotations

import json

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from kernelenv.nbmetadata import NotANotebook, set_kernelspec

WANT = {"display_name": "Python 3.12 (数据分析)", "language": "python", "name": "shu-ju"}


def _nb(kernelspec=None, extra_meta=None):
    nb = new_notebook(cells=[new_markdown_cell("# 标题 · title"), new_code_cell("x = 1\nx")])
    if kernelspec is not None:
        nb.metadata["kernelspec"] = kernelspec
    nb.metadata.update(extra_meta or {})
    return nb


def test_nbformat_written_files_come_out_as_nbformat_would_write_them():
    for ks in (None, {"display_name": "Python 3", "language": "python", "name": "python3"}):
        for extra in ({}, {"language_info": {"name": "python"}}, {"colab": {"provenance": []}}):
            text = nbformat.writes(_nb(ks, extra))
            out, previous = set_kernelspec(text, WANT["name"], WANT["display_name"])
            expected = nbformat.reads(text, as_version=4)
            expected.metadata["kernelspec"] = dict(WANT)
            assert out == nbformat.writes(expected), (ks, extra)
            assert previous == ks


def test_unchanged_when_it_already_names_the_kernel():
    text = nbformat.writes(_nb({"name": "shu-ju", "display_name": WANT["display_name"], "language": "python", "x": 1}))
    out, previous = set_kernelspec(text, WANT["name"], WANT["display_name"])
    assert out is text and previous["x"] == 1


def test_keeps_unknown_keys_and_their_order():
    ks = {"name": "python3", "display_name": "Python 3", "env": {"A": "1"}, "language": "python"}
    text = json.dumps(_nb(ks), indent=1)
    out, _ = set_kernelspec(text, WANT["name"], WANT["display_name"])
    assert list(json.loads(out)["metadata"]["kernelspec"].items()) == [
        ("name", "shu-ju"),
        ("display_name", WANT["display_name"]),
        ("env", {"A": "1"}),
        ("language", "python"),
    ]


def test_kernelspec_null_or_metadata_missing():
    doc = json.loads(nbformat.writes(_nb()))
    doc["metadata"]["kernelspec"] = None
    out, previous = set_kernelspec(json.dumps(doc, indent=1), "k", "K")
    assert previous is None and json.loads(out)["metadata"]["kernelspec"] == {
        "display_name": "K",
        "language": "python",
        "name": "k",
    }
    del doc["metadata"]
    out, _ = set_kernelspec(json.dumps(doc, indent=2), "k", "K")
    assert json.loads(out)["metadata"] == {"kernelspec": {"display_name": "K", "language": "python", "name": "k"}}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1]",
        '{"cells": 3}',
        '{"cells": [], "nbformat": 3, "metadata": {}}',
        '{"cells": [], "nbformat": 4, "metadata": []}',
    ],
)
def test_not_a_notebook(text):
    with pytest.raises(NotANotebook):
        set_kernelspec(text, "k", "K")


keys = st.text(st.characters(codec="utf-8", exclude_characters='"\\'), min_size=1, max_size=6)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(keys, c, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(
    meta=st.dictionaries(keys.filter(lambda k: k != "kernelspec"), values, max_size=4),
    had=st.booleans(),
    indent=st.sampled_from([None, 0, 1, 2, 4, "\t"]),
    compact=st.booleans(),
    ascii_only=st.booleans(),
    sort=st.booleans(),
    crlf=st.booleans(),
)
def test_any_style_only_kernelspec_changes(meta, had, indent, compact, ascii_only, sort, crlf):
    doc = json.loads(nbformat.writes(_nb()))
    doc["metadata"] = dict(meta)
    if had:
        doc["metadata"]["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    kw = dict(indent=indent, ensure_ascii=ascii_only, sort_keys=sort)
    if compact:
        kw["separators"] = (",", ":")
    text = json.dumps(doc, **kw)
    if crlf:
        text = text.replace("\n", "\r\n")
    out, previous = set_kernelspec(text, WANT["name"], WANT["display_name"])
    expected = json.loads(text)
    expected["metadata"]["kernelspec"] = dict(WANT) if not had else {**expected["metadata"]["kernelspec"], **WANT}
    assert json.loads(out) == expected
    assert (previous is not None) == had
    if had or sort or not meta:  # where the writer's own order is known, the bytes are the writer's
        if not had:
            expected["metadata"] = dict(sorted(expected["metadata"].items())) if sort else expected["metadata"]
        redo = json.dumps(expected, **kw)
        assert out == (redo.replace("\n", "\r\n") if crlf else redo)
