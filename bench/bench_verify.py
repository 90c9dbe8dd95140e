"""verify of the numpy and pandas notebooks against `jupyter nbconvert --execute`, one by one.

One project made with `kernelenv create --profile data` in isolated Jupyter folders. Each
round times `kernelenv verify PROJECT --only numpy,pandas` (the whole CLI: process start,
kernel lookup, notebooks in parallel, executed copies written) and the anchor: the same two
notebooks run one after the other with `jupyter nbconvert --to notebook --execute` on the
same kernel. Prints medians and the ratio verify/anchor (target: 0.6 or less).

    .dev/bin/python bench/bench_verify.py [--repeat 5]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import cleanup, isolated_env, kernelenv_argv, median, timed, tmpdir  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "kernelenv" / "notebooks"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    root = tmpdir("kernelenv-bench-verify-")
    try:
        env = isolated_env(root)
        env["HOME"] = str(root / "home")
        project = root / "demo"
        project.mkdir()
        done = subprocess.run([*kernelenv_argv(), "create", str(project), "--profile", "data", "--json"],
                              env=env, capture_output=True, text=True, timeout=1800)
        envelope = json.loads(done.stdout)
        assert envelope["status"] == "ok", envelope
        kernel = envelope["data"]["kernel"]["name"]
        out = root / "nbconvert-out"
        verify = [*kernelenv_argv(), "verify", str(project), "--only", "numpy,pandas", "--output", str(root / "verify-out")]
        jupyter = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                   f"--ExecutePreprocessor.kernel_name={kernel}", "--output-dir", str(out)]
        timed(verify, env)  # warm both paths once (bytecode, page cache)
        for nb in ("01-numpy.ipynb", "02-pandas.ipynb"):
            timed([*jupyter, str(NOTEBOOKS / nb)], env)
        t_verify, t_anchor = [], []
        for _ in range(args.repeat):
            t_anchor.append(sum(timed([*jupyter, str(NOTEBOOKS / nb)], env) for nb in ("01-numpy.ipynb", "02-pandas.ipynb")))
            t_verify.append(timed(verify, env))
        a, v = median(t_anchor), median(t_verify)
        print(f"anchor: jupyter nbconvert --execute, 01-numpy then 02-pandas: median {a:.2f} s  {[round(x, 2) for x in t_anchor]}")
        print(f"kernelenv verify --only numpy,pandas:                     median {v:.2f} s  {[round(x, 2) for x in t_verify]}")
        print(f"ratio verify/anchor: {v / a:.2f}x  (target <= 0.6x)")
    finally:
        cleanup(root)


if __name__ == "__main__":
    main()
