"""Profiles: named package sets for ``create --profile`` (minimal, data, dl).

Contract:
- ``packages(profile, gpu=...)`` is pure: the requirements a profile adds to ipykernel.
  ``dl`` means ``tensorflow-cpu`` without an NVIDIA GPU and ``tensorflow[and-cuda]`` with one.
- ``compose(profile_pkgs, user_pkgs)`` merges them; what the user names wins (``--with
  tensorflow==2.20`` replaces the profile's TensorFlow, whichever variant it was).
- ``check_available(...)`` asks the installer backend whether each profile package has a
  wheel for that Python and platform, and raises PROFILE_UNAVAILABLE with the reason when one
  has none. Nothing is installed.
- ``has_nvidia_gpu()`` is True when ``nvidia-smi -L`` lists a GPU.
"""

from __future__ import annotations

import shutil
import sys
from typing import TYPE_CHECKING

from . import proc
from .result import OperationError

if TYPE_CHECKING:
    from .installer import Backend

PROFILES = ("minimal", "data", "dl")
DATA = ["numpy", "pandas"]
TF_CPU = "tensorflow-cpu"
TF_CUDA = "tensorflow[and-cuda]"
# Distributions that all provide the ``tensorflow`` module: one of them is enough, two conflict.
TF_FAMILY = (
    "tensorflow",
    "tensorflow-cpu",
    "tensorflow-gpu",
    "tensorflow-macos",
    "tensorflow-intel",
    "tf-nightly",
    "tf-nightly-cpu",
)


def packages(profile: str | None, *, gpu: bool = False) -> list[str]:
    """Requirements the profile adds (ipykernel is always installed and not listed)."""
    if profile is None or profile == "minimal":
        return []
    if profile == "data":
        return list(DATA)
    if profile == "dl":
        return [*DATA, TF_CUDA if gpu and sys.platform.startswith("linux") else TF_CPU]
    raise OperationError("USAGE", f"unknown profile {profile!r}", hint="choose one of: " + ", ".join(PROFILES), profile=profile)


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


def with_profile(requested: list[str], profile: str | None) -> list[str]:
    """``requested`` with the profile's packages composed in (what the user names wins)."""
    if not profile:
        return list(requested)
    return compose(packages(profile, gpu=profile == "dl" and has_nvidia_gpu()), requested)


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


def check_available(
    profile: str | None,
    reqs: list[str],
    *,
    python_version: str,
    implementation: str = "CPython",
    backend: Backend,
    offline: bool = False,
) -> None:
    """Raise PROFILE_UNAVAILABLE when a profile requirement has no wheel for this Python.

    Only profiles that bring more than pure-Python-friendly packages are checked (``dl``):
    numpy and pandas exist for every Python kernelenv supports. The installer backend answers
    (uv's resolver, from its cache when warm; pip cannot say, and the install reports it).
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
    for req in tf:
        why = backend.has_wheel(req, python_version=python_version, offline=offline)
        if why is not None:
            raise OperationError(
                "PROFILE_UNAVAILABLE",
                f"profile dl needs {req}, which has no wheel for Python {short} on this platform",
                hint=fix,
                profile=profile,
                python=python_version,
                package=req,
                resolver=why,
            )
