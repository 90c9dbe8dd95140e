"""What a venv is: the one answer every verb that deletes, rebuilds or rewires a venv asks for.

Contract:
- ``inspect(path)`` looks at a venv path without running anything and says which :class:`Kind`
  it is: absent, a link, not a venv, a folder an interrupted kernelenv run abandoned, kernelenv's
  own made at this very path (``ours``), kernelenv's made elsewhere and moved here (its origin is
  gone and nothing says it is a copy) or copied here (its origin still exists, or its folder is
  another one on the same file system than the one its mark records: a copy whose original was
  moved or deleted since), the user's own, or the user's own relocated
  (its console scripts run another venv's python). Marks are never believed alone: a mark counts
  only for the path it names, and a venv whose scripts point elsewhere is never "ours".
- ``may_delete`` is the rule for deleting: kernelenv's own, made at this very path, as its mark
  says (callers also ask kernels.users_of: a venv another kernel uses is never deleted).
- ``may_rebuild`` is the rule for replacing a venv with a new one at the same path: kernelenv's
  (here, moved or copied) or abandoned; never the user's own.
- ``recoverable`` says whether ``repair`` can bring a venv back (its packages are readable).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from . import venv as venvmod


class Kind(str, Enum):
    ABSENT = "absent"
    LINK = "link"
    NOT_A_VENV = "not-a-venv"
    ABANDONED = "abandoned"
    OURS = "ours"
    OURS_MOVED = "ours-moved"
    OURS_COPIED = "ours-copied"
    USERS = "users"
    USERS_RELOCATED = "users-relocated"

    def __str__(self) -> str:
        return self.value


@dataclass
class VenvIdentity:
    path: Path
    kind: Kind
    mark: dict[str, Any] | None = None
    scripts_elsewhere: list[tuple[str, str]] = field(default_factory=list)
    folder: Path | None = None  # where its files are now, when judged as if at ``path`` (inspect's ``at``)

    @property
    def made_at(self) -> Path | None:
        """Where kernelenv made it, by its mark."""
        v = (self.mark or {}).get("venv")
        return Path(v) if isinstance(v, str) else None

    @property
    def made_for(self) -> Path | None:
        """The project kernelenv made it for, by its mark."""
        p = (self.mark or {}).get("project")
        return Path(p) if isinstance(p, str) else None

    @property
    def state(self) -> str | None:
        return (self.mark or {}).get("state")

    @property
    def finished(self) -> bool:
        return self.kind != Kind.OURS or self.state in (None, "ready")

    @property
    def ours(self) -> bool:
        return self.kind == Kind.OURS

    @property
    def may_delete(self) -> bool:
        """kernelenv made it at this very path (finished or not): its mark names this path (an empty folder
        is no proof: the user may have made it); whether other kernels use it is asked apart."""
        return self.kind == Kind.OURS or (self.kind == Kind.ABANDONED and venvmod.mark_names(self.path, self.mark))

    @property
    def may_rebuild(self) -> bool:
        return self.kind in (Kind.OURS, Kind.OURS_MOVED, Kind.OURS_COPIED, Kind.ABANDONED)

    @property
    def is_venv(self) -> bool:
        return self.kind in (Kind.OURS, Kind.OURS_MOVED, Kind.OURS_COPIED, Kind.USERS, Kind.USERS_RELOCATED)

    @property
    def recoverable(self) -> bool:
        """Its packages can be read back (dist-info folders), so ``repair`` can rebuild it."""
        return self.is_venv and bool(venvmod.dist_infos(self.folder or self.path))

    def describe(self) -> str:
        p = self.path
        return {
            Kind.ABSENT: f"{p} does not exist",
            Kind.LINK: f"{p} is a symbolic link (to {os.path.realpath(p)}); kernelenv never deletes or rebuilds through a link",
            Kind.NOT_A_VENV: f"{p} exists and is not a venv",
            Kind.ABANDONED: f"{p} is what an interrupted kernelenv run left (no venv in it)",
            Kind.OURS: f"{p} was made by kernelenv here",
            Kind.OURS_MOVED: f"{p} was made by kernelenv at {self.made_at} and moved here",
            Kind.OURS_COPIED: f"{p} is a copy of {self.made_at}, which kernelenv made",
            Kind.USERS: f"{p} was not made by kernelenv",
            Kind.USERS_RELOCATED: f"{p} was not made by kernelenv and was copied or moved: its scripts run "
            f"{self.scripts_elsewhere[0][1] if self.scripts_elsewhere else 'another python'}",
        }[self.kind]


def inspect(path: Path, *, at: Path | None = None) -> VenvIdentity:
    """What the venv at ``path`` is, from its files alone (nothing is run).

    ``at``: the folder ``path`` judged as if it were at ``at`` (a venv an interrupted run moved
    aside, which venv.recover puts back there): what it will be once it is back.
    """
    ident = _inspect(path, at if at is not None else path)
    ident.folder = path
    return ident


def _inspect(path: Path, where: Path) -> VenvIdentity:
    try:
        st = os.lstat(path)
    except OSError:  # absent, or a name no file can have (too long, a file as a folder)
        return VenvIdentity(where, Kind.ABSENT)
    if stat.S_ISLNK(st.st_mode):
        return VenvIdentity(where, Kind.LINK)
    if not stat.S_ISDIR(st.st_mode):
        return VenvIdentity(where, Kind.NOT_A_VENV)
    mark = venvmod.read_mark(path)
    here = venvmod.mark_names(where, mark)
    if not venvmod.is_venv(path):
        if here or _only_marks(path):
            return VenvIdentity(where, Kind.ABANDONED, mark)  # killed inside virtualenv, or pyvenv.cfg lost
        return VenvIdentity(where, Kind.NOT_A_VENV, mark)
    elsewhere = venvmod.scripts_elsewhere(path, here=where)
    if mark is not None and not here:
        origin = mark.get("venv")
        copied = (isinstance(origin, str) and os.path.exists(origin)) or _another_folder(path, mark)
        return VenvIdentity(where, Kind.OURS_COPIED if copied else Kind.OURS_MOVED, mark, elsewhere)
    if here:
        # a mark naming this path on a venv whose scripts run another venv: a copy laid over ours
        return VenvIdentity(where, Kind.OURS_COPIED if elsewhere else Kind.OURS, mark, elsewhere)
    return VenvIdentity(where, Kind.USERS_RELOCATED if elsewhere else Kind.USERS, None, elsewhere)


def after_recovery(venv: Path) -> VenvIdentity:
    """What :func:`inspect` will say of ``venv`` once venv.recover has run: a working venv an
    interrupted rebuild moved aside is judged where it comes back. Touches nothing."""
    back = next((h for action, h, _ in venvmod.recovery(venv) if action in ("put-back", "replace")), None)
    return inspect(back / venv.name, at=venv) if back is not None else inspect(venv)


def _another_folder(path: Path, mark: dict[str, Any]) -> bool:
    """The mark was written in another folder on this same file system (a copy: `mv` keeps the inode).
    Not knowable across file systems (a move there changes the device too): then not said."""
    dev, ino, now = mark.get("device"), mark.get("inode"), venvmod.folder_id(path)
    if not (type(dev) is int and type(ino) is int and now is not None):
        return False
    return dev == now[0] and ino != now[1]


def _only_marks(path: Path) -> bool:
    try:
        return all(p.name.startswith(venvmod.MARK_FILE) for p in path.iterdir())
    except OSError:
        return False
