"""lock: write ``PROJECT/kernelenv.lock``, exact pins with hashes for every package.

What is locked: what the project's venv holds now (``pip freeze``: each installed
distribution at its installed version, so the lock shares the env as it is), plus
ipykernel and pip, plus ``--with``/``-r``; with no venv, just those. Resolved by
``uv pip compile --generate-hashes --python-version X.Y``; pip fallback: ``pip install
--dry-run --report`` (one hash per package, for this platform). Nothing is installed.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from .. import __version__, lockfile, proc, projectfile, pythons
from .. import installer as inst
from .. import venv as venvmod
from ..context import Context
from . import common
from ..result import OperationError, Result

ALWAYS = ["ipykernel", "pip"]


def _freeze(venv: Path) -> tuple[list[str], list[str]]:
    """(``name==version`` of each installed distribution, names skipped as not from an index)."""
    pins, skipped = [], []
    for sp in venvmod.site_packages(venv):
        for d in sorted(sp.glob("*.dist-info")):
            m = venvmod._DIST_RE.match(d.name)
            if not m:
                continue
            if (d / "direct_url.json").exists():  # editable or local: not resolvable from an index
                skipped.append(m["name"])
                continue
            pins.append(f"{m['name']}=={m['version']}")
    return pins, skipped


def requested(venv: Path, packages: list[str]) -> tuple[list[str], list[str]]:
    """The requirement lines to resolve and the distributions left out."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    named = set()
    for p in packages:
        try:
            named.add(canonicalize_name(Requirement(p).name))
        except InvalidRequirement:
            raise OperationError("USAGE", f"{p!r} is not a valid requirement", requirement=p) from None
    lines = list(packages)
    skipped: list[str] = []
    if venvmod.is_venv(venv):  # what is installed stays at its version, unless asked otherwise
        frozen, skipped = _freeze(venv)
        kept = [f for f in frozen if canonicalize_name(f.split("==")[0]) not in named]
        lines += kept
        named |= {canonicalize_name(f.split("==")[0]) for f in kept}
    lines += [a for a in ALWAYS if a not in named]
    return lines, skipped


def resolve_uv(uv: str, lines: list[str], files: list[Path], python_version: str, python: Path | None) -> tuple[list[lockfile.Pin], str]:
    with tempfile.TemporaryDirectory(prefix="kernelenv-lock-") as tmp:
        req = Path(tmp) / "requirements.in"
        req.write_text("\n".join(lines + [f"-r {f}" for f in files]) + "\n", encoding="utf-8")
        out = Path(tmp) / "out.txt"
        argv = [uv, "pip", "compile", str(req), "-o", str(out), "--generate-hashes", "--python-version", python_version,
                "--no-header", "--no-annotate", "--quiet"]
        if python is not None:
            argv += ["--python", str(python)]
        _run(argv, "uv")
        pins = lockfile.loads(f"# kernelenv-lock: 1\n# python: {python_version}\n" + out.read_text(encoding="utf-8"), out).pins
    version = proc.run([uv, "--version"], timeout=20).stdout.strip()
    return pins, version or "uv"


def resolve_pip(python: Path, lines: list[str], files: list[Path]) -> tuple[list[lockfile.Pin], str]:
    with tempfile.TemporaryDirectory(prefix="kernelenv-lock-") as tmp:
        report = Path(tmp) / "report.json"
        argv = [str(python), "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--disable-pip-version-check",
                "--report", str(report), *lines]
        for f in files:
            argv += ["-r", str(f)]
        _run(argv, "pip")
        data = json.loads(report.read_text(encoding="utf-8"))
    pins = []
    for item in data.get("install", []):
        meta = item.get("metadata", {})
        hashes = (item.get("download_info", {}).get("archive_info") or {}).get("hashes") or {}
        if "sha256" not in hashes:
            raise OperationError("RESOLVE_FAILED", f"pip gave no hash for {meta.get('name')}; install uv for `kernelenv lock`", installer="pip")
        pins.append(lockfile.Pin(meta["name"], meta["version"], [f"sha256:{hashes['sha256']}"]))
    return pins, f"pip {data.get('pip_version', '')}".strip()


def _run(argv: list[str], installer: str) -> proc.Completed:
    try:
        done = proc.run(argv, timeout=1800, env={"UV_NO_PROGRESS": "1"})
    except proc.ProcError as exc:
        raise OperationError("INSTALL_FAILED", f"{installer} could not run: {exc.reason}", installer=installer) from None
    if not done.ok:
        raise OperationError(
            "RESOLVE_FAILED",
            f"{installer} could not resolve the packages: {done.last_error_line()}",
            hint="a conflict between what is installed and what was asked for? see `kernelenv doctor`",
            installer=installer,
            output=(done.stderr or done.stdout)[-4000:],
        )
    return done


def run(ctx: Context, packages: list[str], requirement_files: list[Path], *, profile: str | None = None) -> Result:
    t0 = time.monotonic()
    project = ctx.project
    common.require_project(ctx)
    from .create import CreateOptions, with_profile_packages

    # the project file's packages, requirements files and python count as asked for
    merged, python_spec, _ = projectfile.apply(project, CreateOptions(packages=list(packages), requirement_files=list(requirement_files), profile=profile), ctx.python)
    packages, requirement_files = with_profile_packages(merged), merged.requirement_files
    for f in requirement_files:
        if not f.is_file():
            raise OperationError("REQUIREMENTS_NOT_FOUND", f"requirements file {f} does not exist", path=f)
    venv = ctx.venv
    venv_python = venvmod.python_of(venv)
    if venvmod.is_venv(venv) and os.path.exists(venv_python) and not ctx.python:
        info = pythons.probe(venv_python)
        python: Path | None = venv_python
    else:
        info = pythons.resolve(python_spec, cache_dir=ctx.cache_dir)
        python = Path(info.path)
    lines, skipped = requested(venv, packages)
    name, uv = inst.choose(ctx.installer)
    ctx.progress("lock", f"resolving {len(lines)} requirements for Python {info.short} with {name}", 1, 2)
    if name == "uv":
        pins, resolver = resolve_uv(uv, lines, requirement_files, info.short, python)
    else:
        pins, resolver = resolve_pip(python, lines, requirement_files)
    lock = lockfile.Lock(
        info.short,
        pins,
        requested=[*ALWAYS, *packages, *(f"-r {f.name}" for f in requirement_files)],
        meta={
            "implementation": info.implementation,
            "platform": sys.platform,
            "resolver": resolver,
            "kernelenv": __version__,
            "created": venvmod.now(),
        },
    )
    path = lockfile.path_in(project)
    old = path.read_text(encoding="utf-8", errors="replace") if path.exists() else None
    changed = old is None or _body(old) != _body(lock.dumps())
    if changed:
        ctx.progress("lock", f"writing {path}", 2, 2)
        lockfile.write(path, lock)
    return Result(
        "lock",
        {
            "project": project,
            "lock": path,
            "python": info.short,
            "installer": name,
            "packages": [{"name": p.name, "version": p.version} for p in sorted(pins, key=lambda p: p.canonical)],
            "skipped": skipped,
            "changed": changed,
            "durations": {"total": round(time.monotonic() - t0, 3)},
        },
    )


def _body(text: str) -> list[str]:
    """The lock without its 'created' line: re-locking the same set is not a change."""
    return [ln for ln in text.splitlines() if not ln.startswith("# created:")]
