"""Interpreters: probing one (a single subprocess) and resolving what --python asks for."""
from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from . import proc
from .result import OperationError

MIN_VERSION = (3, 8)

_PROBE = (
    "import json, sys, platform, importlib.util as u;"
    "print(json.dumps({'executable': sys.executable, 'version': list(sys.version_info[:3]),"
    " 'implementation': platform.python_implementation(), 'prefix': sys.prefix,"
    " 'base_prefix': getattr(sys, 'base_prefix', sys.prefix),"
    " 'has_venv': u.find_spec('venv') is not None and u.find_spec('ensurepip') is not None}))"
)


@dataclass(frozen=True)
class PythonInfo:
    path: str  # the path as given (not resolved: a venv's python is a symlink)
    version: tuple[int, int, int]
    implementation: str
    prefix: str
    base_prefix: str
    has_venv: bool

    @property
    def short(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def version_str(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def in_venv(self) -> bool:
        return self.prefix != self.base_prefix

    def to_json(self) -> dict:
        d = asdict(self)
        d["version"] = self.version_str
        return d


def probe(path: str | os.PathLike) -> PythonInfo:
    """Ask an interpreter about itself. Raises PYTHON_NOT_FOUND / PYTHON_UNSUPPORTED."""
    path = os.fspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise OperationError("PYTHON_NOT_FOUND", f"no interpreter at {path}", path=path)
    try:
        done = proc.run([path, "-I", "-c", _PROBE], timeout=60)
    except proc.ProcError as exc:
        raise OperationError("PYTHON_NOT_FOUND", f"{path} could not be run: {exc.reason}", path=path) from None
    if not done.ok:
        first = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if "SyntaxError" in done.stderr or "invalid syntax" in done.stderr:
            raise OperationError(
                "PYTHON_UNSUPPORTED",
                f"{path} is not a Python 3 interpreter kernelenv supports (oldest: {'.'.join(map(str, MIN_VERSION))})",
                path=path,
            )
        raise OperationError("PYTHON_NOT_FOUND", f"{path} is not a working Python interpreter: {first}", path=path)
    try:
        d = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise OperationError("PYTHON_NOT_FOUND", f"{path} did not answer like a Python interpreter", path=path) from None
    info = PythonInfo(
        path=path,
        version=tuple(d["version"]),
        implementation=d["implementation"],
        prefix=d["prefix"],
        base_prefix=d["base_prefix"],
        has_venv=bool(d["has_venv"]),
    )
    check_supported(info)
    return info


def check_supported(info: PythonInfo) -> None:
    if info.version[:2] < MIN_VERSION:
        raise OperationError(
            "PYTHON_UNSUPPORTED",
            f"Python {info.version_str} at {info.path} is too old: the oldest supported is "
            f"{'.'.join(map(str, MIN_VERSION))}",
            path=info.path,
            version=info.version_str,
        )


def resolve(spec: str | None) -> PythonInfo:
    """What ``--python`` names: None (the running interpreter), a path, or a version."""
    if spec is None:
        return probe(sys.executable)
    if os.sep in spec or spec.startswith("."):
        return probe(os.path.abspath(os.path.expanduser(spec)))
    found = shutil.which(spec)
    if found and not spec[0].isdigit():
        return probe(found)
    for cand in _version_candidates(spec):
        if os.path.isfile(cand):
            return probe(cand)
    raise OperationError("PYTHON_NOT_FOUND", f"no interpreter found for --python {spec}", spec=spec)


def _version_candidates(spec: str) -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    out = []
    if root.is_dir():
        for d in sorted(root.iterdir(), reverse=True):
            if d.name == spec or d.name.startswith(spec + "."):
                out.append(str(d / "bin" / "python"))
    for name in (f"python{spec}",):
        w = shutil.which(name)
        if w:
            out.append(w)
    return out
