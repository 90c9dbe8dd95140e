"""Bytecode for what a kernel start imports, without compiling everything.

A fresh venv has no .pyc files; its first kernel start compiles ~340 modules (about twice as
slow as later starts, and slow at every start when PYTHONDONTWRITEBYTECODE is set). ``warm``
makes exactly those .pyc files: copied from kernelenv's cache when it has them, else by
importing the modules once (``WARM_GROUPS``, measured: a kernel start then writes no new .pyc),
after which a new venv's files are kept in the cache for the next venv.

The import runs in one child per group at once: the debugger's pydevd (with psutil and tornado)
in one, IPython, jupyter_client, zmq and ipykernel in another, IPython first so that ipykernel's
own import of the debugger comes when the first child has compiled it; the tutorial packages
(numpy, pandas, TensorFlow), when installed, in a third. Measured by hand on 2 cores, an ipykernel
venv with nothing compiled, 4 runs: 0.73-0.79 s against 1.09-1.22 s for one child (1.23-1.29 against
1.09-1.17 s of CPU); bench/bench_create.py's first and cold rows include it.

Trust: the cache lives in kernelenv's private cache folder (0700, the user's: files.private_dir).
The cached .pyc files are kept in pack files (one per harvest: a venv's ~340 files are one file
to write and to read); a pack is used only when it is a regular file owned by the user, writable
by nobody else, and each .pyc taken from it still has the sha256 the manifest recorded when it
was stored. It is copied into the venv, never hard-linked, so no venv shares an inode with the
cache or with another venv. A cached .pyc is keyed by its source's path, size and mtime, and
Python checks the size and mtime stored in a .pyc against the source at import, so a .pyc that
does not match its source is recompiled as usual. A venv cloned from an installed template
(templates.py) gets the template's .pyc by hard link instead, each link checked against the
template's manifest (inode, size, mtime, mode, owner).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Callable

from . import files, proc
from .result import OperationError

# The debugger's part of a kernel start (ipykernel.debugger imports these), and two more packages
# nothing in the other group's first imports needs.
DEBUGGER_MODULES = (
    "debugpy.server.api",
    "_pydevd_bundle.pydevd_frame_utils",
    "_pydevd_bundle.pydevd_suspended_frames",
    "psutil",
    "tornado.ioloop",
    "tornado.platform.asyncio",
    "tornado.locks",
    "tornado.queues",
)
WARM_MODULES = (
    "IPython.core.interactiveshell",
    "IPython.core.completer",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.logger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "IPython.utils.wildcard",
    "jupyter_client.session",
    "zmq.eventloop.zmqstream",
    "ipykernel_launcher",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.iostream",
    "ipykernel.comm",
    "ipykernel.debugger",
)
# What the tutorial notebooks' imports pull in (measured: a notebook run then writes no new .pyc),
# warmed when the package is installed (the data and dl profiles); a module that is not there fails
# to import at once and is skipped. pandas imports its formatters when a frame is first shown,
# TensorFlow its dataset ops when a Keras model is first fitted.
PACKAGE_MODULES = (
    "numpy",
    "pandas",
    "pandas.io.formats.csvs",
    "pandas.io.formats.html",
    "pandas.io.formats.string",
    "tensorflow",
    "tensorflow.python.data.ops.flat_map_op",
    "tensorflow.python.data.ops.from_tensors_op",
    "tensorflow.python.data.ops.range_op",
    "tensorflow.python.data.ops.zip_op",
)
WARM_GROUPS = (DEBUGGER_MODULES, WARM_MODULES, PACKAGE_MODULES)
WARM_TIMEOUT = 300.0  # seconds a warming child may take (TensorFlow's import is the long one); then it is stopped


def warm_script(modules: tuple[str, ...]) -> str:
    """What one warming child runs: import each module once, skipping any that fails."""
    return f"import importlib\nfor m in {modules!r}:\n    try: importlib.import_module(m)\n    except Exception: pass\n"


def identity() -> str:
    """What tells this warm-up from another (a template made with another one is not reused)."""
    return hashlib.sha256("\0".join(map(warm_script, WARM_GROUPS)).encode()).hexdigest()[:16]


MANIFEST = "manifest.json"
PACKS = "packs"
_FORMAT = 3


def _key(src: os.stat_result, rel: str) -> str:
    return hashlib.sha256(f"{rel}\0{src.st_size}\0{src.st_mtime_ns}".encode()).hexdigest()[:32]


def _source_of(pyc_rel: str) -> str:
    """'pkg/__pycache__/mod.cpython-311.pyc' -> 'pkg/mod.py'."""
    parent, name = os.path.split(pyc_rel)
    return os.path.join(os.path.dirname(parent), name.split(".", 1)[0] + ".py")


def _read_manifest(cache: Path) -> dict[str, dict]:
    """{"pyc": {pyc path in site-packages: key}, "entries": {key: [pack, offset, size, sha256]},
    "warmed": {package: ""}}; {} without a manifest of this format (a file of the user's alone)."""
    raw = files.read_private(cache / MANIFEST)
    try:
        data = json.loads(raw) if raw is not None else None
    except ValueError:
        return {}
    if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("pyc"), dict):
        return {}
    raw_entries, warmed = data.get("entries") or {}, data.get("warmed") or []
    if not isinstance(raw_entries, dict) or not isinstance(warmed, list):
        return {}
    entries = {}
    for key, e in raw_entries.items():
        if isinstance(e, list) and len(e) == 4 and isinstance(e[0], str) and _is_pack_name(e[0]) and _all_ints(e[1:3]):
            entries[str(key)] = [e[0], e[1], e[2], str(e[3])]
    return {
        "pyc": {str(k): str(v) for k, v in data["pyc"].items()},
        "entries": entries,
        "warmed": {str(m): "" for m in warmed},
    }


def _all_ints(values: list) -> bool:
    """Whether every value is a JSON integer (not a bool, a float or a string): an entry's offset and size."""
    return all(type(v) is int for v in values)


def _is_pack_name(name: str) -> bool:
    return name.endswith(".pack") and name[:-5].isalnum() and len(name) < 64


def _packages_in(site: Path) -> set[str]:
    """The top-level packages of PACKAGE_MODULES installed in ``site``."""
    tops = {m.split(".")[0] for m in PACKAGE_MODULES}
    return {m for m in tops if (site / m).is_dir() or (site / f"{m}.py").is_file()}


class _Packs:
    """The cache's pack files, each read once (and only when trusted: files.read_private)."""

    def __init__(self, cache: Path):
        self._dir = cache / PACKS
        self._read: dict[str, bytes | None] = {}

    def get(self, entry: list) -> bytes | None:
        """The .pyc an entry names when its bytes still have the recorded sha256, else None."""
        pack, offset, size, digest = entry
        if pack not in self._read:
            self._read[pack] = files.read_private(self._dir / pack)
        whole = self._read[pack]
        if whole is None or offset < 0 or offset + size > len(whole):
            return None
        data = whole[offset : offset + size]
        return data if hashlib.sha256(data).hexdigest() == digest else None


def restore(site: Path, cache: Path) -> int | None:
    """Copy trusted cached .pyc files into ``site``. Returns how many the cache lacks (a package of
    PACKAGE_MODULES installed here that no harvest warmed counts as one), None without a manifest."""
    manifest = _read_manifest(cache)
    if not manifest:
        return None
    missing = len(_packages_in(site) - set(manifest["warmed"]))
    packs = _Packs(cache)
    for pyc_rel in manifest["pyc"]:
        try:
            st = os.stat(site / _source_of(pyc_rel))
        except OSError:
            continue  # that module is not in this venv (another version): nothing to do
        key = _key(st, _source_of(pyc_rel))
        target = site / pyc_rel
        if os.path.lexists(target):
            continue
        entry = manifest["entries"].get(key)
        data = packs.get(entry) if entry is not None else None
        if data is None:
            missing += 1
            continue
        target.parent.mkdir(exist_ok=True)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError:
            continue
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    return missing


def harvest(site: Path, cache: Path) -> None:
    """Store every .pyc under ``site`` the cache lacks in one new pack (0644, in a 0700 folder), with
    its sha256 in the manifest; packs the manifest no longer names are deleted."""
    manifest = _read_manifest(cache) or {"pyc": {}, "entries": {}, "warmed": {}}
    manifest["warmed"].update(dict.fromkeys(_packages_in(site), ""))  # harvested right after the warm-up ran
    packs, name = _Packs(cache), f"{secrets.token_hex(8)}.pack"
    blob: list[bytes] = []
    offset = 0
    for pyc_rel, data, key in _pycs(site):
        manifest["pyc"][pyc_rel] = key
        entry = manifest["entries"].get(key)
        if entry is not None and packs.get(entry) == data:
            continue
        manifest["entries"][key] = [name, offset, len(data), hashlib.sha256(data).hexdigest()]
        blob.append(data)
        offset += len(data)
    pack_dir = files.private_subdir(cache, PACKS)
    if blob:
        files.write_atomic(pack_dir / name, b"".join(blob), 0o644)
    used = {e[0] for e in manifest["entries"].values()}
    manifest["warmed"] = sorted(manifest["warmed"])  # type: ignore[assignment]
    files.write_atomic(cache / MANIFEST, json.dumps({"format": _FORMAT, **manifest}), 0o600)
    for old in os.listdir(pack_dir):
        if _is_pack_name(old) and old not in used:
            os.unlink(pack_dir / old)
    if os.path.isdir(cache / "pyc"):  # the one-file-per-.pyc store of format 2
        shutil.rmtree(cache / "pyc", ignore_errors=True)


def _pycs(site: Path) -> list[tuple[str, bytes, str]]:
    """(path in ``site``, bytes, cache key) of every .pyc under ``site`` whose source is there."""
    out = []
    for dirpath, _, filenames in os.walk(site):
        if os.path.basename(dirpath) != "__pycache__":
            continue
        for name in filenames:
            if not name.endswith(".pyc"):
                continue
            pyc = Path(dirpath) / name
            pyc_rel = str(pyc.relative_to(site))
            try:
                st = os.stat(site / _source_of(pyc_rel))
                data = pyc.read_bytes()
            except OSError:
                continue
            out.append((pyc_rel, data, _key(st, _source_of(pyc_rel))))
    return out


class Warming:
    """A warm-up started by :func:`warm_start`; ``wait`` ends it (and fills the cache), ``cancel`` stops it."""

    def __init__(self, site: Path, cache: Path | None, running: list[proc.Running], harvest_after: bool):
        self._site, self._cache, self._running, self._harvest = site, cache, running, harvest_after

    def wait(self, beside: Callable[[], None] | None = None) -> None:
        """Wait for the children, then fill the cache (when asked to) while ``beside()`` runs, if given.
        A child past its timeout is stopped: what it compiled is kept, nothing is harvested (only speed is lost)."""
        if not self._running:
            if beside is not None:
                beside()
            return
        finished = True
        try:
            for child in self._running:
                child.wait()
        except proc.ProcError:
            finished = False
        finally:
            self.cancel()
        if not (finished and self._harvest and self._cache is not None):
            if beside is not None:
                beside()
            return
        import threading

        keeper = threading.Thread(target=self._keep, args=(self._site, self._cache), daemon=True)
        keeper.start()
        try:
            if beside is not None:
                beside()
        finally:
            keeper.join()

    @staticmethod
    def _keep(site: Path, cache: Path) -> None:
        try:
            harvest(site, cache)
        except (OSError, OperationError):
            pass  # a cache that cannot be written only costs speed (and a thread's exception would print)

    def cancel(self) -> None:
        running, self._running = self._running, []
        for child in running:
            child.kill()


def warm_start(python: Path, site: Path, cache: Path | None, *, harvest_after: bool, progress: Callable[[str], None]) -> Warming:
    """Start making what a kernel start imports compiled: copied from the cache now, else by children
    that import it once while the caller goes on (``Warming.wait`` then harvests it into the cache).

    ``cache`` None (kernelenv's cache cannot be used) compiles by importing, and keeps nothing.
    """
    if cache is not None and restore(site, cache) == 0:
        return Warming(site, cache, [], False)
    progress("compiling what a kernel start imports")
    groups = [g for g in WARM_GROUPS if g is not PACKAGE_MODULES or _packages_in(site)]
    running: list[proc.Running] = []
    try:
        for group in groups:
            running.append(proc.start([str(python), "-c", warm_script(group)], timeout=WARM_TIMEOUT, capture=False))
    except BaseException:
        Warming(site, cache, running, False).cancel()
        raise
    return Warming(site, cache, running, harvest_after)


def warm(python: Path, site: Path, cache: Path | None, *, harvest_after: bool, progress: Callable[[str], None]) -> None:
    """:func:`warm_start`, waited for."""
    warming = warm_start(python, site, cache, harvest_after=harvest_after, progress=progress)
    try:
        warming.wait()
    except BaseException:
        warming.cancel()
        raise
