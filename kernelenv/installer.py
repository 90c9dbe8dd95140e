"""Installing packages into a venv: uv, or pip, behind one function.

A plain table of two backends. ``auto`` means uv when it can run, else pip.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from . import proc
from .result import OperationError

INSTALLERS = ("uv", "pip")


def uv_binary() -> str | None:
    """uv from the PyPI package kernelenv depends on, else uv on PATH, if it runs."""
    candidates = []
    try:
        from uv import find_uv_bin

        candidates.append(find_uv_bin())
    except Exception:  # the uv package is missing or broken: fall back
        pass
    if shutil.which("uv"):
        candidates.append(shutil.which("uv"))
    for cand in candidates:
        try:
            if proc.run([cand, "--version"], timeout=20).ok:
                return cand
        except proc.ProcError:
            continue
    return None


def choose(preferred: str) -> tuple[str, str | None]:
    """(installer name, uv binary or None). Raises INSTALLER_UNAVAILABLE for a forced uv that cannot run."""
    if preferred == "pip":
        return "pip", None
    uv = uv_binary()
    if uv:
        return "uv", uv
    if preferred == "uv":
        raise OperationError("INSTALLER_UNAVAILABLE", "uv was asked for (--installer uv) but cannot run here", hint="use --installer pip")
    return "pip", None


def _uv_argv(uv: str | None, python: Path, args: list[str]) -> list[str]:
    return [uv or "uv", "pip", "install", "--python", str(python), *args]


def _pip_argv(uv: str | None, python: Path, args: list[str]) -> list[str]:
    return [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off", *args]


_ARGV = {"uv": _uv_argv, "pip": _pip_argv}


def install(
    installer: str,
    uv: str | None,
    python: Path,
    requirements: list[str],
    requirement_files: list[Path],
    *,
    on_line: Callable[[str], None] | None = None,
    timeout: float = 3600,
) -> None:
    """Install into the interpreter ``python``. Raises INSTALL_FAILED with the installer's own reason."""
    args = list(requirements)
    for f in requirement_files:
        args += ["-r", str(f)]
    if not args:
        return
    argv = _ARGV[installer](uv, python, args)
    env = {"VIRTUAL_ENV": str(python.parent.parent)} if installer == "uv" else {}
    if installer == "uv":
        env["UV_NO_PROGRESS"] = "1"
    try:
        done = proc.run(argv, timeout=timeout, on_line=on_line, env=env)
    except proc.ProcError as exc:
        raise OperationError("INSTALL_FAILED", f"{installer} could not run: {exc.reason}", installer=installer) from None
    if not done.ok:
        why = done.last_error_line()
        if "No space left on device" in done.stderr + done.stdout:  # uv and pip bury it under a cause line
            why = f"no space left on device ({why})"
        raise OperationError(
            "INSTALL_FAILED",
            f"{installer} install failed: {why}",
            installer=installer,
            requirements=args,
            output=(done.stderr or done.stdout)[-4000:],
        )
