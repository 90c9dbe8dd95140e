"""list: every kernelspec Jupyter would see, with static health; starts no process."""
from __future__ import annotations

from .. import kernelspec
from ..context import Context
from ..result import Result


def entries(ctx: Context) -> list[dict]:
    """One row per spec on the search path, shadowed ones included, in search order."""
    rows: list[dict] = []
    seen: dict[str, str] = {}
    for spec in kernelspec.scan(ctx.search_path):
        status, problems = kernelspec.health(spec)
        key = spec.name.lower()
        if key in seen:
            status = "shadowed"
            problems = [f"hidden by {seen[key]}, which comes earlier on Jupyter's path", *problems]
        else:
            seen[key] = str(spec.resource_dir)
        mark = spec.mark
        rows.append(
            {
                "name": spec.name,
                "display_name": spec.display_name,
                "resource_dir": str(spec.resource_dir),
                "python": spec.argv0,
                "language": (spec.data or {}).get("language") if isinstance((spec.data or {}).get("language"), str) else None,
                "owned": mark is not None,
                "project": mark.get("project") if mark else None,
                "venv": mark.get("venv") if mark else None,
                "status": status,
                "problems": problems,
                "encryption": "on" if kernelspec.advertises_encryption(spec) else "off",
            }
        )
    return rows


def run(ctx: Context) -> Result:
    return Result("list", {"kernels": entries(ctx), "search_path": [str(p) for p in ctx.search_path]})
