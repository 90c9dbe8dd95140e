"""Python 3.7 venvs: what works, what it costs, against the 3.8 venv kernelenv makes with virtualenv.

Run: .dev/bin/python bench/bench_python37.py [--repeat N]
Anchor, measured in the same run: a bare venv for CPython 3.8 made with virtualenv's API, as
kernelenv makes every venv from 3.8 on. For 3.7 it measures the ways to make one:
- virtualenv (the version kernelenv depends on): it makes the folder, but its ``_virtualenv.py``
  does not parse on 3.7, so every start of the venv's python prints a SyntaxError (counted);
- the interpreter's own ``python3.7 -m venv --without-pip`` (what kernelenv uses for 3.7);
- ``uv venv -p python3.7``;
and then a whole ``kernelenv create --python 3.7`` against ``--python 3.8`` (uv, warm caches).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _util import cleanup, emit, isolated_env, kernelenv_argv, median, timed, tmpdir  # noqa: E402

from kernelenv import installer, pythons  # noqa: E402


def _python(minor: tuple[int, int]) -> str:
    env = {**os.environ, "PYENV_ROOT": os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")}
    for f in pythons.discover(Path(tempfile.mkdtemp(prefix="kernelenv-bench-py-")), env):
        if f.info and f.info.implementation == "CPython" and f.info.version[:2] == minor:
            return f.info.path
    raise SystemExit(f"no CPython {minor[0]}.{minor[1]} here")


def _virtualenv(target: Path, python: str) -> None:
    from virtualenv import cli_run

    cli_run(
        [str(target), "--python", python, "--no-setuptools", "--no-periodic-update", "--quiet", "--no-seed"], setup_logging=False
    )


def _clock(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _stderr_at_start(venv: Path) -> str:
    done = subprocess.run([venv / "bin" / "python", "-c", "pass"], capture_output=True, text=True)
    return done.stderr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    py37, py38 = _python((3, 7)), _python((3, 8))
    uv = installer.uv_binary()
    root = tmpdir("kernelenv-bench-py37-")
    try:
        env = isolated_env(root)
        env["PYENV_ROOT"] = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
        times: dict[str, list[float]] = {"anchor": [], "venv37": [], "uv37": [], "virtualenv37": []}
        broken = ""
        for i in range(args.repeat):
            d = root / f"r{i}"
            times["anchor"].append(_clock(lambda d=d: _virtualenv(d / "v38", py38)))
            times["virtualenv37"].append(_clock(lambda d=d: _virtualenv(d / "x37", py37)))
            broken = _stderr_at_start(d / "x37")
            times["venv37"].append(timed([py37, "-m", "venv", "--without-pip", str(d / "s37")], env))
            if uv:
                times["uv37"].append(timed([uv, "venv", "-q", "-p", py37, str(d / "u37")], env))
        ok37 = _stderr_at_start(root / "r0" / "s37") == ""
        creates: dict[str, list[float]] = {"3.7": [], "3.8": []}
        for i in range(max(2, args.repeat // 2)):
            for v in creates:
                project = root / f"p{i}-{v}"
                project.mkdir()
                creates[v].append(
                    timed([*kernelenv_argv(), "create", str(project), "--python", v, "--with", "numpy", "--json"], env)
                )
        a = median(times["anchor"])
        print(f"anchor: virtualenv, bare 3.8 venv      {a * 1000:7.1f} ms")
        v = median(times["virtualenv37"])
        lines = len([ln for ln in broken.splitlines() if "SyntaxError" in ln])
        print(
            f"virtualenv, bare 3.7 venv              {v * 1000:7.1f} ms  ({v / a:.2f}x anchor) "
            f"BROKEN: every start prints {lines} SyntaxError line(s)"
        )
        s = median(times["venv37"])
        print(
            f"python3.7 -m venv --without-pip        {s * 1000:7.1f} ms  ({s / a:.2f}x anchor) "
            f"{'works, quiet start' if ok37 else 'NOT QUIET'}  <- kernelenv's"
        )
        if times["uv37"]:
            u = median(times["uv37"])
            print(f"uv venv -p 3.7                         {u * 1000:7.1f} ms  ({u / a:.2f}x anchor)")
        c7, c8 = median(creates["3.7"]), median(creates["3.8"])
        print(f"kernelenv create --with numpy, 3.8     {c8:7.2f} s")
        print(f"kernelenv create --with numpy, 3.7     {c7:7.2f} s  ({c7 / c8:.2f}x the 3.8 create)")
        emit(
            "python3.7 -m venv --without-pip / virtualenv bare 3.8 venv",
            times["venv37"],
            times["anchor"],
            anchor_label="virtualenv, bare 3.8 venv",
            target="(info)",
        )
        emit("create --with numpy on 3.7 / on 3.8", creates["3.7"], creates["3.8"], anchor_label="create on 3.8", target="(info)")
    finally:
        cleanup(root)


if __name__ == "__main__":
    main()
