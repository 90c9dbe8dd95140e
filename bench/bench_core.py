"""Core benchmark: create vs the hand recipes, first vs warm kernel start, list vs jupyter.

Run: .dev/bin/python bench/bench_core.py [--repeat N]
Prints medians and ratios measured in this one run (the machine is noisy: compare ratios).
Targets (issue 2): create >= 10x faster than the venv+pip recipe and no slower than the
uv recipe; first start <= 1.1x a warm start; list at 1,000 specs faster than jupyter's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import base_python, cleanup, emit, isolated_env, kernelenv_argv, median, spread, timed, tmpdir  # noqa: E402


def recipe_venv_pip(py: str, root: Path, env: dict) -> float:
    v = root / "env"
    t = time.perf_counter()
    subprocess.run([py, "-m", "venv", str(v)], env=env, check=True, capture_output=True)
    subprocess.run([str(v / "bin/pip"), "install", "-q", "ipykernel"], env=env, check=True, capture_output=True)
    subprocess.run(
        [str(v / "bin/python"), "-m", "ipykernel", "install", "--user", "--name", "k"], env=env, check=True, capture_output=True
    )
    return time.perf_counter() - t


def recipe_uv(py: str, root: Path, env: dict) -> float:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    v = root / "env"
    t = time.perf_counter()
    subprocess.run([uv, "venv", "-q", "--seed", "--python", py, str(v)], env=env, check=True, capture_output=True)
    subprocess.run(
        [uv, "pip", "install", "-q", "--python", str(v / "bin/python"), "ipykernel"], env=env, check=True, capture_output=True
    )
    subprocess.run(
        [str(v / "bin/python"), "-m", "ipykernel", "install", "--user", "--name", "k"], env=env, check=True, capture_output=True
    )
    return time.perf_counter() - t


def recipe_kernelenv(py: str, root: Path, env: dict) -> float:
    (root / "proj").mkdir()
    return timed([*kernelenv_argv(), "create", str(root / "proj"), "--python", py, "--json"], env)


def bench_create(py: str, repeat: int, manual_repeat: int) -> None:
    """Rounds interleave the recipes, so load that comes and goes hits all of them alike."""
    print("== create (warm caches), median of interleaved rounds")
    recipes = (
        ("kernelenv create", recipe_kernelenv, repeat),
        ("(b) uv venv --seed + uv pip + ipykernel install", recipe_uv, repeat),
        ("(a) python -m venv + pip + ipykernel install", recipe_venv_pip, manual_repeat),
    )
    times: dict[str, list[float]] = {label: [] for label, _, _ in recipes}
    for i in range(repeat + 1):  # round 0 warms caches and is dropped
        for label, fn, n in recipes:
            if i > n:
                continue
            root = tmpdir("kbench-")
            try:
                tt = fn(py, root, isolated_env(root))
            finally:
                cleanup(root)
            if i:
                times[label].append(tt)
    rows = {label: median(ts) for label, ts in times.items()}
    for label, _, n in recipes:
        print(f"  {label:<52} {rows[label]:7.2f} s  (n={n})")
    k = rows["kernelenv create"]
    print(f"  ratio (a)/kernelenv = {rows['(a) python -m venv + pip + ipykernel install'] / k:5.1f}x faster   (target >= 10x)")
    print(f"  ratio kernelenv/(b) = {k / rows['(b) uv venv --seed + uv pip + ipykernel install']:5.2f}         (target <= 1.0)")
    ours, uv = times["kernelenv create"], times["(b) uv venv --seed + uv pip + ipykernel install"]
    emit("create (bench_core) / uv recipe", ours, uv, anchor_label="uv recipe", target="<= 1.0")


def _start_time(name: str, env: dict) -> float:
    code = (
        "import time, sys; from jupyter_client.manager import start_new_kernel;"
        "t=time.perf_counter(); km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=120);"
        "d=time.perf_counter()-t; kc.stop_channels(); km.shutdown_kernel(now=True); print(d)"
    )
    out = subprocess.run([sys.executable, "-c", code, name], env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def bench_first_start(py: str, repeat: int) -> None:
    print("== kernel start to ready: first start of a fresh env vs warm starts")
    firsts, warms = [], []
    for _ in range(repeat):
        root = tmpdir("kbench-")
        try:
            env = isolated_env(root)
            (root / "proj").mkdir()
            subprocess.run(
                [*kernelenv_argv(), "create", str(root / "proj"), "--python", py, "--json"],
                env=env,
                check=True,
                capture_output=True,
            )
            env_dwb = dict(env, PYTHONDONTWRITEBYTECODE="1")  # the harder case: nothing may be written at start
            firsts.append(_start_time("proj", env_dwb))
            warms.append(median([_start_time("proj", env_dwb) for _ in range(3)]))
        finally:
            cleanup(root)
    f, w = median(firsts), median(warms)
    print(
        f"  first start {f:5.2f} s   warm start {w:5.2f} s   ratio first/warm "
        f"= {f / w:4.2f}   (target <= 1.1; PYTHONDONTWRITEBYTECODE=1)"
    )
    emit(
        "first start / warm start, PYTHONDONTWRITEBYTECODE=1 (bench_core)",
        firsts,
        warms,
        anchor_label="median of 3 later starts",
        target="<= 1.1",
    )


def bench_list(repeat: int) -> None:
    print("== list --json vs jupyter kernelspec list --json")
    jupyter = str(Path(sys.executable).parent / "jupyter")
    for n in (10, 100, 1000):
        root = tmpdir("kbench-")
        try:
            env = isolated_env(root)
            kdir = root / "data" / "kernels"
            for i in range(n):
                d = kdir / f"k{i:04d}"
                d.mkdir(parents=True)
                (d / "kernel.json").write_text(
                    json.dumps(
                        {
                            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                            "display_name": f"K {i}",
                            "language": "python",
                        }
                    )
                )
            ours_t, theirs_t = [], []
            for _ in range(repeat):  # interleaved rounds
                ours_t.append(timed([*kernelenv_argv(), "list", "--json"], env))
                theirs_t.append(timed([jupyter, "kernelspec", "list", "--json"], env))
            ours, theirs = median(ours_t), median(theirs_t)
            r = [o / t for o, t in zip(ours_t, theirs_t)]
            print(
                f"  {n:5d} specs: kernelenv {ours:5.2f} s   jupyter {theirs:5.2f} s   "
                f"ratio kernelenv/jupyter = {ours / theirs:4.2f}   (min/median/max {spread(r)}; target < 1)"
            )
            emit(
                f"list --json at {n} specs / jupyter kernelspec list --json",
                ours_t,
                theirs_t,
                anchor_label="jupyter kernelspec list --json",
                target="< 1",
            )
        finally:
            cleanup(root)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--manual-repeat", type=int, default=2, help="runs of the slow venv+pip recipe")
    ap.add_argument("--only", help="a comma-separated subset of: create, start, list")
    a = ap.parse_args()
    only = set((a.only or "create,start,list").split(","))
    py = base_python()
    print(f"interpreter {py}")
    if "create" in only:
        bench_create(py, a.repeat, a.manual_repeat)
    if "start" in only:
        bench_first_start(py, a.repeat)
    if "list" in only:
        bench_list(max(a.repeat, 5))


if __name__ == "__main__":
    main()
