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
    inst = ", ".join(d["installed"]) if d["installed"] else "nothing (all present)"
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


HUMAN: dict[str, Callable[[dict[str, Any]], str]] = {
    "pythons": _pythons,
    "init": _init,
    "create": _create,
    "register": _register,
    "list": _list,
    "remove": _remove,
}
