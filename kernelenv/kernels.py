"""The kernels Jupyter sees, as typed rows, and the one place that answers "which kernel is that".

Contract:
- ``rows(ctx)`` is every spec on the search path in Jupyter's order (shadowed ones and specs
  an interrupted run left aside included), each a :class:`KernelRow` with its static health.
- ``effective(rows, name)`` is the spec jupyter_client starts for ``name``: the first folder
  whose lower-cased name equals it, in search order.
- ``owned_by(rows, project=..., venv=...)`` is the one query "the kernels kernelenv made for this
  project / venv" (by their mark, comparing real paths); ``users_of(rows, venv)`` the kernels
  whose interpreter lives in a venv, kernelenv's or not.
- ``resolve_target`` turns a NAME|PROJECT_DIR argument into kernels, never by guessing: an
  argument that names a kernel and a project with other kernels is TARGET_AMBIGUOUS, and
  kernel names are compared exactly (no case folding).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import health, kernelspec, specstore
from . import venv as venvmod
from .context import Context
from .health import Problem, Reason
from .kernelspec import Spec
from .result import OperationError


def same_path(a: str | os.PathLike[str] | None, b: str | os.PathLike[str] | None) -> bool:
    return a is not None and b is not None and os.path.realpath(a) == os.path.realpath(b)


@dataclass
class KernelRow:
    spec: Spec
    problems: list[Problem] = field(default_factory=list)
    aside_in: Path | None = None  # a spec found only in a leftover folder

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def resource_dir(self) -> Path:
        return self.spec.resource_dir

    @property
    def kernels_dir(self) -> Path:
        return self.aside_in.parent if self.aside_in else self.spec.resource_dir.parent

    @property
    def status(self) -> Reason:
        return self.problems[0].reason if self.problems else Reason.OK

    @property
    def reasons(self) -> set[Reason]:
        return {p.reason for p in self.problems}

    @property
    def python(self) -> str | None:
        """argv[0]: the interpreter, or for a container kernel the engine that starts it."""
        return self.spec.argv0

    @property
    def container(self) -> dict[str, Any] | None:
        """What a container kernel of kernelenv's runs in (engine, image...), else None."""
        from . import containers

        return containers.container_mark(self.spec)

    @property
    def kernel_python(self) -> str | None:
        """The python the kernel runs: argv[0], or inside a container the image's (its mark says)."""
        box = self.container
        return (self.mark or {}).get("python") if box else self.python

    @property
    def mark(self) -> dict[str, Any] | None:
        return self.spec.mark

    @property
    def owned(self) -> bool:
        return self.spec.mark is not None

    @property
    def project(self) -> str | None:
        return (self.spec.mark or {}).get("project")

    @property
    def venv(self) -> str | None:
        return (self.spec.mark or {}).get("venv")

    @property
    def display_name(self) -> str:
        return self.spec.display_name

    @property
    def language(self) -> str | None:
        lang = (self.spec.data or {}).get("language")
        return lang if isinstance(lang, str) else None

    @property
    def is_python(self) -> bool:
        return kernelspec.runs_ipykernel(self.spec)

    @property
    def venv_of_python(self) -> Path | None:
        """The venv the interpreter lives in (from argv[0]), kernelenv's mark aside."""
        argv0 = self.python
        if not argv0 or not os.path.isabs(argv0):
            return None
        prefix = Path(argv0).parent.parent
        return prefix if (prefix / "pyvenv.cfg").is_file() else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "resource_dir": str(self.resource_dir),
            "python": self.kernel_python,
            "language": self.language,
            "owned": self.owned,
            "project": self.project,
            "venv": self.venv,
            "status": self.status.value,
            "reasons": [p.reason.value for p in self.problems],
            "problems": [p.message for p in self.problems],
            "encryption": "on" if kernelspec.advertises_encryption(self.spec) else "off",
            "container": {k: self.container.get(k) for k in ("engine", "image", "built")} if self.container else None,
        }


def rows(ctx: Context) -> list[KernelRow]:
    out: list[KernelRow] = []
    first: dict[str, KernelRow] = {}
    seen: dict[str, list[Problem]] = {}
    for spec in specstore.scan(ctx.search_path):
        row = KernelRow(spec, health.static(spec, seen))
        earlier = first.get(spec.key)
        if earlier is not None:
            row.problems.insert(0, Problem(Reason.SHADOWED, {"by": str(earlier.resource_dir), "name": spec.key}))
        else:
            first[spec.key] = row
        out.append(row)
    for kdir in ctx.search_path:
        for spec in specstore.aside_specs(kdir):
            holder = spec.resource_dir.parent
            out.append(KernelRow(spec, [Problem(Reason.LEFT_ASIDE, {"holder": str(holder)})], aside_in=holder))
    return out


def effective(all_rows: list[KernelRow], name: str) -> KernelRow | None:
    """The row jupyter_client starts for ``name`` (it lower-cases folder names; the first wins)."""
    key = name.lower()
    return next((r for r in all_rows if r.key == key and r.aside_in is None), None)


def owned_by(all_rows: list[KernelRow], *, project: Path | str | None = None, venv: Path | str | None = None) -> list[KernelRow]:
    """kernelenv's kernels for ``project`` or ``venv`` (by their mark), effective ones first, one per name."""
    found = [r for r in all_rows if r.aside_in is None and r.mark and (same_path(r.project, project) or same_path(r.venv, venv))]
    found.sort(key=lambda r: r.status == Reason.SHADOWED)
    seen: set[str] = set()
    out = []
    for r in found:
        if r.key not in seen:
            seen.add(r.key)
            out.append(r)
    return out


def users_of(all_rows: list[KernelRow], venv: Path, *, besides: list[Path] | None = None) -> list[KernelRow]:
    """Every spec (kernelenv's or not) whose interpreter lives in ``venv``, except those in ``besides``:
    those in ``all_rows`` and those the venv's mark records in folders ``all_rows`` does not cover
    (another scope's: ``--prefix``, ``--sys-prefix``)."""
    real = os.path.realpath(venv)
    skip = {os.path.realpath(p) for p in besides or []}
    seen = {os.path.realpath(r.resource_dir) for r in all_rows if r.aside_in is None}
    elsewhere = [
        KernelRow(specstore.read(d), [])
        for d in venvmod.recorded_specs(venv)
        if os.path.realpath(d) not in seen and os.path.isfile(d / "kernel.json")
    ]
    return [
        r
        for r in [*all_rows, *elsewhere]
        if r.aside_in is None and os.path.realpath(r.resource_dir) not in skip and _uses(r, venv, real)
    ]


def _uses(r: KernelRow, venv: Path, real: str) -> bool:
    argv0 = r.python
    if argv0 and os.path.isabs(argv0) and os.path.realpath(Path(argv0).parent.parent) == real:
        return True
    return bool(r.venv and same_path(r.venv, venv))


def describe_users(users: list[KernelRow], all_rows: list[KernelRow]) -> str:
    """ "p, q (in /x/share/jupyter/kernels)": a user found outside ``all_rows`` (another scope) is named with its folder."""
    scanned = {os.path.realpath(r.resource_dir) for r in all_rows}
    return ", ".join(u.name if os.path.realpath(u.resource_dir) in scanned else f"{u.name} (in {u.kernels_dir})" for u in users)


def still_using(venv: Path, dirs: list[Path]) -> list[Path]:
    """Those of ``dirs`` that hold a spec whose interpreter lives in ``venv`` (what the venv's mark keeps)."""
    real = os.path.realpath(venv)
    rows = [KernelRow(specstore.read(d), []) for d in dirs if os.path.isfile(d / "kernel.json")]
    return [r.resource_dir for r in rows if _uses(r, venv, real)]


# NAME|PROJECT_DIR -------------------------------------------------------------------------
@dataclass
class Target:
    kind: str  # kernel | project
    rows: list[KernelRow]
    project: Path | None = None
    name: str | None = None


def _project_rows(all_rows: list[KernelRow], folder: Path) -> list[KernelRow]:
    return owned_by(all_rows, project=folder, venv=folder) or owned_by(all_rows, venv=folder / ".venv")


def resolve_target(
    ctx: Context, all_rows: list[KernelRow], arg: str | None, *, kernel: str | None = None, project: str | None = None
) -> Target:
    """What NAME|PROJECT_DIR (or --kernel / --project, or nothing: the current project) means."""
    if kernel is not None:
        row = _exact(all_rows, kernel)
        if row is None:
            raise _not_found(kernel)
        return Target("kernel", [row], name=kernel)
    if project is not None or arg is None:
        folder = Path(os.path.abspath(os.path.expanduser(project))) if project is not None else ctx.project
        return Target("project", _project_rows(all_rows, folder), project=folder)
    as_kernel = _exact(all_rows, arg)
    folder = Path(os.path.abspath(os.path.expanduser(arg)))
    is_folder = os.path.isdir(folder)
    as_project = _project_rows(all_rows, folder) if is_folder else []
    if as_kernel is not None and is_folder and [as_kernel.resource_dir] != [r.resource_dir for r in as_project]:
        raise OperationError(
            "TARGET_AMBIGUOUS",
            f"{arg!r} is both the kernel {as_kernel.name!r} ({as_kernel.resource_dir}) and the folder {folder}"
            + (f" (kernel {', '.join(r.name for r in as_project)})" if as_project else ""),
            hint=f"say which: --kernel {arg} or --project {folder}",
            kernel=as_kernel.name,
            project=folder,
        )
    if as_kernel is not None:
        return Target("kernel", [as_kernel], name=arg)
    if is_folder:
        return Target("project", as_project, project=folder)
    raise _not_found(arg)


def _exact(all_rows: list[KernelRow], name: str) -> KernelRow | None:
    """The effective spec whose name is exactly ``name`` (as written, or as Jupyter lower-cases it)."""
    row = effective(all_rows, name)
    if row is None or name not in (row.name, row.key):
        return None
    return row


def _not_found(name: str) -> OperationError:
    return OperationError(
        "KERNEL_NOT_FOUND", f"no kernel named {name!r} and no project folder there", hint="see `kernelenv list`", name=name
    )


# may this name be written? ------------------------------------------------------------------
def check_clash(
    ctx: Context,
    all_rows: list[KernelRow],
    name: str,
    *,
    project: Path | None,
    venv: Path | None,
    also_mine: list[KernelRow] | None = None,
    created_by_project_ok: bool = True,
) -> KernelRow | None:
    """The spec at ``kernels_dir/name`` when it is ours to replace (None when there is none).

    KERNEL_SHADOWED when a spec of that name earlier on Jupyter's path is the one Jupyter would start
    (no --force can change that: it lives in another folder). KERNEL_EXISTS when the folder holds a
    spec kernelenv did not make for this project or venv (unless --force), a link, a folder of the same
    name in another case, or when writing it would hide another spec later on the path (unless --force).
    ``created_by_project_ok`` False (register) also refuses a spec ``create`` made for a project.
    """
    key = name.lower()
    target = ctx.kernels_dir / name
    same_key = [r for r in all_rows if r.key == key and r.aside_in is None]
    here = [r for r in same_key if r.kernels_dir == ctx.kernels_dir]
    _refuse_shadowed(ctx, same_key, name, project or venv)
    for r in here:
        if r.name != name:
            raise OperationError(
                "KERNEL_EXISTS",
                f"{r.resource_dir} is a kernel Jupyter also calls {key!r} (a folder of another case); not adding {target}",
                hint="choose another name with --name",
                name=name,
                resource_dir=r.resource_dir,
            )
    existing = next((r for r in here if r.name == name), None)
    if existing is None and (target.is_symlink() or target.exists()):
        existing = KernelRow(specstore.read(target), [])  # a folder without a readable kernel.json
    if existing is None:
        _refuse_hiding(ctx, [r for r in same_key if r.kernels_dir != ctx.kernels_dir], name)
        return None
    if target.is_symlink():
        if ctx.force:
            return existing
        raise OperationError(
            "KERNEL_EXISTS",
            f"kernel {name!r} at {target} is a symbolic link (to "
            f"{os.path.realpath(target)}); kernelenv never writes through a link",
            hint="remove the link yourself, choose another name with --name, or replace the link with --force",
            name=name,
            resource_dir=target,
            owner=None,
        )
    mark = existing.mark
    mine = mark is not None and (
        same_path(mark.get("project"), project)
        or (same_path(mark.get("venv"), venv) and (created_by_project_ok or not mark.get("project")))
    )
    mine = mine or any(r.resource_dir == existing.resource_dir for r in also_mine or [])
    if mine or ctx.force:
        return existing
    raise _not_ours(name, target, mark, project, venv)


def _refuse_hiding(ctx: Context, later: list[KernelRow], name: str) -> None:
    """KERNEL_EXISTS (unless --force) when a new spec in ctx.kernels_dir would hide one later on Jupyter's path."""
    if later and ctx.on_jupyter_path and not ctx.force:
        raise OperationError(
            "KERNEL_EXISTS",
            f"a kernel named {name!r} exists at {later[0].resource_dir}; "
            f"a new one in {ctx.kernels_dir} would hide it from Jupyter",
            hint="choose another name with --name, or hide it anyway with --force (nothing is deleted)",
            name=name,
            resource_dir=later[0].resource_dir,
            owner=later[0].project or later[0].venv,
        )


def _refuse_shadowed(ctx: Context, same_key: list[KernelRow], name: str, owner: Path | None) -> None:
    """KERNEL_SHADOWED when a spec of this name earlier on Jupyter's path than ctx.kernels_dir is the one Jupyter starts."""
    first = same_key[0] if same_key else None
    if not ctx.on_jupyter_path or first is None or first.kernels_dir == ctx.kernels_dir:
        return
    order = [str(p) for p in ctx.search_path]
    if order.index(str(first.kernels_dir)) < order.index(str(ctx.kernels_dir)):
        raise OperationError(
            "KERNEL_SHADOWED",
            f"kernel {name!r} at {first.resource_dir} comes earlier on Jupyter's path than {ctx.kernels_dir}: "
            f"Jupyter (and VS Code) would start that one, not this project's",
            hint=f"choose another name with --name (for example --name {name}-{(owner or Path('x')).name.lower()[:12]})",
            name=name,
            resource_dir=first.resource_dir,
            shadowed=ctx.kernels_dir / name,
        )


def _not_ours(name: str, target: Path, mark: dict[str, Any] | None, project: Path | None, venv: Path | None) -> OperationError:
    """KERNEL_EXISTS for a spec of this name that belongs to another project, venv, or to nobody kernelenv knows."""
    if mark and mark.get("project") and same_path(mark.get("venv"), venv):
        msg = (
            f"kernel {name!r} at {target} is the kernel `kernelenv create` made for {mark['project']}, which uses this venv; "
            "registering would take it over"
        )
        owner = mark.get("project")
    elif mark:
        owner = mark.get("project") or mark.get("venv")
        msg = f"kernel {name!r} at {target} belongs to {owner}, not to {project or venv}; not replacing it"
    else:
        owner = None
        msg = f"kernel {name!r} at {target} is not kernelenv's; not replacing it"
    return OperationError(
        "KERNEL_EXISTS",
        msg,
        hint="choose another name with --name, or replace it with --force",
        name=name,
        resource_dir=target,
        owner=owner,
    )
