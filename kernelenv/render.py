"""The only module that prints: human text, or the JSON envelope on stdout.

In JSON mode stdout carries exactly one envelope; progress goes to stderr as one JSON
object per line (``{"progress": {...}}``) so an editor can show it.
"""
from __future__ import annotations

import json
import sys
from typing import Any, Callable, TextIO

from .result import Result


class Renderer:
    def __init__(self, json_mode: bool, out: TextIO | None = None, err: TextIO | None = None):
        self.json_mode = json_mode
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._last_len = 0

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
    names = d["installed"]
    inst = (f"{len(names)} packages: " if len(names) > 1 else "") + ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    inst = inst if names else "nothing (all present)"
    return (
        f"venv      {d['venv']} ({venv_line}, Python {d['python']['version']})\n"
        f"installed {inst}\n"
        f"kernel    {k['name']} ({d['kernelspec']}) -> {k['resource_dir']}\n"
        f"\n"
        f"Pick it in JupyterLab: Launcher > \"{k['display_name']}\", or Kernel > Change Kernel.\n"
        f"Pick it in VS Code: open a notebook > Select Kernel > Jupyter Kernel > \"{k['display_name']}\"\n"
        f"  (or Python Environments > {d['venv']}). If it is not listed yet, reload the window."
    )


def _register(d: dict[str, Any]) -> str:
    if not d:
        return ""
    k = d["kernel"]
    return f"kernel {k['name']} ({d['kernelspec']}) -> {k['resource_dir']}\n  python {k['python']}\n  shows as \"{k['display_name']}\""


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
    lines.append(f"({c.get('probed', 0)} probed, {c.get('cached', 0)} from the cache; oldest supported: {d.get('oldest_supported')})")
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


def _verify(d: dict[str, Any]) -> str:
    if not d:
        return ""
    k = d["kernel"]
    lines = [f"kernel {k['name']} ({k['python']})"]
    for nb in d["notebooks"]:
        status = {"passed": "passed", "failed": "FAILED", "skipped": "skipped"}[nb["status"]]
        took = f"{nb['duration']:6.1f} s" if nb["status"] != "skipped" else "       "
        lines.append(f"  {status:<7}  {took}  {nb['name']}")
        e = nb.get("error")
        if e:
            where = f"cell {e['cell']}, line {e['line']}" if e.get("cell") and e.get("line") else (f"cell {e['cell']}" if e.get("cell") else "")
            if where:
                lines.append(f"           {where}: {e.get('source') or ''}".rstrip())
            lines.append(f"           {e['ename']}: {e['evalue']}".rstrip())
            if e.get("fix"):
                lines.append(f"           fix: {e['fix']}")
    lines.append(f"{d['passed']} passed, {d['failed']} failed, {d['skipped']} skipped in {d['duration']:.1f} s; executed notebooks in {d['output_dir']}")
    return "\n".join(lines)


def _notebooks(d: dict[str, Any]) -> str:
    if not d:
        return ""
    lines = [f"{nb['state']:<9} {nb['path']}" for nb in d["notebooks"]]
    lines.append(f"they open on kernel \"{d['kernel']['display_name']}\" ({d['kernel']['name']})")
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
        missing = [l for l in d.get("launchers", []) if not l.get("present")]
        if missing:
            lines.append(f"copy EG's launchers from its source distribution (pip download --no-deps --no-binary :all: "
                         f"jupyter_enterprise_gateway=={d['eg_version']}):")
            lines += [f"  {l['source']} -> {l['path']}" for l in missing]
        lines.append(f"then put {d['folder']} on the gateway's JUPYTER_PATH")
    return "\n".join(lines)


def _container(d: dict[str, Any]) -> str:
    if not d:
        return ""
    k, img = d["kernel"], d["image"]
    return (
        f"image     {img['name']} ({img['state']}, Python {img['python']['version']}, {d['engine']['name']})\n"
        f"kernel    {k['name']} ({d['kernelspec']}) -> {k['resource_dir']}\n"
        f"  shows as \"{k['display_name']}\"; each start runs a container labelled kernelenv.kernel={k['name']}"
    )


HUMAN: dict[str, Callable[[dict[str, Any]], str]] = {
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
    "container": _container,
}
