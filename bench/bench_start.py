"""First kernel start of a fresh environment against later starts, for every profile (issue 15).

Run: .dev/bin/python bench/bench_start.py [--repeat 5] [--profiles minimal,data,dl]

Each round creates a new project with the profile (a clone of its template after round 0),
then times, each in a new client process: the first start of its kernel, to ready and through
the imports the tutorial notebooks do (minimal: none; data: numpy and pandas and a frame shown;
dl: numpy and TensorFlow), then three later starts doing the same (their median is the
round's anchor). Bytecode may be written (as in real use); the .pyc files the first start
wrote are counted (target 0: create warmed all of it). Target: first/warm <= 1.05.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import cleanup, emit, isolated_env, kernelenv_argv, median, spread, tmpdir  # noqa: E402

CODE = {
    "minimal": "pass",
    "data": "import numpy as np\nimport pandas as pd\ndisplay(pd.DataFrame({'a': np.arange(3)}))",
    "dl": "import os\nos.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')\nimport numpy as np\nimport tensorflow as tf",
}
DRIVER = (
    "import sys, time\n"
    "from jupyter_client.manager import start_new_kernel\n"
    "t = time.perf_counter()\n"
    "km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=300)\n"
    "reply = kc.execute_interactive(sys.argv[2], timeout=600, output_hook=lambda msg: None)\n"
    "d = time.perf_counter() - t\n"
    "kc.stop_channels(); km.shutdown_kernel(now=True)\n"
    "assert reply['content']['status'] == 'ok', reply['content']\n"
    "print(d)\n"
)


def _start(name: str, code: str, env: dict) -> float:
    out = subprocess.run([sys.executable, "-c", DRIVER, name, code], env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def _pycs(venv: Path) -> int:
    return sum(1 for _, _, names in os.walk(venv) for n in names if n.endswith(".pyc"))


def bench_profile(profile: str, repeat: int) -> None:
    print(f"== profile {profile}: first start of a fresh env vs later starts (to ready + the tutorial's imports)")
    cache = tmpdir("kbench-kcache-")
    firsts: list[float] = []
    warms: list[float] = []
    written: list[float] = []
    try:
        for i in range(repeat + 1):
            root = tmpdir("kbench-")
            try:
                env = isolated_env(root) | {"XDG_CACHE_HOME": str(cache)}
                project = root / f"p{i}"
                project.mkdir()
                subprocess.run(
                    [*kernelenv_argv(), "create", str(project), "--profile", profile, "--json"],
                    env=env,
                    check=True,
                    capture_output=True,
                    timeout=3600,
                )
                if not i:
                    continue  # round 0 made the template
                venv = project / ".venv"
                before = _pycs(venv)
                firsts.append(_start(project.name, CODE[profile], env))
                written.append(_pycs(venv) - before)
                warms.append(median([_start(project.name, CODE[profile], env) for _ in range(3)]))
            finally:
                cleanup(root)
    finally:
        cleanup(cache)
    r = [f / w for f, w in zip(firsts, warms)]
    print(
        f"  first start {median(firsts):5.2f} s (min/median/max {spread(firsts)})   "
        f"warm start {median(warms):5.2f} s (min/median/max {spread(warms)})"
    )
    print(
        f"  ratio first/warm = {median(r):.2f}  (min/median/max {spread(r)}; target <= 1.05); "
        f".pyc written by the first start: {int(max(written))} (target 0)"
    )
    emit(
        f"first kernel start / warm start, profile {profile}",
        firsts,
        warms,
        anchor_label="median of 3 later starts",
        target="<= 1.05",
    )
    emit(f".pyc files a first start writes, profile {profile}", written, target="0", unit="files")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profiles", default="minimal,data,dl")
    a = ap.parse_args()
    for profile in a.profiles.split(","):
        bench_profile(profile, a.repeat)


if __name__ == "__main__":
    main()
