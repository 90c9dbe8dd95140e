"""The only module that prints: human text, or the JSON envelope on stdout.

In JSON mode stdout carries exactly one envelope; progress goes to stderr as one JSON
object per line (``{"progress": {...}}``) so an editor can show it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, TextIO

from .result import Result


class _JsonLines:
    """A stand-in for sys.stderr in JSON mode: whatever a library prints there (a warning, a log
    line, a traceback from an atexit hook) leaves as ``{"log": LINE}`` lines, so stderr stays one
    JSON object per line."""

    def __init__(self, real: TextIO):
        self.real = real
        self.buf = ""

    def write(self, text: str) -> int:
        self.buf += text
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            if line.strip():
                self.real.write(json.dumps({"log": line}, ensure_ascii=False) + "\n")
        return len(text)

    def flush(self) -> None:
        if self.buf.strip():
            self.real.write(json.dumps({"log": self.buf}, ensure_ascii=False) + "\n")
        self.buf = ""
        self.real.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.real.fileno()


class Renderer:
    def __init__(self, json_mode: bool, out: TextIO | None = None, err: TextIO | None = None):
        self.json_mode = json_mode
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._last_len = 0

    def guard_stderr(self) -> None:
        """In JSON mode, turn anything else written to sys.stderr into JSON lines (see _JsonLines)."""
        if self.json_mode and not isinstance(sys.stderr, _JsonLines):
            sys.stderr = _JsonLines(self.err)

    # progress -------------------------------------------------------------
    def progress(self, stage: str, message: str, current: int | None = None, total: int | None = None) -> None:
        if self.json_mode:
            event = {"progress": {"stage": stage, "message": message, "current": current, "total": total}}
            self.err.write(json.dumps(event, ensure_ascii=False) + "\n")
            self.err.flush()
            return
        step = f"[{current}/{total}] " if current and total else ""
        line = f"{step}{message}"
        if self.err.isatty():
            width = 100
            self.err.write("\r" + line[:width].ljust(max(self._last_len, 1)))
            self._last_len = min(len(line), width)
        else:
            self.err.write(line + "\n")
        self.err.flush()

    def _end_progress(self) -> None:
        if self._last_len and not self.json_mode:
            self.err.write("\r" + " " * self._last_len + "\r")
            self._last_len = 0

    # results --------------------------------------------------------------
    def result(self, result: Result) -> int:
        self._end_progress()
        if self.json_mode:
            self.out.write(json.dumps(result.envelope(), ensure_ascii=False, indent=1) + "\n")
        else:
            for err in result.errors:
                self.err.write(f"kernelenv: error [{err.code}]: {err.message}\n")
                if err.hint:
                    self.err.write(f"  hint: {err.hint}\n")
            if result.ok and not result.errors or result.data:
                text = HUMAN.get(result.command, _generic)(result.envelope()["data"])
                if text:
                    self.out.write(text.rstrip("\n") + "\n")
            for m in result.messages:
                self.err.write(m + "\n")
        self.out.flush()
        return result.exit_code


def _generic(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) if data else ""


def _create(d: dict[str, Any]) -> str:
    if not d:
        return ""
    k = d["kernel"]
    venv_line = "created" if d.get("venv_created") else "reused"
    if d.get("rebuilt"):
        venv_line = f"rebuilt: {d['rebuilt']}"
    names = d["installed"]
    inst = (f"{len(names)} packages: " if len(names) > 1 else "") + ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    inst = inst if names else "nothing (all present)"
    lines = [
        f"venv      {d['venv']} ({venv_line}, Python {d['python']['version']})",
        f"installed {inst}",
        f"kernel    {k['name']} ({d['kernelspec']}) -> {k['resource_dir']}",
    ]
    if d.get("group"):
        lines.append(f"shared    with group {d['group']}: its members read and run it, only its owner changes it")
    if d.get("not_carried"):
        lines.append(f"not carried over (installed from a path or URL: install them again): {', '.join(d['not_carried'])}")
    if len(d.get("repointed") or []) > 1:
        lines.append(f"re-pointed kernel(s) {', '.join(d['repointed'][1:])} at this venv")
    for line in d.get("recovered") or []:
        lines.append(f"recovered: {line}")
    lines.append("")
    if k.get("on_jupyter_path") is False:
        data_dir = Path(k["resource_dir"]).parent.parent
        lines.append(
            f"note: Jupyter does not search {data_dir / 'kernels'}: add {data_dir} to JUPYTER_PATH"
            " (or use --user) for Jupyter and VS Code to list it."
        )
    lines.append(f'Pick it in JupyterLab: Launcher > "{k["display_name"]}", or Kernel > Change Kernel.')
    lines.append(f'Pick it in VS Code: open a notebook > Select Kernel > Jupyter Kernel... > "{k["display_name"]}"')
    lines.append(
        "  (with the Python extension also under Python Environments, as its venv). If it is not listed yet, reload the window."
    )
    return "\n".join(lines)


def _register(d: dict[str, Any]) -> str:
    if not d:
        return ""
    k = d["kernel"]
    return (
        f'kernel {k["name"]} ({d["kernelspec"]}) -> {k["resource_dir"]}\n  python {k["python"]}\n  shows as "{k["display_name"]}"'
    )


def _list(d: dict[str, Any]) -> str:
    rows = d.get("kernels", [])
    if not rows:
        return "no kernels found in: " + ", ".join(d.get("search_path", []))
    head = ("NAME", "STATUS", "OWNER", "PYTHON", "DISPLAY NAME")
    table = [head]
    for k in rows:
        owner = ("kernelenv: " + (k["project"] or k["venv"] or "?")) if k["owned"] else "-"
        table.append((k["name"], k["status"], owner, k["python"] or "?", k["display_name"]))
    widths = [max(len(str(r[i])) for r in table) for i in range(len(head) - 1)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) + "  " + str(r[-1]) for r in table]
    for k in rows:
        for p in k.get("problems", []):
            lines.append(f"  {k['name']}: {p}")
    return "\n".join(lines)


def _remove(d: dict[str, Any]) -> str:
    if not d:
        return ""
    verb = "would remove" if d.get("dry_run") else "removed"
    lines = [f"{verb} kernelspec {d['kernelspec_removed']}"]
    if d.get("venv_removed"):
        lines.append(f"{verb} venv {d['venv_removed']}")
    elif d.get("venv_kept_reason"):
        lines.append(f"kept venv: {d['venv_kept_reason']}")
    return "\n".join(lines)


def _pythons(d: dict[str, Any]) -> str:
    rows = d.get("pythons", [])
    if not rows:
        return "no Python interpreters found"
    table = [("VERSION", "IMPL", "FOUND IN", "VENV", "PATH")]
    for p in rows:
        ok = "yes" if p["can_venv"] and p["supported"] else ("too old" if p["version"] else "broken")
        table.append((p["version"] or "?", p["implementation"] or "?", ", ".join(p["found_in"]), ok, p["path"]))
    widths = [max(len(str(r[i])) for r in table) for i in range(len(table[0]) - 1)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) + "  " + str(r[-1]) for r in table]
    c = d.get("cache", {})
    lines.append(
        f"({c.get('probed', 0)} probed, {c.get('cached', 0)} from the cache; oldest supported: {d.get('oldest_supported')})"
    )
    return "\n".join(lines)


def _init(d: dict[str, Any]) -> str:
    if not d:
        return ""
    verb = "created" if d.get("file_created") else ("updated" if d.get("changed") else "unchanged")
    lines = [f"{verb} {d['file']}" + (f" ({', '.join(d['changed'])})" if d.get("changed") else "")]
    py = d.get("python")
    if py:
        lines.append(f"  python {py['version']} -> {py['path']}")
    lines.append("next: kernelenv create")
    return "\n".join(lines)


def _cell_ref(e: dict[str, Any]) -> str:
    """``In [34] (cell 75)``: the prompt Jupyter shows, then the position in the file."""
    count, cell = e.get("execution_count"), e.get("cell")
    if count is not None and cell is not None:
        return f"In [{count}] (cell {cell})"
    return f"cell {cell}" if cell is not None else ""


def _first_line(text: Any) -> str:
    lines = [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]
    return lines[0] + (" ..." if len(lines) > 1 else "") if lines else ""


def notebook_error_lines(errors: list[dict[str, Any]], indent: str = "") -> list[str]:
    """Where and what each failing cell raised (the same error in several cells is shown once)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in errors:
        groups.setdefault((str(e.get("ename")), _first_line(e.get("evalue"))), []).append(e)
    lines: list[str] = []
    for (ename, evalue), same in groups.items():
        e = same[0]
        ref = _cell_ref(e)
        where = ref + (f", line {e['line']}" if ref and e.get("line") else "")
        if where:
            lines.append(f"{indent}{where}: {e.get('source') or ''}".rstrip())
        r = e.get("raised_in")
        if r:
            lines.append(f"{indent}  raised in {_cell_ref(r)}, line {r.get('line')}: {r.get('source') or ''}".rstrip())
        lines.append(f"{indent}{ename}: {evalue}".rstrip())
        if len(same) > 1:
            lines.append(f"{indent}  (the same error in {', '.join(_cell_ref(x) for x in same[1:])})")
        if e.get("fix"):
            lines.append(f"{indent}fix: {e['fix']}")
    return lines


def _verify(d: dict[str, Any]) -> str:
    if not d:
        return ""
    k = d["kernel"]
    lines = [f"kernel {k['name']} ({k['python']})"]
    pad = " " * 11
    for nb in d["notebooks"]:
        status = {"passed": "passed", "failed": "FAILED", "skipped": "skipped"}[nb["status"]]
        took = f"{nb['duration']:6.1f} s" if nb["status"] != "skipped" else "       "
        errors = nb.get("errors") or ([nb["error"]] if nb.get("error") else [])
        count = f"  ({len(errors)} failing cells)" if len(errors) > 1 else ""
        lines.append(f"  {status:<7}  {took}  {nb['name']}{count}")
        lines += notebook_error_lines(errors, pad)
        skip = nb.get("skip")
        if skip and skip.get("reason") != "not-selected":
            lines.append(f"{pad}{skip['message']}")
        if nb.get("fix") and not any(e.get("fix") == nb["fix"] for e in errors):
            lines.append(f"{pad}fix: {nb['fix']}")
    lines.append(
        f"{d['passed']} passed, {d['failed']} failed, {d['skipped']} skipped "
        f"in {d['duration']:.1f} s; executed notebooks in {d['output_dir']}"
    )
    adopt = d.get("adopt")
    if adopt:
        lines.append(f"{adopt['count']} notebook(s) name another kernel; to open them on {k['display_name']}: {adopt['fix']}")
    return "\n".join(lines)


def _notebooks(d: dict[str, Any]) -> str:
    if not d:
        return ""
    lines = [f"{nb['state']:<9} {nb['path']}" for nb in d["notebooks"]]
    lines.append(f'they open on kernel "{d["kernel"]["display_name"]}" ({d["kernel"]["name"]})')
    return "\n".join(lines)


def _adopt(d: dict[str, Any]) -> str:
    if not d:
        return ""
    lines = []
    for nb in d["notebooks"]:
        prev = nb.get("previous") or {}
        was = f"  (was {prev.get('name') or 'no kernel'})" if nb["state"] in ("adopted", "would-adopt") else ""
        lines.append(f"{nb['state']:<11} {nb['path']}{was}")
        if nb.get("error"):
            lines.append(f"            {nb['error']}")
    k = d["kernel"]
    verb = "would open" if d.get("dry_run") else "open"
    lines.append(
        f'{d["adopted"]} {verb} on kernel "{k["display_name"]}" ({k["name"]}), {d["unchanged"]} unchanged, {d["failed"]} failed'
    )
    return "\n".join(lines)


def _doctor(d: dict[str, Any]) -> str:
    if not d:
        return ""
    lines = []
    for k in d.get("kernels", []):
        start = k.get("start") or {}
        took = f" (started in {start['seconds']:.2f} s)" if start.get("ok") else ""
        mark = "ok  " if k["status"] == "ok" else "FAIL"
        enc = "" if k.get("encryption") == "on" else "  [transport encryption off: ipykernel < 7.3]"
        lines.append(f"{mark} {k['name']}  {k['python'] or '?'}{took}{enc}")
        for p in k["problems"]:
            lines.append(f"     {p['code']}: {p['message']}")
            lines.append(f"       fix: {p['fix']}")
    n = d.get("problems", 0)
    lines.append(f"{len(d.get('kernels', []))} kernel(s) checked, {n} problem(s)" + ("" if n else ": all healthy"))
    return "\n".join(lines)


def _prune(d: dict[str, Any]) -> str:
    if not d:
        return ""
    verb = "would remove" if d.get("dry_run") else "removed"
    lines = []
    for r in d.get("removed", []):
        lines.append(f"{verb} kernelspec {r['name']} ({r['resource_dir']}): {r['python']} is gone")
        if r.get("venv_removed"):
            lines.append(f"  {verb} venv {r['venv_removed']}")
        elif r.get("venv_kept_reason"):
            lines.append(f"  kept venv: {r['venv_kept_reason']}")
    for k in d.get("kept", []):
        lines.append(f"kept {k['name']} ({k['resource_dir']}): {k['reason']}")
    if not d.get("removed"):
        lines.insert(0, "nothing to prune: every kernelenv kernel's interpreter exists")
    return "\n".join(lines)


def _repair(d: dict[str, Any]) -> str:
    if not d:
        return ""
    k = d["kernel"]
    if d.get("dry_run"):
        return (
            f"would rebuild {d['venv']} from the {d['source']} ({d['venv_is']})\n"
            f"would re-point kernel {', '.join(d['repointed'])} -> {d['venv']}"
        )
    return (
        f"rebuilt {d['venv']} from the {d['source']} (Python {d['python']['version']})\n"
        f"kernel {', '.join(d['repointed'])} re-pointed -> {k['python']}\n"
        f"  notebooks that name {k['name']!r} keep working"
    )


def _lock(d: dict[str, Any]) -> str:
    if not d:
        return ""
    state = "written" if d.get("changed") else "unchanged"
    lines = [f"{d['lock']} {state}: Python {d['python']}, {len(d['packages'])} packages pinned with hashes ({d['installer']})"]
    if d.get("skipped"):
        lines.append(f"  not locked (installed from a path or URL): {', '.join(d['skipped'])}")
    return "\n".join(lines)


def _sync(d: dict[str, Any]) -> str:
    if not d:
        return ""
    if not d.get("installed") and not d.get("removed"):
        return f"{d['venv']} already matches {d['lock']}"
    lines = [f"{d['venv']} now matches {d['lock']}" + (" (venv created)" if d.get("venv_created") else "")]
    if d.get("installed"):
        lines.append(f"  installed {', '.join(d['installed'])}")
    if d.get("removed"):
        lines.append(f"  removed {', '.join(d['removed'])}")
    return "\n".join(lines)


def _export(d: dict[str, Any]) -> str:
    if not d:
        return ""
    lines = [f"{f['state']} {f['path']}" for f in d.get("files", [])]
    if d.get("format") == "dockerfile":
        lines.append(f"build it: docker build -t {d['kernel']} {d['project']}")
    elif d.get("format") == "devcontainer":
        lines.append("open the project in VS Code: Dev Containers: Reopen in Container")
    elif d.get("format") == "enterprise-gateway":
        lines.append(f"build the EG image: podman build -t {d['eg_image']} {d['folder']}")
        missing = [launcher for launcher in d.get("launchers", []) if not launcher.get("present")]
        if missing:
            lines.append(
                f"copy EG's launchers from its source distribution (pip download --no-deps --no-binary :all: "
                f"jupyter_enterprise_gateway=={d['eg_version']}):"
            )
            lines += [f"  {m['source']} -> {m['path']}" for m in missing]
        lines.append(f"then put {d['folder']} on the gateway's JUPYTER_PATH")
    return "\n".join(lines)


def _container(d: dict[str, Any]) -> str:
    if not d:
        return ""
    k, img = d["kernel"], d["image"]
    return (
        f"image     {img['name']} ({img['state']}, Python {img['python']['version']}, {d['engine']['name']})\n"
        f"kernel    {k['name']} ({d['kernelspec']}) -> {k['resource_dir']}\n"
        f'  shows as "{k["display_name"]}"; each start runs a container labelled kernelenv.kernel={k["name"]}'
    )


def _packages(d: dict[str, Any], verb: str) -> list[str]:
    """The lines add and drop share: the project file and the lock."""
    lines = []
    if d.get("recorded"):
        lines.append(f"recorded in {d['project_file']}: packages = {d['packages']}")
    elif d.get("project_file"):
        lines.append(f"{d['project_file']} unchanged")
    if d.get("lock"):
        lines.append(f"{d['lock']} {'updated' if d.get('lock_changed') else 'unchanged'}")
    return lines


def _add(d: dict[str, Any]) -> str:
    if not d:
        return ""
    added = [f"{p['name']} {p['version']}" for p in d.get("installed", [])]
    changed = [f"{c['name']} {c['before']} -> {c['after']}" for c in d.get("changed", [])]
    lines = [
        f"{d['venv']} (Python {d['python']}, {d['installer']}): "
        + (
            "; ".join(
                x
                for x in (
                    ", ".join(added) and "installed " + ", ".join(added),
                    ", ".join(changed) and "changed " + ", ".join(changed),
                )
                if x
            )
            or "nothing to install (all present)"
        )
    ]
    lines += _packages(d, "add")
    if not d.get("restart", {}).get("needed"):
        lines.append("a running kernel imports them without a restart")
    return "\n".join(lines)


def _drop(d: dict[str, Any]) -> str:
    if not d:
        return ""
    removed = [f"{p['name']} {p['version']}" for p in d.get("removed", [])]
    lines = [
        f"{d['venv']} (Python {d['python']}, {d['installer']}): "
        + (("uninstalled " + ", ".join(removed)) if removed else "nothing to uninstall")
    ]
    lines += _packages(d, "drop")
    return "\n".join(lines)


HUMAN: dict[str, Callable[[dict[str, Any]], str]] = {
    "add": _add,
    "drop": _drop,
    "verify": _verify,
    "notebooks": _notebooks,
    "pythons": _pythons,
    "init": _init,
    "create": _create,
    "register": _register,
    "list": _list,
    "remove": _remove,
    "doctor": _doctor,
    "prune": _prune,
    "repair": _repair,
    "lock": _lock,
    "sync": _sync,
    "export": _export,
    "adopt": _adopt,
    "container": _container,
}
