"""create, warm and cold, against the hand recipes, in interleaved rounds (issue 15).

Run: .dev/bin/python bench/bench_create.py [--repeat 5] [--manual-repeat 5] [--cold-repeat 5] [--only warm|cold]

warm: every round makes a new project with the same packages as an environment made before
  (kernelenv's cache holds its template; uv's cache is warm), against (b) uv's best hand recipe
  (`uv venv --seed` + `uv pip install ipykernel` + `python -m ipykernel install`) and (a) the
  tutorial's manual recipe (`python -m venv` + pip + ipykernel install). Targets: kernelenv/(b)
  <= 0.35, (a)/kernelenv >= 25.
first: the first create of a package set (the template is made, then cloned), against (b), uv's
  cache warm for both (named with UV_CACHE_DIR: each round's empty XDG_CACHE_HOME would empty it too).
cold: an empty uv cache and an empty kernelenv cache every round, packages from the index,
  against (b) with an empty uv cache. Target: kernelenv/(b) <= 1.0.

Each recipe runs once per round, in the same round, so load that comes and goes hits all of
them alike; round 0 warms the caches and is dropped. Before each timing the file system is
synced; the warm rounds' folders are deleted only at the end (deleting ~10,000 files is no
recipe's cost, and it slows the file system for whatever runs next). Every figure prints
min/median/max.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).parent))
from _util import base_python, cleanup, emit, isolated_env, kernelenv_argv, median, settle, spread, timed, tmpdir  # noqa: E402
from bench_core import recipe_uv, recipe_venv_pip  # noqa: E402


def _kernelenv(py: str, root: Path, env: dict, *extra: str) -> float:
    (root / "proj").mkdir()
    return timed([*kernelenv_argv(), "create", str(root / "proj"), "--python", py, *extra, "--json"], env)


def _line(label: str, xs: list[float]) -> None:
    print(f"  {label:<56} {median(xs):6.2f} s  (min/median/max {spread(xs)}, n={len(xs)})")


def bench_warm(py: str, repeat: int, manual_repeat: int) -> None:
    print("== create, warm: a new project with the packages of an existing environment")
    cache = tmpdir("kbench-kcache-")  # kernelenv's cache, kept across rounds (its template, its bytecode)
    roots: list[Path] = []  # deleted at the end: deleting ~10,000 files is no recipe's cost
    try:
        ours: list[float] = []
        uv: list[float] = []
        manual: list[float] = []
        for i in range(repeat + 1):
            for label in ("kernelenv", "uv", "manual"):
                if label == "manual" and i > manual_repeat:
                    continue
                root = tmpdir("kbench-")
                roots.append(root)
                settle()
                env = isolated_env(root) | {"XDG_CACHE_HOME": str(cache)}
                fn = {"kernelenv": _kernelenv, "uv": recipe_uv, "manual": recipe_venv_pip}[label]
                t = fn(py, root, env)
                if i:
                    {"kernelenv": ours, "uv": uv, "manual": manual}[label].append(t)
        _line("kernelenv create (a template of these packages exists)", ours)
        _line("(b) uv venv --seed + uv pip install + ipykernel install", uv)
        _line("(a) python -m venv + pip install + ipykernel install", manual)
        r_uv = [o / u for o, u in zip(ours, uv)]
        r_man = [m / o for o, m in zip(ours, manual)]
        print(f"  ratio kernelenv/(b) = {median(r_uv):.2f}  (min/median/max {spread(r_uv)}; target <= 0.35)")
        print(f"  ratio (a)/kernelenv = {median(r_man):.1f}x faster  (min/median/max {spread(r_man, '{:.1f}')}; target >= 25)")
        emit(
            "create warm / uv recipe",
            ours,
            uv,
            anchor_label="uv venv --seed + uv pip install + ipykernel install",
            target="<= 0.35",
        )
        emit(
            "create warm: manual recipe / create",
            ours[: len(manual)],
            manual,
            anchor_label="venv + pip + ipykernel install",
            target=">= 25",
            invert=True,
        )
    finally:
        for root in [*roots, cache]:
            cleanup(root)


def _paired(py: str, repeat: int, extra_env: Callable[[Path], dict[str, str]]) -> tuple[list[float], list[float]]:
    """kernelenv and the uv recipe, once each per round in fresh folders (deleted at the end)."""
    ours: list[float] = []
    uv: list[float] = []
    roots: list[Path] = []
    try:
        for i in range(repeat + 1):
            for label in ("kernelenv", "uv"):
                root = tmpdir("kbench-")
                roots.append(root)
                settle()
                env = isolated_env(root) | extra_env(root)
                t = (_kernelenv if label == "kernelenv" else recipe_uv)(py, root, env)
                if i:
                    (ours if label == "kernelenv" else uv).append(t)
    finally:
        for root in roots:
            cleanup(root)
    return ours, uv


def _uv_cache_dir() -> str:
    """uv's own cache (warm: the warm rounds filled it), named outright: the rounds' own XDG_CACHE_HOME
    would otherwise give uv an empty one too."""
    import shutil
    import subprocess

    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    return subprocess.run([uv, "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()


def bench_first(py: str, repeat: int) -> None:
    print("== create, first of its package set (uv's cache warm, kernelenv's cache empty: the template is made)")
    uv_cache = _uv_cache_dir()
    ours, uv = _paired(py, repeat, lambda root: {"XDG_CACHE_HOME": str(root / "kcache"), "UV_CACHE_DIR": uv_cache})
    _line("kernelenv create (template made, then cloned)", ours)
    _line("(b) uv venv --seed + uv pip install + ipykernel install", uv)
    r = [o / u for o, u in zip(ours, uv)]
    print(f"  ratio kernelenv/(b) = {median(r):.2f}  (min/median/max {spread(r)})")
    emit("create first of a package set / uv recipe", ours, uv, anchor_label="uv recipe (warm uv cache)", target="(info)")


def bench_cold(py: str, repeat: int) -> None:
    print("== create, cold: empty uv cache and empty kernelenv cache, packages from the index")
    ours, uv = _paired(py, repeat, lambda root: {"UV_CACHE_DIR": str(root / "uv-cache"), "XDG_CACHE_HOME": str(root / "kcache")})
    _line("kernelenv create (cold)", ours)
    _line("(b) uv recipe (cold)", uv)
    r = [o / u for o, u in zip(ours, uv)]
    print(f"  ratio kernelenv/(b) = {median(r):.2f}  (min/median/max {spread(r)}; target <= 1.0)")
    emit("create cold / uv recipe cold", ours, uv, anchor_label="uv recipe, empty uv cache", target="<= 1.0")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--manual-repeat", type=int, default=5, help="rounds of the slow venv+pip recipe")
    ap.add_argument("--cold-repeat", type=int, default=5)
    ap.add_argument("--only", choices=("warm", "first", "cold"))
    a = ap.parse_args()
    py = base_python()
    print(f"interpreter {py}; {os.cpu_count()} CPUs")
    if a.only in (None, "warm"):
        bench_warm(py, a.repeat, a.manual_repeat)
    if a.only in (None, "first"):
        bench_first(py, a.repeat)
    if a.only in (None, "cold"):
        bench_cold(py, a.cold_repeat)


if __name__ == "__main__":
    main()
