"""doctor over N kernels: parallel (--jobs J) against serial (--jobs 1), in the same run.

One real venv (made by `kernelenv create`) registered under N kernel names in an isolated
Jupyter data folder; each `kernelenv doctor --all` starts every kernel for real and runs
pip check. Prints the times and the serial/parallel ratio (the anchor is serial).

    .dev/bin/python bench/bench_doctor.py [--kernels 20] [--jobs 4] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import emit  # noqa: E402


def cli(env: dict, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "kernelenv", *args, "--json"], env=env, capture_output=True, text=True, timeout=1800
    )
    return json.loads(done.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-doctor-") as tmp:
        root = Path(tmp)
        env = dict(os.environ)
        env.update(
            {
                "HOME": str(root / "home"),
                "JUPYTER_DATA_DIR": str(root / "data"),
                "JUPYTER_PATH": str(root / "jp"),
                "JUPYTER_CONFIG_DIR": str(root / "cfg"),
                "JUPYTER_RUNTIME_DIR": str(root / "rt"),
                "JUPYTER_PLATFORM_DIRS": "0",
                "PATH": f"{Path(sys.base_prefix) / 'bin'}{os.pathsep}{os.environ['PATH']}",
            }
        )
        env.setdefault("UV_CACHE_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "uv"))
        env.pop("VIRTUAL_ENV", None)
        proj = root / "proj"
        proj.mkdir()
        r = cli(env, "create", str(proj), "--name", "k00")
        assert r["status"] == "ok", r
        for i in range(1, a.kernels):
            r = cli(env, "register", str(proj / ".venv"), "--name", f"k{i:02d}", "--display-name", f"bench {i}")
            assert r["status"] == "ok", r
        times: dict[int, list[float]] = {1: [], a.jobs: []}
        for _ in range(a.repeat):
            for jobs in (1, a.jobs):
                t = time.perf_counter()
                r = cli(env, "doctor", "--all", "--jobs", str(jobs))
                times[jobs].append(time.perf_counter() - t)
                mine = [k for k in r["data"]["kernels"] if k["resource_dir"].startswith(str(root))]
                assert len(mine) == a.kernels and not any(k["problems"] for k in mine), r["data"]["fixes"]
        serial, parallel = statistics.median(times[1]), statistics.median(times[a.jobs])
        print(f"doctor --all over {a.kernels} kernels (median of {a.repeat}, {os.cpu_count()} CPUs)")
        print(f"  serial   --jobs 1: {serial:7.2f} s")
        print(f"  parallel --jobs {a.jobs}: {parallel:7.2f} s")
        print(f"  ratio serial/parallel: {serial / parallel:.2f}x")
        emit(
            f"doctor --all over {a.kernels} kernels: serial / --jobs {a.jobs}",
            times[a.jobs],
            times[1],
            anchor_label="doctor --jobs 1",
            target="> 1",
            invert=True,
        )


if __name__ == "__main__":
    main()
