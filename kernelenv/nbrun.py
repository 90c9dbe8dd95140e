"""Running notebooks in a kernel and reporting where they failed: shared by ``verify`` and the pytest plugin.

Contract:
- ``load(path)`` reads one notebook; a file that is not JSON, not a notebook or not valid
  nbformat 4 comes back with ``load_error`` set (never an exception, never a log line on
  stderr), so one bad file fails alone and the others still run.
- ``run_notebooks`` executes notebooks with nbclient in a kernelspec found on exactly
  ``ctx.search_path``, several at once, and returns one row per notebook (see ``row``).
  With ``keep_going`` every cell runs (nbclient's ``allow_errors``) and every failing cell
  is reported; without it execution stops at the first failure. A cell tagged
  ``raises-exception`` may fail: its error is expected and never reported.
- An error names the cell twice: ``cell`` (1-based position in the file, markdown cells
  included) and ``execution_count`` (the ``[n]`` Jupyter shows); ``line`` and ``source`` are
  the failing cell's own line. When the error was raised in code another cell defined,
  ``raised_in`` says where (cell, execution count, line, source). ``ename``/``evalue`` carry
  no colour codes; a bare ``assert`` gets the asserted statement as its ``evalue``.
  A missing module gets ``fix`` (a command to paste) and ``action`` (kernelenv arguments).
- ``find_kernel(ctx, name)``: the kernel to run in: the spec Jupyter starts for a name, or the
  project's own kernel (KERNEL_SHADOWED when another spec earlier on Jupyter's path hides it).
"""

from __future__ import annotations

import ast
import asyncio
import atexit
import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import files, kernelspec, proc
from .context import Context
from .result import OperationError

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
EXPECTED_ERROR_TAG = "raises-exception"
# import name -> distribution name, where they differ (for the fix command)
DIST_OF = {
    "sklearn": "scikit-learn",
    "cv2": "opencv-python",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "skimage": "scikit-image",
    "dateutil": "python-dateutil",
    "tensorflow": "tensorflow",
    "torch": "torch",
}
PROFILE_OF = {"numpy": "data", "pandas": "data", "tensorflow": "dl", "keras": "dl"}
# folders never searched for notebooks: venvs, kernelenv's own files, installed packages
SKIP_DIRS = {".venv", "venv", ".kernelenv", "site-packages", "node_modules", "__pycache__"}


def strip_ansi(text: Any) -> Any:
    """``text`` without terminal colour codes (non-strings are returned as they are)."""
    return ANSI.sub("", text) if isinstance(text, str) else text


def tutorial_dir() -> Path:
    """The tutorial notebooks shipped inside the package."""
    return Path(__file__).resolve().parent / "notebooks"


# kernels ----------------------------------------------------------------------
def find_kernel(ctx: Context, name: str | None) -> kernelspec.Spec:
    """The spec Jupyter starts for ``name``, or the kernel kernelenv made for ctx.project.

    KERNEL_SHADOWED when the project's kernel is hidden by a same-named spec earlier on Jupyter's
    path: running "it" would run that other spec.
    """
    from . import kernels

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
            name=row.name,
            resource_dir=first.resource_dir,
        )
    return row.spec


def create_argv(spec: kernelspec.Spec, extra: list[str]) -> list[str] | None:
    """kernelenv arguments (``create PROJECT ...``) that re-sync this kernel's own venv plus ``extra``;
    None for a kernel kernelenv did not make for a project."""
    mark = spec.mark or {}
    project = mark.get("project")
    if not project:
        return None
    argv = ["create", project]
    venv = mark.get("venv")
    if venv and Path(venv) != Path(project) / ".venv":
        argv += ["--venv", venv]
    if spec.name != kernelspec.slug(Path(project).name):
        argv += ["--name", spec.name]
    return [*argv, *extra]


def fix_for(spec: kernelspec.Spec, modules: list[str]) -> tuple[str, dict[str, Any] | None]:
    """(a command to paste, an action ``{"label", "argv"}`` or None) that installs ``modules`` in the kernel."""
    profiles = {PROFILE_OF.get(m) for m in modules}
    if None not in profiles:
        profile = "dl" if "dl" in profiles else "data"
        extra, label = ["--profile", profile], f"Install the {profile} profile"
        packages = ["numpy", "pandas", "tensorflow"] if profile == "dl" else ["numpy", "pandas"]
    else:
        dists = [DIST_OF.get(m, m) for m in modules]
        extra = [w for d in dists for w in ("--with", d)]
        label, packages = f"Install {', '.join(dists)}", dists
    argv = create_argv(spec, extra)
    if argv is None:
        python = spec.argv0 or "python"
        return f"{shlex.quote(python)} -m pip install {' '.join(map(shlex.quote, packages))}", None
    return shlex.join(["kernelenv", *argv]), {"label": label, "argv": argv}


def missing_modules(spec: kernelspec.Spec, modules: list[str]) -> list[str]:
    """Which of ``modules`` the kernel's interpreter cannot import (find_spec, nothing imported)."""
    from . import containers

    if not modules or not spec.argv0 or containers.container_mark(spec) is not None:
        return []  # a container kernel's python is inside its image: the notebook itself tells
    code = "import importlib.util as u, json, sys\nprint(json.dumps([m for m in sys.argv[1:] if u.find_spec(m) is None]))"
    try:
        done = proc.run([spec.argv0, "-c", code, *modules], timeout=60)
        return list(json.loads(done.stdout.strip().splitlines()[-1]))
    except (proc.ProcError, ValueError, IndexError):
        return []  # let the notebook itself tell


# notebooks ----------------------------------------------------------------------
@dataclass
class Notebook:
    path: Path
    nb: Any  # a NotebookNode; None when load_error is set
    topic: str
    requires: list[str]
    tutorial: bool
    load_error: str | None = None


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in str(text).splitlines() if ln.strip()), "")


def load(path: Path, tutorial: bool = False) -> Notebook:
    """One notebook; ``load_error`` says why a file is not a runnable notebook."""
    import nbformat
    from nbformat.validator import ValidationError

    default_topic = re.sub(r"^\d+[-_ ]*", "", path.stem) or path.stem
    bad = lambda why: Notebook(path, None, default_topic, [], tutorial, why)  # noqa: E731
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return bad(f"cannot read {path.name}: {exc.strerror or exc}")
    except UnicodeDecodeError as exc:
        return bad(f"{path.name} is not UTF-8 text: {exc.reason} at byte {exc.start}")
    with warnings.catch_warnings():  # nbformat warns (missing cell ids, ...) on stderr: not ours to print
        warnings.simplefilter("ignore")
        try:
            raw = json.loads(text)
        except ValueError as exc:
            return bad(f"{path.name} is not valid JSON: {exc}")
        if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
            return bad(f"{path.name} is not a notebook: no list of cells")
        try:
            nb = nbformat.reads(text, as_version=4, capture_validation_error={})
            nbformat.validate(nb)
        except ValidationError as exc:
            return bad(f"{path.name} is not a valid notebook: {_first_line(str(getattr(exc, 'message', exc)))}")
        except Exception as exc:  # an unknown nbformat version, a conversion that failed
            return bad(f"{path.name} is not a readable notebook: {_first_line(str(exc)) or type(exc).__name__}")
    meta = nb.metadata.get("kernelenv") or {}
    if not isinstance(meta, dict):
        meta = {}
    requires = meta.get("requires", [])
    requires = [str(m) for m in requires] if isinstance(requires, list) else []
    topic = meta.get("topic") or default_topic
    return Notebook(path, nb, str(topic), requires, tutorial or bool(meta.get("topic")))


def notebook_files(folder: Path, recursive: bool) -> list[Path]:
    """``*.ipynb`` in ``folder`` (and below it when ``recursive``), outside hidden folders, venvs,
    ``.kernelenv``, ``site-packages`` and nested projects (a folder below ``folder`` with its own
    ``.venv``: its notebooks run in its own environment); hidden files (``.~name.ipynb``) are not
    notebooks."""
    found: list[Path] = []
    for root, dirs, names in os.walk(folder):
        found += [Path(root) / n for n in names if n.endswith(".ipynb") and not n.startswith(".")]
        if not recursive:
            break
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in SKIP_DIRS
            and not (Path(root) / d / "pyvenv.cfg").exists()
            and not (Path(root) / d / ".venv" / "pyvenv.cfg").exists()
        )
    return sorted(found)


def collect(source: Path, *, tutorial: bool = False, recursive: bool = False) -> list[Notebook]:
    """The notebooks of a folder (or one file). USAGE when there is nothing to run; a file that is
    not a notebook is a Notebook with ``load_error`` (it fails alone)."""
    if os.path.isfile(source):  # (never raises: a too-long or NUL-holding name is "not there")
        paths = [source]
    elif os.path.isdir(source):
        paths = notebook_files(source, recursive)
    else:
        raise OperationError("USAGE", f"notebooks folder {source} does not exist", path=source)
    if not paths:
        raise OperationError("USAGE", f"no notebooks (*.ipynb) in {source}", path=source)
    return [load(p, tutorial) for p in paths]


def kernel_named(nb: Any) -> dict[str, str | None] | None:
    """``{"name", "display_name"}`` of the notebook's ``metadata.kernelspec``, None when it has none."""
    ks = (nb.metadata if nb is not None else {}).get("kernelspec")
    if not isinstance(ks, dict):
        return None
    pick = lambda k: ks.get(k) if isinstance(ks.get(k), str) else None  # noqa: E731
    return {"name": pick("name"), "display_name": pick("display_name")}


# tracebacks -------------------------------------------------------------------
@dataclass
class Frame:
    count: int | None  # execution count of the cell the frame is in; None: a file
    line: int | None
    function: str | None  # None at a cell's top level
    text: str | None  # the source line the traceback points at


_CELL_FRAME = [
    # IPython >= 8.6 (also the header of a SyntaxError): "Cell In[3], line 2, in f()"
    re.compile(r"^\s*Cell In\s*\[(\d+)\],\s*line (\d+)(?:,\s*in (.+?))?\s*$", re.M),
    # IPython 8.0 to 8.5: "Input In [3], in <cell line: 2>()" or "Input In [3], in f()"
    re.compile(r"^\s*Input In \[(\d+)\],?\s*(?:line (\d+))?,?\s*(?:in (.+?))?\s*$", re.M),
    # IPython 7: "<ipython-input-3-5f2c...> in f()"
    re.compile(r"^\s*<ipython-input-(\d+)-[0-9a-f]+>\s*(?:line (\d+))?,?\s*(?:in (.+?))?\s*$", re.M),
]
_FILE_FRAME = re.compile(r"^\s*File \"?(.+?)\"?(?::(\d+)|, line (\d+))", re.M)
_ARROW = re.compile(r"^-*>\s*(\d+)\s?(.*)$", re.M)


def parse_frames(traceback: list[str]) -> list[Frame]:
    """The frames of an IPython traceback (colour codes removed), outermost first."""
    frames = []
    for entry in traceback:
        text = strip_ansi(entry)
        arrow = _ARROW.search(text)
        arrow_line = int(arrow.group(1)) if arrow else None
        arrow_text = arrow.group(2).strip() if arrow else None
        for rx in _CELL_FRAME:
            m = rx.search(text)
            if m:
                func = (m.group(3) or "").strip() or None
                line = int(m.group(2)) if m.group(2) else arrow_line
                cell_line = re.match(r"<cell line: (\d+)>", func or "")
                if cell_line or func in ("<module>", "<module>()"):
                    line = line or (int(cell_line.group(1)) if cell_line else None)
                    func = None
                frames.append(Frame(int(m.group(1)), line, func, arrow_text))
                break
        else:
            m = _FILE_FRAME.search(text)
            if m:
                frames.append(Frame(None, int(m.group(2) or m.group(3)), None, arrow_text))
    return frames


def _statement_at(source: str, line: int, kind: type | None = None) -> str | None:
    """The whole statement (one line, whitespace collapsed) of ``kind`` that spans ``line``."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # IPython syntax (!cmd, %magic): no tree
        return None
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and (kind is None or isinstance(node, kind)):
            end = getattr(node, "end_lineno", node.lineno)
            if node.lineno <= line <= end and (best is None or node.lineno >= best.lineno):
                best = node
    if best is None:
        return None
    seg = ast.get_source_segment(source, best) if hasattr(ast, "get_source_segment") else None
    return " ".join(seg.split()) if seg else None


def _last_statement_line(source: str) -> int | None:
    """The line the displayed value of a cell comes from: its last statement (or last non-blank line)."""
    try:
        body = ast.parse(source).body
        if body:
            return body[-1].lineno
    except (SyntaxError, ValueError):
        pass
    lines = source.splitlines()
    return next((i for i in range(len(lines), 0, -1) if lines[i - 1].strip()), None)


def _line_text(source: str, line: int | None) -> str | None:
    lines = source.splitlines()
    if line and 1 <= line <= len(lines):
        return lines[line - 1].strip()
    return None


def _cells_by_count(nb: Any) -> dict[int, tuple[int, Any]]:
    return {
        c.execution_count: (i, c)
        for i, c in enumerate(nb.cells, 1)
        if c.cell_type == "code" and isinstance(c.get("execution_count"), int)
    }


def describe(nb: Any, pos: int, cell: Any, out: dict, spec: kernelspec.Spec) -> dict[str, Any]:
    """The report of one error output ``out`` of ``cell`` (1-based position ``pos``)."""
    count = cell.get("execution_count")
    frames = parse_frames(out.get("traceback") or [])
    cells = _cells_by_count(nb)
    own = [f for f in frames if f.count is not None and f.count == count]
    in_cells = [f for f in frames if f.count is not None and f.count in cells]
    line = own[0].line if own else None
    raised_in = None
    deepest = in_cells[-1] if in_cells else None
    if deepest is not None and deepest.count is not None and deepest.count != count:
        where_pos, where_cell = cells[deepest.count]
        raised_in = {
            "cell": where_pos,
            "execution_count": deepest.count,
            "line": deepest.line,
            "source": _line_text(where_cell.source, deepest.line) or deepest.text,
        }
        if line is None:  # raised while showing the cell's value: its last statement
            line = _last_statement_line(cell.source)
    ename = strip_ansi(out.get("ename") or "Error")
    evalue = strip_ansi(out.get("evalue") or "")
    if ename == "AssertionError" and not evalue.strip():
        # a bare assert: the asserted statement is the message
        where_src, where_line = (where_cell.source, deepest.line) if raised_in and deepest else (cell.source, line)
        if frames and frames[-1].count is None:  # raised inside a file (a library): what the traceback shows
            evalue = frames[-1].text or ""
        elif where_line:
            evalue = _statement_at(where_src, where_line, ast.Assert) or _line_text(where_src, where_line) or ""
    error = {
        "cell": pos,
        "execution_count": count if isinstance(count, int) else None,
        "line": line,
        "source": _line_text(cell.source, line),
        "raised_in": raised_in,
        "ename": ename,
        "evalue": evalue,
        "fix": None,
        "action": None,
    }
    if error["source"] is None and line is None:
        error["source"] = next((ln.strip() for ln in reversed(cell.source.splitlines()) if ln.strip()), None)
    m = re.match(r"No module named '([^'.]+)", evalue)
    if ename in ("ModuleNotFoundError", "ImportError") and m:
        error["fix"], error["action"] = fix_for(spec, [m.group(1)])
    return error


def _expected(cell: Any) -> bool:
    tags = (cell.get("metadata") or {}).get("tags") or []
    return isinstance(tags, list) and EXPECTED_ERROR_TAG in tags


def failures(nb: Any, spec: kernelspec.Spec, exc: BaseException | None, running: int | None = None) -> list[dict[str, Any]]:
    """Every reportable error of an executed notebook, in cell order: error outputs of cells not
    tagged ``raises-exception``, then what stopped the run (a timeout, a dead kernel) if anything did."""
    from nbclient.exceptions import CellExecutionError

    found = []
    for pos, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code" or _expected(cell):
            continue
        out = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if out is not None:
            found.append(describe(nb, pos, cell, out, spec))
    if exc is not None and not (isinstance(exc, CellExecutionError) and found):
        cell = nb.cells[running] if running is not None and 0 <= running < len(nb.cells) else None
        ename = getattr(exc, "ename", None) or type(exc).__name__
        evalue = getattr(exc, "evalue", None) if isinstance(exc, CellExecutionError) else None
        evalue = evalue or _first_line(strip_ansi(str(exc))) or ename
        count = cell.get("execution_count") if cell is not None else None
        found.append(
            {
                "cell": running + 1 if cell is not None and running is not None else None,
                "execution_count": count if isinstance(count, int) else None,
                "line": None,
                "source": None,
                "raised_in": None,
                "ename": strip_ansi(ename),
                "evalue": strip_ansi(evalue),
                "fix": None,
                "action": None,
            }
        )
    return found


# running ------------------------------------------------------------------------
def _kernel_log(log_path: Path | None) -> Any:
    """Where the kernel's own stdout/stderr go (never ours: JSON mode): a file opened without following a
    link planted at ``log_path`` (it is replaced), or DEVNULL."""
    if log_path is None:
        return subprocess.DEVNULL
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if os.path.islink(log_path):
        os.unlink(log_path)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    return os.fdopen(fd, "wb")


async def execute(
    nb: Any, spec: kernelspec.Spec, search_path: list[Path], *, cwd: Path, timeout: float, keep_going: bool, log_path: Path | None
) -> tuple[Any, BaseException | None, int | None]:
    """Run ``nb`` in place. Returns (nb, what stopped it or None, index of the cell running last)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    for cell in nb.cells:  # outputs saved in the file must not pass for this run's (cells after a failure)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    ksm = KernelSpecManager()
    ksm.kernel_dirs = [str(p) for p in search_path]
    km = AsyncKernelManager(kernel_name=spec.name, kernel_spec_manager=ksm)
    running: list[int | None] = [None]

    def on_cell_execute(cell: Any, cell_index: int) -> None:
        running[0] = cell_index

    client = NotebookClient(
        nb,
        km=km,
        kernel_name=spec.name,
        timeout=int(timeout),
        startup_timeout=120,
        allow_errors=keep_going,
        resources={"metadata": {"path": str(cwd)}},
        shutdown_kernel="graceful",
        on_cell_execute=on_cell_execute,
    )
    error: BaseException | None = None
    log = _kernel_log(log_path)
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
                await km.shutdown_kernel(now=False)  # a container kernel's container ends with it
            except Exception:
                pass
        if log_path is not None:
            log.close()
    return nb, error, running[0]


def row(item: Notebook, **fields: Any) -> dict[str, Any]:
    """One notebook's report row; every key is always there (null when it does not apply)."""
    base = {
        "name": item.path.stem,
        "topic": item.topic,
        "path": item.path,
        "output": None,
        "status": "passed",
        "duration": 0.0,
        "error": None,
        "errors": [],
        "skip": None,
        "fix": None,
        "action": None,
        "other_kernel": None,
    }
    base.update(fields)
    return base


def failed_row(item: Notebook, ename: str, evalue: str | None, fix: str | None = None, action: Any = None) -> dict[str, Any]:
    """A notebook that failed before any cell ran (unreadable, or a module the kernel lacks): one error, no cell."""
    error: dict[str, Any] = {"cell": None, "execution_count": None, "line": None, "source": None, "raised_in": None}
    error |= {"ename": ename, "evalue": evalue, "fix": fix, "action": action}
    return row(item, status="failed", error=error, errors=[error], fix=fix, action=action)


def load_failure_row(item: Notebook) -> dict[str, Any]:
    return failed_row(item, "NotebookInvalid", item.load_error)


async def run_one(
    item: Notebook,
    spec: kernelspec.Spec,
    search_path: list[Path],
    *,
    cwd: Path,
    timeout: float,
    keep_going: bool,
    log_path: Path | None,
    out_path: Path | None,
) -> dict[str, Any]:
    """Execute one loaded notebook and report it (the executed copy goes to ``out_path`` if given)."""
    import nbformat

    if item.load_error:
        return load_failure_row(item)
    t = time.monotonic()
    nb, exc, running = await execute(
        item.nb, spec, search_path, cwd=cwd, timeout=timeout, keep_going=keep_going, log_path=log_path
    )
    duration = round(time.monotonic() - t, 2)
    errors = failures(nb, spec, exc, running)
    written = None
    if out_path is not None:
        nb.metadata["kernelspec"] = {"name": spec.name, "display_name": spec.display_name, "language": "python"}
        try:  # a fresh file renamed into place: a link planted at out_path is replaced, never written through
            text = nbformat.writes(nb)
            files.write_atomic(out_path, text if text.endswith("\n") else text + "\n")
            written = out_path
        except OSError:
            pass
    first_fix = next((e for e in errors if e["fix"]), None)
    return row(
        item,
        output=written,
        status="failed" if errors else "passed",
        duration=duration,
        error=errors[0] if errors else None,
        errors=errors,
        fix=first_fix["fix"] if first_fix else None,
        action=first_fix["action"] if first_fix else None,
    )


async def run_many(
    items: list[Notebook],
    spec: kernelspec.Spec,
    search_path: list[Path],
    *,
    jobs: int,
    timeout: float,
    keep_going: bool,
    out_dir: Path | None,
    cwd_for: Callable[[Notebook], Path],
    progress: Callable[..., None] | None = None,
) -> list[dict[str, Any]]:
    """``run_one`` for each item, ``jobs`` at once; rows in the order of ``items``."""
    sem = asyncio.Semaphore(max(1, jobs))
    total = len(items)
    done = 0
    rows: list[dict[str, Any]] = [{} for _ in items]
    say = progress or (lambda *a: None)

    async def one(i: int, item: Notebook) -> None:
        nonlocal done
        async with sem:
            say("verify", f"running {item.path.name}", None, total)
            log = out_dir / "logs" / f"{item.path.stem}.kernel.log" if out_dir else None
            out = out_dir / item.path.name if out_dir else None
            r = await run_one(
                item, spec, search_path, cwd=cwd_for(item), timeout=timeout, keep_going=keep_going, log_path=log, out_path=out
            )
            rows[i] = r
            done += 1
            n = len(r["errors"])
            verdict = (
                "passed" if r["status"] == "passed" else (f"FAILED ({r['error']['ename']})" if n == 1 else f"FAILED ({n} cells)")
            )
            say("verify", f"{item.path.name} {verdict} in {r['duration']:.1f} s", done, total)

    tasks = [asyncio.ensure_future(one(i, it)) for i, it in enumerate(items)]
    with _stopped_by_signals(tasks) as interrupted:
        await asyncio.wait(tasks)
    if interrupted:  # Ctrl-C or an editor's SIGTERM: every kernel was stopped; the CLI says INTERRUPTED
        raise KeyboardInterrupt
    for task in tasks:
        task.result()  # a bug in a run: raised, not lost
    return rows


@contextlib.contextmanager
def _stopped_by_signals(tasks: Sequence[asyncio.Future[Any]]) -> Iterator[list[int]]:
    """SIGINT and SIGTERM cancel every run (each stops its kernel on the way out); yields the signals
    received. nbclient installs handlers of its own on the loop for each notebook (the last one
    started wins, and it stops that notebook's kernel alone, after which the other runs go on and
    the process never ends): while this holds, the loop refuses them (nbclient expects that off the
    main thread) and keeps these. While stopping, asyncio's "exception was never retrieved"
    reports of nbclient's own tasks are dropped: they are the runs being cancelled."""
    loop = asyncio.get_running_loop()
    received: list[int] = []
    ours = (signal.SIGINT, signal.SIGTERM)
    add, remove = loop.add_signal_handler, loop.remove_signal_handler

    def stop(signum: int) -> None:
        received.append(signum)
        for task in tasks:
            task.cancel()

    def refuse_add(signum: int, callback: Callable[..., object], *args: Any) -> None:
        if signum in ours:
            raise RuntimeError("kernelenv stops every notebook run on this signal")
        add(signum, callback, *args)

    def refuse_remove(signum: int) -> bool:
        return False if signum in ours else remove(signum)

    def quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if not received:
            loop.default_exception_handler(context)

    installed = []
    for signum in ours:
        try:
            add(signum, stop, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such signal here
            pass
    if installed:
        loop.add_signal_handler = refuse_add  # type: ignore[method-assign, assignment]
        loop.remove_signal_handler = refuse_remove  # type: ignore[method-assign, assignment]
    loop.set_exception_handler(quiet)
    try:
        yield received
    finally:
        if installed:
            del loop.add_signal_handler, loop.remove_signal_handler  # the class's methods again
        for signum in installed:
            remove(signum)
