"""Discovery benchmark: `kernelenv pythons --json` cold (empty cache) and warm, and what it spawns.

Run: .dev/bin/python bench/bench_pythons.py [--repeat N]
Anchor, measured in the same run: `python -c pass` with the same interpreter (the floor of
any CLI call). Processes are counted with `strace -f -e trace=execve` when strace exists,
else with an audit hook (which sees only what kernelenv itself starts).
Target (issue 3): a warm call starts no process besides kernelenv itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _util import cleanup, emit, isolated_env, kernelenv_argv, median, timed, tmpdir  # noqa: E402

HOOK = textwrap.dedent(
    """
    import sys
    n = [0]
    def hook(event, args):
        if event in ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.fork", "os.system"):
            n[0] += 1
    sys.addaudithook(hook)
    from kernelenv.cli import main
    rc = main(["pythons", "--json"])
    sys.stderr.write("SPAWNED=%d\\n" % n[0])
    sys.exit(rc)
    """
)


def spawned(env: dict[str, str]) -> tuple[int, str]:
    """Processes one call starts (the kernelenv process itself not counted)."""
    if shutil.which("strace"):
        done = subprocess.run(
            ["strace", "-f", "-qq", "-e", "trace=execve", *kernelenv_argv(), "pythons", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        execs = [ln for ln in done.stderr.splitlines() if re.search(r"execve(\(| resumed>).* = 0$", ln)]
        return len(execs) - 1, "strace"
    done = subprocess.run([sys.executable, "-c", HOOK], env=env, capture_output=True, text=True, check=True)
    return int(done.stderr.split("SPAWNED=")[1].split()[0]), "audit hook"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    root = tmpdir("kernelenv-bench-pythons-")
    try:
        env = isolated_env(root)
        env["XDG_CACHE_HOME"] = str(root / "cache")
        cache_file = root / "cache" / "kernelenv" / "pythons.json"
        anchors, cold, warm = [], [], []
        for _ in range(args.repeat):  # interleaved rounds
            anchors.append(timed([sys.executable, "-c", "pass"], env))
            cleanup(root / "cache")
            cold.append(timed(kernelenv_argv() + ["pythons", "--json"], env))
            warm.append(timed(kernelenv_argv() + ["pythons", "--json"], env))
        anchor = median(anchors)
        out = subprocess.run(kernelenv_argv() + ["pythons", "--json"], env=env, capture_output=True, text=True, check=True)
        data = json.loads(out.stdout)["data"]
        cleanup(root / "cache")
        n_cold, how = spawned(env)
        n_warm, _ = spawned(env)
        assert cache_file.exists()
        c, w = median(cold), median(warm)
        print(f"interpreters found          {len(data['pythons'])} ({', '.join(p['version'] or '?' for p in data['pythons'])})")
        print(f"anchor: python -c pass      {anchor * 1000:7.1f} ms")
        print(f"pythons --json, cold        {c * 1000:7.1f} ms  ({c / anchor:.1f}x anchor)")
        print(f"pythons --json, warm        {w * 1000:7.1f} ms  ({w / anchor:.1f}x anchor; cold/warm {c / w:.1f}x)")
        print(f"discovery inside a warm call {data['duration'] * 1000:6.1f} ms")
        print(f"processes started ({how}): cold {n_cold}, warm {n_warm} (target: warm 0)")
        emit("pythons --json cold / python -c pass", cold, anchors, anchor_label="python -c pass", target="(info)")
        emit("pythons --json warm / python -c pass", warm, anchors, anchor_label="python -c pass", target="(info)")
        emit("processes a warm pythons --json starts", [float(n_warm)], target="0", unit="processes")
    finally:
        cleanup(root)


if __name__ == "__main__":
    main()
