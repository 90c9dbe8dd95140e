"""``kernelenv.lock``: exact pins with hashes for every package of a kernel's venv.

The lock is a pip requirements file (so ``pip install --require-hashes --no-deps -r
kernelenv.lock`` and ``uv pip sync --require-hashes`` read it as it is) whose header
comments carry kernelenv's metadata::

    # kernelenv-lock: 1
    # python: 3.11
    # requested: ipykernel, pip, numpy
    asttokens==3.0.2 \\
        --hash=sha256:...

Reading is strict: a missing header, a line that is not ``name==version`` with at
least one ``--hash``, or a package named twice raises LOCK_INVALID, and so does a project's
lock that pins no ipykernel (``load``, ``read_project``). Pure: no process.

A pin may carry an environment marker (``colorama==0.4.6 ; sys_platform == 'win32'``). A
universal lock (``kernelenv lock --universal``: uv's universal resolution) says so in its
header (``# universal: true``) with the Python range its pins hold for
(``# requires-python: >=3.10``); ``# python:`` is then the X.Y new venvs get. It pins for
Linux, macOS and Windows at once, so one name may appear more than once, each time under a
marker (``ipykernel==7.3.0 ; python_full_version < '3.11'``); ``applicable`` picks the pins
for one interpreter on this machine. ``parse_pins`` reads the body of any hash-pinned
requirements file (what ``uv pip compile --generate-hashes`` writes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import files
from .result import OperationError

FILENAME = "kernelenv.lock"
FORMAT = 1
KERNEL_PACKAGES = ("ipykernel",)  # what every project lock must pin (a kernel runs it)
_META_RE = re.compile(r"^#\s*([a-z][a-z0-9_-]*)\s*:\s*(.*?)\s*$")
_HASH_RE = re.compile(r"^(sha256|sha384|sha512):[0-9a-f]{32,128}$")
_PYVER_RE = re.compile(r"^\d+\.\d+$")


@dataclass
class Pin:
    name: str  # as written (normalised by canonical())
    version: str
    hashes: list[str]
    marker: str | None = None

    @property
    def canonical(self) -> str:
        from packaging.utils import canonicalize_name

        return canonicalize_name(self.name)

    def line(self) -> str:
        head = f"{self.name}=={self.version}" + (f" ; {self.marker}" if self.marker else "")
        return " \\\n".join([head, *(f"    --hash={h}" for h in self.hashes)])


@dataclass
class Lock:
    python: str  # "3.11": the X.Y the pins were resolved for
    pins: list[Pin]
    requested: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)  # resolver, implementation, platform, created

    def by_name(self) -> dict[str, Pin]:
        return {p.canonical: p for p in self.pins}

    @property
    def universal(self) -> bool:
        """Made by a universal resolution: pins for every platform, under markers."""
        return self.meta.get("universal") == "true"

    @property
    def requires_python(self) -> str | None:
        """The Python range a universal lock's pins hold for (a specifier set), else None."""
        return self.meta.get("requires-python") or None

    def dumps(self) -> str:
        lines = [
            "# kernelenv lock file: exact pins with hashes. Made by `kernelenv lock`; apply with `kernelenv sync`.",
            "# Also a pip requirements file: pip install --require-hashes --no-deps -r kernelenv.lock",
            f"# kernelenv-lock: {FORMAT}",
            f"# python: {self.python}",
            f"# requested: {', '.join(self.requested)}",
        ]
        lines += [f"# {k}: {v}" for k, v in sorted(self.meta.items()) if k not in ("kernelenv-lock", "python", "requested")]
        lines += [p.line() for p in sorted(self.pins, key=lambda p: p.canonical)]
        return "\n".join(lines) + "\n"


def path_in(project: Path) -> Path:
    return project / FILENAME


def _invalid(path: Path, why: str) -> OperationError:
    return OperationError(
        "LOCK_INVALID",
        f"{path} is not a valid kernelenv lock: {why}",
        hint="re-create it with `kernelenv lock`",
        path=path,
    )


def _logical_lines(text: str, path: Path) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """(header fields, (line number, entry) of each requirement with its continuations joined)."""
    meta: dict[str, str] = {}
    logical: list[tuple[int, str]] = []
    buf, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not buf:
            start = n
        if line.startswith("#") and not buf:
            m = _META_RE.match(line)
            if m:
                meta.setdefault(m[1], m[2])
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            logical.append((start, buf.strip()))
        buf = ""
    if buf.strip():
        raise _invalid(path, "it ends in the middle of an entry (truncated?)")
    return meta, logical


def parse_pins(text: str, path: Path = Path(FILENAME)) -> list[Pin]:
    """The pins of a hash-pinned requirements file (comments and headers ignored); LOCK_INVALID as ``loads``."""
    return _pins(_logical_lines(text, path)[1], path)


def _pins(logical: list[tuple[int, str]], path: Path) -> list[Pin]:
    from packaging.requirements import InvalidRequirement, Requirement

    pins: list[Pin] = []
    seen: dict[str, bool] = {}  # canonical name: whether every pin of it so far had a marker
    for n, entry in logical:
        words = entry.split()
        hashes = [w[len("--hash=") :] for w in words if w.startswith("--hash=")]
        spec = " ".join(w for w in words if not w.startswith("--hash="))
        if any(w.startswith("-") and not w.startswith("--hash=") for w in words):
            raise _invalid(path, f"line {n}: options other than --hash are not allowed ({entry[:60]!r})")
        try:
            req = Requirement(spec)
        except InvalidRequirement as exc:
            raise _invalid(path, f"line {n}: {exc}") from None
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or "*" in specs[0].version or req.url:
            raise _invalid(path, f"line {n}: {req.name} is not pinned with =={''}VERSION")
        if not hashes or not all(_HASH_RE.match(h) for h in hashes):
            raise _invalid(path, f"line {n}: {req.name} has no valid --hash=sha256:...")
        pin = Pin(req.name, specs[0].version, hashes, str(req.marker) if req.marker else None)
        # one name twice only under markers (a universal lock's forks: one pin per Python range or platform)
        if pin.canonical in seen and not (seen[pin.canonical] and pin.marker):
            raise _invalid(path, f"line {n}: {req.name} is named twice")
        seen[pin.canonical] = seen.get(pin.canonical, True) and pin.marker is not None
        pins.append(pin)
    return pins


def loads(text: str, path: Path = Path(FILENAME)) -> Lock:
    """Parse a lock; raises LOCK_INVALID naming the first thing wrong."""
    meta, logical = _logical_lines(text, path)
    if meta.get("kernelenv-lock") != str(FORMAT):
        raise _invalid(path, f"no '# kernelenv-lock: {FORMAT}' header line")
    python = meta.get("python", "")
    if not _PYVER_RE.match(python):
        raise _invalid(path, f"the '# python:' header is {python!r}, not a version such as 3.11")
    if meta.get("requires-python"):
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            SpecifierSet(meta["requires-python"])
        except InvalidSpecifier:
            raise _invalid(path, f"the '# requires-python:' header {meta['requires-python']!r} is not a version range") from None
    pins = _pins(logical, path)
    if not pins:
        raise _invalid(path, "it pins no package")
    requested = [r.strip() for r in meta.get("requested", "").split(",") if r.strip()]
    extra = {k: v for k, v in meta.items() if k not in ("kernelenv-lock", "python", "requested")}
    return Lock(python, pins, requested, extra)


def read_project(project: Path) -> tuple[Path, Lock]:
    """The project's lock path and contents; LOCK_NOT_FOUND when it has none, LOCK_INVALID as :func:`load`."""
    path = path_in(project)
    if not path.exists():
        raise OperationError("LOCK_NOT_FOUND", f"{project} has no {FILENAME}", hint="make one with `kernelenv lock`", path=path)
    return path, _for_a_kernel(read(path), path)


def _for_a_kernel(lock: Lock, path: Path) -> Lock:
    """LOCK_INVALID when the lock lacks what a kernel needs (``kernelenv lock`` always pins it): a venv
    synced exactly to it would lose ipykernel, and a kernel made from it could not start."""
    missing = [n for n in KERNEL_PACKAGES if n not in lock.by_name()]
    if missing:
        raise OperationError(
            "LOCK_INVALID",
            f"{path} does not pin {', '.join(missing)}: a kernel made or synced from it could not start",
            hint="make the lock again with `kernelenv lock` (it always pins ipykernel)",
            path=path,
            missing=missing,
        )
    return lock


def read(path: Path) -> Lock:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _invalid(path, f"cannot read it ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid(path, "it is not UTF-8 text") from None
    return loads(text, path)


def write(path: Path, lock: Lock) -> None:
    """Write atomically (a reader never sees half a lock)."""
    files.write_atomic(path, lock.dumps())


def check_python(lock: Lock, version: tuple[int, ...], path: Path, venv: Path) -> None:
    """LOCK_INVALID unless the lock was made for this X.Y (a universal lock: unless it is in its range)."""
    have = f"{version[0]}.{version[1]}"
    if lock.universal and lock.requires_python:
        from packaging.specifiers import SpecifierSet

        if SpecifierSet(lock.requires_python).contains(".".join(map(str, version[:3])), prereleases=True):
            return
        raise OperationError(
            "LOCK_INVALID",
            f"{path} is for Python {lock.requires_python}, the venv {venv} has Python {have}",
            hint=f"rebuild the venv with `kernelenv repair --python {lock.python}`, "
            "or widen the project's requires-python and re-lock",
            path=path,
            lock_python=lock.requires_python,
            venv_python=have,
        )
    if have != lock.python:
        raise OperationError(
            "LOCK_INVALID",
            f"{path} is for Python {lock.python}, the venv {venv} has Python {have}",
            hint=f"rebuild the venv with `kernelenv repair --python {lock.python}`, or re-lock for {have} with `kernelenv lock`",
            path=path,
            lock_python=lock.python,
            venv_python=have,
        )


# rules: what a lock asks of a venv ------------------------------------------------------------
def load(project: Path) -> Lock | None:
    """The project's lock, None when it has none; LOCK_INVALID when it is corrupt or pins no ipykernel."""
    path = path_in(project)
    return _for_a_kernel(read(path), path) if path.exists() else None


def _same_version(a: str | None, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    if a is None:
        return False
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def covers(lock: Lock, installed: dict[str, str]) -> bool:
    """Every pin of the lock is installed at its version (other packages may be there too)."""
    return all(_same_version(installed.get(p.canonical), p.version) for p in lock.pins)


def matches(lock: Lock, installed: dict[str, str]) -> bool:
    """The venv holds exactly the lock's pins."""
    return set(lock.by_name()) == set(installed) and covers(lock, installed)


def check_requested(lock: Lock, packages: list[str], path: Path) -> None:
    """LOCK_INVALID when a requirement asked for is not satisfied by the lock's pins (any of a universal lock's forks)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    for p in packages:
        req = Requirement(p)  # checked as a requirement before (requirements.check)
        named = [q for q in lock.pins if q.canonical == canonicalize_name(req.name)]
        fits = [q for q in named if not req.specifier or req.specifier.contains(q.version, prereleases=True)]
        pin = named[0] if named else None
        if not fits:
            raise OperationError(
                "LOCK_INVALID",
                f"{p} is not in {path}" + (f" (it pins {pin.name}=={pin.version})" if pin else ""),
                hint=f"add it to the lock: kernelenv lock --with {p!r}",
                path=path,
                requirement=p,
            )


def environment(version: tuple[int, ...], implementation: str) -> dict[str, str]:
    """PEP 508 marker values for an interpreter of ``version`` and ``implementation`` on this machine."""
    from packaging.markers import default_environment

    env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    full = ".".join(map(str, version[:3]))
    env.update(
        python_version=f"{version[0]}.{version[1]}",
        python_full_version=full,
        implementation_version=full,
        implementation_name=implementation.lower(),
        platform_python_implementation=implementation,
        extra="",
    )
    return env


def applicable(lock: Lock, version: tuple[int, ...], implementation: str, env: dict[str, str] | None = None) -> Lock:
    """The lock cut to the pins whose markers hold for that interpreter here (``env``: another machine's markers).

    LOCK_INVALID when two pins of one name both apply (a hand-edited lock).
    """
    from packaging.markers import Marker

    values = env if env is not None else environment(version, implementation)
    picked: dict[str, Pin] = {}
    for pin in lock.pins:
        if pin.marker and not Marker(pin.marker).evaluate(values):
            continue
        if pin.canonical in picked:
            raise _invalid(
                Path(FILENAME),
                f"{pin.name} is pinned twice for Python {values['python_full_version']} on {values['sys_platform']}",
            )
        picked[pin.canonical] = pin
    return Lock(lock.python, list(picked.values()), lock.requested, lock.meta)


def lowest_python(requires_python: str, floor: tuple[int, int]) -> str:
    """The X.Y a range starts at (``>=3.10,<3.13``: 3.10); ``floor`` when it names no lower bound."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    lows = []
    for spec in SpecifierSet(requires_python):
        if spec.operator in (">=", ">", "==", "~=", "==="):
            try:
                lows.append(Version(spec.version.replace(".*", "")).release[:2])
            except InvalidVersion:
                continue
    low = max(lows) if lows else floor
    low = max(tuple(low) + (0,) * (2 - len(low)), floor)
    return f"{low[0]}.{low[1]}"
