"""verify of the numpy and pandas notebooks against `jupyter nbconvert --execute` one by one, and `pytest --nbval-lax`.

One project made with `kernelenv create --profile data` in isolated Jupyter folders. Each
round times `kernelenv verify PROJECT --only numpy,pandas` (the whole CLI: process start,
kernel lookup, notebooks in parallel, executed copies written) and two anchors on the same
kernel and the same two notebooks: `jupyter nbconvert --to notebook --execute` run on one
after the other, and one `pytest --nbval-lax` run over both (nbval runs each cell as a test).
Prints medians, min-max and the ratios verify/anchor (target: 0.6 or less against nbconvert;
verify the fastest of the three).

    .dev/bin/python bench/bench_verify.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import cleanup, emit, isolated_env, kernelenv_argv, median, timed, tmpdir  # noqa: E402

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
        done = subprocess.run(
            [*kernelenv_argv(), "create", str(project), "--profile", "data", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        envelope = json.loads(done.stdout)
        assert envelope["status"] == "ok", envelope
        kernel = envelope["data"]["kernel"]["name"]
        out = root / "nbconvert-out"
        verify = [*kernelenv_argv(), "verify", str(project), "--only", "numpy,pandas", "--output", str(root / "verify-out")]
        jupyter = [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            f"--ExecutePreprocessor.kernel_name={kernel}",
            "--output-dir",
            str(out),
        ]
        nbval_dir = root / "nbval"  # its own rootdir and ini file; nbval only reads the notebooks
        nbval_dir.mkdir()
        (nbval_dir / "pytest.ini").write_text("[pytest]\n")
        for nb in ("01-numpy.ipynb", "02-pandas.ipynb"):
            shutil.copy(NOTEBOOKS / nb, nbval_dir / nb)
        nbval = [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "--nbval-kernel-name",
            kernel,
            "-p",
            "no:cacheprovider",
            "-q",
            "01-numpy.ipynb",
            "02-pandas.ipynb",
        ]
        timed(verify, env)  # warm every path once (bytecode, page cache)
        for nb in ("01-numpy.ipynb", "02-pandas.ipynb"):
            timed([*jupyter, str(NOTEBOOKS / nb)], env)
        timed(nbval, env, cwd=str(nbval_dir))
        t_verify, t_anchor, t_nbval = [], [], []
        for _ in range(args.repeat):
            t_anchor.append(sum(timed([*jupyter, str(NOTEBOOKS / nb)], env) for nb in ("01-numpy.ipynb", "02-pandas.ipynb")))
            t_nbval.append(timed(nbval, env, cwd=str(nbval_dir)))
            t_verify.append(timed(verify, env))
        a, n, v = median(t_anchor), median(t_nbval), median(t_verify)
        spread = lambda xs: f"min {min(xs):.2f} max {max(xs):.2f}  {[round(x, 2) for x in xs]}"  # noqa: E731
        print(f"anchor: jupyter nbconvert --execute, 01-numpy then 02-pandas: median {a:.2f} s  {spread(t_anchor)}")
        print(f"anchor: pytest --nbval-lax 01-numpy 02-pandas:              median {n:.2f} s  {spread(t_nbval)}")
        print(f"kernelenv verify --only numpy,pandas:                     median {v:.2f} s  {spread(t_verify)}")
        print(f"ratio verify/nbconvert: {v / a:.2f}x  (target <= 0.6x)")
        print(f"ratio verify/nbval:     {v / n:.2f}x  (target < 1: verify the fastest)")
        fastest = min((v, "verify"), (a, "nbconvert"), (n, "nbval"))[1]
        print(f"fastest: {fastest}")
        emit(
            "verify numpy,pandas / nbconvert --execute one by one",
            t_verify,
            t_anchor,
            anchor_label="jupyter nbconvert --execute",
            target="<= 0.6",
        )
        emit("verify numpy,pandas / pytest --nbval-lax", t_verify, t_nbval, anchor_label="pytest --nbval-lax", target="< 1")
    finally:
        cleanup(root)


if __name__ == "__main__":
    main()
