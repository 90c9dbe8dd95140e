"""notebooks: copy the tutorial notebooks into a project, set to open on the project's kernel.

Contract:
- Each copy gets ``metadata.kernelspec`` = the kernel's name and display name, so JupyterLab
  and VS Code open it on that kernel, and ``metadata.kernelenv.sources_sha256``: a hash of
  its cells' sources as written.
- A file already there is replaced only when its cell sources still hash to what kernelenv
  wrote (outputs and metadata may differ: running it is not changing it); a notebook the
  user edited, or one kernelenv did not write, is kept (``--force`` replaces it).
- Per file the state is written, updated, unchanged or kept.
- The project is ``ctx.project`` (the positional PROJECT, as for every verb); the copies go to
  ``dest`` (``--dest``), default ``PROJECT/notebooks``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .. import files, nbrun
from ..context import Context
from ..result import OperationError, Result


def sources_hash(nb: Any) -> str:
    cells = [
        [c.get("cell_type"), c.get("source") if isinstance(c.get("source"), str) else "".join(c.get("source") or [])]
        for c in nb.get("cells", [])
    ]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


def prepared(src: Path, kernel: dict[str, str]) -> tuple[str, str]:
    """(notebook text to write, its sources hash) for one tutorial notebook."""
    import nbformat

    nb = nbformat.read(str(src), as_version=4)
    nb.metadata["kernelspec"] = {"name": kernel["name"], "display_name": kernel["display_name"], "language": "python"}
    digest = sources_hash(nb)
    meta = dict(nb.metadata.get("kernelenv") or {})
    meta["sources_sha256"] = digest
    nb.metadata["kernelenv"] = meta
    return nbformat.writes(nb) + "\n", digest


def _state(dest: Path, text: str) -> str:
    """written (absent), unchanged (same bytes), updated (ours, untouched) or kept (the user's)."""
    if not dest.exists():
        return "written"
    try:
        old_text = dest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "kept"
    if old_text == text:
        return "unchanged"
    try:
        old = json.loads(old_text)
    except ValueError:
        return "kept"
    if not isinstance(old, dict) or not isinstance(old.get("metadata") or {}, dict):
        return "kept"  # not a notebook kernelenv wrote
    mark = (old.get("metadata") or {}).get("kernelenv") or {}
    recorded = mark.get("sources_sha256") if isinstance(mark, dict) else None
    return "updated" if recorded and recorded == sources_hash(old) else "kept"


def _write(dest: Path, text: str) -> None:
    files.write_atomic(dest, text)


def run(ctx: Context, dest: Path | None, *, kernel: str | None = None, force: bool = False) -> Result:
    spec = nbrun.find_kernel(ctx, kernel)
    info = {"name": spec.name, "display_name": spec.display_name}
    target = dest or ctx.project / "notebooks"
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OperationError("USAGE", f"cannot make {target}: {exc.strerror or exc}", path=target) from None
    rows = []
    sources = sorted(nbrun.tutorial_dir().glob("*.ipynb"))
    for i, src in enumerate(sources, 1):
        text, _ = prepared(src, info)
        out = target / src.name
        state = _state(out, text)
        if state == "kept" and force:
            state = "updated"
        if state in ("written", "updated"):
            _write(out, text)
        ctx.progress("notebooks", f"{src.name}: {state}", i, len(sources))
        rows.append({"name": src.stem, "path": out, "state": state})
    result = Result(
        "notebooks",
        {"dest": target, "kernel": info | {"resource_dir": spec.resource_dir}, "notebooks": rows},
    )
    if any(r["state"] == "kept" for r in rows):
        result.messages.append("kept notebooks you changed; add --force to replace them with kernelenv's copies")
    return result
