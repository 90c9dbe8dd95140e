"""Installed templates: a new venv made by hard-linking an installed one and fixing it up for its place.

The first ``create`` of a set of packages for one interpreter installs them into a *template*
venv in kernelenv's private cache (``<cache>/templates/<id>/venv``: virtualenv + ``uv pip sync``
of the exact pins, start-up bytecode warmed), then clones it into the project. Every later
``create`` that resolves to the same pins clones the template instead of installing: the
package files are hard-linked (what uv itself does from its cache), the few files that name the
venv's place are written fresh, and the venv gets its own kernelenv mark. The resolution runs
beside the clone (``uv pip compile`` is a child process), starting from the template the same
request used last time; a clone whose pins turn out different is deleted before anything uses it.
While uv still resolves, the folders and links of the next clone are made (a spare tree,
``grow_spare``), which the next clone moves in, checking each link as it checks its own.
A new template (no template known for the request) gets its venv made while uv resolves, then the
exact, hash-checked ``uv pip sync`` of the pins: every file installed has a hash the key names, so
a release file replaced on the index meanwhile fails the sync (the caller then installs as before)
instead of being kept under a key that names another file. Its bytecode compiles while everything
else is cloned into the project. Folders and links of a clone are made on two threads.

What "the same request" means (the template's key): the exact pins uv resolves the request to
*now*, with every hash the index lists for each pinned release (``uv pip compile
--generate-hashes``, under uv's own index settings and HTTP cache rules: an upgraded or yanked
release or a new wheel changes them), the interpreter (path, implementation, full version,
platform), uv (its path, size and mtime), this module's format and the bytecode ``warm`` makes.
Not templated (the caller installs as before): another installer than uv, uv told to copy
rather than hard-link (``UV_LINK_MODE``: venvs are then not to share files), Windows, Python
older than virtualenv serves, a team's venv (provision.py: it is given to a group), a pin that
is not a plain index pin (a URL, a local path), a requirement file with an install option (an index,
``--find-links``, ``--no-binary``...: ``uv pip sync`` of the bare pins would not install as it says),
a venv path, prompt or cache path that activate scripts would have to quote, a resolution that
fails, a template folder on another file system.

What a clone links and what it writes (README "How create is fast"):

- hard-linked, verified: every regular file under ``lib/`` and ``include/`` and ``share/``
  (the packages' files, their dist-info and the warmed ``.pyc``), except the ones below. These
  are files nothing writes in place: installers and Python replace them (a new file renamed or
  linked over, or an unlink), so a clone that upgrades, uninstalls or recompiles only drops its
  own link. Before a file is used its new link is checked against the manifest recorded when
  the template was made: same inode, size, mtime (ns) and mode, owned by the user and writable
  by nobody else. A file changed in place through any link (an editor in another venv, uv's
  cache) changes the shared inode's mtime, so the template is refused, deleted and made again.
- written fresh (copied, sha256-checked against the manifest, then fixed up; never group- or
  world-writable): any file of the template that is not the user's alone (uv's cache filled at
  umask 002 has 0664 files), the venv's top
  files (``pyvenv.cfg``), everything in ``bin/`` (console scripts get this venv's python in
  their shebang by uv's rule; activate scripts this venv's path and prompt), everything in
  ``etc/`` (Jupyter's ``--sys-prefix`` config is rewritten in place), every ``.pth`` file, and
  the ``RECORD`` of each distribution whose scripts were rewritten (new sha256 and size).
- recreated: symbolic links (``bin/python`` to the base interpreter) and folders.

Trust: the templates live in kernelenv's private cache (``files.private_dir``: 0700, the
user's, refused otherwise); a manifest or index that is not a regular file of the user's,
writable by nobody else, is ignored. Templates no index entry names are deleted after a day;
at most ``KEEP`` are kept, the least recently used deleted first.
"""

from __future__ import annotations

import base64
import csv
import errno
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import files, lockfile, pythons, requirements
from . import venv as venvmod
from .result import OperationError

FORMAT = 1
KEEP = 8  # templates kept (least recently used deleted first)
ORPHAN_AGE = 86400.0  # seconds before a template no index names is deleted (a build may be running)
MANIFEST = "manifest.json"
INDEX = "index.json"
_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")  # what shells (and virtualenv's activators) leave unquoted
_SKIP_TOP = (venvmod.MARK_FILE,)  # kernelenv's mark: each venv its own
_SHEBANG_MAX = 124  # uv (and distlib) wrap a longer interpreter path in /bin/sh


class Refused(Exception):
    """The template changed since it was made (or cannot be linked here): not used."""

    def __init__(self, why: str, *, changed: bool = True):
        super().__init__(why)
        self.why = why
        self.changed = changed


@dataclass
class Provided:
    installed: list[str]  # canonical names of every distribution in the new venv
    template: str  # the template's id
    built: bool  # this run made the template
    refused: str | None  # why a template was refused and made again, if one was


def plain(text: str) -> bool:
    """Whether ``text`` is written the same way quoted or not in every activate script."""
    return bool(_PLAIN.fullmatch(text))


def _python_facts(info: pythons.PythonInfo, base: str) -> list[Any]:
    """The interpreter a venv is made from, however it was named (a shim, a symlink)."""
    import platform

    return [info.implementation, info.version_str, os.path.realpath(base), info.base_prefix, sys.platform, platform.machine()]


def request_key(info: pythons.PythonInfo, base: str, uv_identity: str, requested: list[str], req_files: list[Path]) -> str:
    """The request as asked (only to guess which template to start cloning while pins resolve)."""
    h = hashlib.sha256(json.dumps([FORMAT, _python_facts(info, base), uv_identity, sorted(requested)]).encode())
    for f in req_files:
        h.update(str(f).encode() + b"\0")
        try:
            h.update(Path(f).read_bytes())
        except OSError:
            pass
    return h.hexdigest()


def template_key(info: pythons.PythonInfo, base: str, uv_identity: str, pins: list[lockfile.Pin], warm_identity: str) -> str:
    """What makes two venvs the same (module docstring): exact pins with hashes, interpreter, uv, warm."""
    lines = sorted(f"{p.canonical}=={p.version};{p.marker or ''};{','.join(sorted(p.hashes))}" for p in pins)
    facts = [FORMAT, _python_facts(info, base), uv_identity, warm_identity, lines]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()


# the manifest -------------------------------------------------------------------------------
def _trusted_json(path: Path) -> Any:
    """A JSON file of kernelenv's cache: a regular file of the user's, writable by nobody else; else None."""
    data = files.read_private(path)
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _euid() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else 0


Listing = tuple[list[list[Any]], list[list[str]], list[list[Any]], list[list[Any]]]


def _walk(venv: Path, *, bytecode: bool | None = None) -> Listing:
    """(folders, symlinks, files to link, files to copy) of a template venv, for its manifest:
    all of it (``bytecode`` None), all but the ``__pycache__`` folders (False), or only those (True)."""
    dirs: list[list[Any]] = []
    links: list[list[str]] = []
    linked: list[list[Any]] = []
    copied: list[list[Any]] = []
    tp = str(venv).encode()
    euid = _euid()

    def visit(rel: str, in_cache: bool) -> None:
        with os.scandir(venv / rel if rel else venv) as it:
            entries = sorted(it, key=lambda e: e.name)
        for e in entries:
            r = f"{rel}/{e.name}" if rel else e.name
            st = e.stat(follow_symlinks=False)
            here = in_cache or (e.name == "__pycache__" and stat.S_ISDIR(st.st_mode))
            if bytecode is False and here:
                continue
            if bytecode is True and not here:
                if stat.S_ISDIR(st.st_mode):
                    visit(r, False)
                continue
            if stat.S_ISLNK(st.st_mode):
                links.append([r, os.readlink(e.path)])
            elif stat.S_ISDIR(st.st_mode):
                dirs.append([r, stat.S_IMODE(st.st_mode)])
                visit(r, here)
            elif stat.S_ISREG(st.st_mode):
                if not rel and e.name.startswith(_SKIP_TOP):
                    continue
                top = r.split("/", 1)[0]
                loose = st.st_mode & files.TIGHT_BITS or st.st_uid != euid
                if not rel or top in ("bin", "Scripts", "etc") or e.name.endswith(".pth") or loose:
                    data = Path(e.path).read_bytes()
                    fix = ""
                    if top in ("bin", "Scripts") and data.startswith(b"#!") and tp in data:
                        fix = "script"
                    elif tp in data or b"kernelenv-template-" in data:
                        fix = "text"
                    copied.append([r, hashlib.sha256(data).hexdigest(), stat.S_IMODE(st.st_mode) & ~files.TIGHT_BITS, fix])
                else:
                    linked.append([r, st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode])
            # sockets, fifos, devices: not part of a venv; left out

    visit("", False)
    scripts = {r for r, _, _, fix in copied if fix == "script"}
    if scripts:  # the RECORD of a distribution whose scripts a clone rewrites is rewritten too
        kept = []
        for entry in linked:
            r = entry[0]
            if r.endswith(".dist-info/RECORD") and _record_names(venv / r, r) & scripts:
                data = (venv / r).read_bytes()
                copied.append([r, hashlib.sha256(data).hexdigest(), stat.S_IMODE(entry[4]), "record"])
            else:
                kept.append(entry)
        linked = kept
    return dirs, links, linked, copied


def _record_names(path: Path, rel: str) -> set[str]:
    """The venv-relative paths a RECORD lists."""
    base = os.path.dirname(os.path.dirname(rel))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    return {os.path.normpath(os.path.join(base, row[0])) for row in csv.reader(io.StringIO(text)) if row}


# cloning ------------------------------------------------------------------------------------
def _trusted_bytes(path: Path, digest: str) -> bytes:
    """The bytes of the template's regular file ``path`` when they still have the sha256 its manifest
    (a trusted file) recorded; Refused otherwise. Who owns the file and who may write it do not
    matter: the bytes checked are the bytes the clone writes, into a new file of its own. (A file
    of the template others could write, one uv's cache got at umask 002, is copied for that reason
    instead of linked; refusing it here made every such template fail and be built again.)"""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise Refused(f"{path.name} cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{path} is not a regular file")
        data = f.read()
    if hashlib.sha256(data).hexdigest() != digest:
        raise Refused(f"{path} changed since the template was made")
    return data


def shebang(python: str) -> bytes:
    """The first line(s) uv writes into a console script for ``python`` (a plain path)."""
    if len(python) > _SHEBANG_MAX or " " in python:
        return b"#!/bin/sh\n'''exec' '" + python.encode() + b"' \"$0\" \"$@\"\n' '''\n"
    return b"#!" + python.encode() + b"\n"


def _fix_script(data: bytes, old_python: str, new_python: str) -> bytes:
    for head in (
        shebang(old_python),
        b"#!" + old_python.encode() + b"\n",
        b"#!/bin/sh\n'''exec' '" + old_python.encode() + b"' \"$0\" \"$@\"\n' '''\n",
    ):
        if data.startswith(head):
            return shebang(new_python) + data[len(head) :]
    return data


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([path, f"sha256={digest}", str(len(data))])
    return out.getvalue()


def _fix_record(data: bytes, rel: str, rewritten: dict[str, bytes]) -> bytes:
    base = os.path.dirname(os.path.dirname(rel))
    out = []
    for line in data.decode("utf-8").splitlines(keepends=True):
        body = line.rstrip("\r\n")
        rows = list(csv.reader([body])) if body else []
        if rows and rows[0]:
            target = os.path.normpath(os.path.join(base, rows[0][0]))
            if target in rewritten:
                line = _record_line(rows[0][0], rewritten[target]) + line[len(body) :]
        out.append(line)
    return "".join(out).encode("utf-8")


def _write_new(path: str, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        os.fchmod(f.fileno(), mode & 0o755)


# A folder or a hard link takes the kernel a few tens of microseconds, most of it outside the GIL:
# a clone makes them from several threads (measured on 2 cores: the ~1,300 folders of an ipykernel
# venv in half the time of one thread).
_THREADS = max(2, min(4, os.cpu_count() or 1))


def _slices(n: int) -> list[tuple[int, int]]:
    """``range(n)`` cut into one contiguous slice per thread."""
    step = -(-n // _THREADS) if n else 1
    return [(lo, min(lo + step, n)) for lo in range(0, n, step)]


def _in_parallel(fn: Callable[..., None], jobs: list[tuple[Any, ...]]) -> None:
    """``fn(stop, *job)`` for every job, one job per thread, this thread running the first. ``stop`` (a
    threading.Event) is set as soon as a job fails or this thread is interrupted, and every job checks it
    between two items, so all have ended when this returns or raises: nothing is made in a folder after
    its caller gave up on it. Raises an interrupt (KeyboardInterrupt, SystemExit) first, else the first error."""
    import threading

    stop = threading.Event()
    errors: list[BaseException] = []

    def run(job: tuple[Any, ...]) -> None:
        try:
            fn(stop, *job)
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    others = [threading.Thread(target=run, args=(job,), daemon=True) for job in jobs[1:]]
    try:
        for thread in others:
            thread.start()
        if jobs:
            run(jobs[0])
        for thread in others:
            thread.join()
    except BaseException:  # interrupted while starting or waiting: the others stop at their next item
        stop.set()
        for thread in others:
            if thread.is_alive():
                thread.join()
        raise
    if errors:
        raise next((e for e in errors if not isinstance(e, Exception)), errors[0])


def _make_folders(dst: str, dirs: list[list[Any]]) -> None:
    """Make ``dirs`` ([path, mode], every parent either there already or listed) under ``dst``:
    depth by depth, each depth's folders shared out among the threads."""
    by_depth: dict[int, list[list[Any]]] = {}
    for entry in dirs:
        by_depth.setdefault(entry[0].count("/"), []).append(entry)

    def make(stop: Any, batch: list[list[Any]], lo: int, hi: int) -> None:
        for rel, mode in batch[lo:hi]:
            if stop.is_set():
                return
            os.mkdir(dst + rel, mode & 0o755)

    for depth in sorted(by_depth):
        batch = by_depth[depth]
        _in_parallel(make, [(batch, lo, hi) for lo, hi in _slices(len(batch))] if len(batch) > 64 else [(batch, 0, len(batch))])


def _link_checked(stop: Any, src: str, dst: str, linked: list[list[Any]], lo: int, hi: int, made: int) -> None:
    """Hard-link ``linked[lo:hi]`` from ``src`` to ``dst`` (the first ``made`` are linked already: a spare
    tree) and check every link against the manifest: Refused when one is not the file it recorded.
    Returns early once ``stop`` is set (another part failed)."""
    euid, link, lstat = _euid(), os.link, os.lstat
    for i in range(lo, hi):
        if stop.is_set():
            return
        rel, size, mtime_ns, ino, mode = linked[i]
        d = dst + rel
        if i >= made:
            link(src + rel, d)
        st = lstat(d)
        if st.st_ino != ino or st.st_size != size or st.st_mtime_ns != mtime_ns or st.st_mode != mode or st.st_uid != euid:
            raise Refused(f"{rel} changed since the template was made (through a venv that shares it?)")


def clone(man: dict[str, Any], dest: Path, prompt: str, spare: tuple[Path, int, int] | None = None) -> None:
    """Make ``dest`` (an existing folder holding only kernelenv's mark) a copy of the template
    ``man`` describes, fixed up for ``dest`` and ``prompt``, starting from ``spare`` when given
    (see :func:`grow_spare`). Raises Refused (the caller deletes what was made): ``changed`` when
    the template is no longer what its manifest says."""
    try:
        _clone(man, dest, prompt, spare)
    except Refused:
        raise
    except (OSError, KeyError, TypeError, ValueError) as exc:  # a full disk, a manifest of another shape
        raise Refused(f"cannot clone the template ({exc})", changed=isinstance(exc, (KeyError, TypeError, ValueError))) from None


def _clone(man: dict[str, Any], dest: Path, prompt: str, spare: tuple[Path, int, int] | None) -> None:
    tvenv = man["venv"]
    src, dst = tvenv + "/", str(dest) + "/"
    old_py, new_py = str(venvmod.python_of(Path(tvenv))), str(venvmod.python_of(dest))
    replace = ((tvenv.encode(), str(dest).encode()), (man["prompt"].encode(), prompt.encode()))
    made_dirs = made_links = 0
    if spare is not None:  # the first folders (and links) made ahead: moved in, every link checked below
        holder, made_dirs, made_links = spare
        if made_dirs > len(man["dirs"]) or made_links > len(man["linked"]) or (made_links and made_dirs < len(man["dirs"])):
            raise Refused("a spare folder tree that does not fit its template", changed=False)
        for rel, _ in man["dirs"][:made_dirs]:
            if "/" not in rel:
                st = os.lstat(holder / rel)
                if not stat.S_ISDIR(st.st_mode) or st.st_uid != _euid():
                    raise Refused("a spare folder tree that is not kernelenv's", changed=False)
                os.rename(holder / rel, dst + rel)
    _make_folders(dst, man["dirs"][made_dirs:])
    for rel, target in man["symlinks"]:
        os.symlink(str(dest) + target[len(tvenv) :] if target.startswith(src) else target, dst + rel)
    linked = man["linked"]
    try:
        _in_parallel(_link_checked, [(src, dst, linked, lo, hi, made_links) for lo, hi in _slices(len(linked))])
    except FileNotFoundError as exc:
        raise Refused(f"{exc.filename} is missing from the template") from None
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES, errno.ENOTSUP):
            raise Refused(f"cannot hard-link the template here ({exc.strerror})", changed=False) from None
        raise
    rewritten: dict[str, bytes] = {}
    for rel, digest, mode, fix in sorted(man["copied"], key=lambda c: c[3] == "record"):
        data = _trusted_bytes(Path(src + rel), digest)
        if fix == "script":
            data = _fix_script(data, old_py, new_py)
        if fix == "record":
            data = _fix_record(data, rel, rewritten)
        if fix:
            for old, new in replace:
                data = data.replace(old, new)
        if fix == "script":
            rewritten[rel] = data
        _write_new(dst + rel, data, mode)


# spares: the next clone's folders and links, made while uv resolves -------------------------
SPARE = "spare-"  # <id>/spare-<folders>-<links>: that many of the manifest's folders and links, in order


def take_spare(store: Store, tid: str) -> tuple[Path, int, int] | None:
    """A spare tree of template ``tid``, taken (renamed) so that no other run takes it too."""
    tdir = store.root / tid
    try:
        all_names = os.listdir(tdir)
    except OSError:
        return None
    now = time.time()
    for name in all_names:  # what killed runs left: a tree half made, or taken and not used
        if name.startswith((".spare-", ".taken-")):
            try:
                if now - os.lstat(tdir / name).st_mtime > 3600:
                    shutil.rmtree(tdir / name, ignore_errors=True)
            except OSError:
                pass
    for name in sorted(n for n in all_names if n.startswith(SPARE)):
        m = re.fullmatch(rf"{SPARE}(\d+)-(\d+)", name)
        if not m:
            continue
        taken = tdir / f".taken-{secrets.token_hex(6)}"
        try:
            os.rename(tdir / name, taken)
            st = os.lstat(taken)
        except OSError:
            continue  # another run took it
        if stat.S_ISDIR(st.st_mode) and st.st_uid == _euid():
            return taken, int(m[1]), int(m[2])
        shutil.rmtree(taken, ignore_errors=True)
    return None


def grow_spare(store: Store, man: dict[str, Any], busy: Callable[[], bool]) -> None:
    """While ``busy()`` (uv still resolving: time this run would only wait), make the template's
    folders, then its hard links, in manifest order, in a tree the next clone moves in. Nothing in
    it is trusted later: the next clone checks every link as it checks its own."""
    tdir = store.root / man["id"]
    try:
        if any(n.startswith(SPARE) for n in os.listdir(tdir)):
            return
        building = tdir / f".spare-{secrets.token_hex(6)}"
        os.mkdir(building, 0o700)
    except OSError:
        return
    dirs, linked, base, src = man["dirs"], man["linked"], f"{building}/", man["venv"] + "/"
    n_dirs = n_links = 0
    try:
        while n_dirs < len(dirs) and busy():
            for rel, mode in dirs[n_dirs : n_dirs + 32]:
                os.mkdir(base + rel, mode & 0o755)
            n_dirs = min(n_dirs + 32, len(dirs))
        while n_dirs == len(dirs) and n_links < len(linked) and busy():
            for entry in linked[n_links : n_links + 128]:
                os.link(src + entry[0], base + entry[0])
            n_links = min(n_links + 128, len(linked))
        if n_dirs:
            os.rename(building, tdir / f"{SPARE}{n_dirs}-{n_links}")
            return
    except OSError:
        pass
    shutil.rmtree(building, ignore_errors=True)


# the cache ----------------------------------------------------------------------------------
class Store:
    """``<cache>/templates``: template folders by id, and an index {key: id, request: key}."""

    def __init__(self, cache_dir: Path):
        self.root = files.private_dir(files.private_subdir(cache_dir, "templates"))
        self.keys, self.requests = self._read()
        self._forgotten: set[str] = set()  # templates this run deleted (another run's index may still name them)

    def _read(self) -> tuple[dict[str, str], dict[str, str]]:
        data = _trusted_json(self.root / INDEX)
        ok = isinstance(data, dict) and data.get("format") == FORMAT
        return (dict(data.get("keys") or {}) if ok else {}), (dict(data.get("requests") or {}) if ok else {})

    def manifest(self, tid: str | None, key: str | None = None) -> dict[str, Any] | None:
        if not tid or not re.fullmatch(r"[0-9a-f]{16,64}", tid):
            return None
        man = _trusted_json(self.root / tid / MANIFEST)
        if not (isinstance(man, dict) and man.get("format") == FORMAT and man.get("id") == tid):
            return None
        if key is not None and man.get("key") != key:
            return None
        if man.get("venv") != str(self.root / tid / "venv"):
            return None
        return man

    def save(self) -> None:
        """Write the index, merged with what other runs saved since this one read it (under a lock):
        a run that made a template while another made one keeps its entry. Entries whose template
        folder is gone are dropped. Not saved when another run holds the lock too long (only speed is lost)."""
        from filelock import FileLock, Timeout

        try:
            with FileLock(str(self.root / ".index.lock"), timeout=60):
                keys, requests = self._read()
                keys = {k: v for k, v in keys.items() if v not in self._forgotten}
                keys.update(self.keys)
                keys = {k: v for k, v in keys.items() if re.fullmatch(r"[0-9a-f]{16,64}", v) and (self.root / v).is_dir()}
                requests.update(self.requests)
                requests = {r: k for r, k in requests.items() if k in keys}
                self.keys, self.requests = keys, requests
                data = {"format": FORMAT, "keys": keys, "requests": requests}
                files.write_atomic(self.root / INDEX, json.dumps(data), 0o600)
        except Timeout:
            pass

    def forget(self, tid: str) -> None:
        self._forgotten.add(tid)
        self.keys = {k: v for k, v in self.keys.items() if v != tid}
        shutil.rmtree(self.root / tid, ignore_errors=True)

    def touch(self, tid: str) -> None:
        try:
            os.utime(self.root / tid)
        except OSError:
            pass

    def prune(self, keep: str) -> None:
        """Delete templates no index entry names (after ORPHAN_AGE), and all but the KEEP most recently used."""
        now = time.time()
        named = set(self.keys.values())
        ages: list[tuple[float, str]] = []
        for entry in os.scandir(self.root):
            if not entry.is_dir(follow_symlinks=False) or not re.fullmatch(r"[0-9a-f]{16,64}", entry.name):
                continue
            mtime = entry.stat(follow_symlinks=False).st_mtime
            if entry.name not in named:
                if now - mtime > ORPHAN_AGE:
                    shutil.rmtree(entry.path, ignore_errors=True)
                continue
            ages.append((mtime, entry.name))
        for _, tid in sorted(ages, reverse=True)[KEEP:]:
            if tid != keep:
                self.forget(tid)
        self.requests = {r: k for r, k in self.requests.items() if k in self.keys}


# building -----------------------------------------------------------------------------------
def _build(
    store: Store,
    tid: str,
    key: str,
    pins: list[lockfile.Pin],
    base: str,
    backend: Any,
    *,
    offline: bool,
    warm: Callable[[Path], Any],
    made: bool,
    dest: Path,
    prompt: str,
) -> dict[str, Any]:
    """Install ``pins`` into the template venv ``tid`` (made already when ``made``), record its manifest
    and clone it into ``dest``: everything but the bytecode while the bytecode is being compiled, then that."""
    tdir = store.root / tid
    tvenv = tdir / "venv"
    if not made:
        _skeleton(store, tid, base)
    pins_file = tdir / "pins.txt"
    files.write_atomic(pins_file, "\n".join(p.line() for p in pins) + "\n", 0o600)
    backend.install_lock(venvmod.python_of(tvenv), pins_file, exact=True, offline=offline)
    venvmod.tighten(tvenv)
    man = {
        "format": FORMAT,
        "id": tid,
        "key": key,
        "venv": str(tvenv),
        "prompt": _token(tid),
        "pins": [f"{p.canonical}=={p.version}" for p in pins],
        "installed": sorted(venvmod.installed(tvenv)),
        "made": venvmod.now(),
    }
    warming = warm(tvenv)
    pyc: list[Listing] = []

    def bytecode() -> None:  # once compiled, while the bytecode cache is filled from the template
        pyc.append(_walk(tvenv, bytecode=True))
        clone(man | {"dirs": pyc[0][0], "symlinks": [], "linked": pyc[0][2], "copied": pyc[0][3]}, dest, prompt)

    try:
        dirs, links, linked, copied = _walk(tvenv, bytecode=False)
        clone(man | {"dirs": dirs, "symlinks": links, "linked": linked, "copied": copied}, dest, prompt)
        warming.wait(beside=bytecode)
    except BaseException:
        warming.cancel()
        raise
    pyc_dirs, _, pyc_linked, pyc_copied = pyc[0]
    man |= {"dirs": dirs + pyc_dirs, "symlinks": links, "linked": linked + pyc_linked, "copied": copied + pyc_copied}
    files.write_atomic(tdir / MANIFEST, json.dumps(man, separators=(",", ":")), 0o600)
    return man


def _token(tid: str) -> str:
    return f"kernelenv-template-{tid}"


def _skeleton(store: Store, tid: str, base: str) -> None:
    tdir = store.root / tid
    os.mkdir(tdir, 0o700)
    venvmod.create(tdir / "venv", base, with_pip=False, prompt=_token(tid))


def _clear(venv: Path) -> None:
    """Delete everything in ``venv`` but kernelenv's mark (what a refused clone left)."""
    for entry in os.scandir(venv):
        if entry.name.startswith(venvmod.MARK_FILE):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


# the entry point ----------------------------------------------------------------------------
def applies(venv: Path, info: pythons.PythonInfo, backend: Any) -> bool:
    """Whether a venv at ``venv`` for ``info`` installed by ``backend`` may come from a template at all
    (uv linking from its cache, not Windows, a Python virtualenv still makes, names activate needs no quoting for)."""
    if sys.platform == "win32" or getattr(backend, "name", None) != "uv" or not backend.links_from_cache():
        return False  # (on Windows a console script is an .exe that names its python: not fixed up here)
    return tuple(info.version[:2]) >= venvmod.VIRTUALENV_OLDEST and plain(str(venv)) and plain(venvmod.default_prompt(venv))


def _open_store(cache_dir: Path, venv: Path) -> Store | None:
    """The templates store, or None where it cannot serve ``venv`` (unwritable, a name to quote, another file system)."""
    try:
        store = Store(cache_dir)
    except OperationError as exc:
        if exc.info.code == "CACHE_UNWRITABLE":
            return None
        raise
    if not plain(str(store.root)):
        return None
    try:  # a template on another file system cannot be hard-linked here
        if os.stat(store.root).st_dev != os.stat(venv).st_dev:
            return None
    except OSError:
        return None
    return store


def _clone_guess(
    store: Store, guess: dict[str, Any], venv: Path, prompt: str, waiting: Callable[[], bool]
) -> tuple[dict[str, Any] | None, str | None]:
    """Clone the template this request used last time, before the pins are known: (its manifest or None,
    why it was refused when it had changed). While ``waiting()``, the next clone's spare tree is made."""
    cloned: dict[str, Any] | None = None
    refused: str | None = None
    spare_tree = take_spare(store, guess["id"])
    try:
        clone(guess, venv, prompt, spare_tree)
        cloned = guess
    except Refused as exc:
        _clear(venv)
        if exc.changed:
            refused = exc.why
            store.forget(guess["id"])
    finally:
        if spare_tree is not None:
            shutil.rmtree(spare_tree[0], ignore_errors=True)
    if cloned is not None:
        grow_spare(store, cloned, waiting)
    return cloned, refused


def provide(
    cache_dir: Path,
    venv: Path,
    info: pythons.PythonInfo,
    base: str,
    backend: Any,
    requested: list[str],
    req_files: list[Path],
    *,
    offline: bool,
    warm: Callable[[Path], Any],
    warm_identity: str,
    progress: Callable[[str], None],
) -> Provided | None:
    """Make ``venv`` (a folder holding only kernelenv's mark) from a template; None when templates do
    not apply or fail (``venv`` is then left as it was given, for the caller to install as before).
    ``base`` is the interpreter the venv is made from; ``warm(venv)`` starts making a venv's start-up
    bytecode and returns what to ``wait`` for (or ``cancel``): bytecode.Warming.
    Raises only what the caller must see (CACHE_UNSAFE, an interrupt)."""
    if not applies(venv, info, backend) or requirements.options_in(req_files):
        return None
    store = _open_store(cache_dir, venv)
    if store is None:
        return None
    uv_id = backend.identity()
    try:  # (naming the guess's packages to uv too, so that it asks the index about all of them at once rather
        # than level by level, halved this wait (0.15 s against 0.31 s) but made uv open ~60 connections at
        # once; on the machines this was measured on, 20 to 45 % of such runs then stalled 5 s on a lost DNS
        # answer: not done)
        resolving = backend.resolve_start(Path(base), info.short, requested, req_files, offline=offline)
    except OperationError:
        return None
    run = _Run(
        store,
        venv,
        info,
        base,
        backend,
        requested,
        req_files,
        offline,
        warm,
        warm_identity,
        progress,
        uv_id,
        venvmod.default_prompt(venv),
        request_key(info, base, uv_id, requested, req_files),
        resolving,
    )
    try:
        return _provide(run)
    except BaseException:
        resolving.cancel()
        raise
    finally:
        if run.spare is not None:
            shutil.rmtree(store.root / run.spare, ignore_errors=True)


@dataclass
class _Run:
    """One provide(): what it was asked, and what it started and must end: uv resolving the request, and
    a template venv made while it resolves, when none is known for the request (``spare``)."""

    store: Store
    venv: Path
    info: pythons.PythonInfo
    base: str
    backend: Any
    requested: list[str]
    req_files: list[Path]
    offline: bool
    warm: Callable[[Path], Any]
    warm_identity: str
    progress: Callable[[str], None]
    uv_id: str
    prompt: str
    req: str  # the request's key (what was asked), not the pins'
    resolving: Any  # uv resolving the request: installer.Resolving
    spare: str | None = None


def _start_template(run: _Run) -> None:
    """No template is known for this request: make a new one's venv while uv resolves (best effort: a
    failure leaves ``run.spare`` None). Nothing is installed before the pins are known: the exact,
    hash-checked ``uv pip sync`` of the pins installs exactly the files whose hashes the key names
    (a release file replaced meanwhile fails that sync instead of being kept under another's key)."""
    run.spare = secrets.token_hex(8)
    try:
        _skeleton(run.store, run.spare, run.base)
    except (OperationError, OSError):
        shutil.rmtree(run.store.root / run.spare, ignore_errors=True)
        run.spare = None


def _clone_exact(run: _Run, key: str) -> tuple[dict[str, Any] | None, str | None, bool]:
    """Clone the template made for these very pins: (its manifest or None, why a changed one was refused,
    whether to give up on templates for this run: one refused for another reason than a change)."""
    man = run.store.manifest(run.store.keys.get(key), key)
    if man is None:
        return None, None, False
    run.progress(f"linking {len(man['installed'])} packages from the template made for them")
    try:
        clone(man, run.venv, run.prompt)
        return man, None, False
    except Refused as exc:
        _clear(run.venv)
        if not exc.changed:
            return None, None, True
        run.store.forget(man["id"])
        return None, exc.why, False


def _new_template(run: _Run, key: str, pins: list[Any], refused: str | None) -> dict[str, Any] | None:
    """Install the pins into a new template (the spare venv if it was made) and clone it; None on failure."""
    run.progress(
        f"installing {len(pins)} packages (kept as a template: the next project with the same packages "
        "links them instead)" + (f" ({refused}; made again)" if refused else "")
    )
    tid = run.spare or secrets.token_hex(8)
    try:
        man = _build(
            run.store,
            tid,
            key,
            pins,
            run.base,
            run.backend,
            offline=run.offline,
            warm=run.warm,
            made=run.spare is not None,
            dest=run.venv,
            prompt=run.prompt,
        )
    except (OperationError, OSError, Refused):
        shutil.rmtree(run.store.root / tid, ignore_errors=True)
        _clear(run.venv)
        return None
    run.spare = None
    run.store.keys[key] = tid
    return man


def _provide(run: _Run) -> Provided | None:
    """provide() once uv is resolving: clone the likely template meanwhile, then the exact one, else build one."""
    store = run.store
    guess = store.manifest(store.keys.get(store.requests.get(run.req, "")))  # read while uv resolves
    cloned: dict[str, Any] | None = None
    refused: str | None = None
    if guess is not None:
        run.progress(
            f"linking {len(guess['installed'])} packages from the template made for them; "
            "checking with the index that they are still what it resolves to"
        )
        cloned, refused = _clone_guess(store, guess, run.venv, run.prompt, lambda: not run.resolving.done())
    else:
        _start_template(run)
    try:
        pins = run.resolving.pins()
    except OperationError:
        _clear(run.venv)
        return None
    key = template_key(run.info, run.base, run.uv_id, pins, run.warm_identity)
    if cloned is not None and cloned["key"] != key:
        run.progress("the index now resolves to other packages than the template's: not using it")
        _clear(run.venv)
        cloned = None
    built = False
    if cloned is None:
        cloned, changed, give_up = _clone_exact(run, key)
        refused = changed or refused
        if give_up:
            return None
    if cloned is None:
        cloned = _new_template(run, key, pins, refused)
        if cloned is None:
            return None
        built = True
    store.requests[run.req] = key
    store.touch(cloned["id"])
    if built:
        store.prune(keep=cloned["id"])
    store.save()
    return Provided(installed=list(cloned["installed"]), template=cloned["id"], built=built, refused=refused)
