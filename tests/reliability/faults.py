"""Fault injection and the consistency check shared by tests/reliability and bench/bench_faults.py.

Nothing is mocked: a fault is a real signal to the real CLI process at a moment chosen
by watching its ``--json`` progress lines on stderr, a real tmpfs, a real server.
``consistency`` is the invariant every test and the benchmark assert after a fault.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
JUPYTER_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


def cli_env(root: Path) -> dict[str, str]:
    """An environment whose HOME, Jupyter folders and kernelenv cache all lie under ``root``."""
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cache = Path(os.environ.get("KERNELENV_TEST_CACHE", REPO / ".cache"))
    env.setdefault("UV_CACHE_DIR", str(cache / "uv"))
    env.setdefault("VIRTUALENV_OVERRIDE_APP_DATA", str(cache / "virtualenv"))
    env.update(
        HOME=str(root / "home"),
        JUPYTER_DATA_DIR=str(root / "jupyter-data"),
        JUPYTER_PATH=str(root / "jupyter-path"),
        JUPYTER_CONFIG_DIR=str(root / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(root / "jupyter-runtime"),
        XDG_CACHE_HOME=str(root / "home" / ".cache"),
        JUPYTER_PLATFORM_DIRS="0",
    )
    for k in ("HOME", "JUPYTER_DATA_DIR", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR"):
        Path(env[k]).mkdir(parents=True, exist_ok=True)
    return env


def run(args: list[str], env: dict[str, str] | None = None, timeout: float = 600, cwd=None) -> tuple[int, dict | None, str]:
    """(exit code, envelope or None, stderr) of ``python -m kernelenv ARGS``."""
    done = subprocess.run(
        [sys.executable, "-m", "kernelenv", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )
    envelope = json.loads(done.stdout) if done.stdout.strip().startswith("{") else None
    return done.returncode, envelope, done.stderr


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kernelenv", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


STAGES = ("venv", "install", "register")


def kill_during(args: list[str], env: dict[str, str], stage: str, delay: float, sig: int = signal.SIGKILL) -> dict:
    """Run the CLI; ``delay`` s after its first progress line of ``stage``, send ``sig`` to it alone.

    Only kernelenv's own process gets the signal (``kill -9 PID``): an installer it
    started runs on, orphaned, as it would for a user. Returns what happened.
    """
    child = start(args, env)
    fired = threading.Event()
    seen: list[str] = []

    def fire() -> None:
        if child.poll() is None:
            os.kill(child.pid, sig)
            fired.set()

    timer = None
    t0 = time.monotonic()
    for line in child.stderr:
        try:
            stage_now = json.loads(line)["progress"]["stage"]
        except (ValueError, KeyError, TypeError):
            continue
        if stage_now not in [s for s, _ in seen]:
            seen.append((stage_now, round(time.monotonic() - t0, 3)))
        if stage_now == stage and timer is None:
            timer = threading.Timer(delay, fire)
            timer.start()
    child.wait(timeout=600)
    if timer is not None:
        timer.cancel()
    out = child.stdout.read()
    seen.append(("end", round(time.monotonic() - t0, 3)))
    return {"killed": fired.is_set(), "rc": child.returncode, "stages": seen, "stdout": out}


def stage_durations(stages: list[tuple[str, float]]) -> dict[str, float]:
    """{stage: seconds until the next stage began} from kill_during's ``stages`` of a full run."""
    return {a: round(tb - ta, 3) for (a, ta), (_, tb) in zip(stages, stages[1:])}


def wait_orphans(venv: Path, timeout: float = 120) -> None:
    """Wait until no process runs from inside ``venv`` or installs into it (orphaned uv/pip)."""
    needle = str(venv).encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if needle in cmd:
                busy = True
                break
        if not busy:
            return
        time.sleep(0.1)


def _dist_ok(venv: Path) -> bool:
    return any(venv.glob("lib/python*/site-packages/ipykernel/__init__.py"))


def consistency(env: dict[str, str], projects: list[Path]) -> list[str]:
    """Problems with the state a (possibly killed) run left; [] when consistent.

    - ``list --json`` answers with an envelope;
    - no kernelspec of kernelenv's points at a venv without ipykernel, or at a venv whose
      mark is not ``ready``;
    - nothing Jupyter would list (a valid kernel name) is a leftover temporary folder;
    - every kernel.json Jupyter would list is complete JSON.
    """
    problems: list[str] = []
    rc, envelope, err = run(["list", "--json"], env)
    if envelope is None or rc != 0:
        return [f"list failed: rc={rc} {err[-300:]}"]
    kernels_dir = Path(env["JUPYTER_DATA_DIR"]) / "kernels"
    for row in envelope["data"]["kernels"]:
        if not row["owned"]:
            continue
        venv = Path(row["venv"]) if row["venv"] else None
        if row["status"] != "ok":
            problems.append(f"kernel {row['name']} is {row['status']}: {row['problems']}")
        if venv is not None:
            if not _dist_ok(venv):
                problems.append(f"kernel {row['name']} points at {venv}, which has no ipykernel")
            mark = _mark(venv)
            if mark.get("state") != "ready":
                problems.append(f"kernel {row['name']} points at {venv}, whose mark says {mark.get('state')!r}")
    if kernels_dir.is_dir():
        for entry in kernels_dir.iterdir():
            visible = set(entry.name.lower()) <= JUPYTER_NAME_CHARS and (entry / "kernel.json").is_file()
            if not visible:
                continue
            try:
                json.loads((entry / "kernel.json").read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                problems.append(f"{entry}/kernel.json is corrupt: {exc}")
            if entry.name.startswith("."):
                problems.append(f"leftover {entry.name} is visible to Jupyter as a kernel")
    return problems


def _mark(venv: Path) -> dict:
    try:
        return json.loads((venv / ".kernelenv.json").read_text())
    except (OSError, ValueError):
        return {}


def tree(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, tuple]:
    """Every path under ``root`` (not under ``skip``) with (kind, size, mtime_ns, mode)."""
    out: dict[str, tuple] = {}
    skip_s = tuple(str(s) for s in skip)
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath.startswith(skip_s):
            dirnames[:] = []
            continue
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            if p.startswith(skip_s):
                continue
            st = os.lstat(p)
            out[p] = (
                st.st_mode >> 12,
                st.st_size if not os.path.isdir(p) else 0,
                st.st_mtime_ns if os.path.isfile(p) else 0,
                st.st_mode & 0o7777,
            )
    return out


def user_files(root: Path, seed: int = 0) -> Path:
    """A folder of 'the user's files' (text, binary, nested, a symlink) to prove nothing touches them."""
    rnd = random.Random(seed)
    d = root / "user-files"
    (d / "nested" / "deeper").mkdir(parents=True, exist_ok=True)
    (d / "notes.txt").write_text("do not touch\n")
    (d / "data.bin").write_bytes(bytes(rnd.randrange(256) for _ in range(4096)))
    (d / "nested" / "deeper" / "thesis.tex").write_text("\\section{x}\n" * 50)
    if not (d / "link-to-notes").is_symlink():
        (d / "link-to-notes").symlink_to(d / "notes.txt")
    return d


class SpecWatcher:
    """Polls a kernels folder while a run goes on: records any moment a kernel.json of
    kernelenv's points at a venv without ipykernel, or is not complete JSON."""

    def __init__(self, kernels_dir: Path, every: float = 0.005):
        self.kernels_dir = kernels_dir
        self.every = every
        self.violations: list[str] = []
        self.polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> SpecWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.polls += 1
            try:
                entries = list(os.scandir(self.kernels_dir))
            except OSError:
                entries = []
            for e in entries:
                if not set(e.name.lower()) <= JUPYTER_NAME_CHARS:
                    continue
                try:
                    raw = Path(e.path, "kernel.json").read_bytes()
                except OSError:
                    continue
                try:
                    data = json.loads(raw)
                except ValueError:
                    self.violations.append(f"{e.name}: kernel.json not complete JSON")
                    continue
                venv = ((data.get("metadata") or {}).get("kernelenv") or {}).get("venv")
                if venv and not _dist_ok(Path(venv)):
                    self.violations.append(f"{e.name}: points at {venv} without ipykernel")
            self._stop.wait(self.every)


class tmpfs:
    """``with tmpfs(dir, "20m"):`` mounts a small tmpfs on dir (root only), always unmounted."""

    def __init__(self, where: Path, size: str, ro: bool = False):
        self.where, self.size, self.ro = where, size, ro

    def __enter__(self) -> Path:
        self.where.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0755", "tmpfs", str(self.where)], check=True)
        return self.where

    def remount_ro(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.where)], check=True)

    def __exit__(self, *exc) -> None:
        subprocess.run(["umount", "-l", str(self.where)], check=False)


def can_mount() -> bool:
    if os.geteuid() != 0:
        return False
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"kernelenv-mount-probe-{os.getpid()}"
    probe.mkdir(exist_ok=True)
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", str(probe)], check=False)
        return ok
    finally:
        probe.rmdir()
