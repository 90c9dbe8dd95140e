"""Interpreters: finding every Python on the machine, probing one, resolving ``--python``.

Contract:
- ``discover(cache_dir)`` lists interpreters from pyenv, asdf, mise, uv, a conda base,
  ``python3``/``python3.X`` on PATH, ``/usr/bin`` and ``/usr/local/bin``; version-manager
  shims are resolved to the installs they run; duplicates are removed by real path.
- Facts come from one probe per interpreter (one subprocess) and are cached under
  ``cache_dir/pythons.json`` (kernelenv's private folder: a loose one is CACHE_UNSAFE, as for
  its other caches; the file is written atomically, 0600) keyed by real path, checked against the binary's stat and
  the stdlib's ``venv``/``ensurepip`` files: a warm call spawns nothing, a removed or
  upgraded interpreter is noticed and re-probed.
- ``resolve(spec)`` turns what ``--python`` says (``3.12``, ``3.12.1``, ``>=3.10``,
  ``cpython3.9``, a path, or None for the running interpreter) into a PythonInfo, the
  newest match; PYTHON_NOT_FOUND lists what exists, PYTHON_UNSUPPORTED names MIN_VERSION.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import files, proc
from .result import OperationError

MIN_VERSION = (3, 7)
# When each CPython X.Y had its last release (its end of life, from python.org's release PEPs:
# 537, 569, 596, 619, 664, 693, 719), as (year, month). Past it, ``create`` says so in one line.
END_OF_LIFE = {
    (3, 7): (2023, 6),
    (3, 8): (2024, 10),
    (3, 9): (2025, 10),
    (3, 10): (2026, 10),
    (3, 11): (2027, 10),
    (3, 12): (2028, 10),
    (3, 13): (2029, 10),
}
CACHE_FILE = "pythons.json"
_CACHE_VERSION = 1

# Runs on Python 2.7 too, so that discovery can list (and reject) old interpreters.
_PROBE = r"""
import json, os, platform, sys, sysconfig
def has(m):
    try:
        import importlib.util as u
        return u.find_spec(m) is not None
    except ImportError:
        import imp
        try:
            imp.find_module(m)
            return True
        except ImportError:
            return False
print(json.dumps({'executable': sys.executable, 'version': list(sys.version_info[:3]),
 'implementation': platform.python_implementation(), 'prefix': sys.prefix,
 'base_prefix': getattr(sys, 'base_prefix', sys.prefix),
 'stdlib': sysconfig.get_path('stdlib'),
 'has_venv': has('venv') and has('ensurepip')}))
"""


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

    @property
    def supported(self) -> bool:
        return self.version[0] == 3 and self.version[:2] >= MIN_VERSION

    def to_json(self) -> dict:
        d = asdict(self)
        d["version"] = self.version_str
        return d


_MIN = ".".join(map(str, MIN_VERSION))


# probing -------------------------------------------------------------------------------
def _probe_raw(path: str, timeout: float = 60) -> dict:
    """One subprocess: the interpreter's facts as a dict. Raises PYTHON_NOT_FOUND."""
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise OperationError("PYTHON_NOT_FOUND", f"no interpreter at {path}", path=path)
    try:
        # -E -s rather than -I: Python 2.7 has no -I; cwd "/" keeps a stray json.py off sys.path.
        done = proc.run([path, "-E", "-s", "-c", _PROBE], timeout=timeout, cwd="/")
    except proc.ProcError as exc:
        raise OperationError("PYTHON_NOT_FOUND", f"{path} could not be run: {exc.reason}", path=path) from None
    if not done.ok:
        first = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if "SyntaxError" in done.stderr or "invalid syntax" in done.stderr:
            raise OperationError(
                "PYTHON_UNSUPPORTED",
                f"{path} is not a Python 3 interpreter kernelenv supports (oldest: {_MIN})",
                path=path,
            )
        raise OperationError("PYTHON_NOT_FOUND", f"{path} is not a working Python interpreter: {first}", path=path)
    try:
        d: dict = json.loads(done.stdout.strip().splitlines()[-1])
        d["version"] = [int(x) for x in d["version"]]
    except (ValueError, IndexError, KeyError, TypeError):
        raise OperationError("PYTHON_NOT_FOUND", f"{path} did not answer like a Python interpreter", path=path) from None
    return d


def _info(path: str, d: dict) -> PythonInfo:
    return PythonInfo(
        path=path,
        version=tuple(d["version"]),
        implementation=d["implementation"],
        prefix=d["prefix"],
        base_prefix=d["base_prefix"],
        has_venv=bool(d["has_venv"]),
    )


def probe(path: str | os.PathLike) -> PythonInfo:
    """Ask an interpreter about itself (always spawns). Raises PYTHON_NOT_FOUND / PYTHON_UNSUPPORTED."""
    path = os.fspath(path)
    info = _info(path, _probe_raw(path))
    check_supported(info)
    return info


def check_supported(info: PythonInfo) -> None:
    if not info.supported:
        raise OperationError(
            "PYTHON_UNSUPPORTED",
            f"Python {info.version_str} at {info.path} is too old: the oldest supported is {_MIN}",
            hint=f"choose Python {_MIN} or newer with --python (see `kernelenv pythons`)",
            path=info.path,
            version=info.version_str,
            oldest_supported=_MIN,
        )


def end_of_life(info: PythonInfo, today: tuple[int, int] | None = None) -> str | None:
    """``YYYY-MM`` when ``info`` is a CPython past its end of life (as of ``today``: (year, month)), else None."""
    eol = END_OF_LIFE.get((info.version[0], info.version[1])) if info.implementation == "CPython" else None
    if eol is None:
        return None
    if today is None:
        from datetime import date

        now = date.today()
        today = (now.year, now.month)
    return f"{eol[0]}-{eol[1]:02d}" if today > eol else None


def end_of_life_note(info: PythonInfo, today: tuple[int, int] | None = None) -> str | None:
    """The one line ``create`` prints for an interpreter past its end of life (None otherwise)."""
    when = end_of_life(info, today)
    if when is None:
        return None
    return (
        f"note: Python {info.short} reached its end of life in {when} and gets no security fixes; "
        "kernelenv supports it, but a newer Python is safer (see `kernelenv pythons`)"
    )


def current() -> PythonInfo:
    """The interpreter running kernelenv, without spawning anything."""
    import importlib.util as u

    return PythonInfo(
        path=sys.executable,
        version=(sys.version_info[0], sys.version_info[1], sys.version_info[2]),
        implementation=__import__("platform").python_implementation(),
        prefix=sys.prefix,
        base_prefix=getattr(sys, "base_prefix", sys.prefix),
        has_venv=u.find_spec("venv") is not None and u.find_spec("ensurepip") is not None,
    )


# discovery -----------------------------------------------------------------------------
@dataclass
class Found:
    """One interpreter on the machine: its facts (or why it could not be probed) and where it was seen."""

    path: str
    real_path: str
    sources: list[str] = field(default_factory=list)
    info: PythonInfo | None = None
    error: str | None = None

    @property
    def can_venv(self) -> bool:
        # kernelenv makes venvs with virtualenv, which handles any supported CPython/PyPy 3 from
        # 3.8 on even without the stdlib venv module (Debian without python3-venv); older ones
        # need their own venv module (kernelenv/venv.py).
        from .venv import VIRTUALENV_OLDEST

        i = self.info
        return i is not None and (i.has_venv or (i.supported and i.version[:2] >= VIRTUALENV_OLDEST))

    def to_json(self) -> dict:
        i = self.info
        return {
            "version": i.version_str if i else None,
            "implementation": i.implementation if i else None,
            "path": self.path,
            "real_path": self.real_path,
            "source": self.sources[0] if self.sources else None,
            "found_in": list(self.sources),
            "venv_module": bool(i and i.has_venv),
            "can_venv": self.can_venv,
            "supported": bool(i and i.supported),
            "error": self.error,
        }


_NAME_RE = re.compile(r"^(python3(\.\d+)?|pypy3(\.\d+)?)$")


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or Path.home())


def _data_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("XDG_DATA_HOME") or _home(env) / ".local" / "share")


def _pyenv_root(env: Mapping[str, str]) -> Path:
    return Path(env.get("PYENV_ROOT") or _home(env) / ".pyenv")


def _asdf_root(env: Mapping[str, str]) -> Path:
    return Path(env.get("ASDF_DATA_DIR") or _home(env) / ".asdf")


def _mise_root(env: Mapping[str, str]) -> Path:
    return Path(env.get("MISE_DATA_DIR") or _data_home(env) / "mise")


def _uv_root(env: Mapping[str, str]) -> Path:
    return Path(env.get("UV_PYTHON_INSTALL_DIR") or _data_home(env) / "uv" / "python")


def _install_python(prefix: Path) -> str | None:
    """The interpreter of an install prefix (not of a venv: those are not installs)."""
    if (prefix / "pyvenv.cfg").exists():
        return None
    for name in ("python3", "python", "pypy3"):
        p = prefix / "bin" / name
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return str(p)
    return None


def _installs(root: Path) -> list[str]:
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    return [p for p in (_install_python(root / n) for n in names) if p]


def _shim_targets(path: str, env: Mapping[str, str]) -> list[tuple[str, str]] | None:
    """(source, interpreter) a version-manager shim can run, or None when ``path`` is no shim."""
    name = os.path.basename(path)
    real = os.path.realpath(path)
    if os.path.basename(real) == "mise" or real.endswith("/mise"):
        return [("mise", p) for p in _named(_mise_root(env) / "installs" / "python", name)]
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    text = head.decode("utf-8", "replace")
    m = re.search(r'PYENV_ROOT="([^"]+)"', text)
    if m or re.search(r"libexec/pyenv\b|\bpyenv exec\b", text):
        root = Path(m.group(1)) if m else _pyenv_root(env)
        return [("pyenv", p) for p in _named(root / "versions", name)]
    if re.search(r"\basdf exec\b|asdf-plugin:", text):
        return [("asdf", p) for p in _named(_asdf_root(env) / "installs" / "python", name)]
    return None


def _named(root: Path, name: str) -> list[str]:
    """``root/*/bin/name`` for every install under root that has that program."""
    try:
        dirs = sorted(os.listdir(root))
    except OSError:
        return []
    out = []
    for d in dirs:
        if (root / d / "pyvenv.cfg").exists():
            continue
        p = root / d / "bin" / name
        if os.path.isfile(p) and os.access(p, os.X_OK):
            out.append(str(p))
    return out


def _on_dirs(dirs: Iterable[str]) -> list[str]:
    out = []
    for d in dirs:
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for n in names:
            if _NAME_RE.match(n):
                p = os.path.join(d, n)
                if os.path.isfile(p) and os.access(p, os.X_OK):
                    out.append(p)
    return out


def candidates(env: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(source, path) of every interpreter worth probing, in order of preference. Spawns nothing."""
    env = os.environ if env is None else env
    out: list[tuple[str, str]] = []
    out += [("pyenv", p) for p in _installs(_pyenv_root(env) / "versions")]
    out += [("asdf", p) for p in _installs(_asdf_root(env) / "installs" / "python")]
    out += [("mise", p) for p in _installs(_mise_root(env) / "installs" / "python")]
    out += [("uv", p) for p in _installs(_uv_root(env))]
    conda = []
    if env.get("CONDA_EXE"):
        conda.append(Path(env["CONDA_EXE"]).parent.parent)
    if env.get("MAMBA_ROOT_PREFIX"):
        conda.append(Path(env["MAMBA_ROOT_PREFIX"]))
    home = _home(env)
    conda += [home / n for n in ("miniconda3", "anaconda3", "miniforge3", "mambaforge")]
    conda += [Path("/opt/conda"), Path("/opt/miniconda3"), Path("/opt/anaconda3")]
    out += [("conda", p) for p in (_install_python(c) for c in conda) if p]
    path_dirs = [d for d in env.get("PATH", "").split(os.pathsep) if d]
    for p in _on_dirs(path_dirs):
        targets = _shim_targets(p, env)
        if targets is None:
            out.append(("path", p))
        else:
            out += [(f"{src} (shim)", t) for src, t in targets]
    out += [("system", p) for p in _on_dirs(["/usr/local/bin", "/usr/bin"])]
    return out


def _stat_key(path: str) -> list[int] | None:
    """What a changed file changes: its mtime, size and inode, and its ctime, which a file overwritten in
    place with its mtime set back (`cp` over it, then `touch -r`) changes too (no one can set it back)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns]


def _witness(stdlib: str | None) -> dict[str, int | None]:
    """Files whose change means the venv facts may have changed (python3-venv installed, ...)."""
    if not stdlib:
        return {}
    out = {}
    for mod in ("venv", "ensurepip"):
        p = os.path.join(stdlib, mod, "__init__.py")
        k = _stat_key(p)
        out[p] = k[0] if k else None
    return out


class _Cache:
    def __init__(self, cache_dir: Path | None):
        if cache_dir:  # kernelenv's private folder, checked as for its other caches: CACHE_UNSAFE when loose
            try:
                files.private_dir(Path(cache_dir))
            except OperationError as exc:
                if exc.info.code != "CACHE_UNWRITABLE":
                    raise
                cache_dir = None  # a cache that cannot be written only costs speed
        self.file = Path(cache_dir) / CACHE_FILE if cache_dir else None
        self.entries: dict[str, dict] = {}
        self.dirty = False
        self.probed = 0
        if self.file:
            try:  # believed only when a regular file of the user's, writable by nobody else (not a link)
                raw = files.read_private(self.file)
                data = json.loads(raw) if raw is not None else {}
                data = data if isinstance(data, dict) else {}
                if data.get("version") == _CACHE_VERSION and isinstance(data.get("interpreters"), dict):
                    self.entries = data["interpreters"]
            except (OSError, ValueError, AttributeError):
                pass

    def get(self, real: str) -> dict | None:
        e = self.entries.get(real)
        if not e or e.get("stat") != _stat_key(real):
            return None
        for p, mtime in (e.get("witness") or {}).items():
            k = _stat_key(p)
            if (k[0] if k else None) != mtime:
                return None
        return e

    def put(self, real: str, entry: dict) -> None:
        self.entries[real] = entry
        self.dirty = True

    def save(self, keep: set[str] | None = None) -> None:
        if keep is not None:
            for k in [k for k in self.entries if k not in keep]:
                del self.entries[k]
                self.dirty = True
        if not (self.file and self.dirty):
            return
        try:
            files.write_atomic(self.file, json.dumps({"version": _CACHE_VERSION, "interpreters": self.entries}, indent=1), 0o600)
        except OSError:
            pass  # a cache that cannot be written only costs speed


def _probe_entry(path: str, real: str) -> dict:
    stat = _stat_key(real)
    try:
        d = _probe_raw(path, timeout=30)
    except OperationError as exc:
        return {"stat": stat, "error": exc.info.message}
    return {"stat": stat, "witness": _witness(d.get("stdlib")), "facts": d}


def discover(cache_dir: Path | None = None, env: Mapping[str, str] | None = None) -> list[Found]:
    """Every interpreter on the machine, newest first, one entry per real path."""
    by_real: dict[str, Found] = {}
    for source, path in candidates(env):
        real = os.path.realpath(path)
        f = by_real.get(real)
        if f is None:
            by_real[real] = Found(path=path, real_path=real, sources=[source])
        elif source not in f.sources:
            f.sources.append(source)
    cache = _Cache(cache_dir)
    todo = []
    for real, f in by_real.items():
        e = cache.get(real)
        if e is None:
            todo.append(f)
        else:
            _fill(f, e)
    if todo:
        with ThreadPoolExecutor(max_workers=min(8, len(todo))) as pool:
            for f, e in zip(todo, pool.map(lambda f: _probe_entry(f.path, f.real_path), todo)):
                cache.put(f.real_path, e)
                cache.probed += 1
                _fill(f, e)
    cache.save(keep=set(by_real))
    found = list(by_real.values())
    found.sort(key=lambda f: _rank(f), reverse=True)
    global _last_probed
    _last_probed = cache.probed
    return found


_last_probed = 0


def last_probed() -> int:
    """How many interpreters the last :func:`discover` in this process had to run (the rest came from its cache)."""
    return _last_probed


def _fill(f: Found, e: dict) -> None:
    if "facts" in e:
        f.info = _info(f.path, e["facts"])
    else:
        f.error = e.get("error") or "could not be probed"


_SOURCE_RANK = ("pyenv", "asdf", "mise", "uv", "conda", "path", "system")


def _rank(f: Found) -> tuple:
    i = f.info
    src = f.sources[0].split(" ")[0] if f.sources else ""
    pos = _SOURCE_RANK.index(src) if src in _SOURCE_RANK else len(_SOURCE_RANK)
    if i is None:
        return (0, (0, 0, 0), False, -pos)
    return (1, i.version, i.implementation == "CPython", -pos)


# --python ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """A parsed ``--python`` that is not a path: an implementation and a version test."""

    text: str
    implementation: str | None  # CPython, PyPy, or None for any
    prefix: tuple[int, ...] = ()  # 3.12 -> (3, 12)
    specifier: str | None = None  # >=3.10 (PEP 440)

    def matches(self, info: PythonInfo) -> bool:
        if self.implementation and info.implementation.lower() != self.implementation.lower():
            return False
        if self.specifier is not None:
            from packaging.specifiers import SpecifierSet

            return SpecifierSet(self.specifier).contains(info.version_str, prereleases=True)
        return tuple(info.version[: len(self.prefix)]) == self.prefix


_REQ_RE = re.compile(r"^(?:(cpython|pypy|python|py)[-@]?)?(\d+(?:\.\d+){0,2})?$", re.I)
_IMPL = {"cpython": "CPython", "pypy": "PyPy"}
FORMS = "a version (3.12, 3.12.1), a specifier (>=3.10), an implementation and version (cpython3.9, pypy3.10) or a path"


def is_path(spec: str) -> bool:
    return os.sep in spec or spec.startswith((".", "~")) or (os.altsep is not None and os.altsep in spec)


def parse(spec: str) -> Request | None:
    """A Request for a version-like ``spec``; None when it is not one (maybe a path or a command)."""
    s = spec.strip()
    if not s:
        return None
    if s[0] in "<>=!~":
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            SpecifierSet(s)
        except InvalidSpecifier:
            return None
        return Request(s, None, specifier=s)
    m = _REQ_RE.match(s)
    if not m or not (m.group(1) or m.group(2)):
        return None
    impl = _IMPL.get((m.group(1) or "").lower())
    if impl is None and not m.group(2):
        return None  # plain "python": a command name, looked up on PATH
    prefix = tuple(int(x) for x in m.group(2).split(".")) if m.group(2) else ()
    return Request(s, impl, prefix=prefix)


def _describe(found: list[Found]) -> list[dict]:
    return [
        {"version": f.info.version_str, "implementation": f.info.implementation, "path": f.path, "supported": f.info.supported}
        for f in found
        if f.info is not None
    ]


def _listing(found: list[Found]) -> str:
    """The usable interpreters, short: 'CPython 3.13.0, 3.12.1, ...' (paths are in details)."""
    items = [f"{f.info.implementation} {f.info.version_str}" for f in found if f.info is not None and f.info.supported]
    return ", ".join(dict.fromkeys(items)) if items else f"none of Python {_MIN} or newer"


def resolve(
    spec: str | None,
    *,
    cache_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> PythonInfo:
    """What ``--python`` names: None (the running interpreter), a path, or a version request.

    A request picks the newest matching supported interpreter that can make a venv,
    CPython before other implementations of the same version.
    """
    if spec is None:
        info = current()
        check_supported(info)
        return info
    spec = spec.strip()
    if is_path(spec):
        return _resolve_path(spec, cache_dir, env)
    req = parse(spec)
    if req is None:
        found_cmd = shutil.which(spec, path=(env or os.environ).get("PATH"))
        if found_cmd:
            return probe(found_cmd)
        raise OperationError(
            "PYTHON_NOT_FOUND",
            f"--python {spec!r} is not {FORMS}",
            hint="see `kernelenv pythons` for what is installed",
            spec=spec,
        )
    return _resolve_request(spec, req, cache_dir, env)


def _resolve_path(spec: str, cache_dir: Path | None, env: Mapping[str, str] | None) -> PythonInfo:
    """``--python PATH``: an interpreter, or a folder holding bin/python."""
    p = Path(os.path.abspath(os.path.expanduser(spec)))
    if p.is_dir():
        inner = p / "bin" / "python"
        p = inner if inner.exists() else p
    try:
        return _probe_path(str(p), cache_dir)
    except OperationError as exc:
        if exc.info.code == "PYTHON_UNSUPPORTED":  # say which ones would do
            found = discover(cache_dir, env)
            exc.info.message += f"; usable here: {_listing(found)}"
            exc.info.details["available"] = _describe(found)
        raise


def _installed_binary(path: str) -> bool:
    """Whether ``path`` is an interpreter's own file (no link to it, no venv around it): what it says
    of itself then depends only on that file and its stdlib, which the cache's entry is checked against."""
    if os.path.realpath(path) != path:
        return False
    here = os.path.dirname(path)
    return not any(os.path.lexists(os.path.join(d, "pyvenv.cfg")) for d in (here, os.path.dirname(here)))


def _probe_path(path: str, cache_dir: Path | None) -> PythonInfo:
    """probe(path), answered from the cache discover() keeps when ``path`` is an installed binary whose
    entry still matches it (its stat and stdlib witnesses: a reinstalled or removed interpreter is probed again)."""
    if cache_dir is None or not _installed_binary(path):
        return probe(path)
    try:
        cache = _Cache(cache_dir)
    except OperationError:
        return probe(path)  # a loose cache is reported by what uses it for more than speed
    e = cache.get(path)
    if e is not None and "facts" in e and e["facts"].get("prefix") == e["facts"].get("base_prefix"):
        info = _info(path, e["facts"])
        check_supported(info)
        return info
    facts = _probe_raw(path)
    info = _info(path, facts)
    check_supported(info)
    cache.put(path, {"stat": _stat_key(path), "witness": _witness(facts.get("stdlib")), "facts": facts})
    cache.save()
    return info


def _resolve_request(spec: str, req: Request, cache_dir: Path | None, env: Mapping[str, str] | None) -> PythonInfo:
    """``--python 3.12`` and the like: the newest matching interpreter that is supported and can make a venv."""
    found = discover(cache_dir, env)
    matching = [f.info for f in found if f.info is not None and req.matches(f.info)]
    usable = [f.info for f in found if f.info is not None and req.matches(f.info) and f.info.supported and f.can_venv]
    if usable:
        return usable[0]  # discover() sorts newest first
    if matching:
        old = matching[0]
        raise OperationError(
            "PYTHON_UNSUPPORTED",
            f"Python {spec} matches only Python {', '.join(i.version_str for i in matching)}: "
            f"the oldest supported is {_MIN}; usable here: {_listing(found)}",
            hint=f"choose Python {_MIN} or newer with --python (`kernelenv pythons` lists them)",
            spec=spec,
            version=old.version_str,
            path=old.path,
            oldest_supported=_MIN,
            available=_describe(found),
        )
    raise OperationError(
        "PYTHON_NOT_FOUND",
        f"no interpreter matches Python {spec}; usable here: {_listing(found)}",
        hint="install one (pyenv install, uv python install), pass a path with --python,"
        " or change the project file's python / requires-python",
        spec=spec,
        available=_describe(found),
    )


def satisfies(info: PythonInfo, spec: str | None, wanted: PythonInfo | None = None) -> bool:
    """Whether an existing venv's interpreter ``info`` is what ``spec`` asks for."""
    if spec is None:
        return True
    req = None if is_path(spec) else parse(spec)
    if req is not None:
        return req.matches(info)
    return wanted is None or info.version[:2] == wanted.version[:2]
