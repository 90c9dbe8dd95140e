"""Bytecode for what a kernel start imports, without compiling everything.

A fresh venv has no .pyc files; its first kernel start compiles ~300 modules (about
twice as slow as later starts, and slow at every start when PYTHONDONTWRITEBYTECODE
is set). kernelenv imports those modules once at create, which writes their .pyc,
and keeps the .pyc files in its cache so the next venv gets them by a hard link.

A cached .pyc is keyed by its source's path, size and mtime. uv hard-links sources from
its own cache, so the same package version has the same mtime in every venv. Python
checks the size and mtime stored in a .pyc against the source at import, so a .pyc
that does not match its source is never used: it is recompiled as usual.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path


def _key(src: os.stat_result, rel: str) -> str:
    h = hashlib.sha256(f"{rel}\0{src.st_size}\0{src.st_mtime_ns}".encode()).hexdigest()
    return h[:32]


def _source_of(pyc_rel: str) -> str:
    """'pkg/__pycache__/mod.cpython-311.pyc' -> 'pkg/mod.py'."""
    parent, name = os.path.split(pyc_rel)
    return os.path.join(os.path.dirname(parent), name.split(".", 1)[0] + ".py")


def restore(site: Path, cache: Path) -> int | None:
    """Link cached .pyc files into ``site``. Returns how many the manifest lacks, None without a manifest."""
    try:
        manifest = json.loads((cache / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    missing = 0
    for pyc_rel in manifest:
        src_rel = _source_of(pyc_rel)
        try:
            st = os.stat(site / src_rel)
        except OSError:
            continue  # that module is not in this venv (another version): nothing to do
        cached = cache / "pyc" / _key(st, src_rel)
        target = site / pyc_rel
        if target.exists():
            continue
        if not cached.exists():
            missing += 1
            continue
        target.parent.mkdir(exist_ok=True)
        try:
            os.link(cached, target)
        except OSError:
            shutil.copyfile(cached, target)
    return missing


def harvest(site: Path, cache: Path) -> None:
    """Store every .pyc under ``site`` in the cache and record them as the manifest."""
    (cache / "pyc").mkdir(parents=True, exist_ok=True)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(site):
        if os.path.basename(dirpath) != "__pycache__":
            continue
        for f in filenames:
            if not f.endswith(".pyc"):
                continue
            pyc = Path(dirpath) / f
            pyc_rel = str(pyc.relative_to(site))
            src_rel = _source_of(pyc_rel)
            try:
                st = os.stat(site / src_rel)
            except OSError:
                continue
            found.append(pyc_rel)
            cached = cache / "pyc" / _key(st, src_rel)
            if not cached.exists():
                tmp = cached.with_suffix(f".{os.getpid()}.tmp")
                shutil.copyfile(pyc, tmp)
                os.replace(tmp, cached)
    old: list[str] = []
    try:
        old = json.loads((cache / "manifest.json").read_text())
    except (OSError, ValueError):
        pass
    tmp = cache / f"manifest.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(sorted(set(old) | set(found))))
    os.replace(tmp, cache / "manifest.json")
