"""The one backend for installers: uv and pip, behind the same operations.

A plain table of two backends (:data:`BACKENDS`); ``choose("auto")`` is uv when it runs, else
pip. Verbs ask a backend to install, install a lock, resolve, check, uninstall; they never
build an installer command line. Every operation returns data or raises OperationError with
the backend's own name and reason (INSTALL_FAILED, HASH_MISMATCH, RESOLVE_FAILED).
``freeze(venv)`` reads what a venv holds from its dist-info folders (no process).
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Union

from . import lockfile, proc
from . import venv as venvmod
from .result import OperationError

OnLine = Callable[[str], None]
INSTALLERS = ("uv", "pip")
_HASH_WORDS = ("hash mismatch", "do not match the hashes", "hashes are required")


@lru_cache(maxsize=1)
def uv_binary() -> str | None:
    """uv from the PyPI package kernelenv depends on, else uv on PATH, if it runs."""
    candidates = []
    try:
        from uv import find_uv_bin

        candidates.append(find_uv_bin())
    except Exception:  # the uv package is missing or broken: fall back
        pass
    on_path = shutil.which("uv")
    if on_path:
        candidates.append(on_path)
    for cand in candidates:
        try:
            if proc.run([cand, "--version"], timeout=20).ok:
                return cand
        except proc.ProcError:
            continue
    return None


@dataclass(frozen=True)
class Conflict:
    package: str
    requirement: str
    installed: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"package": self.package, "requirement": self.requirement, "installed": self.installed}


def _lock_failure(done: proc.Completed, name: str, offline: bool) -> OperationError:
    low = (done.stderr + done.stdout).lower()
    if any(w in low for w in _HASH_WORDS):
        return OperationError(
            "HASH_MISMATCH",
            f"a download does not match the hash in the lock ({done.last_error_line()}); the venv was left as it was",
            hint="if the lock was edited by hand, re-create it with `kernelenv lock`",
            installer=name,
            output=(done.stderr or done.stdout)[-4000:],
        )
    hint = "the cache lacks a locked file: run `kernelenv sync` once online" if offline else None
    return proc.failure(done, "INSTALL_FAILED", f"{name} sync", hint=hint, installer=name)


_NOT_FOUND = (  # how uv and pip say that the index has no package of that name
    re.compile(r"Because (\S+) was not found in the package registry"),
    re.compile(r"No matching distribution found for ([A-Za-z0-9._-]+)"),
)


def _install_checked(argv: list[str], name: str, requirements: list[str], **kw: object) -> None:
    """Run an install; INSTALL_FAILED names the package the index does not have (a typo, most often)."""
    done = _run(argv, name, **kw)
    if done.ok:
        return
    missing = next((m.group(1) for rx in _NOT_FOUND for m in [rx.search(done.stderr + done.stdout)] if m), None)
    hint = (
        f"no package named {missing!r} on the index: check its spelling (https://pypi.org/project/{missing}/)"
        if missing
        else None
    )
    raise proc.failure(done, "INSTALL_FAILED", f"{name} install", hint=hint, installer=name, requirements=requirements)


class Uv:
    name = "uv"

    def __init__(self, exe: str):
        self.exe = exe

    def _env(self, python: Path | None) -> dict[str, str]:
        env = {"UV_NO_PROGRESS": "1"}
        if python is not None:
            env["VIRTUAL_ENV"] = str(python.parent.parent)
        return env

    def install(self, python: Path, requirements: list[str], files: list[Path], *, on_line: OnLine | None = None) -> None:
        args = [*requirements, *(a for f in files for a in ("-r", str(f)))]
        if args:
            _install_checked(
                [self.exe, "pip", "install", "--python", str(python), *args],
                "uv",
                args,
                timeout=3600,
                on_line=on_line,
                env=self._env(python),
            )

    def install_lock(self, python: Path, lock: Path, *, exact: bool, offline: bool, on_line: OnLine | None = None) -> None:
        argv = [self.exe, "pip", "sync" if exact else "install", "--python", str(python), "--require-hashes"]
        argv += [str(lock)] if exact else ["--no-deps", "-r", str(lock)]
        if offline:
            argv.append("--offline")
        done = _run(argv, "uv", timeout=3600, on_line=on_line, env=self._env(python))
        if not done.ok:
            raise _lock_failure(done, "uv", offline)

    def uninstall(self, python: Path, names: list[str]) -> None:
        if names:
            proc.run_checked(
                [self.exe, "pip", "uninstall", "--python", str(python), *names],
                code="INSTALL_FAILED",
                what="uv uninstall",
                details={"installer": "uv"},
                timeout=600,
                env=self._env(python),
            )

    def seed_pip(self, python: Path) -> None:
        self.install(python, ["pip"], [])

    def check(self, python: Path) -> tuple[list[Conflict], str | None]:
        return _check([self.exe, "pip", "check", "--python", str(python)], self._env(None))

    def compile(
        self,
        lines: list[str],
        files: list[Path],
        *,
        python_version: str,
        python: Path | None,
        universal: bool = False,
        preferences: list[str] | None = None,
    ) -> list[lockfile.Pin]:
        """Exact pins with hashes for ``python_version`` on this platform; ``universal``: for every platform
        (Linux, macOS, Windows) and every Python from ``python_version`` up, under markers. ``preferences``
        (``name==version`` lines) are kept where they fit (uv reads an existing output file so)."""
        with tempfile.TemporaryDirectory(prefix="kernelenv-lock-") as tmp:
            req = Path(tmp) / "requirements.in"
            req.write_text("\n".join(lines + [f"-r {f}" for f in files]) + "\n", encoding="utf-8")
            out = Path(tmp) / "out.txt"
            if preferences:
                out.write_text("\n".join(preferences) + "\n", encoding="utf-8")
            argv = [
                self.exe,
                "pip",
                "compile",
                str(req),
                "-o",
                str(out),
                "--generate-hashes",
                "--python-version",
                python_version,
                "--no-header",
                "--no-annotate",
                "--quiet",
            ]
            if universal:
                argv.append("--universal")
            elif python is not None:
                argv += ["--python", str(python)]
            proc.run_checked(
                argv,
                code="RESOLVE_FAILED",
                what="uv pip compile" + (" --universal" if universal else ""),
                hint="a conflict between what is installed and what was asked for? see `kernelenv doctor`",
                details={"installer": "uv"},
                timeout=1800,
                env=self._env(None),
            )
            text = out.read_text(encoding="utf-8")
        return lockfile.parse_pins(text, out)

    def resolve_start(self, python: Path, short: str, requirements: list[str], files: list[Path], *, offline: bool) -> Resolving:
        """Start resolving what ``install`` would install into a new venv of the interpreter
        ``python`` (Python ``short``, X.Y) now, by uv's own index settings and HTTP cache rules;
        see Resolving.pins."""
        argv = [
            self.exe,
            "pip",
            "compile",
            "-",
            *(str(Path(f).absolute()) for f in files),
            "--python",
            str(python),
            "--generate-hashes",
            "--no-header",
            "--no-annotate",
            "--quiet",
        ]
        if offline:
            argv.append("--offline")
        try:
            running = proc.start(argv, timeout=1800, env=self._env(None), input="".join(f"{r}\n" for r in requirements))
        except proc.ProcError as exc:
            raise OperationError("RESOLVE_FAILED", f"uv pip compile could not run: {exc.reason}", installer="uv") from None
        return Resolving(running, short)

    def links_from_cache(self) -> bool:
        """Whether uv hard-links installed files from its cache (its default; UV_LINK_MODE says otherwise)."""
        import os

        return os.environ.get("UV_LINK_MODE", "hardlink").strip().lower() in ("", "hardlink")

    def identity(self) -> str:
        """What tells this uv from another without running it: its path, size and mtime."""
        import os

        real = os.path.realpath(self.exe)
        st = os.stat(real)
        return f"{real}:{st.st_size}:{st.st_mtime_ns}"

    def version(self) -> str:
        done = _run([self.exe, "--version"], "uv", timeout=20)
        return done.stdout.strip() or "uv"

    def has_wheel(self, requirement: str, *, python_version: str, offline: bool = False, timeout: float = 120) -> str | None:
        """None when ``requirement`` resolves for that Python and this platform; else the resolver's reason.

        A failure that is not about availability (no network) also gives None: not ours to judge.
        """
        argv = [
            self.exe,
            "pip",
            "compile",
            "-",
            "--python-version",
            python_version,
            "--no-deps",
            "--no-header",
            "--quiet",
            "--prerelease",
            "disallow",
        ]
        if offline:
            argv.append("--offline")
        plat = _uv_platform()
        if plat:
            argv += ["--python-platform", plat]
        try:
            done = proc.run(argv, timeout=timeout, input=requirement + "\n", env=self._env(None))
        except proc.ProcError:
            return None
        text = done.stderr + done.stdout
        if not done.ok and ("no wheels with a matching" in text or "unsatisfiable" in text or "requires-python" in text.lower()):
            return done.last_error_line()
        return None


class Resolving:
    """A resolution running beside the caller (``Uv.resolve_start``): ``pins()`` waits for its answer."""

    def __init__(self, running: proc.Running, python_version: str):
        self._running = running
        self._python_version = python_version

    def pins(self) -> list[lockfile.Pin]:
        """The exact pins (name==version with every hash the index lists for it); RESOLVE_FAILED
        when uv cannot resolve, LOCK_INVALID when a pin is not an index pin (a URL, a path)."""
        try:
            done = self._running.wait()
        except proc.ProcError as exc:
            raise OperationError("RESOLVE_FAILED", f"uv pip compile could not run: {exc.reason}", installer="uv") from None
        if not done.ok:
            raise proc.failure(done, "RESOLVE_FAILED", "uv pip compile", installer="uv")
        text = f"# kernelenv-lock: 1\n# python: {self._python_version}\n" + done.stdout
        return lockfile.loads(text, Path("uv-pip-compile-output.txt")).pins

    def done(self) -> bool:
        """Whether uv has answered (``pins`` then returns at once)."""
        return self._running.done()

    def cancel(self) -> None:
        self._running.kill()


class Pip:
    name = "pip"

    def _argv(self, python: Path, *args: str) -> list[str]:
        return [str(python), "-m", "pip", *args]

    def install(self, python: Path, requirements: list[str], files: list[Path], *, on_line: OnLine | None = None) -> None:
        args = [*requirements, *(a for f in files for a in ("-r", str(f)))]
        if args:
            _install_checked(
                self._argv(python, "install", "--disable-pip-version-check", "--progress-bar", "off", *args),
                "pip",
                args,
                timeout=3600,
                on_line=on_line,
            )

    def install_lock(self, python: Path, lock: Path, *, exact: bool, offline: bool, on_line: OnLine | None = None) -> None:
        argv = self._argv(
            python,
            "install",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "--require-hashes",
            "--no-deps",
            "-r",
            str(lock),
        )
        if offline:
            argv.append("--no-index")
        done = _run(argv, "pip", timeout=3600, on_line=on_line)
        if not done.ok:
            raise _lock_failure(done, "pip", offline)
        if exact:
            venv = python.parent.parent
            # pip stays, as uv's sync keeps it: a notebook's !pip must keep working
            extra = sorted(set(venvmod.installed(venv)) - set(lockfile.read(lock).by_name()) - {"pip"})
            self.uninstall(python, extra)

    def uninstall(self, python: Path, names: list[str]) -> None:
        if names:
            proc.run_checked(
                self._argv(python, "uninstall", "-y", *names),
                code="INSTALL_FAILED",
                what="pip uninstall",
                details={"installer": "pip"},
                timeout=600,
            )

    def seed_pip(self, python: Path) -> None:
        proc.run_checked(
            [str(python), "-m", "ensurepip", "--default-pip"],
            code="VENV_CREATE_FAILED",
            what=f"ensurepip in {python.parent.parent}",
            timeout=300,
        )

    def check(self, python: Path) -> tuple[list[Conflict], str | None]:
        return _check(self._argv(python, "check", "--disable-pip-version-check"), {})

    def compile(
        self,
        lines: list[str],
        files: list[Path],
        *,
        python_version: str,
        python: Path | None,
        universal: bool = False,
        preferences: list[str] | None = None,
    ) -> list[lockfile.Pin]:
        if universal:
            raise OperationError(
                "UNIVERSAL_NEEDS_UV",
                "pip resolves only for the interpreter it runs in, not for every platform",
                hint="drop --installer pip (kernelenv uses uv, a dependency of kernelenv)",
                installer="pip",
            )
        if python is None:
            raise OperationError("RESOLVE_FAILED", "pip resolves only for an interpreter it runs in", installer="pip")
        with tempfile.TemporaryDirectory(prefix="kernelenv-lock-") as tmp:
            report = Path(tmp) / "report.json"
            argv = self._argv(
                python,
                "install",
                "--dry-run",
                "--ignore-installed",
                "--quiet",
                "--disable-pip-version-check",
                "--report",
                str(report),
                *lines,
                *(a for f in files for a in ("-r", str(f))),
            )
            proc.run_checked(
                argv, code="RESOLVE_FAILED", what="pip install --dry-run", details={"installer": "pip"}, timeout=1800
            )
            data = json.loads(report.read_text(encoding="utf-8"))
        pins = []
        for item in data.get("install", []):
            meta = item.get("metadata", {})
            hashes = (item.get("download_info", {}).get("archive_info") or {}).get("hashes") or {}
            if "sha256" not in hashes:
                raise OperationError(
                    "RESOLVE_FAILED", f"pip gave no hash for {meta.get('name')}; install uv for `kernelenv lock`", installer="pip"
                )
            pins.append(lockfile.Pin(meta["name"], meta["version"], [f"sha256:{hashes['sha256']}"]))
        return pins

    def version(self) -> str:
        return "pip"

    def has_wheel(self, requirement: str, *, python_version: str, offline: bool = False, timeout: float = 120) -> str | None:
        return None  # pip cannot answer without installing: the install itself says


Backend = Union[Uv, Pip]


def choose(preferred: str) -> Backend:
    """The backend for ``auto``, ``uv`` or ``pip``; INSTALLER_UNAVAILABLE for a forced uv that cannot run."""
    if preferred == "pip":
        return Pip()
    uv = uv_binary()
    if uv:
        return Uv(uv)
    if preferred == "uv":
        raise OperationError(
            "INSTALLER_UNAVAILABLE", "uv was asked for (--installer uv) but cannot run here", hint="use --installer pip"
        )
    return Pip()


def for_venv(preferred: str, venv: Path) -> Backend:
    """``choose``, where ``auto`` keeps the installer the venv was made with (its mark says)."""
    recorded = (venvmod.read_mark(venv) or {}).get("installer")
    return choose(recorded if preferred == "auto" and recorded in INSTALLERS else preferred)


def freeze(venv: Path) -> tuple[list[str], list[str]]:
    """(``name==version`` of each installed distribution, names skipped as not from an index)."""
    pins, skipped = [], []
    for name, version, info in venvmod.dist_infos(venv):
        if (info / "direct_url.json").exists():  # editable or local: not resolvable from an index
            skipped.append(name)
        else:
            pins.append(f"{name}=={version}")
    return pins, skipped


def _run(argv: list[str], name: str, **kw: object) -> proc.Completed:
    try:
        return proc.run(argv, **kw)  # type: ignore[arg-type]
    except proc.ProcError as exc:
        raise OperationError("INSTALL_FAILED", f"{name} could not run: {exc.reason}", installer=name) from None


_PIP_HAS = r"^(?P<pkg>\S+) (?P<ver>\S+) has requirement (?P<req>.+), but you have (?P<dep>\S+) (?P<have>\S+)\.$"
_PIP_MISSING = r"^(?P<pkg>\S+) (?P<ver>\S+) requires (?P<req>.+), which is not installed\.$"
_UV_HAS = r"^The package `(?P<pkg>[^`]+)` requires `(?P<req>[^`]+)`, but `(?P<have>[^`]+)` is installed"
_UV_MISSING = r"^The package `(?P<pkg>[^`]+)` requires `(?P<req>[^`]+)`, but it's not installed"


def _check(argv: list[str], env: dict[str, str]) -> tuple[list[Conflict], str | None]:
    """``pip check``'s conflicts, and why the check could not run (never raises)."""
    import re

    try:
        done = proc.run(argv, timeout=120, env=env)
    except proc.ProcError as exc:
        return [], exc.reason
    found = []
    for line in (done.stdout + "\n" + done.stderr).splitlines():
        line = line.strip()
        m = re.match(_PIP_HAS, line) or re.match(_UV_HAS, line)
        if m:
            found.append(Conflict(m["pkg"], m["req"], m["have"]))
            continue
        m = re.match(_PIP_MISSING, line) or re.match(_UV_MISSING, line)
        if m:
            found.append(Conflict(m["pkg"], m["req"], None))
    if not done.ok and not found:
        return [], done.last_error_line()
    return found, None


def _uv_platform() -> str | None:
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}.get(machine)
    if arch is None:
        return None
    if sys.platform.startswith("linux"):
        return f"{arch}-unknown-linux-gnu"
    if sys.platform == "darwin":
        return f"{arch}-apple-darwin"
    if sys.platform == "win32":
        return f"{arch}-pc-windows-msvc"
    return None


def install_command(python: Path, requirements_: list[str]) -> str:
    """A command a user can paste to install ``requirements_`` into ``python``'s environment."""
    import shlex

    args = " ".join(shlex.quote(r) for r in requirements_)
    if (python.parent / "pip").exists():
        return f"{shlex.quote(str(python))} -m pip install {args}"
    return f"{shlex.quote(uv_binary() or 'uv')} pip install --python {shlex.quote(str(python))} {args}"
