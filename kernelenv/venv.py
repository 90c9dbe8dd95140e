"""Venvs: making one (virtualenv's API), looking inside one, kernelenv's mark in it, and swapping one.

The mark ``<venv>/.kernelenv.json`` says kernelenv created the venv, for which path and
project (and the device and inode its folder had there), whether creation finished
(``state``: creating or ready), and which spec folders kernelenv wrote for it in any scope
(``specs``: a spec in a --prefix folder is one no scan of another scope sees). Whether
kernelenv may delete or rebuild a venv is decided in one place, kernelenv/identity.py, from
this mark and what the venv's own files say.

A venv is replaced or deleted through one swap helper (:class:`Swap`): the old folder is
renamed aside under one prefix (``.NAME.kernelenv-aside-XXXX/NAME`` with a ``swap.json``
saying why) and only deleted once the new one works; :func:`recover` finishes or undoes what
a run killed half-way left behind.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import files, proc
from .result import OperationError

MARK_FILE = ".kernelenv.json"
# The virtualenv kernelenv depends on writes a _virtualenv.py (and, with --creator venv, a helper) that
# needs Python 3.8 (":=", typing.Final): in a 3.7 venv every start then prints a SyntaxError. Older
# interpreters get their own stdlib ``venv`` module instead.
VIRTUALENV_OLDEST = (3, 8)
ASIDE = ".kernelenv-aside-"
SWAP_FILE = "swap.json"
# What older kernelenv versions left beside a venv: (prefix after ".NAME", whether it holds a working venv)
_LEGACY = ((".kernelenv-old-", True), (".repair-", True), (".kernelenv-deleting-", False))


def python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def bin_dir(venv: Path) -> Path:
    return venv / ("Scripts" if sys.platform == "win32" else "bin")


def is_venv(path: Path) -> bool:
    return os.path.isfile(path / "pyvenv.cfg")  # never raises (Path.is_file does on a too-long name)


def read_cfg(venv: Path) -> dict[str, str]:
    """pyvenv.cfg as a dict; {} when missing or unreadable."""
    out: dict[str, str] = {}
    try:
        text = (venv / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def cfg_version(venv: Path) -> str | None:
    """The X.Y of the Python a venv was made with, from pyvenv.cfg (readable when its python is gone)."""
    cfg = read_cfg(venv)
    parts = (cfg.get("version_info") or cfg.get("version") or "").split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 and all(p.isdigit() for p in parts[:2]) else None


def base_interpreter(venv: Path) -> tuple[str | None, bool]:
    """(the base interpreter pyvenv.cfg names, whether it exists)."""
    cfg = read_cfg(venv)
    for key in ("base-executable", "executable"):
        if cfg.get(key):
            return cfg[key], os.path.exists(cfg[key])
    home = cfg.get("home")
    if not home:
        return None, True
    short = cfg_version(venv)
    for name in (f"python{short}" if short else None, "python3", "python"):
        if name and os.path.exists(os.path.join(home, name)):
            return os.path.join(home, name), True
    return home, False


def create(venv: Path, python: str, *, with_pip: bool, version: tuple[int, ...] | None = None, prompt: str | None = None) -> None:
    """Make a venv with virtualenv (with ``python``'s own venv module when ``version`` is older than
    VIRTUALENV_OLDEST). Raises VENV_CREATE_FAILED.

    ``with_pip`` False makes a bare venv (uv then installs pip, faster than seeding it).
    ``prompt`` defaults to the project's folder name (the venv's own name when not .venv/venv/env).
    """
    from virtualenv import cli_run

    if os.pathsep in str(venv):  # virtualenv refuses it: the venv's bin would break PATH
        raise OperationError(
            "VENV_CREATE_FAILED",
            f"a venv path may not contain {os.pathsep!r} (it would break PATH): {venv}",
            hint="rename the folder, or choose another place with --venv",
            venv=venv,
        )
    prompt = default_prompt(venv) if prompt is None else prompt
    if version is not None and tuple(version[:2]) < VIRTUALENV_OLDEST:
        _create_stdlib(venv, python, prompt, with_pip=with_pip)
        return
    args = [str(venv), "--python", python, "--no-setuptools", "--no-periodic-update", "--quiet"]
    if not with_pip:
        args.append("--no-seed")
    args.append(f"--prompt={prompt}")  # one argument: a folder named "-x" is not an option
    try:
        cli_run(args, setup_logging=False)
    except SystemExit as exc:  # virtualenv exits on bad input
        raise OperationError("VENV_CREATE_FAILED", f"virtualenv could not make {venv} (exit {exc.code})", venv=venv) from None
    except Exception as exc:
        raise OperationError("VENV_CREATE_FAILED", f"virtualenv could not make {venv}: {exc}", venv=venv) from None
    if not python_of(venv).exists():
        raise OperationError("VENV_CREATE_FAILED", f"virtualenv made {venv} without a python in it", venv=venv)


def default_prompt(venv: Path) -> str:
    """The prompt a venv's activate scripts show: its project's folder name for .venv, venv or env."""
    return venv.parent.name if venv.name in (".venv", "venv", "env") else venv.name


def _create_stdlib(venv: Path, python: str, prompt: str, *, with_pip: bool) -> None:
    """``python -m venv``: the interpreter's own venv module (for Pythons virtualenv no longer serves)."""
    argv = [python, "-m", "venv", f"--prompt={prompt}", str(venv)]
    if not with_pip:
        argv.insert(3, "--without-pip")
    proc.run_checked(
        argv,
        code="VENV_CREATE_FAILED",
        what=f"{python} -m venv",
        hint="the interpreter needs its venv and ensurepip modules (Debian: apt install pythonX.Y-venv)",
        details={"venv": str(venv)},
        timeout=300,
    )
    if not python_of(venv).exists():
        raise OperationError("VENV_CREATE_FAILED", f"{python} -m venv made {venv} without a python in it", venv=venv)


def site_packages(venv: Path) -> list[Path]:
    if sys.platform == "win32":
        return [venv / "Lib" / "site-packages"]
    return sorted(p for p in (venv / "lib").glob("python*/site-packages") if p.is_dir())


DIST_RE = re.compile(r"^(?P<name>.+?)-(?P<version>[^-]+)\.dist-info$")


def dist_infos(venv: Path) -> list[tuple[str, str, Path]]:
    """(name as written, version, dist-info folder) of every installed distribution."""
    out = []
    for sp in site_packages(venv):
        try:
            names = sorted(os.listdir(sp))
        except OSError:
            continue
        for n in names:
            m = DIST_RE.match(n)
            if m:
                out.append((m["name"], m["version"], sp / n))
    return out


def installed(venv: Path) -> dict[str, str]:
    """Installed distributions {normalised name: version}, read from dist-info folders."""
    from packaging.utils import canonicalize_name

    return {canonicalize_name(name): version for name, version, _ in dist_infos(venv)}


def logo_dir(venv: Path) -> Path | None:
    for sp in site_packages(venv):
        d = sp / "ipykernel" / "resources"
        if d.is_dir():
            return d
    return None


def tighten(venv: Path) -> None:
    """Clear the group/other write bits uv sets on its ``.lock`` (0666) in the venv's top folder.

    Only for a venv kernelenv made: the entries of the user's own venv keep the modes they have.
    """
    for entry in os.scandir(venv):
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
            if mode & files.TIGHT_BITS and not entry.is_symlink():
                os.chmod(entry.path, mode & ~files.TIGHT_BITS & 0o7777)
        except OSError:
            continue


# scripts ----------------------------------------------------------------------------------
_EXEC_RE = re.compile(r"""^'''exec' (?:"([^"]+)"|'([^']+)'|(\S+))""")


def script_interpreter(script: Path) -> str | None:
    """The absolute interpreter a console script runs, or None (not a script, or a relocatable one).

    Knows the plain ``#!/abs/python`` line and the ``#!/bin/sh`` + ``'''exec' "/abs/python"``
    trampoline pip, uv and distlib write for long paths or paths with spaces.
    """
    try:
        with open(script, "rb") as f:
            head = f.read(1024)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    lines = head.decode("utf-8", "replace").splitlines()
    first = lines[0][2:].strip()
    if first in ("/bin/sh", "/usr/bin/env sh") and len(lines) > 1:
        m = _EXEC_RE.match(lines[1])
        if not m:
            return None
        target = next(g for g in m.groups() if g)
        return target if os.path.isabs(target) else None  # "$(dirname ...)": relocatable
    target = first.split()[0] if first else ""
    return target if os.path.isabs(target) and "python" in os.path.basename(target) else None


def scripts_elsewhere(venv: Path, only: tuple[str, ...] | None = None, here: Path | None = None) -> list[tuple[str, str]]:
    """(script, interpreter) of each console script in the venv whose interpreter is not this venv's
    (``here``: the venv's folder as if it were there, for one moved aside)."""
    bindir = bin_dir(venv)
    here_bin = os.path.realpath(bin_dir(here) if here is not None else bindir)
    try:
        names = sorted(os.listdir(bindir)) if only is None else [n for n in only if (bindir / n).exists()]
    except OSError:
        return []
    out = []
    for n in names:
        p = bindir / n
        if p.is_symlink() or not p.is_file():
            continue
        interp = script_interpreter(p)
        if interp and os.path.realpath(os.path.dirname(interp)) != here_bin:
            out.append((n, interp))
    return out


# the mark ---------------------------------------------------------------------------------
def read_mark(venv: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((venv / MARK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not (isinstance(data, dict) and data.get("created_by") == "kernelenv"):
        return None
    if not all(isinstance(data.get(k), (str, type(None))) for k in ("venv", "project", "state", "installer")):
        return None  # hand-edited or hostile: not a mark kernelenv wrote
    return data


def mark_names(venv: Path, mark: dict[str, Any] | None) -> bool:
    """Whether ``mark`` says it was made at this very path."""
    return mark is not None and isinstance(mark.get("venv"), str) and os.path.realpath(mark["venv"]) == os.path.realpath(venv)


def folder_id(venv: Path) -> tuple[int, int] | None:
    """(device, inode) of the venv's folder: a `mv` within one file system keeps both, a copy on that
    file system gets another inode (a move to another file system changes both: no answer there)."""
    try:
        st = os.stat(venv)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def recorded_specs(venv: Path) -> list[Path]:
    """The spec folders kernelenv wrote for this venv, in any scope (``specs`` in its mark; only a
    mark that names this very path counts). Whether each still uses the venv is asked apart."""
    mark = read_mark(venv)
    if not mark_names(venv, mark):
        return []
    specs = (mark or {}).get("specs")
    return [Path(s) for s in specs if isinstance(s, str) and os.path.isabs(s)] if isinstance(specs, list) else []


def write_mark(venv: Path, *, new: bool = False, **fields: Any) -> None:
    """Update kernelenv's mark in a venv it made here; ``new`` True only where this run makes the venv.

    A venv without a mark (the user's own) never gets one, nor does one whose mark names another
    path (copied or moved): the mark is what allows kernelenv to delete a venv.
    """
    mark = read_mark(venv)
    if not new and not (mark_names(venv, mark) and not venv.is_symlink()):
        return
    if mark is None or new:
        mark = {"created_by": "kernelenv", "created": now()}
    mark.update({k: (str(v) if isinstance(v, Path) else v) for k, v in fields.items()})
    mark["venv"] = str(venv)
    mark["device"], mark["inode"] = folder_id(venv) or (None, None)  # a `mv` keeps them (identity.py)
    files.write_atomic(venv / MARK_FILE, json.dumps(mark, indent=1) + "\n")


# swapping and deleting ----------------------------------------------------------------------
class Swap:
    """One venv moved aside while another takes its place; put back or deleted afterwards.

    ``aside()`` renames the venv into ``.NAME.kernelenv-aside-XXXX/`` (with ``swap.json`` saying
    why); ``restore()`` deletes whatever this run made at the venv's path and renames the old
    one back; ``commit()`` deletes the old one. A run killed in between is finished by
    :func:`recover` on the next run that holds the venv's lock.
    """

    def __init__(self, venv: Path, purpose: str):
        self.venv = venv
        self.purpose = purpose  # rebuild | delete
        self.holder: Path | None = None

    def aside(self) -> None:
        holder = Path(tempfile.mkdtemp(prefix=aside_prefix(self.venv), dir=self.venv.parent))
        try:
            files.write_atomic(
                holder / SWAP_FILE, json.dumps({"venv": str(self.venv), "purpose": self.purpose, "pid": os.getpid()}) + "\n"
            )
            os.rename(self.venv, holder / self.venv.name)
        except BaseException:
            if not (holder / self.venv.name).exists():
                _rmtree(holder)
            raise
        self.holder = holder

    @property
    def old(self) -> Path | None:
        return self.holder / self.venv.name if self.holder else None

    def restore(self) -> None:
        if self.holder is None:
            return
        discard(self.venv)
        os.rename(self.holder / self.venv.name, self.venv)
        _rmtree(self.holder)
        self.holder = None

    def commit(self) -> None:
        if self.holder is not None:
            _rmtree(self.holder)
            self.holder = None


def delete(venv: Path) -> None:
    """Delete a venv: renamed aside first (a kill leaves a folder :func:`recover` finishes, never half a venv).

    Whether this venv may be deleted at all is identity.py's answer; callers ask it first.
    """
    swap = Swap(venv, "delete")
    try:
        swap.aside()
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        _delete_in_place(venv)  # a full disk has no room for the holder; deleting is what frees it
        return
    swap.commit()


def _delete_in_place(venv: Path) -> None:
    """Delete a venv where it is, its mark last: a kill midway leaves a folder that still says it is
    kernelenv's (so it is rebuilt or deleted later, never taken for the user's own)."""
    for entry in sorted(venv.iterdir(), key=lambda e: e.name == MARK_FILE):
        _rmtree(entry)
    venv.rmdir()


def discard(venv: Path) -> None:
    """Delete whatever is at ``venv`` (a half-made venv) without ever leaving half of it at that path:
    a folder is renamed aside first, so a kill leaves a holder :func:`recover` finishes, never a
    folder that lost its mark or its pyvenv.cfg and so looks like something else."""
    if venv.is_symlink() or venv.is_file():
        venv.unlink()
    elif venv.exists():
        delete(venv)


def aside_prefix(venv: Path) -> str:
    """The name of a folder holding ``venv`` aside, up to its 8 random characters (valid for any name)."""
    return f".{files.fitting(venv.name, 1 + len(ASIDE) + 8)}{ASIDE}"


def leftovers(venv: Path) -> list[Path]:
    """Folders beside ``venv`` that a swap or deletion of it left behind (this version's and older ones')."""
    try:
        names = os.listdir(venv.parent)
    except OSError:
        return []
    prefixes = [aside_prefix(venv), *(f".{venv.name}{p}" for p, _ in _LEGACY)]
    return sorted(venv.parent / n for n in names if n.startswith(tuple(prefixes)))


def recovery(venv: Path) -> list[tuple[str, Path, str]]:
    """What :func:`recover` would do beside ``venv``, touching nothing: (action, holder, message) each.

    ``action`` is ``delete`` (a holder of a finished deletion, or an old venv a finished rebuild
    replaced), ``put-back`` (the working venv comes back to the empty path) or ``replace`` (the
    unfinished venv kernelenv made at the path is deleted and the working one put back).
    """
    plan: list[tuple[str, Path, str]] = []
    for holder in leftovers(venv):
        if holder.is_symlink() or not holder.is_dir():
            continue
        inner = holder / venv.name
        purpose = "rebuild"
        try:
            purpose = json.loads((holder / SWAP_FILE).read_text(encoding="utf-8")).get("purpose", "rebuild")
        except (OSError, ValueError, AttributeError):
            legacy = next((keeps for p, keeps in _LEGACY if holder.name.startswith(f".{venv.name}{p}")), True)
            purpose = "rebuild" if legacy else "delete"
        if purpose != "rebuild" or not (inner.is_dir() and not inner.is_symlink()):
            plan.append(("delete", holder, f"finished deleting {holder}"))
            continue
        current = read_mark(venv) if venv.is_dir() else None
        finished = is_venv(venv) and (current is None or current.get("state") == "ready")
        if finished:
            plan.append(("delete", holder, f"deleted the old venv kept aside in {holder}"))
        elif venv.exists() or venv.is_symlink():
            if not (mark_names(venv, current) or _only_marks(venv)):
                continue  # something else is there now: leave both for the user
            plan.append(("replace", holder, f"put back the working venv {venv} an interrupted rebuild had moved aside"))
            break  # the path holds a venv again: the next holder is judged on the next run
        else:
            plan.append(("put-back", holder, f"put back the venv {venv} an interrupted run had moved aside"))
            break
    return plan


def puts_back(venv: Path) -> bool:
    """Whether :func:`recover` would put a working venv back at ``venv``."""
    return any(action in ("put-back", "replace") for action, _, _ in recovery(venv))


def recover(venv: Path) -> list[str]:
    """Finish or undo what killed runs left beside ``venv``; what was done, one line each.

    A working venv kept aside for a rebuild comes back when the venv at ``venv`` is missing or
    unfinished (kernelenv's own, state not ready); it is deleted when a finished venv is there.
    :func:`recovery` says the same without doing it. Callers hold the venv's lock.
    """
    done: list[str] = []
    while True:
        plan = recovery(venv)
        for action, holder, message in plan:
            if action == "replace":
                discard(venv)
            if action in ("put-back", "replace"):
                os.rename(holder / venv.name, venv)
            _rmtree(holder)
            done.append(message)
        if not any(action in ("put-back", "replace") for action, _, _ in plan):
            return done  # (after a put-back, what is left is judged against the venv now there)


def _only_marks(venv: Path) -> bool:
    try:
        return all(p.name.startswith(MARK_FILE) for p in venv.iterdir())
    except OSError:
        return False


def _rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
