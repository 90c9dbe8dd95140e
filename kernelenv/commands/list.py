"""list: every kernelspec Jupyter would see, with its static health; starts no process and writes nothing."""

from __future__ import annotations

from .. import kernels
from ..context import Context
from ..result import Result


def run(ctx: Context) -> Result:
    rows = [r.to_json() for r in kernels.rows(ctx)]
    return Result(
        "list", {"kernels": rows, "search_path": [str(p) for p in ctx.search_path], "kernels_dir_on_path": ctx.on_jupyter_path}
    )
