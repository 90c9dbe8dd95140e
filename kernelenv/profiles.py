"""Profiles: named package sets for ``create --profile`` (minimal, data, dl).

Contract:
- ``packages(profile, gpu=...)`` is pure: the requirements a profile adds to ipykernel.
  ``dl`` means ``tensorflow-cpu`` without an NVIDIA GPU and ``tensorflow[and-cuda]`` with one.
- ``compose(profile_pkgs, user_pkgs)`` merges them; what the user names wins (``--with
  tensorflow==2.20`` replaces the profile's TensorFlow, whichever variant it was).
- ``check_available(...)`` asks uv's resolver (answered from its cache when warm)
  whether each profile package has a wheel for that Python and platform, and raises
  PROFILE_UNAVAILABLE with the reason when one has none. Nothing is installed.
- ``has_nvidia_gpu()`` is True when ``nvidia-smi -L`` lists a GPU.
"""
from __future__ import annotations

import platform
import shutil
import sys

from . import proc
from .result import OperationError

PROFILES = ("minimal", "data", "dl")
DESCRIPTIONS = {
    "minimal": "ipykernel alone",
    "data": "numpy and pandas",
    "dl": "numpy, pandas and TensorFlow (tensorflow-cpu, or tensorflow[and-cuda] with an NVIDIA GPU)",
}
DATA = ["numpy", "pandas"]
TF_CPU = "tensorflow-cpu"
TF_CUDA = "tensorflow[and-cuda]"
# Distributions that all provide the ``tensorflow`` module: one of them is enough, two conflict.
TF_FAMILY = ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tensorflow-intel", "tf-nightly", "tf-nightly-cpu")


def packages(profile: str | None, *, gpu: bool = False) -> list[str]:
    """Requirements the profile adds (ipykernel is always installed and not listed)."""
    if profile is None or profile == "minimal":
        return []
    if profile == "data":
        return list(DATA)
    if profile == "dl":
        return [*DATA, TF_CUDA if gpu and sys.platform.startswith("linux") else TF_CPU]
    raise OperationError(
        "USAGE", f"unknown profile {profile!r}", hint="choose one of: " + ", ".join(PROFILES), profile=profile
    )


def _name(req: str) -> str | None:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        return canonicalize_name(Requirement(req).name)
    except InvalidRequirement:
        return None


def compose(profile_pkgs: list[str], user_pkgs: list[str]) -> list[str]:
    """Profile packages the user did not name themselves, then the user's own, in order."""
    named = {n for n in map(_name, user_pkgs) if n}
    if named & set(TF_FAMILY):
        named |= set(TF_FAMILY)
    kept = [p for p in profile_pkgs if _name(p) not in named]
    return [*kept, *user_pkgs]


def has_nvidia_gpu() -> bool:
    """Whether ``nvidia-smi -L`` runs and lists at least one GPU."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return False
    try:
        done = proc.run([exe, "-L"], timeout=20)
    except proc.ProcError:
        return False
    return done.ok and any(line.startswith("GPU ") for line in done.stdout.splitlines())


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


def check_available(
    profile: str | None,
    reqs: list[str],
    *,
    python_version: str,
    implementation: str = "CPython",
    uv: str | None,
    offline: bool = False,
    timeout: float = 120,
) -> None:
    """Raise PROFILE_UNAVAILABLE when a profile requirement has no wheel for this Python.

    Only profiles that bring more than pure-Python-friendly packages are checked (``dl``):
    numpy and pandas exist for every Python kernelenv supports. Without uv the check is
    skipped and the installer reports a failure itself.
    """
    tf = [r for r in reqs if _name(r) in TF_FAMILY]
    if profile != "dl" or not tf:
        return
    short = ".".join(python_version.split(".")[:2])
    fix = "choose a Python TensorFlow supports with --python (for example 3.12), or use --profile data"
    if implementation != "CPython":
        raise OperationError(
            "PROFILE_UNAVAILABLE",
            f"profile dl needs TensorFlow, which has no wheels for {implementation} {short}",
            hint=fix,
            profile=profile,
            python=python_version,
            package=tf[0],
        )
    if uv is None:
        return
    argv = [uv, "pip", "compile", "-", "--python-version", python_version, "--no-deps", "--no-header",
            "--quiet", "--prerelease", "disallow"]
    if offline:
        argv.append("--offline")
    plat = _uv_platform()
    if plat:
        argv += ["--python-platform", plat]
    for req in tf:
        try:
            done = proc.run(argv, timeout=timeout, input=req + "\n", env={"UV_NO_PROGRESS": "1"})
        except proc.ProcError:
            return  # cannot ask (no network, slow index): let the installer decide
        if done.ok:
            continue
        text = done.stderr + done.stdout
        if "no wheels with a matching" in text or "unsatisfiable" in text or "requires-python" in text.lower():
            raise OperationError(
                "PROFILE_UNAVAILABLE",
                f"profile dl needs {req}, which has no wheel for Python {short} on this platform",
                hint=fix,
                profile=profile,
                python=python_version,
                package=req,
                resolver=done.last_error_line(),
            )
        return  # another failure (network): not our verdict to give
