"""Writing files and folders so that no reader sees half of one and no planted link is followed.

Contract:
- ``write_atomic``/``copy_atomic`` write through a fresh, exclusive temporary file beside the
  target (``mkstemp``: never a fixed name a planted symlink could redirect), set its mode
  explicitly (whatever the umask), and rename it over the target. A symlink at the target is
  replaced, never written through.
- ``private_dir`` makes or checks a folder that must be the user's alone (kernelenv's cache):
  mode 0700 when made; an existing one must be a real folder owned by the user with no
  group/other write bit, else CACHE_UNSAFE (as ssh refuses a loose key).
- ``safe_umask`` tightens the process umask so nothing kernelenv or its children make is
  group- or world-writable.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from .result import OperationError

TIGHT_BITS = 0o022  # never group- or world-writable


def safe_umask() -> int:
    """Add group/other write to the umask (children inherit it); returns the umask it had."""
    old = os.umask(0o022)
    os.umask(old | TIGHT_BITS)
    return old


NAME_MAX = 255  # bytes in one file name (Linux, macOS)


def fitting(name: str, room: int) -> str:
    """``name``, or when ``room`` more bytes would not fit in one file name, its head and a stable hash of it:
    the temporary and aside names kernelenv derives from a file's name stay valid for the longest names."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) + room <= NAME_MAX:
        return name
    import hashlib

    head = raw[: max(0, NAME_MAX - room - 13)].decode("utf-8", "ignore")
    return f"{head}-{hashlib.sha256(raw).hexdigest()[:12]}"


def write_atomic(path: Path, text: str | bytes, mode: int = 0o644) -> None:
    """Write ``text`` to ``path`` by a temporary file renamed into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{fitting(path.name, 14)}.", suffix=".tmp", dir=path.parent)
    try:
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def copy_atomic(src: Path, dest: Path, mode: int = 0o644) -> None:
    """Copy the regular file ``src`` to ``dest`` by a temporary file renamed into place.

    ``src`` is opened without following a final symlink; ``dest`` is replaced, never written through.
    """
    import shutil

    fd_src = os.open(src, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd_src, "rb") as f:
        fd, tmp = tempfile.mkstemp(prefix=f".{fitting(dest.name, 14)}.", suffix=".tmp", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(f, out, 1 << 20)  # streamed: a venv's shared libraries may be large
            os.chmod(tmp, mode)
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def private_dir(path: Path) -> Path:
    """``path`` made (0700) or checked: a real folder, the user's, not writable by others. CACHE_UNSAFE otherwise."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise OperationError(
            "CACHE_UNWRITABLE",
            f"cannot make kernelenv's cache folder {path}: {exc.strerror or exc}",
            hint="set XDG_CACHE_HOME to a folder you can write",
            path=path,
        ) from None
    st = os.lstat(path)
    why = None
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        why = "is not a folder (a symbolic link?)"
    elif hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        why = f"belongs to uid {st.st_uid}, not to you"
    elif st.st_mode & TIGHT_BITS:
        why = f"is writable by others (mode {stat.S_IMODE(st.st_mode):o})"
    if why:
        raise OperationError(
            "CACHE_UNSAFE",
            f"kernelenv's cache folder {path} {why}; not trusting what is in it",
            hint=f"make it yours alone: chmod 700 {path} (or remove it; kernelenv makes it again)",
            path=path,
        )
    return path


def private_subdir(root: Path, *parts: str) -> Path:
    """A folder under a ``private_dir`` root, made 0700 at every level (the root's check covers it)."""
    private_dir(root)
    path = root
    try:
        for part in parts:  # (mkdir(parents=True) would make the folders between 0755)
            path = path / part
            path.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise OperationError(
            "CACHE_UNWRITABLE",
            f"cannot make {path}: {exc.strerror or exc}",
            hint="set XDG_CACHE_HOME to a folder you can write",
            path=path,
        ) from None
    return path


def read_private(path: Path) -> bytes | None:
    """The content of a file of kernelenv's cache when it can be trusted, else None: a regular file (not
    a link: opened with O_NOFOLLOW) owned by this user and writable by nobody else."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_mode & TIGHT_BITS:
            return None
        if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
            return None
        return f.read()
