"""pytest plugin: a project's notebooks as tests, run in the project's kernelenv kernel.

``pytest --kernelenv-notebooks notebooks/`` (or ``kernelenv_notebooks = notebooks`` in the
pytest ini options) collects every ``*.ipynb`` under the folder (hidden folders, venvs,
``.kernelenv`` and ``site-packages`` left out), one test per notebook, and runs it with the
runner and report of ``kernelenv verify`` (kernelenv/nbrun.py): the kernel is
``--kernelenv-kernel NAME`` or the one kernelenv registered for ``--kernelenv-project DIR``
(default: pytest's rootdir); the kernel starts in the notebook's folder. A failure says the
cell (``In [n]`` and its position), the line and the error, for every failing cell with
``--kernelenv-keep-going``; cells tagged ``raises-exception`` may fail.

Contract:
- Without ``--kernelenv-notebooks`` and without the ini option the plugin does nothing: no
  item, no import beyond this module (which imports pytest alone).
- From the command line the folders' notebooks are always collected; from the ini option,
  when pytest was given explicit paths, only notebooks under those paths are.
- A ``.ipynb`` given to pytest as a path is collected when the plugin is on.
- Each notebook runs in its own kernel, so ``pytest -n N`` (pytest-xdist) runs them in parallel
  safely; nothing is written next to the notebooks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_STATE: dict[str, Any] = {}  # per process: the kernel found (or the error finding it)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kernelenv", "notebooks run in a kernelenv project's kernel")
    group.addoption(
        "--kernelenv-notebooks",
        action="append",
        metavar="DIR",
        default=None,
        help="run every notebook under DIR as a test (repeatable)",
    )
    group.addoption(
        "--kernelenv-project", metavar="DIR", default=None, help="the project whose kernel runs them (default: the rootdir)"
    )
    group.addoption("--kernelenv-kernel", metavar="NAME", default=None, help="run them in this kernelspec instead")
    group.addoption(
        "--kernelenv-keep-going",
        action="store_true",
        default=None,
        help="run every cell after a failure and report each failing cell",
    )
    group.addoption("--kernelenv-timeout", type=float, metavar="S", default=None, help="seconds a notebook may run (default 600)")
    parser.addini("kernelenv_notebooks", type="paths", default=[], help="folders of notebooks to run as tests")
    parser.addini("kernelenv_project", default="", help="the project whose kernel runs them (default: the rootdir)")
    parser.addini("kernelenv_kernel", default="", help="run them in this kernelspec instead")
    parser.addini("kernelenv_keep_going", type="bool", default=False, help="report every failing cell")
    parser.addini("kernelenv_timeout", default="600", help="seconds a notebook may run")


def _folders(config: pytest.Config) -> tuple[list[Path], bool]:
    """(notebook folders, from the command line?)"""
    given = config.getoption("kernelenv_notebooks")
    if given:
        return [Path(os.path.abspath(g)) for g in given], True
    return [Path(p) for p in config.getini("kernelenv_notebooks")], False


def _under(path: Path, folders: list[Path]) -> bool:
    path = Path(os.path.abspath(path))
    return any(path == f or f in path.parents for f in folders)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".ipynb":
        return None
    folders, _ = _folders(parent.config)
    if not folders or not (_under(file_path, folders) or parent.session.isinitpath(file_path)):
        return None
    return NotebookFile.from_parent(parent, path=file_path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Add the folders' notebooks pytest's own walk did not reach (before -k/-m select)."""
    folders, from_cli = _folders(config)
    if not folders:
        return
    from . import nbrun

    have = {Path(os.path.abspath(i.path)) for i in items if isinstance(i, NotebookItem)}
    explicit = [Path(os.path.abspath(str(a).split("::")[0])) for a in config.args]
    narrow = not from_cli and config.args_source == pytest.Config.ArgsSource.ARGS
    for folder in folders:
        if not folder.is_dir():
            raise pytest.UsageError(f"kernelenv: notebooks folder {folder} does not exist")
        for nb in nbrun.notebook_files(folder, recursive=True):
            nb = Path(os.path.abspath(nb))
            if nb in have or (narrow and not _under(nb, explicit)):
                continue
            have.add(nb)
            items.extend(session.genitems(NotebookFile.from_parent(session, path=nb)))  # reported as collected


class NotebookFailed(Exception):
    """A notebook failed; carries its report row (or an error finding the kernel)."""

    def __init__(self, row: dict[str, Any] | None = None, message: str | None = None):
        super().__init__(message or "notebook failed")
        self.row = row
        self.message = message


class NotebookFile(pytest.File):
    def collect(self) -> Iterator[NotebookItem]:
        yield NotebookItem.from_parent(self, name=self.path.stem)


def _kernel(config: pytest.Config) -> tuple[Any, list[Path]]:
    """(spec, search path) of the kernel to run in, found once per process."""
    if "spec" not in _STATE:
        from .context import Context
        from .nbrun import find_kernel
        from .result import OperationError

        project = config.getoption("kernelenv_project") or config.getini("kernelenv_project") or str(config.rootpath)
        if not os.path.isabs(project) and not config.getoption("kernelenv_project") and config.inipath:
            project = str(config.inipath.parent / project)
        kernel = config.getoption("kernelenv_kernel") or config.getini("kernelenv_kernel") or None
        ctx = Context.build(project)
        try:
            _STATE["spec"] = (find_kernel(ctx, kernel), ctx.search_path)
        except OperationError as exc:
            hint = f" ({exc.info.hint})" if exc.info.hint else ""
            _STATE["spec"] = NotebookFailed(message=f"kernelenv: [{exc.info.code}] {exc.info.message}{hint}")
    found = _STATE["spec"]
    if isinstance(found, NotebookFailed):
        raise found
    spec, search_path = found
    return spec, search_path


class NotebookItem(pytest.Item):
    def runtest(self) -> None:
        import asyncio

        from . import nbrun

        spec, search_path = _kernel(self.config)
        keep_going = self.config.getoption("kernelenv_keep_going")
        if keep_going is None:
            keep_going = self.config.getini("kernelenv_keep_going")
        timeout = self.config.getoption("kernelenv_timeout") or float(self.config.getini("kernelenv_timeout") or 600)
        item = nbrun.load(Path(self.path))
        lacks = nbrun.missing_modules(spec, item.requires) if item.requires else []
        if lacks:  # as verify does: a notebook that says what it needs is skipped, with the fix, when the kernel lacks it
            fix, _ = nbrun.fix_for(spec, lacks)
            pytest.skip(f"the kernel's environment has no {', '.join(lacks)}" + (f" (fix: {fix})" if fix else ""))
        row = asyncio.run(
            nbrun.run_one(
                item,
                spec,
                search_path,
                cwd=Path(self.path).parent,
                timeout=timeout,
                keep_going=bool(keep_going),
                log_path=None,
                out_path=None,
            )
        )
        self.user_properties.append(("kernel", spec.name))
        if row["status"] != "passed":
            raise NotebookFailed(row)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        exc = excinfo.value
        if not isinstance(exc, NotebookFailed):
            return str(super().repr_failure(excinfo))
        if exc.row is None:
            return exc.message or "kernelenv: the notebook did not run"
        from .render import notebook_error_lines

        errors = exc.row["errors"]
        first = errors[0]
        where = (
            first.get("execution_count")
            and f"In [{first['execution_count']}]"
            or (f"cell {first['cell']}" if first.get("cell") else "")
        )
        what = f"{first['ename']}: {(first.get('evalue') or '').strip().splitlines()[0] if first.get('evalue') else ''}"
        head = f"{self.path.name}: {what.rstrip(': ')}" + (f" in {where}" if where else "")
        if len(errors) > 1:
            head += f" (and {len(errors) - 1} more failing cell(s))"
        return "\n".join([head, *notebook_error_lines(errors, "  ")])

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, f"notebook {self.path.name}"
