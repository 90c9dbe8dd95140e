"""Helpers for benchmarks: isolated folders, timing a command, medians."""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def base_python() -> str:
    """The interpreter this venv was made from: the same one for every recipe."""
    for cand in (Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}", Path(sys.base_prefix) / "bin" / "python3"):
        if cand.exists():
            return str(cand)
    return sys.executable


def isolated_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("VIRTUAL_ENV", None)
    env.update(
        JUPYTER_DATA_DIR=str(root / "data"),
        JUPYTER_PATH=str(root / "path"),
        JUPYTER_CONFIG_DIR=str(root / "config"),
        JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        JUPYTER_PLATFORM_DIRS="0",
    )
    return env


def timed(argv: list[str], env: dict[str, str], cwd: str | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def tmpdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def kernelenv_argv() -> list[str]:
    return [sys.executable, "-m", "kernelenv"]


def cleanup(p: Path) -> None:
    shutil.rmtree(p, ignore_errors=True)
