"""Kernelspec folders on disk: reading, scanning as Jupyter does, writing and removing them safely.

Contract:
- ``scan(dirs)`` lists every spec folder jupyter_client would list, in search order: each child
  of each kernels folder that is a folder holding a ``kernel.json`` file (names are as on disk;
  Jupyter knows them lower-cased: ``Spec.key``). kernelenv's own temporary folders are skipped.
- ``write`` never shows a reader half a spec and never follows a link it did not make: kernelenv's
  own spec folder is updated file by file (each a fresh temporary file renamed into place,
  kernel.json last); any other folder (a foreign spec replaced with --force, a symlink) is swapped
  for a fresh folder built beside it, whose kernel.json appears last, by rename, so Jupyter never
  lists a temporary folder. Files are 0644 and folders 0755 whatever the umask (a team's spec:
  the ``modes`` given, 0640 and 02750, see sharing.py).
- ``recover`` finishes or undoes what a killed write or removal left (``.NAME~*.tmp|.old|.del``):
  a spec moved aside and never replaced comes back. Callers hold the kernel name's lock.
- ``put`` builds kernelenv's spec for an interpreter and writes it unless an equal one is there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from . import __version__, files, kernelspec
from . import venv as venvmod
from .kernelspec import Spec
from .result import OperationError

PENDING = ".kernel.json.pending"  # kernel.json of a folder not yet in place: invisible to Jupyter
_LEFTOVER_RE = re.compile(r"^\.(?P<name>.+)~[^/]*\.(?P<kind>tmp|old|del)$")


def read(resource_dir: Path) -> Spec:
    """Read one spec folder; an unreadable kernel.json gives a Spec with ``error`` set.

    A kernelenv mark that names another spec folder (the spec was copied or moved by hand) is not
    believed: such a spec is ``copied`` and counts as foreign.
    """
    try:
        raw = (resource_dir / "kernel.json").read_bytes()
    except OSError as exc:
        return kernelspec.parse(resource_dir.name, resource_dir, None, f"cannot read kernel.json: {exc.strerror or exc}")
    spec = kernelspec.parse(resource_dir.name, resource_dir, raw)
    named = (
        ((spec.data or {}).get("metadata") or {}).get(kernelspec.MARK_KEY)
        if isinstance((spec.data or {}).get("metadata"), dict)
        else None
    )
    where = named.get("spec") if isinstance(named, dict) else None
    if isinstance(where, str) and os.path.realpath(where) != os.path.realpath(resource_dir):
        spec.copied = True
    return spec


def scan(kernel_dirs: list[Path]) -> list[Spec]:
    """Every spec on Jupyter's search path, in search order, shadowed ones included."""
    found: list[Spec] = []
    for kdir in kernel_dirs:
        try:
            entries = sorted(os.scandir(kdir), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if _LEFTOVER_RE.match(entry.name):
                continue  # kernelenv's own temporary folder: see leftovers()
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir and os.path.isfile(os.path.join(entry.path, "kernel.json")):
                found.append(read(Path(entry.path)))
            elif entry.is_symlink() and not os.path.exists(entry.path):
                found.append(Spec(entry.name, Path(entry.path), None, "spec folder is a dangling link"))
    return found


def leftovers(kernels_dir: Path, name: str | None = None) -> list[tuple[str, str, Path]]:
    """(kernel name, tmp|old|del, folder) of what interrupted kernelenv runs left in ``kernels_dir``."""
    out: list[tuple[str, str, Path]] = []
    try:
        names = sorted(os.listdir(kernels_dir))
    except OSError:
        return out
    for n in names:
        m = _LEFTOVER_RE.match(n)
        if m and (name is None or m["name"] == name):
            out.append((m["name"], m["kind"], kernels_dir / n))
    return out


def aside_specs(kernels_dir: Path) -> list[Spec]:
    """Specs a killed ``--force`` replacement left only in a ``.NAME~*.old`` folder (the final one missing)."""
    out = []
    for name, kind, holder in leftovers(kernels_dir):
        inner = holder / name
        if kind == "old" and (inner / "kernel.json").is_file() and not _present(kernels_dir / name):
            out.append(read(inner))
    return out


def recover(kernels_dir: Path, name: str) -> list[str]:
    """Finish or undo interrupted writes/removals of ``name``; what was done, one line each."""
    done = []
    final = kernels_dir / name
    if final.is_dir() and not final.is_symlink() and (final / PENDING).is_file() and not (final / "kernel.json").exists():
        os.rename(final / PENDING, final / "kernel.json")  # a fully written spec whose last rename was cut
        done.append(f"finished writing {final}")
    for _, kind, holder in leftovers(kernels_dir, name):
        inner = holder / name
        if kind == "old" and not holder.is_symlink() and (inner.is_dir() or inner.is_symlink()) and not _present(final):
            os.rename(inner, final)
            done.append(f"put back {final}, which an interrupted run had moved aside")
        else:
            done.append(f"deleted {holder}, which an interrupted run left")
        _rmtree(holder)
    return done


def _present(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def ensure_writable(kernels_dir: Path) -> None:
    """Raise JUPYTER_DIR_UNWRITABLE unless a file can really be made in ``kernels_dir``."""
    try:
        kernels_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".kernelenv-probe.", dir=kernels_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OperationError(
            "JUPYTER_DIR_UNWRITABLE",
            f"cannot write kernelspecs to {kernels_dir}: {exc.strerror or exc}",
            hint="set JUPYTER_DATA_DIR to a writable folder, or use --prefix",
            path=kernels_dir,
        ) from None


def _own_folder(final: Path) -> bool:
    """A real folder (not a link) holding a spec with kernelenv's mark."""
    try:
        st = os.lstat(final)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and read(final).mark is not None


def _chmod_dir(path: Path, mode: int) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


MODES = (0o644, 0o755)  # (files, folder) of a spec
TEAM_MODES = (0o640, 0o2750)  # a team's spec (sharing.give): its group reads, others get nothing


def write(kernels_dir: Path, name: str, spec: dict, logo_dir: Path | None, modes: tuple[int, int] = MODES) -> Path:
    """Write ``kernels_dir/name`` (replacing what is there) and return it; see the module contract."""
    file_mode, dir_mode = modes
    kernels_dir.mkdir(parents=True, exist_ok=True)
    recover(kernels_dir, name)
    final = kernels_dir / name
    text = json.dumps(spec, indent=1, ensure_ascii=False) + "\n"
    logos = [(logo_dir / n) for n in kernelspec.LOGO_FILES if logo_dir is not None and (logo_dir / n).is_file()]
    if _own_folder(final):
        _chmod_dir(final, dir_mode)
        for src in logos:
            files.copy_atomic(src, final / src.name, file_mode)
        files.write_atomic(final / "kernel.json", text, file_mode)
        return final
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}~", suffix=".tmp", dir=kernels_dir))
    try:
        for src in logos:
            files.copy_atomic(src, tmp / src.name, file_mode)
        files.write_atomic(tmp / PENDING, text, file_mode)
        _chmod_dir(tmp, dir_mode)
        if _present(final):
            holder = Path(tempfile.mkdtemp(prefix=f".{name}~", suffix=".old", dir=kernels_dir))
            os.rename(final, holder / name)
            try:
                os.rename(tmp, final)
            except BaseException:
                os.rename(holder / name, final)
                raise
            os.rename(final / PENDING, final / "kernel.json")
            _rmtree(holder)
        else:
            os.rename(tmp, final)
            os.rename(final / PENDING, final / "kernel.json")
    except BaseException:
        _rmtree(tmp)
        raise
    return final


def remove(resource_dir: Path) -> None:
    """Delete a spec folder (renamed aside first); a symlinked spec folder loses only the link."""
    if resource_dir.is_symlink():
        resource_dir.unlink()
        return
    holder = Path(tempfile.mkdtemp(prefix=f".{resource_dir.name}~", suffix=".del", dir=resource_dir.parent))
    os.rename(resource_dir, holder / resource_dir.name)
    _rmtree(holder)


def _rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def supports_encryption(venv: Path | None) -> bool:
    """Whether the venv's ipykernel loads CurveZMQ keys from its connection file (7.3+)."""
    version = venvmod.installed(venv).get("ipykernel") if venv is not None else None
    if not version:
        return False
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version).release[:2] >= kernelspec.ENCRYPTION_MIN_IPYKERNEL
    except InvalidVersion:
        return False


def put(
    kernels_dir: Path,
    name: str,
    *,
    python: Path,
    version: tuple[int, int, int],
    implementation: str,
    venv: Path | None,
    project: Path | None,
    display_name: str,
    extra_env: dict[str, str] | None = None,
    modes: tuple[int, int] = MODES,
) -> tuple[Path, str]:
    """Write kernelenv's spec unless an equal one is there. Returns (folder, written|updated|unchanged).

    JUPYTER_DIR_UNWRITABLE when the folder cannot be written (a full disk, a read-only file system):
    nothing half-written is left.
    """
    target = kernels_dir / name
    existing = read(target) if (target / "kernel.json").is_file() and not target.is_symlink() else None
    spec = kernelspec.build(
        python=python,
        python_version=version,
        implementation=implementation,
        venv=venv,
        display_name=display_name,
        project=project,
        created=venvmod.now(),
        kernelenv_version=__version__,
        extra_env=extra_env,
        encryption=supports_encryption(venv),
        spec_dir=target,
    )
    logos = venvmod.logo_dir(venv) if venv else None
    same = existing is not None and existing.mark is not None and kernelspec.same(existing.data, spec)
    if same and _logos_ok(target, logos, modes):
        return target, "unchanged"
    try:
        write(kernels_dir, name, spec, logos, modes)
    except OSError as exc:
        raise OperationError(
            "JUPYTER_DIR_UNWRITABLE",
            f"cannot write the kernelspec {target}: {exc.strerror or exc}",
            hint="free some space there, or set JUPYTER_DATA_DIR to a writable folder",
            path=kernels_dir,
        ) from None
    return target, "updated" if _present(target) and existing is not None else "written"


def _logos_ok(target: Path, logos: Path | None, modes: tuple[int, int] = MODES) -> bool:
    """Every logo is a plain file (not a planted link) with the venv's logo's size; the modes are ``modes``."""
    if logos is None:
        return True
    for n in kernelspec.LOGO_FILES:
        src = logos / n
        if not src.is_file():
            continue
        try:
            st = os.lstat(target / n)
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode) or st.st_size != src.stat().st_size or stat.S_IMODE(st.st_mode) != modes[0]:
            return False
    try:
        return stat.S_IMODE(os.lstat(target).st_mode) == modes[1]
    except OSError:
        return False
