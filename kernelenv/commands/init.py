"""init: write the project file ([tool.kernelenv], or kernelenv.toml) from flags.

Only the keys given change; the rest of an existing file, comments included, is kept.
With no flags and no settings yet, it writes a starting point: the kernel name and the
Python that `create` would pick now (unless requires-python already decides it).
"""

from __future__ import annotations

from typing import Any

from .. import projectfile, pythons
from ..context import Context
from ..kernelspec import check_name, slug
from ..result import OperationError, Result


def run(ctx: Context, updates: dict[str, Any]) -> Result:
    project = ctx.project
    ctx.require_project()
    if isinstance(updates.get("env"), list):
        updates = {**updates, "env": _env_items(updates["env"])}
    if "name" in updates:
        check_name(updates["name"])
    before = projectfile.load(project)
    if not updates and not before.settings:
        updates = {"name": slug(project.name)}
        if not before.requires_python:
            updates["python"] = pythons.resolve(None).short
        updates["packages"] = []
    path, created, changed = projectfile.write(project, updates)
    after = projectfile.load(project)
    spec = after.python_spec()
    resolved = None
    try:
        resolved = pythons.resolve(spec, cache_dir=ctx.cache_dir).to_json() if spec else None
    except OperationError:
        resolved = None  # the file may name a Python other machines have; create will say
    warnings = []
    if resolved and after.requires_python:
        from packaging.specifiers import SpecifierSet

        if not SpecifierSet(after.requires_python).contains(resolved["version"], prereleases=True):
            warnings.append(
                f"python {spec} gives Python {resolved['version']}, which the project's "
                f"requires-python {after.requires_python!r} does not allow"
            )
    result = Result(
        "init",
        {
            "project": project,
            "file": path,
            "file_created": created,
            "changed": changed,
            "settings": after.settings,
            "python": resolved,
            "warnings": warnings,
        },
        messages=[f"warning: {w}" for w in warnings],
    )
    return result


def _env_items(items: list[str]) -> dict[str, str]:
    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise OperationError("USAGE", f"kernelenv init: --env {item!r} is not KEY=VALUE", hint="e.g. --env MPLBACKEND=Agg")
        env[key] = value
    return env
