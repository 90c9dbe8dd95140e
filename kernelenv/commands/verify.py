"""verify: execute notebooks (the tutorial ones, or a folder of the user's) in a project's kernel.

Contract:
- The kernel is ``--kernel NAME`` or the one kernelenv registered for the project
  (KERNEL_NOT_FOUND otherwise). Notebooks run with nbclient through a KernelSpecManager
  that searches exactly ``ctx.search_path``, several at once (up to the CPU count); the
  runner and the report are kernelenv/nbrun.py's (the pytest plugin uses the same).
- A notebook passes when every code cell runs without an error, cells tagged
  ``raises-exception`` excepted. A failure names the cell by its position in the file and by
  the ``[n]`` Jupyter shows, the failing cell's own line, where the error was raised when that
  is code another cell defined (``raised_in``), ``ename: evalue`` without colour codes (a bare
  ``assert`` shows the asserted statement) and, for a missing module, the command that fixes it
  (``fix``) and the same as kernelenv arguments (``action``). ``--keep-going`` runs every cell
  after a failure and reports each failing cell (``errors``; ``error`` is the first).
- Row status: ``passed``, ``failed`` or ``skipped``. A notebook is skipped, with
  ``skip: {"reason", "message"}``, when ``--only`` did not select it (reason ``not-selected``)
  or when it declares modules (``metadata.kernelenv.requires``) the kernel lacks (reason
  ``missing-modules``: nothing is started; ``fix`` and ``action`` say how to install them).
  A notebook asked for by name (``--only``, or ``--notebooks`` naming one file) that cannot run
  is ``failed``, not skipped. A file that is not a valid notebook is ``failed`` (ename
  ``NotebookInvalid``) and the others still run.
- Exit code: 0 when no notebook failed (skipped ones do not fail the run), 1 when any did,
  2 for bad input (USAGE). The envelope carries no errors for failed notebooks.
- A user's notebook whose ``metadata.kernelspec`` names another kernel (or none) gets
  ``other_kernel`` in its row, and ``data.adopt`` gives the ``kernelenv adopt`` command (and
  action) that points those notebooks at this kernel. Tutorial notebooks are never offered.
- Executed copies go to ``--output`` (default ``PROJECT/.kernelenv/verify``, which a
  ``.kernelenv/.gitignore`` of ``*`` keeps out of git). Sources are never modified. Copies and
  kernel logs are fresh files renamed into place (a link planted there is replaced, never written
  through); a ``.kernelenv``, ``verify`` or ``logs`` folder that is a link is USAGE.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import files, kernelspec, nbrun
from ..context import Context
from ..nbrun import find_kernel, tutorial_dir  # noqa: F401  (kernel lookup stays reachable as verify.find_kernel)
from ..result import OperationError, Result


@dataclass
class VerifyOptions:
    kernel: str | None = None
    only: list[str] = field(default_factory=list)
    notebooks: Path | None = None  # a folder or one .ipynb; None: the tutorial notebooks
    output: Path | None = None
    timeout: float = 600.0  # seconds per notebook (and per cell)
    jobs: int | None = None  # notebooks at once; None: min(count, CPUs)
    keep_going: bool = False  # run every cell after a failure, report each failing cell


def select(items: list[nbrun.Notebook], only: list[str]) -> tuple[list[nbrun.Notebook], list[nbrun.Notebook]]:
    if not only:
        return items, []
    wanted = {o.lower()[: -len(".ipynb")] if o.lower().endswith(".ipynb") else o.lower() for o in only}

    def keys(it: nbrun.Notebook) -> set[str]:
        return {it.topic.lower(), it.path.stem.lower()}

    unknown = sorted(w for w in wanted if not any(w in keys(it) for it in items))
    if unknown:
        names = ", ".join(sorted({it.topic for it in items}))
        raise OperationError("USAGE", f"--only {','.join(unknown)}: no such notebook", hint=f"choose from: {names}")
    chosen = [it for it in items if keys(it) & wanted]
    return chosen, [it for it in items if it not in chosen]


def _no_link(folder: Path) -> None:
    """USAGE when kernelenv's own output folder is a symbolic link (a cloned project can ship one
    pointing at the user's files): executed notebooks and logs are written only into real folders."""
    if folder.is_symlink():
        raise OperationError(
            "USAGE",
            f"{folder} is a symbolic link (to {os.path.realpath(folder)}); kernelenv writes executed notebooks "
            "only into a real folder",
            hint="remove the link, or choose another folder with --output",
            path=folder,
        )


def default_output(ctx: Context, spec: kernelspec.Spec, explicit_project: bool) -> Path:
    project = str(ctx.project) if explicit_project else (spec.mark or {}).get("project")
    if project and Path(project).is_dir():
        base = Path(project) / ".kernelenv"
        _no_link(base)
        base.mkdir(exist_ok=True)
        ignore = base / ".gitignore"
        if not os.path.lexists(ignore):
            files.write_atomic(ignore, "# kernelenv's own files (executed notebooks): not for git\n*\n")
        _no_link(base / "verify")
        return base / "verify"
    return ctx.cache_dir / "verify" / spec.name


def _profile_words(modules: list[str]) -> str:
    profiles = {nbrun.PROFILE_OF.get(m) for m in modules}
    if None in profiles:
        return ""
    return " (the dl profile)" if "dl" in profiles else " (the data profile)"


def _missing_row(it: nbrun.Notebook, spec: kernelspec.Spec, lacks: list[str], asked: bool) -> dict[str, Any]:
    """A notebook whose declared modules the kernel lacks: failed when asked for by name, else skipped."""
    fix, action = nbrun.fix_for(spec, lacks)
    message = f"the kernel's environment has no {', '.join(lacks)}{_profile_words(lacks)}"
    if not asked:
        return nbrun.row(it, status="skipped", skip={"reason": "missing-modules", "message": message}, fix=fix, action=action)
    return nbrun.failed_row(it, "ModuleNotFoundError", message, fix, action)


def _adopt_offer(ctx: Context, spec: kernelspec.Spec, rows: list[dict[str, Any]], by_kernel: bool) -> dict[str, Any] | None:
    """The `kernelenv adopt` command for the user's notebooks that name another kernel, or None."""
    paths = [str(r["path"]) for r in rows if r.get("other_kernel") is not None]
    if not paths:
        return None
    project = (spec.mark or {}).get("project") or (None if by_kernel else str(ctx.project))
    argv = ["adopt", *paths]
    if project:
        argv += ["--project", project]
    if by_kernel or not project:
        argv += ["--kernel", spec.name]
    label = f"Use {spec.display_name} for {'this notebook' if len(paths) == 1 else f'these {len(paths)} notebooks'}"
    return {"count": len(paths), "fix": shlex.join(["kernelenv", *argv]), "action": {"label": label, "argv": argv}}


def _output_dir(ctx: Context, spec: Any, opts: VerifyOptions, source: Path) -> Path:
    """The folder for executed copies and kernel logs, made (never a link, never the notebooks' own folder);
    USAGE for it and for a --timeout that is not a positive number."""
    out_dir = opts.output or default_output(ctx, spec, explicit_project=opts.kernel is None)
    if os.path.realpath(out_dir) == os.path.realpath(source) or (ctx.project / "notebooks").resolve() == out_dir.resolve():
        raise OperationError(
            "USAGE",
            f"the output folder {out_dir} holds notebooks to run: executed copies would replace them",
            hint="choose another --output",
            path=out_dir,
        )
    if not (opts.timeout > 0 and opts.timeout != float("inf")):
        raise OperationError("USAGE", f"--timeout must be a positive number of seconds, not {opts.timeout}")
    _no_link(out_dir / "logs")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OperationError("USAGE", f"cannot make the output folder {out_dir}: {exc.strerror or exc}", path=out_dir) from None
    return out_dir


def _rows(
    items: list[Any],
    not_chosen: list[Any],
    decided: dict[Path, dict[str, Any]],
    named_kernels: dict[Path, Any],
    spec: Any,
    opts: VerifyOptions,
) -> list[dict[str, Any]]:
    """One report row per notebook, in the folder's order; your own notebooks say when they name another kernel."""
    rows = []
    for it in items:
        if it in not_chosen:
            r = nbrun.row(it, status="skipped", skip={"reason": "not-selected", "message": "not selected with --only"})
        else:
            r = decided[it.path]
        if opts.notebooks is not None and not it.tutorial and it.path in named_kernels:
            named_kernel = named_kernels[it.path]
            if named_kernel is None or (named_kernel["name"] or "").lower() != spec.name.lower():
                r["other_kernel"] = named_kernel or {"name": None, "display_name": None}
        rows.append(r)
    return rows


def run(ctx: Context, opts: VerifyOptions) -> Result:
    t0 = time.monotonic()
    spec = find_kernel(ctx, opts.kernel)
    source = opts.notebooks or tutorial_dir()
    items = nbrun.collect(source, tutorial=opts.notebooks is None)
    chosen, not_chosen = select(items, opts.only)
    named = {it.path for it in chosen} if (opts.only or os.path.isfile(source)) else set()
    out_dir = _output_dir(ctx, spec, opts, source)

    needed = sorted({m for it in chosen for m in it.requires})
    missing = set(nbrun.missing_modules(spec, needed))
    decided: dict[Path, dict[str, Any]] = {}
    for it in chosen:
        lacks = [m for m in it.requires if m in missing]
        if lacks:
            decided[it.path] = _missing_row(it, spec, lacks, asked=it.path in named)
    runnable = [it for it in chosen if it.path not in decided]
    named_kernels = {it.path: nbrun.kernel_named(it.nb) for it in items if it.nb is not None}  # before runs change nb
    jobs = max(1, min(opts.jobs or (os.cpu_count() or 1), len([it for it in runnable if not it.load_error]) or 1))
    ran = (
        asyncio.run(
            nbrun.run_many(
                runnable,
                spec,
                ctx.search_path,
                jobs=jobs,
                timeout=opts.timeout,
                keep_going=opts.keep_going,
                out_dir=out_dir,
                cwd_for=lambda it: out_dir if it.tutorial else it.path.parent,
                progress=ctx.progress,
            )
        )
        if runnable
        else []
    )
    decided.update({r["path"]: r for r in ran})
    rows = _rows(items, not_chosen, decided, named_kernels, spec, opts)
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("passed", "failed", "skipped")}
    data = {
        "kernel": {"name": spec.name, "display_name": spec.display_name, "python": spec.argv0, "resource_dir": spec.resource_dir},
        "project": (spec.mark or {}).get("project"),
        "notebooks_dir": source,
        "output_dir": out_dir,
        "jobs": jobs,
        "keep_going": opts.keep_going,
        "notebooks": rows,
        **counts,
        "adopt": _adopt_offer(ctx, spec, rows, by_kernel=opts.kernel is not None),
        "duration": round(time.monotonic() - t0, 2),
    }
    return Result("verify", data, ok=counts["failed"] == 0)
