"""The package's layering rules, checked on its source (README "Architecture").

- no import cycles between kernelenv's modules (function-level imports included);
- a verb in kernelenv/commands never imports another verb;
- only proc.py starts processes, only render.py prints;
- only installer.py builds an installer command line (uv or pip with install/sync/compile/...).
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "kernelenv"
INSTALLER_WORDS = {"install", "sync", "compile", "check", "uninstall", "freeze", "ensurepip"}


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG.parent).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        out[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return out


def _imports(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    pkg = name if name in ("kernelenv", "kernelenv.commands") else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                cand = f"{mod}.{alias.name}"
                found.add(cand if cand in known else mod)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {n: _imports(n, t, known) for n, t in mods.items()}


def test_no_import_cycles():
    graph = _graph()
    # ignore the package roots: importing kernelenv.x imports kernelenv first by definition
    graph = {n: {m for m in deps if m not in ("kernelenv", "kernelenv.commands")} for n, deps in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                cycles.append(stack[stack.index(m) :] + [m] if m in stack else [n, m])
            elif m not in state:
                visit(m, stack + [m])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])
    assert cycles == []


def test_verbs_are_leaves():
    graph = _graph()
    verbs = {n for n in graph if n.startswith("kernelenv.commands.")}
    bad = {v: sorted(graph[v] & verbs) for v in verbs if graph[v] & verbs}
    assert bad == {}


def _calls(tree: ast.Module) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name):
                out.append(f.id)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                out.append(f"{f.value.id}.{f.attr}")
    return out


def test_only_proc_starts_processes_and_only_render_prints():
    for name, tree in _modules().items():
        calls = set(_calls(tree))
        if name != "kernelenv.proc":
            assert not calls & {
                "subprocess.Popen",
                "subprocess.run",
                "subprocess.call",
                "subprocess.check_output",
                "os.system",
                "os.popen",
                "os.execv",
                "os.spawnv",
            }, name
        if name != "kernelenv.render":
            assert "print" not in calls and not calls & {"sys.stdout.write"}, name


def test_only_the_backend_builds_installer_command_lines():
    offenders = []
    for name, tree in _modules().items():
        if name == "kernelenv.installer":
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.List, ast.Tuple)):
                words = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
                if ("pip" in words or "uv" in words) and words & INSTALLER_WORDS:
                    offenders.append(f"{name}:{node.lineno}")
    assert offenders == []


def test_no_function_is_longer_than_sixty_lines():
    """A function says one thing: none in kernelenv/ spans more than 60 lines (issue 13's figure)."""
    long = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60
    ]
    assert long == []
