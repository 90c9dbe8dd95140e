"""doctor: check kernels for real, and say the exact command that fixes each problem.

Per kernel: the static health ``list`` computes (invalid spec, interpreter missing,
ipykernel missing, shadowed); the venv's base interpreter from pyvenv.cfg; a real
start with jupyter_client within ``timeout`` that must report ``sys.executable ==
argv[0]`` and a ``pip`` inside the venv; ``pip check`` conflicts by package; display
names used twice. Kernels are checked in a thread pool of ``jobs`` workers. The
Result's ``ok`` is False (exit 1) when any problem was found.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import installer as inst
from .. import lockfile, proc
from .. import venv as venvmod
from ..context import Context
from ..result import OperationError, Result
from . import list as list_cmd

DEFAULT_JOBS = 4
DEFAULT_TIMEOUT = 60.0

_PROBE = (
    "import json, os, shutil, sys; print('KERNELENV-DOCTOR ' + json.dumps({'executable': sys.executable,"
    " 'prefix': sys.prefix, 'base_prefix': sys.base_prefix, 'pip': shutil.which('pip')}))"
)
_PIP_HAS = re.compile(r"^(?P<pkg>\S+) (?P<ver>\S+) has requirement (?P<req>.+), but you have (?P<dep>\S+) (?P<have>\S+)\.$")
_PIP_MISSING = re.compile(r"^(?P<pkg>\S+) (?P<ver>\S+) requires (?P<req>.+), which is not installed\.$")
_UV_HAS = re.compile(r"^The package `(?P<pkg>[^`]+)` requires `(?P<req>[^`]+)`, but `(?P<have>[^`]+)` is installed")
_UV_MISSING = re.compile(r"^The package `(?P<pkg>[^`]+)` requires `(?P<req>[^`]+)`, but it's not installed")


def q(text: object) -> str:
    return shlex.quote(str(text))


# selection --------------------------------------------------------------------
def select(ctx: Context, rows: list[dict], target: str | None, all_: bool) -> tuple[list[dict], Path | None]:
    """The rows to check and, for a project folder that was moved here, that folder."""
    if all_:
        return rows, None
    if target is not None:
        by_name = [r for r in rows if r["name"].lower() == target.lower()]
        if by_name:
            return by_name, None
    project = Path(os.path.abspath(os.path.expanduser(target))) if target else ctx.project
    venv = ctx.venv if target is None else project / ".venv"
    owners = {str(project), str(venv)}
    mark = venvmod.read_mark(venv) or {}
    moved_to = None
    if mark.get("project") and mark["project"] != str(project):  # the venv was made for a folder elsewhere
        owners |= {mark["project"], str(mark.get("venv"))}
        moved_to = project
    chosen = [r for r in rows if r["project"] in owners or r["venv"] in owners]
    if not chosen:
        raise OperationError(
            "KERNEL_NOT_FOUND",
            f"no kernel named {target!r} and none for the project {project}" if target else f"no kernel for the project {project}",
            hint=f"make one with `kernelenv create {q(project)}`, or check every kernel with `kernelenv doctor --all`",
            name=target,
            project=project,
        )
    return chosen, moved_to


# fixes ------------------------------------------------------------------------
def _create_fix(row: dict, where: Path | None = None) -> str:
    project = where or Path(row["project"])
    cmd = f"kernelenv create {q(project)} --name {q(row['name'])}"
    if row["venv"] and where is None and Path(row["venv"]) != project / ".venv":
        cmd += f" --venv {q(row['venv'])}"
    return cmd


def _rebuild_fix(row: dict, moved_to: Path | None) -> str:
    """For a kernel whose venv or interpreter is gone."""
    if row["owned"] and row["project"]:
        if moved_to is not None:
            return f"kernelenv repair {q(moved_to)}"
        project = Path(row["project"])
        if not project.is_dir():
            return f"kernelenv repair NEW_FOLDER  (the folder {project} was moved to), or drop the kernel: kernelenv remove {q(row['name'])}"
        if lockfile.path_in(project).exists() or (row["venv"] and venvmod.is_venv(Path(row["venv"]))):
            return f"kernelenv repair {q(project)}"
        return _create_fix(row)
    if row["owned"]:
        return f"kernelenv remove {q(row['name'])}"
    return f"kernelenv remove {q(row['name'])} --force  (or: kernelenv prune --include-foreign)"


def _respec_fix(row: dict, python: str | None) -> str:
    """For a spec that starts the wrong thing: write it again."""
    if row["owned"] and row["project"]:
        return _create_fix(row)
    target = row["venv"] or _venv_of(python) or python or "ENV"
    return f"kernelenv register {q(target)} --name {q(row['name'])} --force"


def _problem(code: str, message: str, fix: str) -> dict:
    return {"code": code, "message": message, "fix": fix}


# checks -----------------------------------------------------------------------
def _venv_of(argv0: str | None) -> Path | None:
    if not argv0 or not os.path.isabs(argv0):
        return None
    prefix = Path(argv0).parent.parent
    return prefix if venvmod.is_venv(prefix) else None


def base_interpreter(venv: Path) -> tuple[str | None, bool]:
    """(the base interpreter pyvenv.cfg names, whether it exists)."""
    cfg = venvmod.read_cfg(venv)
    for key in ("base-executable", "executable"):
        if cfg.get(key):
            return cfg[key], os.path.exists(cfg[key])
    home = cfg.get("home")
    if not home:
        return None, True
    version = cfg.get("version_info") or cfg.get("version") or ""
    short = ".".join(version.split(".")[:2])
    for name in (f"python{short}" if short else None, "python3", "python"):
        if name and os.path.exists(os.path.join(home, name)):
            return os.path.join(home, name), True
    return home, False


def start_probe(name: str, resource_dir: Path, timeout: float) -> dict:
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
                if km.has_kernel:
                    km.shutdown_kernel(now=True)
            except Exception:
                pass


def conflicts(python: Path, uv: str | None) -> tuple[list[dict], str | None]:
    """``pip check``: [{package, requirement, installed}] and an error when the check could not run."""
    argv = [uv, "pip", "check", "--python", str(python)] if uv else [str(python), "-m", "pip", "check", "--disable-pip-version-check"]
    try:
        done = proc.run(argv, timeout=120)
    except proc.ProcError as exc:
        return [], exc.reason
    found = []
    for line in (done.stdout + "\n" + done.stderr).splitlines():
        line = line.strip()
        m = _PIP_HAS.match(line) or _UV_HAS.match(line)
        if m:
            found.append({"package": m["pkg"], "requirement": m["req"], "installed": m["have"]})
            continue
        m = _PIP_MISSING.match(line) or _UV_MISSING.match(line)
        if m:
            found.append({"package": m["pkg"], "requirement": m["req"], "installed": None})
    if not done.ok and not found:
        return [], done.last_error_line()
    return found, None


def _conflict_fix(python: Path, found: list[dict], uv: str | None) -> str:
    """One install command satisfying every unmet requirement (specifiers of one package merged)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name

    merged: dict[str, tuple[str, SpecifierSet]] = {}
    for c in found:
        try:
            req = Requirement(c["requirement"])
        except InvalidRequirement:
            continue
        key = canonicalize_name(req.name)
        name, spec = merged.get(key, (req.name, SpecifierSet()))
        merged[key] = (name, spec & req.specifier)
    args = " ".join(q(f"{n}{s}") for n, s in merged.values())
    if (python.parent / "pip").exists():
        return f"{q(python)} -m pip install {args}"
    return f"{q(uv or 'uv')} pip install --python {q(python)} {args}"


def check(row: dict, dup_names: dict[str, list[str]], moved_to: Path | None, timeout: float, uv: str | None) -> dict:
    """Every check of one kernel; never raises."""
    problems: list[dict] = []
    argv0 = row["python"]
    venv = _venv_of(argv0) or (Path(row["venv"]) if row["venv"] else None)
    out = {k: row[k] for k in ("name", "display_name", "resource_dir", "python", "project", "venv", "owned", "encryption")}
    out.update({"static_status": row["status"], "start": None, "conflicts": [], "base_interpreter": None})
    status = row["status"]
    if moved_to is not None:
        problems.append(_problem("project-moved", f"the project was moved to {moved_to}; the kernel still points at {row['project']}",
                                 f"kernelenv repair {q(moved_to)}"))
    if status == "shadowed":
        problems.append(_problem("shadowed", "; ".join(row["problems"]) + " (this copy is never used)", f"rm -r {q(row['resource_dir'])}"))
        return _finish(out, problems)
    if status == "invalid-spec":
        problems.append(_problem("invalid-spec", "; ".join(row["problems"]), _respec_fix(row, argv0) if row["owned"] else f"kernelenv remove {q(row['name'])} --force"))
        return _finish(out, problems)
    if venv is not None and venvmod.is_venv(venv):
        base, exists = base_interpreter(venv)
        out["base_interpreter"] = base
        if not exists:
            problems.append(_problem("base-interpreter-missing",
                                     f"the venv {venv} was made from {base}, which no longer exists (uninstalled or upgraded?)",
                                     _rebuild_fix(row, moved_to)))
    if status == "interpreter-missing":
        if not any(p["code"] in ("base-interpreter-missing",) for p in problems):
            problems.append(_problem("interpreter-missing", "; ".join(row["problems"]), _rebuild_fix(row, moved_to)))
        return _finish(out, problems)
    if status == "venv-broken":  # kernelenv's venv lost its pyvenv.cfg: create rebuilds it in place
        problems.append(_problem("venv-broken", "; ".join(row["problems"]), _rebuild_fix(row, moved_to)))
        return _finish(out, problems)
    if status == "ipykernel-missing":
        if row["owned"] and row["project"] and lockfile.path_in(Path(row["project"])).exists():
            fix = f"kernelenv sync {q(row['project'])}"
        elif row["owned"] and row["project"]:
            fix = _create_fix(row)
        else:
            fix = f"{q(argv0)} -m pip install ipykernel"
        problems.append(_problem("ipykernel-missing", "; ".join(row["problems"]), fix))
    elif (row.get("language") or "python").lower() == "python":
        res = start_probe(row["name"], Path(row["resource_dir"]), timeout)
        out["start"] = res
        if not res["ok"]:
            problems.append(_problem("start-failed", f"the kernel did not start and answer: {res['error']}", _respec_fix(row, argv0)))
        else:
            wanted = argv0 if os.path.isabs(argv0) else (shutil.which(argv0) or argv0)
            if os.path.normpath(res["executable"]) != os.path.normpath(wanted):
                why = f"the kernel runs {res['executable']}, not {wanted}"
                if not os.path.isabs(argv0):
                    why += f" (argv[0] is a bare {argv0!r}: Jupyter runs its own interpreter instead)"
                problems.append(_problem("wrong-interpreter", why, _respec_fix(row, wanted)))
            if res["prefix"] != res["base_prefix"]:
                pip = res.get("pip")
                inside = pip and os.path.realpath(pip).startswith(os.path.realpath(res["prefix"]) + os.sep)
                if not inside:
                    where = pip or "nowhere (no pip on the kernel's PATH)"
                    problems.append(_problem("pip-outside-venv", f"!pip in this kernel runs {where}, not the venv's", _respec_fix(row, argv0)))
    if venv is not None and argv0 and os.path.exists(argv0) and status != "invalid-spec":
        found, err = conflicts(Path(argv0), uv)
        out["conflicts"] = found
        if found:
            by_pkg: dict[str, list[str]] = {}
            for c in found:
                by_pkg.setdefault(c["package"], []).append(f"{c['requirement']} (have {c['installed'] or 'none'})")
            text = "; ".join(f"{p} needs {', '.join(v)}" for p, v in by_pkg.items())
            problems.append(_problem("conflict", f"pip check: {text}", _conflict_fix(Path(argv0), found, uv)))
        elif err:
            out["conflicts_error"] = err
    others = [n for n in dup_names.get(row["display_name"], []) if n != row["name"]]
    if others:
        new = f"{row['display_name']} ({row['name']})"
        fix = (f"{_create_fix(row)} --display-name {q(new)}" if row["owned"] and row["project"]
               else f"kernelenv register {q(row['venv'] or argv0)} --name {q(row['name'])} --display-name {q(new)} --force")
        problems.append(_problem("duplicate-display-name", f"the display name {row['display_name']!r} is also used by {', '.join(others)}", fix))
    return _finish(out, problems)


def _guarded(row: dict, dup: dict, moved_to: Path | None, timeout: float, uv: str | None) -> dict:
    """check(), with whatever a hostile spec makes it raise reported as that kernel's problem."""
    try:
        return check(row, dup, moved_to, timeout, uv)
    except Exception as exc:  # one odd kernel must not hide the others' results
        out = {k: row.get(k) for k in ("name", "display_name", "resource_dir", "python", "project", "venv", "owned", "encryption")}
        out.update({"static_status": row.get("status"), "start": None, "conflicts": [], "base_interpreter": None})
        fix = f"kernelenv remove {q(row['name'])} --force"
        return _finish(out, [_problem("check-failed", f"could not check this kernel: {type(exc).__name__}: {exc}", fix)])


def _finish(out: dict, problems: list[dict]) -> dict:
    out["problems"] = problems
    out["status"] = "ok" if not problems else "problems"
    return out


def run(ctx: Context, target: str | None = None, *, all_: bool = False, timeout: float = DEFAULT_TIMEOUT, jobs: int = DEFAULT_JOBS) -> Result:
    t0 = time.monotonic()
    rows = list_cmd.entries(ctx)
    chosen, moved_to = select(ctx, rows, target, all_)
    dup: dict[str, list[str]] = {}
    for r in rows:
        if r["status"] != "shadowed":
            dup.setdefault(r["display_name"], []).append(r["name"])
    uv = inst.uv_binary()
    jobs = max(1, int(jobs))
    ctx.progress("doctor", f"checking {len(chosen)} kernel(s), {jobs} at a time", None, None)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda r: _guarded(r, dup, moved_to if r["status"] != "shadowed" else None, timeout, uv), chosen))
    count = sum(len(r["problems"]) for r in results)
    return Result(
        "doctor",
        {
            "kernels": results,
            "problems": count,
            "fixes": [p["fix"] for r in results for p in r["problems"]],
            "jobs": jobs,
            "durations": {"total": round(time.monotonic() - t0, 3)},
        },
        ok=count == 0,
    )
