"""health.py: reasons from a spec's files alone, messages rendered from reasons."""

from __future__ import annotations

import json

from test_kernelspec import build

from kernelenv import health, specstore
from kernelenv.health import Problem, Reason


def test_health_interpreter_missing_and_ipykernel_missing(tmp_path):
    d = tmp_path / "k"
    d.mkdir()
    (d / "kernel.json").write_text(json.dumps(build(python=tmp_path / "nope" / "bin" / "python")))
    assert [p.reason for p in health.static(specstore.read(d))] == [Reason.INTERPRETER_MISSING]
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    py = venv / "bin" / "python"
    py.write_text("#!/bin/sh\n")
    py.chmod(0o755)
    (d / "kernel.json").write_text(json.dumps(build(python=py)))
    assert [p.reason for p in health.static(specstore.read(d))] == [Reason.IPYKERNEL_MISSING]
    (venv / "lib" / "python3.12" / "site-packages" / "ipykernel-7.0.0.dist-info").mkdir(parents=True)
    assert health.static(specstore.read(d)) == []


def test_messages_are_rendered_from_reasons_and_facts():
    assert Problem(Reason.INTERPRETER_MISSING, {"python": "/x/bin/python"}).message == "interpreter /x/bin/python does not exist"
    assert Problem(Reason.SHADOWED, {"by": "/a/k", "name": "k"}).message.startswith("hidden by /a/k")
    for reason in Reason:  # every reason has a template, or renders its code
        assert Problem(reason, {}).message
