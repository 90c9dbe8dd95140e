"""Team kernels: a venv and kernelspec one Unix group shares, and who can reach what on disk.

Contract:
- ``group_for(name, venv)`` is the group of ``--group NAME`` (``NAME`` empty: the group of the
  folder the venv goes in). GROUP_INVALID when it does not exist, when this user may not give
  files to it (neither root nor a member), or where there are no Unix groups (Windows).
- ``give(path, group)``: ``path`` and everything under it (links are not followed) belong to the
  group, which may read everything and pass or run what the owner may; folders are setgid, so
  what an owner adds later stays the group's. Nobody but the owner may write, and users outside
  the group get nothing: a team's kernel is listed, started and read by its members only.
  Idempotent; kernelenv's own umask (files.safe_umask) never makes group-writable files either.
  A regular file with other hard links (uv links the packages' files from its cache, a template
  clone from its template) is first replaced by a copy of its own (same bytes, mode and mtime):
  its mode and group are the inode's, so changing them would change uv's cache, the template
  and every other venv holding that file.
- :class:`Audience` is who besides a file's owner may reach a path: the members of one group, or
  every user. ``audience(path)`` says who can read ``path`` (a kernel.json): every user, the
  members of its group, or None (its owner and root alone).
- ``blocked(path, who, need)`` is the first thing on the way that stops ``who``: a folder they
  cannot pass (x), or ``path`` itself lacking ``need`` ("r", "x", "rx"); None when nothing does.
  Folders that do not exist yet count as made with this process's umask. Mode bits only (ACLs
  are not read); a member is taken not to be the file's owner, root is never the audience.
- ``kernel_blocks(python, who)`` is what keeps ``who`` from running a kernel of ``python``: the
  interpreter as named and as resolved, a venv's pyvenv.cfg and site-packages, and the base
  interpreter with its standard library (pyenv's Pythons under a private /root are the usual case).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import files
from . import venv as venvmod
from .result import OperationError

WRITE_BITS = 0o022


@dataclass(frozen=True)
class Group:
    gid: int
    name: str


@dataclass(frozen=True)
class Audience:
    gid: int | None  # None: every user (the "other" bits)
    label: str  # "members of group team", "every user"

    def __str__(self) -> str:
        return self.label


EVERY_USER = Audience(None, "every user")


@dataclass(frozen=True)
class Block:
    path: Path  # what stops them
    target: Path  # what they were trying to reach
    mode: int
    owner: str
    group: str

    def describe(self, who: Audience) -> str:
        where = f"{self.path} (mode {self.mode:o}, {self.owner}:{self.group})"
        if self.path == self.target:
            return f"{where} is not open to {who}"
        return f"{where} keeps {who} from {self.target}"


def group_name(gid: int) -> str:
    """The group's name (its number where it has none)."""
    return _name_of_group(gid)


def _name_of_group(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return str(gid)


def _name_of_user(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def for_group(group: Group) -> Audience:
    return Audience(group.gid, f"members of group {group.name}")


def group_for(name: str, venv: Path) -> Group:
    """The group --group names (empty: the group of the venv's parent folder); GROUP_INVALID when unusable."""
    if sys.platform == "win32":
        raise OperationError(
            "GROUP_INVALID", "--group needs Unix groups; Windows has none", hint="share the folder with Windows permissions"
        )

    if name:
        gid = _lookup_group(name)
        if gid is None:
            raise OperationError(
                "GROUP_INVALID",
                f"there is no group {name!r} on this machine",
                hint="make it first (groupadd) and add the team's users to it",
                group=name,
            )
        group = Group(gid, _name_of_group(gid))
    else:
        parent = _existing(venv.parent)
        gid = os.stat(parent).st_gid
        group = Group(gid, _name_of_group(gid))
    if os.geteuid() != 0 and group.gid not in os.getgroups() and group.gid != os.getegid():
        raise OperationError(
            "GROUP_INVALID",
            f"you are not a member of group {group.name}, so you cannot give the venv to it",
            hint=f"ask to be added to {group.name} (then log in again), or run as its owner",
            group=group.name,
        )
    return group


def _lookup_group(name: str) -> int | None:
    import grp

    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        pass
    if name.isdigit():
        try:
            return grp.getgrgid(int(name)).gr_gid
        except KeyError:
            return None
    return None


def _existing(path: Path) -> Path:
    while not os.path.exists(path) and path.parent != path:
        path = path.parent
    return path


def give(path: Path, group: Group) -> None:
    """``path`` and all below it: the group's to read and run, the owner's alone to change (see the contract)."""
    _give_one(path, group.gid)
    if not os.path.isdir(path) or os.path.islink(path):
        return
    for root, dirs, names in os.walk(path):
        for n in dirs + names:
            _give_one(Path(root) / n, group.gid)


def _give_one(path: Path, gid: int) -> None:
    st = os.lstat(path)
    if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        st = _unshare(path, st)
    if st.st_gid != gid:
        os.lchown(path, -1, gid)
    if stat.S_ISLNK(st.st_mode):
        return
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISDIR(st.st_mode):
        want = (mode & 0o700) | 0o050 | stat.S_ISGID
    else:
        want = (mode & 0o700) | 0o040 | (0o010 if mode & 0o100 else 0)
    if mode != want or st.st_gid != gid:  # chown may clear setgid: set the mode again after it
        os.chmod(path, want)


def _unshare(path: Path, st: os.stat_result) -> os.stat_result:
    """Replace the hard-linked file ``path`` by a copy of its own (same bytes, mode and mtime, so a
    .pyc that records the source's mtime stays valid); the other links keep the old inode untouched."""
    files.copy_atomic(path, path, stat.S_IMODE(st.st_mode))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
    return os.lstat(path)


def recorded(mark: dict | None) -> str | None:
    """The group a venv's mark says it is shared with (written by create --group)."""
    value = (mark or {}).get("group")
    return value if isinstance(value, str) and value else None


# who can reach what -------------------------------------------------------------------------
def _umask() -> int:
    old = os.umask(0o022)
    os.umask(old)
    return old


def _allowed(st: os.stat_result, who: Audience, bit: str) -> bool:
    shift = 3 if who.gid is not None and st.st_gid == who.gid else 0  # group bits for members, else other bits
    mask = {"r": 0o4, "w": 0o2, "x": 0o1}[bit] << shift
    return bool(stat.S_IMODE(st.st_mode) & mask)


def _block(path: Path, target: Path, st: os.stat_result) -> Block:
    return Block(path, target, stat.S_IMODE(st.st_mode), _name_of_user(st.st_uid), _name_of_group(st.st_gid))


def blocked(path: Path, who: Audience, need: str = "x") -> Block | None:
    """What stops ``who`` on the way to ``path`` (see the contract); None when nothing does."""
    path = Path(os.path.abspath(path))
    chain = [*reversed(path.parents), path]
    parent_st: os.stat_result | None = None
    for i, part in enumerate(chain):
        last = i == len(chain) - 1
        try:
            st = os.stat(part) if last else os.lstat(part)
            if not last and stat.S_ISLNK(st.st_mode):
                return blocked(Path(os.path.realpath(part)).joinpath(*path.parts[len(part.parts) :]), who, need)
        except FileNotFoundError:
            st = _future(parent_st)
        except OSError:
            return None  # we cannot see it ourselves: not ours to judge
        for bit in need if last else "x":
            if not _allowed(st, who, bit):
                return _block(part, path, st)
        parent_st = st
    return None


def _future(parent: os.stat_result | None) -> os.stat_result:
    """The stat a folder made now by this process would have."""
    gid = parent.st_gid if parent is not None and parent.st_mode & stat.S_ISGID else os.getegid()
    mode = stat.S_IFDIR | (0o777 & ~_umask())
    return os.stat_result((mode, 0, 0, 0, os.geteuid(), gid, 0, 0, 0, 0))


def audience(path: Path) -> Audience | None:
    """Who besides its owner can read ``path``: every user, the members of its group, or None."""
    try:
        gid = os.stat(path).st_gid
    except OSError:
        return None
    if blocked(path, EVERY_USER, "r") is None:
        return EVERY_USER
    group = Audience(gid, f"members of group {_name_of_group(gid)}")
    return group if blocked(path, group, "r") is None else None


def kernel_blocks(python: Path, who: Audience) -> Block | None:
    """What keeps ``who`` from running a kernel of ``python`` (a venv's or not); None when nothing does."""
    checks: list[tuple[Path, str]] = [(python, "x"), (Path(os.path.realpath(python)), "x")]
    venv = python.parent.parent
    base: str | None = os.path.realpath(python)
    if venvmod.is_venv(venv):
        checks.append((venv / "pyvenv.cfg", "r"))
        checks += [(sp, "rx") for sp in venvmod.site_packages(venv)]
        found, exists = venvmod.base_interpreter(venv)
        base = os.path.realpath(found) if found and exists else None
    if base:
        checks.append((Path(base), "x"))
        version = venvmod.cfg_version(venv) if venvmod.is_venv(venv) else None
        lib = Path(base).parent.parent / "lib"
        stdlib = [lib / f"python{version}"] if version else sorted(lib.glob("python3*"))[-1:]
        checks += [(d, "rx") for d in stdlib if d.is_dir()]
    for path, need in checks:
        found_block = blocked(path, who, need)
        if found_block is not None:
            return found_block
    return None


def python_blocks(python: str | os.PathLike[str], who: Audience) -> Block | None:
    """What keeps ``who`` from running the interpreter a new venv would be made from."""
    return kernel_blocks(Path(python), who)


def runnable_pythons(
    who: Audience, candidates: Sequence[tuple[str, tuple[int, ...]]], prefer: tuple[int, ...] | None
) -> list[str]:
    """Of (path, version) ``candidates``, those ``who`` can run, the ones of version ``prefer`` (X.Y) first."""
    ok = [(path, version) for path, version in candidates if python_blocks(path, who) is None]
    ok.sort(key=lambda pv: prefer is None or tuple(pv[1][:2]) != tuple(prefer[:2]))
    return [path for path, _ in ok]


def unreachable(spec_json: Path, python: Path) -> tuple[Audience, Block] | None:
    """(who can list the kernel, what keeps them from running it), when someone besides its owner lists it but cannot run it."""
    who = audience(spec_json)
    if who is None:
        return None
    found = kernel_blocks(python, who)
    return (who, found) if found is not None else None
