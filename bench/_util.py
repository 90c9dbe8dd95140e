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
    for cand in (
        Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}",
        Path(sys.base_prefix) / "bin" / "python3",
    ):
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


def settle() -> None:
    """Let the file system finish what a deletion started (journal, discards) before the next timing,
    so that no recipe pays for the one before it."""
    os.sync()
    time.sleep(0.3)


# figures for bench/report.py ------------------------------------------------------------------
def emit(
    figure: str,
    ours: list[float],
    anchor: list[float] | None = None,
    *,
    anchor_label: str = "",
    target: str = "",
    invert: bool = False,
    unit: str = "s",
) -> None:
    """Record one figure for bench/report.py (a JSON line appended to $KERNELENV_BENCH_OUT, when set).

    ``ours`` and ``anchor`` are per-round values measured in the same interleaved rounds; the
    report prints each one's min/median/max and the per-round ratio ours/anchor (anchor/ours when
    ``invert``: "N times faster"); rounds that are not paired (lists of other lengths) give the
    ratio of the medians only. Without an anchor the figure is a plain value (a count, a time).
    """
    import json

    out = os.environ.get("KERNELENV_BENCH_OUT")
    if not out:
        return
    paired = anchor is not None and len(anchor) == len(ours)
    record = {
        "figure": figure,
        "ours": list(ours),
        "anchor": list(anchor) if anchor is not None else None,
        "anchor_label": anchor_label,
        "target": target,
        "invert": invert,
        "unit": unit,
        "paired": paired,
        "script": os.path.basename(sys.argv[0]),
    }
    with open(out, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def spread(xs: list[float], fmt: str = "{:.2f}") -> str:
    """min/median/max of a figure's rounds."""
    return "/".join(fmt.format(v) for v in (min(xs), median(xs), max(xs)))
