"""Inter-process locks: one kernelenv run at a time on a venv or a kernel name.

Contract: ``locked(ctx, what)`` holds a file lock named by a hash of ``what`` (a venv path, a
kernel folder) in kernelenv's private cache folder (``locks/``); when that folder cannot be
written (a read-only cache) the locks live in a private folder under the system's temporary
folder instead, so a read-only cache slows nothing down but never disables locking. Waits up to
``wait`` seconds for another run, then LOCKED. An unsafe cache folder is CACHE_UNSAFE.
``venv_and_kernels`` names each folder by its real path (``os.path.realpath``): two runs on one
venv or kernel folder wait for each other however each spells it (a symlinked project folder,
a JUPYTER_DATA_DIR reached through a link).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from . import files
from .context import Context
from .result import OperationError

LOCK_WAIT = 600.0


def lock_dir(ctx: Context) -> Path:
    try:
        return files.private_subdir(ctx.cache_dir, "locks")
    except OperationError as exc:
        if exc.info.code != "CACHE_UNWRITABLE":
            raise
    uid = os.geteuid() if hasattr(os, "geteuid") else 0
    return files.private_dir(Path(tempfile.gettempdir()) / f"kernelenv-locks-{uid}")


def _said(what: str) -> str:
    """A lock's key in words: ``venv:/p/.venv`` is "the venv /p/.venv", ``kernel:/k`` "the kernel folder /k"."""
    kind, sep, path = what.partition(":")
    words = {"venv": "the venv", "kernel": "the kernel folder"}
    return f"{words[kind]} {path}" if sep and kind in words else what


@contextlib.contextmanager
def locked(ctx: Context, what: str, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold the inter-process lock for ``what``; LOCKED after ``wait`` seconds."""
    from filelock import FileLock, Timeout

    key = hashlib.sha256(what.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    lock = FileLock(str(lock_dir(ctx) / f"{key}.lock"), mode=0o600)
    try:
        lock.acquire(timeout=0.05)
    except Timeout:
        ctx.progress("lock", f"waiting for another kernelenv run on {_said(what)} to finish", None, None)
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise OperationError(
                "LOCKED", f"another kernelenv run holds {_said(what)}; gave up after {wait:g} s", what=what
            ) from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def venv_and_kernels(ctx: Context, venv: Path | None, kernel_dirs: list[Path]) -> Iterator[None]:
    """The venv's lock, then each kernel folder's in sorted order (one order for all runs: no deadlock)."""
    with contextlib.ExitStack() as stack:
        if venv is not None:
            stack.enter_context(locked(ctx, f"venv:{os.path.realpath(venv)}"))
        for kdir in sorted({os.path.realpath(k) for k in kernel_dirs}):
            stack.enter_context(locked(ctx, f"kernel:{kdir}"))
        yield
