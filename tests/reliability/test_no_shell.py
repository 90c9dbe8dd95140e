"""kernel.json whose argv, env or display name carry shell metacharacters.

Nothing ``list``, ``doctor`` or ``remove`` does runs them through a shell: every payload
would create a file if a shell ever saw it, and none is ever created. Only ``doctor``'s
start test runs the spec, as an argv list, and the kernel then sees the literal text.
"""

from __future__ import annotations

import json
from pathlib import Path

import faults


def _payloads(canary: Path) -> list[str]:
    return [
        f"$(touch {canary}/a)",
        f"`touch {canary}/b`",
        f"; touch {canary}/c",
        f"| touch {canary}/d",
        f"&& touch {canary}/e",
        f"\n touch {canary}/f",
        f"' ; touch {canary}/g ; '",
        f'" ; touch {canary}/h ; "',
    ]


def test_shell_metacharacters_never_reach_a_shell(tmp_path):
    env = faults.cli_env(tmp_path)
    canary = tmp_path / "canary"
    canary.mkdir()
    project = tmp_path / "proj"
    project.mkdir()
    assert faults.run(["create", project, "--json"], env)[0] == 0
    kernels = tmp_path / "jupyter-data" / "kernels"
    good = json.loads((kernels / "proj" / "kernel.json").read_text())
    payload = " ".join(_payloads(canary))
    evil = dict(good, display_name=f"evil {payload}", metadata={"debugger": True})  # a foreign spec
    evil["env"] = dict(good["env"], EVIL=payload, PATH=good["env"]["PATH"] + f":{canary}/$(touch {canary}/p)")
    (kernels / "evil").mkdir()
    (kernels / "evil" / "kernel.json").write_text(json.dumps(evil))
    for i, p in enumerate(_payloads(canary)):  # argv[0] itself a shell command line
        (kernels / f"cmd{i}").mkdir()
        (kernels / f"cmd{i}" / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [f"python3 {p}", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": p,
                    "language": "python",
                    "env": {"X": p},
                    "metadata": {"kernelenv": {"project": p, "venv": p}},
                }
            )
        )
    rc, listing, _ = faults.run(["list", "--json"], env)
    assert rc == 0
    rows = {r["name"]: r for r in listing["data"]["kernels"]}
    assert rows["evil"]["status"] == "ok"
    assert all(rows[f"cmd{i}"]["status"] == "interpreter-missing" for i in range(8))
    rc, doc, err = faults.run(["doctor", "--all", "--json", "--timeout", "30"], env)
    assert doc is not None and "INTERNAL" not in [e["code"] for e in doc["errors"]], err
    drows = {r["name"]: r for r in doc["data"]["kernels"]}
    assert drows["evil"]["start"] and drows["evil"]["start"]["ok"], drows["evil"]  # ran, as argv
    for i in range(8):
        assert faults.run(["remove", f"cmd{i}", "--json"], env)[0] == 0  # "owned" by its forged mark: spec only
    assert faults.run(["remove", "evil", "--force", "--json"], env)[0] == 0
    assert faults.run(["prune", "--json"], env)[0] == 0
    assert list(canary.iterdir()) == []
    assert project.is_dir() and (project / ".venv").is_dir()
