"""Bytecode for what a kernel start imports, without compiling everything.

A fresh venv has no .pyc files; its first kernel start compiles ~300 modules (about twice as
slow as later starts, and slow at every start when PYTHONDONTWRITEBYTECODE is set). ``warm``
makes exactly those .pyc files: copied from kernelenv's cache when it has them, else by
importing the modules once (``WARM_MODULES``, measured: a kernel start then writes no new .pyc),
after which a new venv's files are kept in the cache for the next venv.

Trust: the cache lives in kernelenv's private cache folder (0700, the user's: files.private_dir).
A cached file is used only when it is a regular file owned by the user, writable by nobody
else, and its content still has the sha256 the manifest recorded when it was stored; it is
copied into the venv, never hard-linked, so no venv shares an inode with the cache or with
another venv. A cached .pyc is keyed by its source's path, size and mtime, and Python checks
the size and mtime stored in a .pyc against the source at import, so a .pyc that does not
match its source is recompiled as usual. Copying (about 50 ms for the ~340 files of an ipykernel
venv, measured) is kept: this cache has no per-inode manifest to check a link against. A venv
cloned from an installed template (templates.py) gets the template's .pyc by hard link instead,
each link checked against the template's manifest (inode, size, mtime, mode, owner).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

from . import files, proc

WARM_MODULES = (
    "ipykernel_launcher",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.iostream",
    "ipykernel.comm",
    "ipykernel.debugger",
    "jupyter_client.session",
    "IPython.core.interactiveshell",
    "IPython.core.completer",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.logger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "IPython.utils.wildcard",
    "psutil",
    "tornado.ioloop",
    "tornado.platform.asyncio",
    "zmq.eventloop.zmqstream",
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
WARM_SCRIPT = (
    "import importlib\n"
    f"for m in {WARM_MODULES + PACKAGE_MODULES!r}:\n"
    "    try: importlib.import_module(m)\n"
    "    except Exception: pass\n"
)


def identity() -> str:
    """What tells this warm-up from another (a template made with another one is not reused)."""
    return hashlib.sha256(WARM_SCRIPT.encode()).hexdigest()[:16]


MANIFEST = "manifest.json"
_FORMAT = 2


def _key(src: os.stat_result, rel: str) -> str:
    return hashlib.sha256(f"{rel}\0{src.st_size}\0{src.st_mtime_ns}".encode()).hexdigest()[:32]


def _source_of(pyc_rel: str) -> str:
    """'pkg/__pycache__/mod.cpython-311.pyc' -> 'pkg/mod.py'."""
    parent, name = os.path.split(pyc_rel)
    return os.path.join(os.path.dirname(parent), name.split(".", 1)[0] + ".py")


def _read_manifest(cache: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads((cache / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("pyc"), dict):
        return {}
    return {
        "pyc": {str(k): str(v) for k, v in data["pyc"].items()},
        "sha256": {str(k): str(v) for k, v in (data.get("sha256") or {}).items()},
        "warmed": {str(m): "" for m in (data.get("warmed") or [])},
    }


def _trusted_bytes(path: Path, digest: str | None) -> bytes | None:
    """The cached file's content when it can be trusted (see the module docstring), else None."""
    data = files.read_private(path)
    if data is None:
        return None
    if digest is None or hashlib.sha256(data).hexdigest() != digest:
        return None
    return data


def _packages_in(site: Path) -> set[str]:
    """The top-level packages of PACKAGE_MODULES installed in ``site``."""
    tops = {m.split(".")[0] for m in PACKAGE_MODULES}
    return {m for m in tops if (site / m).is_dir() or (site / f"{m}.py").is_file()}


def restore(site: Path, cache: Path) -> int | None:
    """Copy trusted cached .pyc files into ``site``. Returns how many the cache lacks (a package of
    PACKAGE_MODULES installed here that no harvest warmed counts as one), None without a manifest."""
    manifest = _read_manifest(cache)
    if not manifest:
        return None
    missing = len(_packages_in(site) - set(manifest["warmed"]))
    for pyc_rel, _ in manifest["pyc"].items():
        try:
            st = os.stat(site / _source_of(pyc_rel))
        except OSError:
            continue  # that module is not in this venv (another version): nothing to do
        key = _key(st, _source_of(pyc_rel))
        target = site / pyc_rel
        if os.path.lexists(target):
            continue
        data = _trusted_bytes(cache / "pyc" / key, manifest["sha256"].get(key))
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
    """Store every .pyc under ``site`` in the cache (0644 files in a 0700 folder) with its sha256."""
    pyc_dir = files.private_subdir(cache, "pyc")
    manifest = _read_manifest(cache) or {"pyc": {}, "sha256": {}, "warmed": {}}
    manifest["warmed"].update(dict.fromkeys(_packages_in(site), ""))  # harvested right after WARM_SCRIPT ran
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
            key = _key(st, _source_of(pyc_rel))
            digest = hashlib.sha256(data).hexdigest()
            if manifest["sha256"].get(key) != digest or not (pyc_dir / key).is_file():
                files.write_atomic(pyc_dir / key, data, 0o644)
                manifest["sha256"][key] = digest
            manifest["pyc"][pyc_rel] = key
    manifest["warmed"] = sorted(manifest["warmed"])  # type: ignore[assignment]
    files.write_atomic(cache / MANIFEST, json.dumps({"format": _FORMAT, **manifest}), 0o600)


class Warming:
    """A warm-up started by :func:`warm_start`; ``wait`` ends it (and fills the cache), ``cancel`` stops it."""

    def __init__(self, site: Path, cache: Path | None, running: proc.Running | None, harvest_after: bool):
        self._site, self._cache, self._running, self._harvest = site, cache, running, harvest_after

    def wait(self) -> None:
        if self._running is None:
            return
        self._running.wait()
        self._running = None
        if self._harvest and self._cache is not None:
            try:
                harvest(self._site, self._cache)
            except OSError:
                pass  # a cache that cannot be written only costs speed

    def cancel(self) -> None:
        if self._running is not None:
            self._running.kill()
            self._running = None


def warm_start(python: Path, site: Path, cache: Path | None, *, harvest_after: bool, progress: Callable[[str], None]) -> Warming:
    """Start making what a kernel start imports compiled: copied from the cache now, else by a child
    that imports it once while the caller goes on (``Warming.wait`` then harvests it into the cache).

    ``cache`` None (kernelenv's cache cannot be used) compiles by importing, and keeps nothing.
    """
    if cache is not None and restore(site, cache) == 0:
        return Warming(site, cache, None, False)
    progress("compiling what a kernel start imports")
    running = proc.start([str(python), "-c", WARM_SCRIPT], timeout=300, capture=False)
    return Warming(site, cache, running, harvest_after)


def warm(python: Path, site: Path, cache: Path | None, *, harvest_after: bool, progress: Callable[[str], None]) -> None:
    """:func:`warm_start`, waited for."""
    warming = warm_start(python, site, cache, harvest_after=harvest_after, progress=progress)
    try:
        warming.wait()
    except BaseException:
        warming.cancel()
        raise
