"""verify: execute notebooks (the tutorial ones, or a folder of the user's) in a project's kernel.

Contract:
- The kernel is ``--kernel NAME`` or the one kernelenv registered for the project
  (KERNEL_NOT_FOUND otherwise). Notebooks run with nbclient through a KernelSpecManager
  that searches exactly ``ctx.search_path``, several at once (up to the CPU count).
- A notebook passes when every code cell runs without an error. A failure names the
  cell (1-based position), the source line the error points at, ``ename: evalue`` and,
  when a module is missing, a command to paste (``fix``). Tutorial notebooks declare the
  modules they need (``metadata.kernelenv.requires``): those are looked for before any
  kernel starts, so a missing TensorFlow fails in milliseconds, not after a cell.
- Executed copies go to ``--output`` (default ``PROJECT/.kernelenv/verify``, which a
  ``.kernelenv/.gitignore`` of ``*`` keeps out of git). Sources are never modified.
- Returns ok=False without errors when a notebook failed (exit code 1).
"""
from __future__ import annotations

import asyncio
import atexit
import json
import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import kernels, kernelspec, proc
from ..context import Context
from ..result import OperationError, Result

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# import name -> distribution name, where they differ (for the fix command)
DIST_OF = {
    "sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "pillow", "yaml": "pyyaml", "bs4": "beautifulsoup4",
    "skimage": "scikit-image", "dateutil": "python-dateutil", "tensorflow": "tensorflow", "torch": "torch",
}
PROFILE_OF = {"numpy": "data", "pandas": "data", "tensorflow": "dl", "keras": "dl"}


@dataclass
class VerifyOptions:
    kernel: str | None = None
    only: list[str] = field(default_factory=list)
    notebooks: Path | None = None  # a folder or one .ipynb; None: the tutorial notebooks
    output: Path | None = None
    timeout: float = 600.0  # seconds per notebook (and per cell)
    jobs: int | None = None  # notebooks at once; None: min(count, CPUs)


def tutorial_dir() -> Path:
    """The tutorial notebooks shipped inside the package."""
    return Path(__file__).resolve().parent.parent / "notebooks"


# kernels ----------------------------------------------------------------------
def find_kernel(ctx: Context, name: str | None) -> kernelspec.Spec:
    """The spec Jupyter starts for ``name``, or the kernel kernelenv made for ctx.project.

    KERNEL_SHADOWED when the project's kernel is hidden by a same-named spec earlier on Jupyter's
    path: running "it" would run that other spec.
    """
    all_rows = kernels.rows(ctx)
    if name:
        row = kernels.resolve_target(ctx, all_rows, None, kernel=name).rows[0]
        if row.spec.data is None or row.spec.error:
            raise OperationError("KERNEL_NOT_FOUND", f"kernel {name!r} is unreadable: {row.spec.error}", name=name)
        return row.spec
    ctx.require_project()
    mine = [r for r in kernels.owned_by(all_rows, project=ctx.project) if not r.spec.error]
    mine.sort(key=lambda r: r.kernels_dir != ctx.kernels_dir)  # this scope's first
    if not mine:
        raise OperationError(
            "KERNEL_NOT_FOUND",
            f"kernelenv has no kernel for {ctx.project}",
            hint=f"make one with `kernelenv create {shlex.quote(str(ctx.project))}`, or name one with --kernel",
            project=ctx.project,
        )
    row = mine[0]
    first = kernels.effective(all_rows, row.name)
    if first is not None and first.resource_dir != row.resource_dir:
        raise OperationError(
            "KERNEL_SHADOWED",
            f"the project's kernel {row.name!r} ({row.resource_dir}) is hidden by {first.resource_dir}, earlier on "
            "Jupyter's path: Jupyter would start that one",
            hint=f"give the project's kernel another name: kernelenv create {shlex.quote(str(ctx.project))} --name NEW_NAME",
            name=row.name, resource_dir=first.resource_dir,
        )
    return row.spec


def create_command(spec: kernelspec.Spec, extra: str) -> str:
    """A `kernelenv create ...` line that re-syncs this kernel's own venv, plus ``extra``."""
    mark = spec.mark or {}
    project = mark.get("project")
    if not project:
        python = spec.argv0 or "python"
        pkgs = extra.replace("--profile dl", "numpy pandas tensorflow").replace("--profile data", "numpy pandas")
        pkgs = " ".join(w for w in pkgs.split() if w != "--with")
        return f"{shlex.quote(python)} -m pip install {pkgs}"
    parts = ["kernelenv", "create", shlex.quote(project)]
    venv = mark.get("venv")
    if venv and Path(venv) != Path(project) / ".venv":
        parts += ["--venv", shlex.quote(venv)]
    from ..kernelspec import slug

    if spec.name != slug(Path(project).name):
        parts += ["--name", spec.name]
    return " ".join([*parts, extra])


def fix_for(spec: kernelspec.Spec, modules: list[str]) -> str:
    profiles = {PROFILE_OF.get(m) for m in modules}
    if None not in profiles:
        return create_command(spec, "--profile dl" if "dl" in profiles else "--profile data")
    return create_command(spec, " ".join(f"--with {DIST_OF.get(m, m)}" for m in modules))


def missing_modules(spec: kernelspec.Spec, modules: list[str]) -> list[str]:
    """Which of ``modules`` the kernel's interpreter cannot import (find_spec, nothing imported)."""
    if not modules or not spec.argv0:
        return []
    code = (
        "import importlib.util as u, json, sys\n"
        "print(json.dumps([m for m in sys.argv[1:] if u.find_spec(m) is None]))"
    )
    try:
        done = proc.run([spec.argv0, "-c", code, *modules], timeout=60)
        return list(json.loads(done.stdout.strip().splitlines()[-1]))
    except (proc.ProcError, ValueError, IndexError):
        return []  # let the notebook itself tell


# notebooks ----------------------------------------------------------------------
@dataclass
class Item:
    path: Path
    nb: Any
    topic: str
    requires: list[str]
    tutorial: bool


def collect(source: Path) -> list[Item]:
    import nbformat

    if source.is_file():
        paths = [source]
    elif source.is_dir():
        paths = sorted(p for p in source.glob("*.ipynb") if not p.name.startswith("."))
    else:
        raise OperationError("USAGE", f"notebooks folder {source} does not exist", path=source)
    if not paths:
        raise OperationError("USAGE", f"no notebooks (*.ipynb) in {source}", path=source)
    items = []
    for p in paths:
        try:
            nb = nbformat.read(str(p), as_version=4)
        except Exception as exc:  # not JSON, not a notebook
            raise OperationError("USAGE", f"{p} is not a readable notebook: {exc}", path=p) from None
        meta = nb.metadata.get("kernelenv") or {}
        topic = meta.get("topic") or re.sub(r"^\d+[-_ ]*", "", p.stem) or p.stem
        items.append(Item(p, nb, str(topic), [str(m) for m in meta.get("requires", [])], bool(meta.get("topic"))))
    return items


def select(items: list[Item], only: list[str]) -> tuple[list[Item], list[Item]]:
    if not only:
        return items, []
    wanted = {o.lower()[: -len(".ipynb")] if o.lower().endswith(".ipynb") else o.lower() for o in only}

    def keys(it: Item) -> set[str]:
        return {it.topic.lower(), it.path.stem.lower()}

    unknown = sorted(w for w in wanted if not any(w in keys(it) for it in items))
    if unknown:
        names = ", ".join(sorted({it.topic for it in items}))
        raise OperationError("USAGE", f"--only {','.join(unknown)}: no such notebook", hint=f"choose from: {names}")
    chosen = [it for it in items if keys(it) & wanted]
    return chosen, [it for it in items if it not in chosen]


def default_output(ctx: Context, spec: kernelspec.Spec, explicit_project: bool) -> Path:
    project = str(ctx.project) if explicit_project else (spec.mark or {}).get("project")
    if project and Path(project).is_dir():
        base = Path(project) / ".kernelenv"
        base.mkdir(exist_ok=True)
        ignore = base / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# kernelenv's own files (executed notebooks): not for git\n*\n", encoding="utf-8")
        return base / "verify"
    return ctx.cache_dir / "verify" / spec.name


def locate_error(nb: Any) -> tuple[int | None, dict | None, Any]:
    """(1-based cell position, the error output, the cell) of the first cell with an error output."""
    for i, cell in enumerate(nb.cells, 1):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                return i, out, cell
    return None, None, None


def describe_error(nb: Any, spec: kernelspec.Spec, exc: BaseException | None) -> dict[str, Any]:
    pos, out, cell = locate_error(nb)
    ename = (out or {}).get("ename") or getattr(exc, "ename", None) or type(exc).__name__
    evalue = (out or {}).get("evalue") or getattr(exc, "evalue", None) or str(exc).strip().splitlines()[-1:] or [""]
    if isinstance(evalue, list):
        evalue = evalue[0] if evalue else ""
    line_no = None
    source_line = None
    if cell is not None:
        tb = ANSI.sub("", "\n".join((out or {}).get("traceback", [])))
        count = cell.get("execution_count")
        hits = re.findall(r"Cell In\s*\[(\d+)\],\s*line (\d+)", tb)
        chosen = [h for h in hits if count is not None and int(h[0]) == count] or hits
        if chosen:
            line_no = int(chosen[0][1])
        else:
            m = re.search(r"^-+>\s*(\d+)", tb, re.M)
            line_no = int(m.group(1)) if m else None
        lines = cell.source.splitlines()
        if line_no and 1 <= line_no <= len(lines):
            source_line = lines[line_no - 1].strip()
        elif lines:
            source_line = next((ln.strip() for ln in reversed(lines) if ln.strip()), None)
    fix = None
    m = re.match(r"No module named '([^'.]+)", str(evalue))
    if ename in ("ModuleNotFoundError", "ImportError") and m:
        fix = fix_for(spec, [m.group(1)])
    return {
        "cell": pos,
        "execution_count": cell.get("execution_count") if cell is not None else None,
        "line": line_no,
        "source": source_line,
        "ename": ename,
        "evalue": str(evalue),
        "fix": fix,
    }


async def _execute(item: Item, spec: kernelspec.Spec, ctx: Context, log_path: Path, cwd: Path, timeout: float) -> tuple[Any, BaseException | None]:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    ksm = KernelSpecManager()
    ksm.kernel_dirs = [str(p) for p in ctx.search_path]
    km = AsyncKernelManager(kernel_name=spec.name, kernel_spec_manager=ksm)
    nb = item.nb
    client = NotebookClient(
        nb, km=km, kernel_name=spec.name, timeout=int(timeout), startup_timeout=120,
        resources={"metadata": {"path": str(cwd)}}, shutdown_kernel="immediate",
    )
    error: BaseException | None = None
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "wb")  # the kernel's own stdout/stderr: never on ours (JSON mode)
    started = time.monotonic()
    try:
        await asyncio.wait_for(
            client.async_execute(cleanup_kc=True, stdout=log, stderr=log, stdin=subprocess.DEVNULL), timeout=timeout
        )
    except Exception as exc:  # a cell error, a dead kernel, a kernel that did not start, the timeout
        error = exc
        if isinstance(exc, asyncio.TimeoutError) or time.monotonic() - started >= timeout:
            # cancelling kills the kernel, which may surface as DeadKernelError: say what happened
            error = TimeoutError(f"the notebook ran past --timeout {timeout:g} s")
    finally:
        # nbclient registers an atexit cleanup it never unregisters when the kernel dies at start
        atexit.unregister(client._cleanup_kernel)
        if km.has_kernel:  # cancelled before nbclient could clean up
            try:
                await km.shutdown_kernel(now=True)
            except Exception:
                pass
        log.close()
    return nb, error


async def _run_all(ctx, spec, items, out_dir, timeout, jobs) -> list[dict]:
    import nbformat

    sem = asyncio.Semaphore(jobs)
    total = len(items)
    done_count = 0
    rows: list[dict] = [{} for _ in items]

    async def one(i: int, item: Item) -> None:
        nonlocal done_count
        async with sem:
            t = time.monotonic()
            out_path = out_dir / item.path.name
            cwd = out_dir if item.tutorial else item.path.parent
            ctx.progress("verify", f"running {item.path.name}", None, total)
            log_path = out_dir / "logs" / f"{item.path.stem}.kernel.log"
            nb, error = await _execute(item, spec, ctx, log_path, cwd, timeout)
            duration = round(time.monotonic() - t, 2)
            nb.metadata["kernelspec"] = {"name": spec.name, "display_name": spec.display_name, "language": "python"}
            try:
                nbformat.write(nb, str(out_path))
                written: Path | None = out_path
            except OSError:
                written = None
            row = {"name": item.path.stem, "topic": item.topic, "path": item.path, "output": written,
                   "status": "passed" if error is None else "failed", "duration": duration, "error": None}
            if error is not None:
                row["error"] = describe_error(nb, spec, error)
            rows[i] = row
            done_count += 1
            verdict = "passed" if error is None else f"FAILED ({row['error']['ename']})"
            ctx.progress("verify", f"{item.path.name} {verdict} in {duration:.1f} s", done_count, total)

    await asyncio.gather(*(one(i, it) for i, it in enumerate(items)))
    return rows


def run(ctx: Context, opts: VerifyOptions) -> Result:
    t0 = time.monotonic()
    spec = find_kernel(ctx, opts.kernel)
    source = opts.notebooks or tutorial_dir()
    items = collect(source)
    chosen, skipped = select(items, opts.only)
    out_dir = opts.output or default_output(ctx, spec, explicit_project=opts.kernel is None)
    if os.path.realpath(out_dir) == os.path.realpath(source) or (ctx.project / "notebooks").resolve() == out_dir.resolve():
        raise OperationError("USAGE", f"the output folder {out_dir} holds notebooks to run: executed copies would replace them",
                             hint="choose another --output", path=out_dir)
    if not (opts.timeout > 0 and opts.timeout != float("inf")):
        raise OperationError("USAGE", f"--timeout must be a positive number of seconds, not {opts.timeout}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OperationError("USAGE", f"cannot make the output folder {out_dir}: {exc.strerror or exc}", path=out_dir) from None

    needed = sorted({m for it in chosen for m in it.requires})
    missing = set(missing_modules(spec, needed))
    rows_missing: dict[Path, dict] = {}
    for it in chosen:
        lacks = [m for m in it.requires if m in missing]
        if lacks:
            rows_missing[it.path] = {
                "name": it.path.stem, "topic": it.topic, "path": it.path, "output": None, "status": "failed",
                "duration": 0.0,
                "error": {"cell": None, "execution_count": None, "line": None, "source": None,
                          "ename": "ModuleNotFoundError",
                          "evalue": f"the kernel's environment has no {', '.join(lacks)}",
                          "fix": fix_for(spec, lacks)},
            }
    runnable = [it for it in chosen if it.path not in rows_missing]
    jobs = max(1, min(opts.jobs or (os.cpu_count() or 1), len(runnable) or 1))
    ran = asyncio.run(_run_all(ctx, spec, runnable, out_dir, opts.timeout, jobs)) if runnable else []
    by_path = {r["path"]: r for r in ran} | rows_missing
    rows = []
    for it in items:
        if it in skipped:
            rows.append({"name": it.path.stem, "topic": it.topic, "path": it.path, "output": None,
                         "status": "skipped", "duration": 0.0, "error": None})
        else:
            rows.append(by_path[it.path])
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("passed", "failed", "skipped")}
    data = {
        "kernel": {"name": spec.name, "display_name": spec.display_name, "python": spec.argv0,
                   "resource_dir": spec.resource_dir},
        "project": (spec.mark or {}).get("project"),
        "notebooks_dir": source,
        "output_dir": out_dir,
        "jobs": jobs,
        "notebooks": rows,
        **counts,
        "duration": round(time.monotonic() - t0, 2),
    }
    return Result("verify", data, ok=counts["failed"] == 0)
