"""pythons: every interpreter on the machine, with what kernelenv can do with it.

Discovery is cached by path and mtime under ctx.cache_dir: a warm call spawns nothing.
"""

from __future__ import annotations

import time

from .. import pythons
from ..context import Context
from ..result import Result


def run(ctx: Context) -> Result:
    t = time.monotonic()
    found = pythons.discover(ctx.cache_dir)
    default = None
    try:
        default = pythons.current().path
    except Exception:  # pragma: no cover - the running interpreter always answers
        pass
    return Result(
        "pythons",
        {
            "pythons": [f.to_json() for f in found],
            "running": default,
            "oldest_supported": ".".join(map(str, pythons.MIN_VERSION)),
            "cache": {
                "path": ctx.cache_dir / pythons.CACHE_FILE,
                "probed": pythons.last_probed(),
                "cached": len(found) - pythons.last_probed(),
            },
            "duration": round(time.monotonic() - t, 4),
        },
    )
