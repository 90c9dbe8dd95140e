"""doctor: check kernels for real, and say the exact command that fixes each problem.

Per kernel: the static health list computes (health.py reasons), what identity.py says of its
venv (its console scripts run another venv's python; its base interpreter is gone), a real start
with jupyter_client within ``timeout`` that must report ``sys.executable == argv[0]`` and a
``pip`` on the kernel's PATH that runs from the kernel's own venv (it is run, not only looked
for), ``pip check`` conflicts through the installer backend, and display names used twice. A kernel
in a shared folder (outside the user's own Jupyter folder) that other users can list but whose
python, venv or base interpreter they cannot reach is PYTHON_PRIVATE, with the command that
rebuilds it from a Python they can run (sharing.py decides who reaches what).
Every problem carries its reason code, a message rendered from it, the fix as a command to paste
and, when the fix is a kernelenv command, ``action`` (its arguments) for an editor's button.
Kernels are checked in a thread pool of ``jobs`` workers. The Result's ``ok`` is False (exit 1)
when any problem was found. The argument is a kernel name or a project folder, resolved as
``remove`` resolves it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .. import containers, health, identity, installer, kernels, lockfile, proc, provision, pythons, sharing, vscode
from .. import venv as venvmod
from ..context import Context
from ..health import Problem, Reason
from ..kernels import KernelRow
from ..kernelspec import slug
from ..result import OperationError, Result

DEFAULT_JOBS = 4
DEFAULT_TIMEOUT = 60.0

_PROBE = (
    "import json, shutil, subprocess, sys\n"
    "pip = shutil.which('pip')\n"
    "try:\n"
    "    said = subprocess.run([pip, '--version'], capture_output=True, text=True, timeout=60).stdout.strip() if pip else None\n"
    "except Exception as exc:\n"
    "    said = 'error: %s' % exc\n"
    "print('KERNELENV-DOCTOR ' + json.dumps({'executable': sys.executable, 'prefix': sys.prefix,"
    " 'base_prefix': sys.base_prefix, 'pip': pip, 'pip_says': said}))\n"
)


def q(text: object) -> str:
    return shlex.quote(str(text))


# selection --------------------------------------------------------------------
def select(
    ctx: Context, all_rows: list[KernelRow], target: str | None, all_: bool, kernel: str | None, project: str | None
) -> tuple[list[KernelRow], Path | None]:
    """The rows to check and, for a project folder whose venv was moved here, that folder."""
    if all_ and (target is not None or kernel is not None or project is not None):
        raise OperationError("USAGE", "kernelenv doctor: --all checks every kernel; it takes no NAME, --kernel or --project")
    if all_:
        return all_rows, None
    found = kernels.resolve_target(ctx, all_rows, target, kernel=kernel, project=project)
    if found.kind == "kernel":
        return found.rows, None
    folder = found.project or ctx.project
    ident = identity.inspect(folder / ".venv")
    moved_to = None
    chosen = list(found.rows)
    origin = provision.origin_kernels(all_rows, ident, folder)  # the same answer create and repair act on
    if origin:
        moved_to = folder
        chosen += [r for r in origin if r not in chosen]
    if not chosen:
        raise OperationError(
            "KERNEL_NOT_FOUND",
            f"no kernel for the project {folder}",
            hint=f"make one with `kernelenv create {q(folder)}`, or check every kernel with `kernelenv doctor --all`",
            name=target,
            project=folder,
        )
    return chosen, moved_to


# fixes ------------------------------------------------------------------------
def _fix(text: str, argv: list[str] | None = None, label: str | None = None) -> tuple[str, dict[str, Any] | None]:
    return text, ({"label": label or "Fix it", "argv": argv} if argv else None)


def _create_fix(row: KernelRow, where: Path | None = None, *extra: str) -> tuple[str, dict[str, Any] | None]:
    project = where or Path(row.project or ".")
    argv = ["create", str(project), "--name", row.name]
    if row.venv and where is None and Path(row.venv) != project / ".venv":
        argv += ["--venv", row.venv]
    argv += list(extra)
    return _fix("kernelenv " + " ".join(q(a) for a in argv), argv, "Rebuild the environment")


def _repair_fix(project: Path) -> tuple[str, dict[str, Any] | None]:
    return _fix(f"kernelenv repair {q(project)}", ["repair", str(project)], "Repair the environment")


def _remove_fix(row: KernelRow) -> tuple[str, dict[str, Any] | None]:
    argv = ["remove", "--kernel", row.name] + ([] if row.owned else ["--force"])
    return _fix("kernelenv " + " ".join(q(a) for a in argv), argv, "Remove the kernel")


def _rebuild_fix(row: KernelRow, moved_to: Path | None) -> tuple[str, dict[str, Any] | None]:
    """For a kernel whose venv or interpreter is gone."""
    if row.owned and row.project:
        if moved_to is not None:
            return _repair_fix(moved_to)
        project = Path(row.project)
        if not project.is_dir():
            text, action = _remove_fix(row)
            return f"kernelenv repair NEW_FOLDER  (the folder {project} was moved to), or drop the kernel: {text}", action
        if lockfile.path_in(project).exists() or (row.venv and venvmod.is_venv(Path(row.venv))):
            return _repair_fix(project)
        return _create_fix(row)
    return _remove_fix(row)


def _respec_fix(row: KernelRow, python: str | None) -> tuple[str, dict[str, Any] | None]:
    """For a spec that starts the wrong thing: write it again."""
    if row.owned and row.project:
        return _create_fix(row)
    venv = row.venv_of_python or (Path(row.venv) if row.venv else None)
    if venv is None:  # not a Python in a venv (a system python, /bin/sleep): kernelenv cannot rewrite it
        return _remove_fix(row)
    argv = ["register", str(venv), "--name", row.name, "--force"]
    return _fix("kernelenv " + " ".join(q(a) for a in argv), argv, "Register it again")


def _problem(reason: Reason, facts: dict[str, Any], fix: tuple[str, dict[str, Any] | None]) -> dict[str, Any]:
    return {"code": reason.value, "message": Problem(reason, facts).message, "fix": fix[0], "action": fix[1]}


# checks -----------------------------------------------------------------------
def start_probe(name: str, resource_dir: Path, timeout: float) -> dict[str, Any]:
    """Start the spec in ``resource_dir`` with jupyter_client; what the kernel says about itself."""
    import queue

    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    t0 = time.monotonic()
    ksm = KernelSpecManager(kernel_dirs=[str(resource_dir.parent)])
    km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
    kc = None
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as errlog:
        try:
            km.start_kernel(env=proc.clean_env(), stdout=errlog, stderr=errlog)
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=timeout)
            msg_id = kc.execute(_PROBE, store_history=False)
            deadline = time.monotonic() + timeout
            answer = None
            while time.monotonic() < deadline:
                msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                c = msg["content"]
                if msg["msg_type"] == "stream" and "KERNELENV-DOCTOR " in c.get("text", ""):
                    answer = json.loads(c["text"].split("KERNELENV-DOCTOR ", 1)[1].splitlines()[0])
                elif msg["msg_type"] == "error":
                    return {"ok": False, "error": f"{c['ename']}: {c['evalue']}", "seconds": round(time.monotonic() - t0, 3)}
                elif msg["msg_type"] == "status" and c["execution_state"] == "idle":
                    break
            if answer is None:
                return {"ok": False, "error": f"no answer within {timeout:g} s", "seconds": round(time.monotonic() - t0, 3)}
            return {"ok": True, **answer, "seconds": round(time.monotonic() - t0, 3)}
        except (RuntimeError, TimeoutError, queue.Empty, OSError) as exc:
            errlog.seek(0)
            lines = [ln for ln in errlog.read().splitlines() if ln.strip()]
            why = str(exc) or type(exc).__name__
            if lines:
                why += f"; the kernel said: {lines[-1].strip()}"
            return {"ok": False, "error": why, "seconds": round(time.monotonic() - t0, 3)}
        finally:
            if kc is not None:
                kc.stop_channels()
            try:
                if km.has_kernel:  # asked to stop: a container kernel's container ends with it
                    km.shutdown_kernel(now=False)
            except Exception:
                pass


def _pip_is_the_venvs(answer: dict[str, Any]) -> bool:
    prefix = os.path.realpath(answer["prefix"])
    pip = answer.get("pip")
    said = answer.get("pip_says") or ""
    if not pip or not os.path.realpath(pip).startswith(prefix + os.sep):
        return False
    # "pip 24.0 from /venv/lib/python3.11/site-packages/pip (python 3.11)": the pip that really ran
    where = said.split(" from ", 1)[1].rsplit(" (python", 1)[0] if " from " in said else ""
    return bool(where) and os.path.realpath(where).startswith(prefix + os.sep)


def check(
    row: KernelRow, dup_names: dict[str, list[str]], moved_to: Path | None, timeout: float, backend: installer.Backend | None
) -> dict[str, Any]:
    """Every check of one kernel; never raises."""
    problems: list[dict[str, Any]] = []
    argv0 = row.python
    venv = row.venv_of_python or (Path(row.venv) if row.venv else None)
    out: dict[str, Any] = {
        k: v
        for k, v in row.to_json().items()
        if k in ("name", "display_name", "resource_dir", "python", "project", "venv", "owned", "encryption")
    }
    out.update({"static_status": row.status.value, "start": None, "conflicts": [], "base_interpreter": None})
    reasons = row.reasons
    if moved_to is not None:
        problems.append(_problem(Reason.PROJECT_MOVED, {"moved_to": moved_to, "project": row.project}, _repair_fix(moved_to)))
    stop = _spec_problem(row, argv0)
    if stop is not None:
        problems.append(stop)
        return _finish(out, problems)
    problems += _vscode_problems(row)
    if row.container is not None:
        boxed = containers.problems(row.spec)
        for b in boxed:
            problems.append(_problem(Reason(b["code"]), {"text": b["message"]}, _fix(b["fix"])))
        if boxed:
            return _finish(out, problems)
    private = _private_problem(row, argv0)
    if private is not None:
        problems.append(private)
    problems += _venv_problems(row, venv, moved_to, out)
    if Reason.INTERPRETER_MISSING in reasons:
        if not any(p["code"] == Reason.BASE_INTERPRETER_MISSING.value for p in problems):
            problems.append(_problem(Reason.INTERPRETER_MISSING, row.problems[0].facts, _rebuild_fix(row, moved_to)))
        return _finish(out, problems)
    for reason in (Reason.VENV_BROKEN, Reason.VENV_INCOMPLETE):
        if reason in reasons:
            facts = next(p.facts for p in row.problems if p.reason == reason)
            problems.append(
                _problem(reason, facts, _rebuild_fix(row, moved_to) if reason == Reason.VENV_BROKEN else _create_fix(row))
            )
            return _finish(out, problems)
    if Reason.IPYKERNEL_MISSING in reasons:
        problems.append(_problem(Reason.IPYKERNEL_MISSING, {"venv": venv}, _ipykernel_fix(row, argv0)))
    elif row.is_python or (row.language or "python").lower() == "python":
        problems += _started_problems(row, argv0, timeout, out)
    if venv is not None and argv0 and os.path.exists(argv0) and backend is not None:
        problems += _conflicts(row, Path(argv0), backend, out)
    duplicate = _display_name_problem(row, venv, argv0, dup_names)
    if duplicate is not None:
        problems.append(duplicate)
    return _finish(out, problems)


def _ipykernel_fix(row: KernelRow, argv0: str | None) -> tuple[str, dict[str, Any] | None]:
    """Sync where the project has a lock (it stays true), create for a project of kernelenv's, else pip."""
    if row.owned and row.project and lockfile.path_in(Path(row.project)).exists():
        return _fix(f"kernelenv sync {q(row.project)}", ["sync", row.project], "Sync with the lock")
    if row.owned and row.project:
        return _create_fix(row)
    return _fix(installer.install_command(Path(argv0 or "python"), ["ipykernel"]))


def _conflicts(row: KernelRow, python: Path, backend: installer.Backend, out: dict[str, Any]) -> list[dict[str, Any]]:
    """`pip check` of the kernel's interpreter (its findings go in ``out``); the conflict problem if any."""
    found, err = backend.check(python)
    out["conflicts"] = [c.to_json() for c in found]
    if err and not found:
        out["conflicts_error"] = err
    return [_conflict_problem(row, python, found)] if found else []


def _spec_problem(row: KernelRow, argv0: str | None) -> dict[str, Any] | None:
    """The one problem that makes every other check of this spec moot (left aside, shadowed, invalid), or None."""
    reasons = row.reasons
    if Reason.LEFT_ASIDE in reasons:
        return _problem(Reason.LEFT_ASIDE, row.problems[0].facts, _fix("kernelenv prune", ["prune"], "Put it back"))
    if Reason.SHADOWED in reasons:
        facts = next(p.facts for p in row.problems if p.reason == Reason.SHADOWED)
        if row.owned and row.project:  # ours is correct and hidden: give it a free name, delete nothing
            new = f"{row.name}-{slug(Path(row.project).name)[:16]}"
            argv = ["create", row.project, "--name", new] + (
                ["--venv", row.venv] if row.venv and Path(row.venv) != Path(row.project) / ".venv" else []
            )
            fix = _fix("kernelenv " + " ".join(q(a) for a in argv), argv, "Rename the kernel")
        else:
            fix = _fix(f"rm -r {q(row.resource_dir)}  (a copy Jupyter never starts: remove it only if nothing needs it)")
        return _problem(Reason.SHADOWED, facts, fix)
    if Reason.INVALID_SPEC in reasons:
        return _problem(Reason.INVALID_SPEC, row.problems[0].facts, _respec_fix(row, argv0) if row.owned else _remove_fix(row))
    return None


def _venv_problems(row: KernelRow, venv: Path | None, moved_to: Path | None, out: dict[str, Any]) -> list[dict[str, Any]]:
    """What the venv's own files say: its base interpreter is gone, its scripts run another venv's python."""
    problems: list[dict[str, Any]] = []
    if venv is not None and venvmod.is_venv(venv):
        base, exists = venvmod.base_interpreter(venv)
        out["base_interpreter"] = base
        if not exists:
            problems.append(_problem(Reason.BASE_INTERPRETER_MISSING, {"venv": venv, "base": base}, _rebuild_fix(row, moved_to)))
        elsewhere = venvmod.scripts_elsewhere(venv)
        if elsewhere:
            p = health.scripts_problem(venv, elsewhere)
            fix = (
                _create_fix(row)
                if row.owned and row.project
                else _fix(
                    f"make the venv again where it is (python -m venv --clear {q(venv)}, "
                    "then reinstall), or register the venv it was copied from"
                )
            )
            problems.append(_problem(p.reason, p.facts, fix))
    return problems


def _started_problems(row: KernelRow, argv0: str | None, timeout: float, out: dict[str, Any]) -> list[dict[str, Any]]:
    """Start the kernel for real: it must start, run its own interpreter, and reach its own venv's pip."""
    problems: list[dict[str, Any]] = []
    res = start_probe(row.name, row.resource_dir, timeout)
    out["start"] = res
    if not res["ok"]:
        problems.append(_problem(Reason.START_FAILED, {"error": res["error"]}, _respec_fix(row, argv0)))
    elif argv0:
        kernel_python = row.kernel_python or argv0
        wanted = kernel_python if os.path.isabs(kernel_python) else (shutil.which(kernel_python) or kernel_python)
        if os.path.normpath(res["executable"]) != os.path.normpath(wanted):
            bare = f" (argv[0] is a bare {argv0!r}: Jupyter runs its own interpreter instead)" if not os.path.isabs(argv0) else ""
            problems.append(
                _problem(
                    Reason.WRONG_INTERPRETER,
                    {"running": res["executable"], "wanted": wanted, "bare": bare},
                    _respec_fix(row, wanted),
                )
            )
        if res["prefix"] != res["base_prefix"] and not _pip_is_the_venvs(res):
            where = res.get("pip_says") or res.get("pip") or "nowhere (no pip on the kernel's PATH)"
            problems.append(_problem(Reason.PIP_OUTSIDE_VENV, {"pip": where}, _respec_fix(row, argv0)))
    return problems


def _display_name_problem(
    row: KernelRow, venv: Path | None, argv0: str | None, dup_names: dict[str, list[str]]
) -> dict[str, Any] | None:
    """Another kernel shows the same name in Jupyter's launcher, or None."""
    others = [n for n in dup_names.get(row.display_name, []) if n != row.name]
    if others:
        new = f"{row.display_name} ({row.name})"
        if row.owned and row.project:
            fix = _create_fix(row, None, "--display-name", new)
        else:
            fix = _fix(f"kernelenv register {q(row.venv or venv or argv0)} --name {q(row.name)} --display-name {q(new)} --force")
        return _problem(Reason.DUPLICATE_DISPLAY_NAME, {"display_name": row.display_name, "others": ", ".join(others)}, fix)
    return None


def _private_problem(row: KernelRow, argv0: str | None) -> dict[str, Any] | None:
    """PYTHON_PRIVATE: others list this kernel (a shared folder) but cannot run it; None when they can or nobody else lists it."""
    from jupyter_core.paths import jupyter_data_dir

    if not argv0 or not os.path.isabs(argv0) or row.container is not None or not os.path.exists(argv0):
        return None
    if kernels.same_path(row.kernels_dir, Path(jupyter_data_dir()) / "kernels"):
        return None  # the user's own folder: on nobody else's Jupyter path
    found = sharing.unreachable(row.resource_dir / "kernel.json", Path(argv0))
    if found is None:
        return None
    who, block = found
    venv = row.venv_of_python
    group = sharing.recorded(venvmod.read_mark(venv)) if venv else None
    if group is None and who.gid is not None:
        group = sharing.group_name(who.gid)
    version = None
    if venv is not None:
        short = venvmod.cfg_version(venv)
        version = tuple(int(x) for x in short.split(".")) if short else None
    candidates = [
        (f.path, f.info.version)
        for f in pythons.discover(Context.default_cache_dir())
        if f.info is not None and f.info.supported and f.can_venv
    ]
    ok = sharing.runnable_pythons(who, candidates, version)
    python = ok[0] if ok else "/usr/bin/python3"
    scope = _scope_flags(row.kernels_dir)
    facts = {"who": who.label, "block": block.describe(who), "path": str(block.path)}
    if row.owned and row.project and scope is not None:
        argv = ["create", row.project, "--name", row.name]
        if row.venv and Path(row.venv) != Path(row.project) / ".venv":
            argv += ["--venv", row.venv]
        argv += [*scope, *(["--group", group] if group else []), "--python", python]
        fix = _fix("kernelenv " + " ".join(q(a) for a in argv), argv, "Rebuild from a Python they can run")
    else:
        target = f"the venv {venv}" if venv else f"the interpreter {argv0}"
        fix = _fix(
            f"make {target} again from a Python {who.label} can run (for example {python}), outside private "
            "home folders, and register it again"
        )
    return _problem(Reason.PYTHON_PRIVATE, facts, fix)


def _scope_flags(kernels_dir: Path) -> list[str] | None:
    """The create flags that write a spec into ``kernels_dir`` (None: no flag does)."""
    import sys

    if kernels.same_path(kernels_dir, Path(sys.prefix) / "share" / "jupyter" / "kernels"):
        return ["--sys-prefix"]
    if kernels_dir.parts[-3:] == ("share", "jupyter", "kernels"):
        return ["--prefix", str(kernels_dir.parent.parent.parent)]
    return None


def _vscode_problems(row: KernelRow) -> list[dict[str, Any]]:
    """What VS Code's Jupyter extension would do wrong with this spec (renamed, hidden): see kernelenv/vscode.py.

    A spec in a folder VS Code does not search is a note of the run (Jupyter still finds it), not a problem.
    """
    found = vscode.findings(str(row.resource_dir), row.spec.data or {}, exists=os.path.exists, searched=None)
    out = []
    for f in found:
        if f.code == Reason.VSCODE_RENAMED.value and row.owned and row.project:
            fix = _create_fix(row)  # writes the spec again, in the form VS Code names by its folder
        elif f.code == Reason.VSCODE_RENAMED.value:
            fix = _fix(
                f"edit {q(row.resource_dir / 'kernel.json')}: keep argv to [python, -m, ipykernel_launcher, -f, "
                "{connection_file}] and remove any 'name' key (or call the display name 'Python 3...')"
            )
        else:
            fix = _respec_fix(row, row.python)
        out.append(_problem(Reason(f.code), {"text": f.message}, fix))
    return out


def _conflict_problem(row: KernelRow, python: Path, found: list[installer.Conflict]) -> dict[str, Any]:
    """The fix of unmet requirements: `kernelenv sync` where the project has a lock (it stays true), else one
    install command satisfying every unmet requirement (specifiers of one package merged)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name

    merged: dict[str, tuple[str, SpecifierSet]] = {}
    by_pkg: dict[str, list[str]] = {}
    for c in found:
        by_pkg.setdefault(c.package, []).append(f"{c.requirement} (have {c.installed or 'none'})")
        try:
            req = Requirement(c.requirement)
        except InvalidRequirement:
            continue
        key = canonicalize_name(req.name)
        name, spec = merged.get(key, (req.name, SpecifierSet()))
        merged[key] = (name, spec & req.specifier)
    text = "; ".join(f"{p} needs {', '.join(v)}" for p, v in by_pkg.items())
    if row.owned and row.project and lockfile.path_in(Path(row.project)).exists():
        return _problem(
            Reason.CONFLICT, {"text": text}, _fix(f"kernelenv sync {q(row.project)}", ["sync", row.project], "Sync with the lock")
        )
    fix = installer.install_command(python, [f"{n}{s}" for n, s in merged.values()])
    return _problem(Reason.CONFLICT, {"text": text}, _fix(fix))


def _guarded(
    row: KernelRow, dup: dict[str, list[str]], moved_to: Path | None, timeout: float, backend: installer.Backend | None
) -> dict[str, Any]:
    """check(), with whatever a hostile spec makes it raise reported as that kernel's problem."""
    try:
        return check(row, dup, moved_to, timeout, backend)
    except Exception as exc:  # one odd kernel must not hide the others' results
        out = {
            k: v
            for k, v in row.to_json().items()
            if k in ("name", "display_name", "resource_dir", "python", "project", "venv", "owned", "encryption")
        }
        out.update({"static_status": row.status.value, "start": None, "conflicts": [], "base_interpreter": None})
        return _finish(out, [_problem(Reason.CHECK_FAILED, {"error": f"{type(exc).__name__}: {exc}"}, _remove_fix(row))])


def _finish(out: dict[str, Any], problems: list[dict[str, Any]]) -> dict[str, Any]:
    out["problems"] = problems
    out["status"] = "ok" if not problems else "problems"
    return out


def _notes(ctx: Context, chosen: list[KernelRow], results: list[dict[str, Any]]) -> list[str]:
    """What holds for the run rather than one kernel: specs Jupyter or VS Code will not look for."""
    notes = []
    if not ctx.on_jupyter_path and any(Path(r["resource_dir"]).parent == ctx.kernels_dir for r in results):
        notes.append(Problem(Reason.NOT_ON_JUPYTER_PATH, {"kernels_dir": ctx.kernels_dir}).message)
    searched = vscode.searched_dirs(str(Path.home()), os.environ.get("JUPYTER_PATH"))
    unsearched = sorted({str(r.kernels_dir) for r in chosen if str(r.kernels_dir) not in searched})
    if unsearched:
        notes.append(
            Problem(
                Reason.VSCODE_NOT_SEARCHED,
                {
                    "text": f"VS Code's Jupyter extension does not look in {', '.join(unsearched)} "
                    f"(it searches {', '.join(searched)}): its kernels show there only "
                    "through the Python extension, under another name"
                },
            ).message
        )
    return notes


def run(
    ctx: Context,
    target: str | None = None,
    *,
    all_: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int = DEFAULT_JOBS,
    kernel: str | None = None,
    project: str | None = None,
) -> Result:
    t0 = time.monotonic()
    all_rows = kernels.rows(ctx)
    chosen, moved_to = select(ctx, all_rows, target, all_, kernel, project)
    dup: dict[str, list[str]] = {}
    for r in all_rows:
        if r.status not in (Reason.SHADOWED, Reason.LEFT_ASIDE):
            dup.setdefault(r.display_name, []).append(r.name)
    try:
        backend: installer.Backend | None = installer.choose("auto")
    except OperationError:
        backend = None
    jobs = max(1, int(jobs))
    ctx.progress("doctor", f"checking {len(chosen)} kernel(s), {jobs} at a time", None, None)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(
            pool.map(lambda r: _guarded(r, dup, moved_to if r.status != Reason.SHADOWED else None, timeout, backend), chosen)
        )
    notes = _notes(ctx, chosen, results)
    orphans: list[dict[str, Any]] = []
    if all_ or any(r.container is not None for r in chosen):  # containers a killed launcher left running
        orphans = [
            {**o, **_problem(Reason.ORPHAN_CONTAINER, o, _fix("kernelenv prune", ["prune"], "Remove them"))}
            for o in containers.find_orphans()
        ]
    count = sum(len(r["problems"]) for r in results) + len(orphans)
    return Result(
        "doctor",
        {
            "kernels": results,
            "problems": count,
            "fixes": [p["fix"] for r in results for p in r["problems"]] + [o["fix"] for o in orphans[:1]],
            "orphans": orphans,
            "jobs": jobs,
            "notes": notes,
            "durations": {"total": round(time.monotonic() - t0, 3)},
        },
        ok=count == 0,
        messages=[f"note: {n}" for n in notes],
    )
