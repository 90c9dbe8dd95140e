"""Run every benchmark and print one table of ratios against their anchors (issue 15).

Run: .dev/bin/python bench/report.py [--quick] [--only NAME,...] [--skip NAME,...] [--readme]

Each script in RUNS runs as its own process with KERNELENV_BENCH_OUT set; every figure it
records (bench/_util.emit: per-round values of ours and of its anchor, measured in the same
interleaved rounds) becomes one row: min/median/max of ours, of the anchor and of the per-round
ratio, the target, and whether the median meets it. A bench_*.py not listed in RUNS runs with
its defaults. The header names the command, the commit, the machine's CPU count and its load
average before and after (the machine may be shared: a noisy run shows as a wide spread).
``--readme`` writes the table into README.md between the bench-report markers. ``--quick``
runs fewer rounds (3; for a check, not for the record).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# (script, arguments for the record, arguments for --quick)
RUNS = [
    (
        "bench_create.py",
        ["--repeat", "5", "--manual-repeat", "5", "--cold-repeat", "5"],
        ["--repeat", "3", "--manual-repeat", "3", "--cold-repeat", "3"],
    ),
    ("bench_start.py", ["--repeat", "5"], ["--repeat", "3"]),
    ("bench_core.py", ["--only", "start,list", "--repeat", "5"], ["--only", "start,list", "--repeat", "3"]),
    ("bench_pythons.py", ["--repeat", "7"], ["--repeat", "3"]),
    ("bench_verify.py", ["--repeat", "5"], ["--repeat", "3"]),
    ("bench_doctor.py", ["--kernels", "10", "--repeat", "5"], ["--kernels", "6", "--repeat", "3"]),
    ("bench_faults.py", ["--cycles", "40"], ["--cycles", "10"]),
    ("bench_python37.py", ["--repeat", "5"], ["--repeat", "3"]),
    ("bench_model.py", ["--examples", "4", "--steps", "25"], ["--examples", "2", "--steps", "10"]),
]
SKIP_BY_DEFAULT = {"bench_containers.py"}  # needs podman and builds images: run it by name (--only)
START, END = "<!-- bench-report:start -->", "<!-- bench-report:end -->"


def _med(xs: list[float]) -> float:
    return statistics.median(xs)


def _fmt(x: float, unit: str) -> str:
    if unit == "s":
        return f"{x:.2f}"
    return f"{x:g}" if x == int(x) else f"{x:.2f}"


def _trio(xs: list[float], unit: str) -> str:
    return " / ".join(_fmt(v, unit) for v in (min(xs), _med(xs), max(xs)))


def _meets(value: float, target: str) -> str:
    m = re.match(r"^\s*(<=|>=|<|>|=)?\s*([0-9.]+)\s*$", target or "")
    if not m:
        return ""
    op, bound = m[1] or "=", float(m[2])
    ok = {"<=": value <= bound, ">=": value >= bound, "<": value < bound, ">": value > bound, "=": value == bound}[op]
    return "yes" if ok else "NO"


def row(rec: dict) -> list[str]:
    ours, anchor, unit = rec["ours"], rec.get("anchor"), rec.get("unit", "s")
    n = str(len(ours)) if anchor is None or len(anchor) == len(ours) else f"{len(ours)}/{len(anchor)}"
    if anchor is None:
        value = _med(ours)
        return [rec["figure"], n, _trio(ours, unit), "", _fmt(value, unit), rec["target"], _meets(value, rec["target"])]
    if rec.get("paired", True) and len(anchor) == len(ours):
        ratios = [(a / o if rec["invert"] else o / a) for o, a in zip(ours, anchor)]
        ratio, shown = _med(ratios), _trio(ratios, "x")
    else:
        ratio = _med(anchor) / _med(ours) if rec["invert"] else _med(ours) / _med(anchor)
        shown = f"{ratio:.2f} (of medians)"
    label = "anchor/ours" if rec["invert"] else "ours/anchor"
    return [
        rec["figure"],
        n,
        _trio(ours, unit),
        f"{_trio(anchor, unit)} ({rec['anchor_label']})",
        f"{shown} {label}",
        rec["target"],
        _meets(ratio, rec["target"]),
    ]


def table(records: list[dict]) -> str:
    head = ["figure", "rounds", "ours min/med/max", "anchor min/med/max", "ratio min/med/max", "target", "met"]
    rows = [head, ["---"] * len(head), *(row(r) for r in records)]
    return "\n".join("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows)


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def _io_pressure() -> float | None:
    """The share of the last 10 s some task waited on I/O (Linux PSI), or None where it is not kept."""
    try:
        first = Path("/proc/pressure/io").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    m = re.search(r"avg10=([0-9.]+)", first)
    return float(m[1]) if m else None


def _settle(limit: float = 120.0) -> float:
    """Before a script: flush the disk and wait (at most ``limit`` s) until I/O pressure is under 1 %.
    The script before may have deleted tens of thousands of files (its rounds' venvs); on this kind of
    machine (ext4 mounted with discard) the file system then makes folders and updates inodes several
    times slower for a while, which would be charged to whatever runs next. Returns the seconds waited."""
    t = time.time()
    os.sync()
    while time.time() - t < limit:
        pressure = _io_pressure()
        if pressure is None or pressure < 1.0:
            break
        time.sleep(2)
    return time.time() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="comma-separated script names (bench_create, ...)")
    ap.add_argument("--skip", help="comma-separated script names")
    ap.add_argument("--readme", action="store_true", help="write the table into README.md")
    ap.add_argument("--log", default=None, help="where each script's own output goes (default: a temporary folder)")
    a = ap.parse_args()

    def names(text: str | None) -> set[str]:
        return {n if n.endswith(".py") else f"{n}.py" for n in (text or "").split(",") if n}

    only, skip = names(a.only), names(a.skip)
    known = {s for s, _, _ in RUNS}
    runs = [(s, q if a.quick else full) for s, full, q in RUNS]
    runs += [(p.name, []) for p in sorted(HERE.glob("bench_*.py")) if p.name not in known and p.name not in SKIP_BY_DEFAULT]
    if only:
        runs = [(s, args) for s, args in runs if s in only] + [(s, []) for s in sorted(only & SKIP_BY_DEFAULT)]
    runs = [(s, args) for s, args in runs if s not in skip]

    log_dir = Path(a.log) if a.log else Path(tempfile.mkdtemp(prefix="kernelenv-bench-report-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    load0 = os.getloadavg()
    t0 = time.time()
    records: list[dict] = []
    failed: list[str] = []
    for script, args in runs:
        out = log_dir / f"{script}.jsonl"
        out.unlink(missing_ok=True)
        env = dict(os.environ, KERNELENV_BENCH_OUT=str(out))
        argv = [sys.executable, str(HERE / script), *args]
        waited = _settle()
        shown = " ".join(shlex.quote(x) for x in argv[1:])
        print(f"[report] {shown} (after {waited:.0f} s for the disk to settle)", file=sys.stderr, flush=True)
        t = time.time()
        with open(log_dir / f"{script}.log", "w") as logf:
            rc = subprocess.call(argv, env=env, stdout=logf, stderr=subprocess.STDOUT, cwd=REPO)
        print(
            f"[report]   exit {rc} after {time.time() - t:.0f} s (output: {log_dir / (script + '.log')})",
            file=sys.stderr,
            flush=True,
        )
        if rc != 0:
            failed.append(f"{script} (exit {rc})")
        if out.exists():
            records += [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    load1 = os.getloadavg()
    args = sys.argv[1:]  # where the logs went is not part of the command
    shown = [x for i, x in enumerate(args) if not x.startswith("--log") and (i == 0 or args[i - 1] != "--log")]
    cmd = " ".join(shlex.quote(x) for x in [Path(sys.executable).name, "bench/report.py", *shown])
    lines = [
        f"`{cmd}` at commit {_git_commit()}, {time.strftime('%Y-%m-%d %H:%M', time.localtime(t0))}, "
        f"{time.time() - t0:.0f} s; {os.cpu_count()} CPUs ({platform.machine()}, {platform.system()}), Python "
        f"{platform.python_version()}; load average {load0[0]:.1f} before, {load1[0]:.1f} after.",
        "Ratios are per interleaved round (ours and the anchor measured in the same round), then min/median/max; "
        "`met` compares the median with the target. Before each script the disk is flushed and the report waits "
        "(up to 2 min) for I/O pressure to fall under 1 %.",
        "",
        table(records),
    ]
    if failed:
        lines += ["", "Failed: " + ", ".join(failed)]
    text = "\n".join(lines)
    print(text)
    if a.readme:
        readme = REPO / "README.md"
        body = readme.read_text(encoding="utf-8")
        if START in body and END in body:
            head, rest = body.split(START, 1)
            _, tail = rest.split(END, 1)
            readme.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")
        else:
            print("README.md has no bench-report markers: not written", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
