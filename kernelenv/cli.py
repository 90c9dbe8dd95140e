"""Command line: argparse, one handler per verb, ``--json`` on every verb. No logic here.

Each handler builds a Context from flags, calls its command and returns the Result;
``main`` renders it and turns OperationError, Ctrl-C and bugs into envelopes.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from . import __version__, files
from .context import Context
from .profiles import PROFILES as PROFILE_NAMES
from .render import Renderer
from .result import ErrorInfo, OperationError, Result


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so --json still gets an envelope."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise OperationError("USAGE", f"{self.prog}: {message}", hint=f"see `{self.prog} --help`")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON envelope on stdout and nothing else")


def _target(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kernel", metavar="NAME", help="the kernel of that exact name")
    p.add_argument("--project", metavar="DIR", help="the kernel(s) kernelenv made for the project in DIR")


def _scope(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--user", dest="scope", action="store_const", const="user", help="the user's Jupyter data folder (default)")
    g.add_argument("--sys-prefix", dest="scope", action="store_const", const="sys-prefix", help="kernelenv's own sys.prefix")
    g.add_argument("--prefix", metavar="P", help="P/share/jupyter/kernels")


PYTHON_HELP = (
    "3.12, 3.12.1, >=3.10, cpython3.9 or a path (see `kernelenv pythons`); default: the project file's"
    " python, else the newest Python meeting its requires-python, else the one running kernelenv"
)


def _python_installer(p: argparse.ArgumentParser) -> None:
    p.add_argument("--python", metavar="PY", help=PYTHON_HELP)
    p.add_argument("--installer", choices=("auto", "uv", "pip"), default="auto", help="default: uv, pip when uv cannot run")


def _ctx(args: argparse.Namespace, renderer: Renderer, project: str | None = None) -> Context:
    scope = "prefix" if getattr(args, "prefix", None) else (getattr(args, "scope", None) or "user")
    return Context.build(
        project,
        venv=getattr(args, "venv", None),
        scope=scope,
        prefix=getattr(args, "prefix", None),
        python=getattr(args, "python", None),
        installer=getattr(args, "installer", "auto"),
        force=getattr(args, "force", False),
        progress=renderer.progress,
    )


# handlers -------------------------------------------------------------------
def _create(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import create

    opts = create.CreateOptions(
        name=args.name,
        display_name=args.display_name,
        packages=list(args.with_ or []),
        requirement_files=[Path(f).absolute() for f in (args.requirement or [])],
        profile=args.profile,
    )
    return create.run(_ctx(args, r, args.project), opts, group=args.group)


def _register(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import register

    return register.run(
        _ctx(args, r),
        args.env,
        name=args.name,
        display_name=args.display_name,
        install_ipykernel=args.install_ipykernel,
    )


def _list(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import list as list_cmd

    return list_cmd.run(_ctx(args, r))


def _pythons(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import pythons

    return pythons.run(_ctx(args, r))


def _init(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import init

    updates: dict = {}
    for flag, key in (("python", "python"), ("name", "name"), ("display_name", "display-name"), ("profile", "profile")):
        if getattr(args, flag) is not None:
            updates[key] = getattr(args, flag)
    if args.with_ is not None:
        updates["packages"] = list(args.with_)
    if args.requirement is not None:
        updates["requirements"] = list(args.requirement)
    if args.env is not None:
        updates["env"] = list(args.env)  # KEY=VALUE items, parsed by init
    return init.run(_ctx(args, r, args.project), updates)


def _remove(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import remove

    if args.target is None and args.kernel is None and args.project is None:
        raise OperationError(
            "USAGE",
            "kernelenv remove: give NAME|PROJECT_DIR, --kernel NAME or --project DIR",
            hint="see `kernelenv remove --help`",
        )
    if args.target is not None and (args.kernel is not None or args.project is not None):
        raise OperationError("USAGE", "kernelenv remove: give NAME|PROJECT_DIR or --kernel/--project, not both")
    return remove.run(
        _ctx(args, r), args.target, kernel=args.kernel, project=args.project, keep_venv=args.keep_venv, dry_run=args.dry_run
    )


def _verify(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import verify

    opts = verify.VerifyOptions(
        kernel=args.kernel,
        only=[t.strip() for t in (args.only or "").split(",") if t.strip()],
        notebooks=Path(args.notebooks).absolute() if args.notebooks else None,
        output=Path(args.output).absolute() if args.output else None,
        timeout=args.timeout,
        keep_going=args.keep_going,
    )
    return verify.run(_ctx(args, r, args.project), opts)


def _notebooks(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import notebooks

    return notebooks.run(
        _ctx(args, r, args.project), Path(args.dest).absolute() if args.dest else None, kernel=args.kernel, force=args.force
    )


def _adopt(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import adopt

    return adopt.run(
        _ctx(args, r, args.project), [Path(p).absolute() for p in args.paths], kernel=args.kernel, dry_run=args.dry_run
    )


def _doctor(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import doctor

    return doctor.run(
        _ctx(args, r), args.target, all_=args.all, timeout=args.timeout, jobs=args.jobs, kernel=args.kernel, project=args.project
    )


def _prune(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import prune

    return prune.run(_ctx(args, r), dry_run=args.dry_run, include_foreign=args.include_foreign, delete_venvs=args.delete_venvs)


def _repair(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import repair

    return repair.run(_ctx(args, r, args.project), dry_run=args.dry_run)


def _lock(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import lock

    return lock.run(
        _ctx(args, r, args.project),
        list(args.with_ or []),
        [Path(f).absolute() for f in (args.requirement or [])],
        profile=args.profile,
        universal=args.universal,
    )


def _sync(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import sync

    return sync.run(_ctx(args, r, args.project), offline=args.offline)


def _export(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import export

    out = Path(args.output).absolute() if args.output else None
    return export.run(
        _ctx(args, r, args.project), args.format, output=out, force=args.force, base_image=args.base_image, image=args.image
    )


def _container(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import container

    opts = container.ContainerOptions(
        image=args.image, base_image=args.base_image, engine=args.engine, name=args.name, display_name=args.display_name
    )
    return container.run(_ctx(args, r, args.project), opts)


def _add(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import add

    return add.run(_ctx(args, r, args.project), list(args.packages))


def _drop(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import drop

    return drop.run(_ctx(args, r, args.project), list(args.packages))


def _no_json(verb: str, r: Renderer) -> None:
    if r.json_mode:
        raise OperationError(
            "USAGE",
            f"kernelenv {verb} has no JSON envelope: the command's own output and exit code are the answer",
            hint=f"run `kernelenv {verb}` without --json; `kernelenv list --json` or `kernelenv doctor --json` "
            "describe the project's kernel",
        )


def _run(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import run

    _no_json("run", r)
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    return run.run(_ctx(args, r, args.project), command)


def _shell(args: argparse.Namespace, r: Renderer) -> Result:
    from .commands import shell

    _no_json("shell", r)
    return shell.run(_ctx(args, r, args.project))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kernelenv", description="A per-project venv that shows up, working, as a Jupyter kernel.")
    parser.add_argument("--version", action="version", version=f"kernelenv {__version__}")
    parser.add_argument("--json", action="store_true", help="also accepted before the verb")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    _environment_verbs(sub)
    _notebook_verbs(sub)
    _project_verbs(sub)
    _health_verbs(sub)
    _sharing_verbs(sub)
    _package_verbs(sub)
    _terminal_verbs(sub)
    return parser


def _environment_verbs(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Create, register, list, remove: a project's venv and kernel."""
    p = sub.add_parser("create", help="make (or sync) the project's venv and register its kernel")
    p.add_argument("project", nargs="?", help="project folder (default: the current folder)")
    p.add_argument("--venv", metavar="PATH", help="where the venv goes (default: PROJECT/.venv)")
    p.add_argument("--name", help="kernel name (default: from the project folder's name)")
    p.add_argument("--display-name", help="name shown in Jupyter (default: 'Python 3.X (project)')")
    p.add_argument("--with", dest="with_", action="append", metavar="PKG", help="also install PKG (repeatable)")
    p.add_argument("-r", "--requirement", action="append", metavar="FILE", help="also install from FILE (repeatable)")
    p.add_argument(
        "--profile", choices=PROFILE_NAMES, help="package set: minimal (ipykernel), data (+numpy, pandas), dl (+TensorFlow)"
    )
    p.add_argument("--force", action="store_true", help="replace a kernelspec of that name that is not this project's")
    p.add_argument(
        "--group",
        nargs="?",
        const="",
        metavar="GROUP",
        help="a team's kernel: GROUP (alone: the group of the venv's folder) may read and run the venv and "
        "the spec, nobody else, and only you change them; use with --prefix/--sys-prefix on the Hub's JUPYTER_PATH",
    )
    _python_installer(p)
    _scope(p)
    _common(p)
    p.set_defaults(handler=_create)

    p = sub.add_parser("register", help="register an existing venv or interpreter as a kernel")
    p.add_argument("env", metavar="ENV_OR_PYTHON", nargs="?", help="a venv folder or an interpreter (or use --python)")
    p.add_argument("--python", metavar="PY", help="the interpreter to register: 3.12, >=3.10, cpython3.9 or a path")
    p.add_argument("--name")
    p.add_argument("--display-name")
    p.add_argument("--install-ipykernel", action="store_true", help="install ipykernel when it is missing")
    p.add_argument("--installer", choices=("auto", "uv", "pip"), default="auto")
    p.add_argument("--force", action="store_true", help="replace a kernelspec of that name")
    _scope(p)
    _common(p)
    p.set_defaults(handler=_register)

    p = sub.add_parser("list", help="every kernel Jupyter sees, with its health")
    _scope(p)
    _common(p)
    p.set_defaults(handler=_list)

    p = sub.add_parser("remove", help="remove a kernel and the venv kernelenv made for it")
    p.add_argument("target", metavar="NAME|PROJECT_DIR", nargs="?", help="a kernel name or a project folder")
    _target(p)
    p.add_argument("--keep-venv", action="store_true", help="remove only the kernelspec")
    p.add_argument("--force", action="store_true", help="also remove a kernelspec kernelenv did not make")
    p.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    _scope(p)
    _common(p)
    p.set_defaults(handler=_remove)


def _notebook_verbs(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Verify, notebooks, adopt: notebooks run in (or pointed at) the project's kernel."""
    p = sub.add_parser("verify", help="run the tutorial (or your) notebooks in the project's kernel")
    p.add_argument("project", nargs="?", help="project folder (default: the current folder)")
    p.add_argument("--kernel", metavar="NAME", help="verify this kernelspec instead of the project's")
    p.add_argument("--only", metavar="A,B", help="only these notebooks: environment, numpy, pandas, tensorflow, or file names")
    p.add_argument("--notebooks", metavar="DIR", help="run the notebooks in DIR (default: kernelenv's tutorial notebooks)")
    p.add_argument("--output", metavar="DIR", help="write executed notebooks here (default: PROJECT/.kernelenv/verify)")
    p.add_argument("--timeout", type=float, default=600.0, metavar="S", help="seconds a notebook may run (default 600)")
    _scope(p)
    p.add_argument("--keep-going", action="store_true", help="run every cell after a failure and report each failing cell")
    _common(p)
    p.set_defaults(handler=_verify)

    p = sub.add_parser("notebooks", help="copy the tutorial notebooks into the project, set to its kernel")
    p.add_argument("project", nargs="?", help="project folder (default: the current folder)")
    p.add_argument("--dest", metavar="DIR", help="folder to copy into (default: PROJECT/notebooks)")
    p.add_argument("--kernel", metavar="NAME", help="use this kernelspec instead of the project's")
    p.add_argument("--force", action="store_true", help="also overwrite notebooks you changed")
    _scope(p)
    _common(p)
    p.set_defaults(handler=_notebooks)

    p = sub.add_parser(
        "adopt", help="point notebooks' kernelspec metadata at the project's kernel (nothing else in them changes)"
    )
    p.add_argument(
        "paths", nargs="*", metavar="NOTEBOOK_OR_DIR", help="notebooks or folders (default: every notebook in the project)"
    )
    p.add_argument("--project", metavar="DIR", help="the project whose kernel they get (default: the current folder)")
    p.add_argument("--kernel", metavar="NAME", help="use this kernelspec instead of the project's")
    p.add_argument("--dry-run", action="store_true", help="say what would change, write nothing")
    _common(p)
    p.set_defaults(handler=_adopt)


def _project_verbs(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Pythons, init: what there is to build from, and the project file."""
    p = sub.add_parser("pythons", help="every Python interpreter on this machine (cached: a warm call starts none)")
    _common(p)
    p.set_defaults(handler=_pythons)

    p = sub.add_parser("init", help="write the project file ([tool.kernelenv] or kernelenv.toml) from flags")
    p.add_argument("project", nargs="?", help="project folder (default: the current folder)")
    p.add_argument("--python", metavar="PY", help="3.12, >=3.10, cpython3.9 or a path")
    p.add_argument("--name", help="kernel name")
    p.add_argument("--display-name", help="name shown in Jupyter")
    p.add_argument("--with", dest="with_", action="append", metavar="PKG", help="packages (repeatable; replaces the list)")
    p.add_argument("-r", "--requirement", action="append", metavar="FILE", help="requirements files (repeatable)")
    p.add_argument("--profile", choices=PROFILE_NAMES, help="package set (see `kernelenv create --help`)")
    p.add_argument("--env", action="append", metavar="KEY=VALUE", help="an extra kernel environment variable (repeatable)")
    _common(p)
    p.set_defaults(handler=_init)


def _health_verbs(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Doctor, prune, repair: finding and fixing broken kernels."""
    p = sub.add_parser("doctor", help="check kernels for real (start them) and print the command that fixes each problem")
    p.add_argument(
        "target", nargs="?", metavar="NAME|PROJECT_DIR", help="a kernel name or project folder (default: the current folder)"
    )
    p.add_argument("--all", action="store_true", help="check every kernel Jupyter sees")
    p.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="seconds a kernel may take to start and answer (default 60)"
    )
    p.add_argument("--jobs", type=int, default=4, metavar="N", help="kernels checked at once (default 4)")
    _target(p)
    _scope(p)
    _common(p)
    p.set_defaults(handler=_doctor)

    p = sub.add_parser("prune", help="remove kernelspecs whose interpreter is gone (kernelenv's own by default)")
    p.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    p.add_argument(
        "--include-foreign", action="store_true", help="also kernelspecs kernelenv did not make (their envs are never deleted)"
    )
    p.add_argument(
        "--delete-venvs",
        action="store_true",
        help="also delete kernelenv's venvs of pruned kernels that hold nothing repair could recover",
    )
    _scope(p)
    _common(p)
    p.set_defaults(handler=_prune)

    p = sub.add_parser("repair", help="rebuild a moved or broken project's venv in place, keeping its kernel's name")
    p.add_argument("project", nargs="?", help="project folder (default: the current folder)")
    p.add_argument("--venv", metavar="PATH", help="where the venv is (default: PROJECT/.venv)")
    p.add_argument("--dry-run", action="store_true", help="say what would be rebuilt and re-pointed, change nothing")
    _python_installer(p)
    _scope(p)
    _common(p)
    p.set_defaults(handler=_repair)


def _sharing_verbs(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Lock, sync, export, container: the locked environment elsewhere."""
    p = sub.add_parser("lock", help="write kernelenv.lock: the Python version and exact pins with hashes")
    p.add_argument("project", nargs="?", help="project folder (default: the current folder)")
    p.add_argument("--venv", metavar="PATH", help="the venv whose packages are locked (default: PROJECT/.venv)")
    p.add_argument("--with", dest="with_", action="append", metavar="PKG", help="also lock PKG (repeatable)")
    p.add_argument("-r", "--requirement", action="append", metavar="FILE", help="also lock what FILE names (repeatable)")
    p.add_argument("--profile", choices=PROFILE_NAMES, help="also lock the profile's packages")
    p.add_argument(
        "--universal",
        action="store_true",
        help="pin for Linux, macOS and Windows and the project's Python range (--python '>=3.10', else "
        "requires-python) at once, with every wheel's hash (uv); sync installs what this machine needs",
    )
    _python_installer(p)
    _common(p)
    p.set_defaults(handler=_lock)

    p = sub.add_parser("sync", help="make the venv match kernelenv.lock exactly (hash-checked)")
    p.add_argument("project", nargs="?", help="project folder (default: the current folder)")
    p.add_argument("--venv", metavar="PATH", help="where the venv is (default: PROJECT/.venv)")
    p.add_argument("--offline", action="store_true", help="install from the cache alone")
    p.add_argument("--installer", choices=("auto", "uv", "pip"), default="auto")
    _scope(p)
    _common(p)
    p.set_defaults(handler=_sync)

    p = sub.add_parser(
        "export", help="share the locked env: pinned requirements, a Dockerfile, a devcontainer, Enterprise Gateway specs"
    )
    p.add_argument("project", nargs="?", help="project folder (default: the current folder)")
    p.add_argument("--format", required=True, choices=("requirements", "dockerfile", "devcontainer", "enterprise-gateway"))
    p.add_argument("--output", metavar="PATH", help="file (or, for devcontainer and enterprise-gateway, folder) to write")
    p.add_argument(
        "--base-image", metavar="IMAGE", help="dockerfile/devcontainer: the image to build on (default: python:X.Y-slim)"
    )
    p.add_argument(
        "--image",
        metavar="IMAGE",
        help="enterprise-gateway: the kernel image to extend (default: the project's `kernelenv container` image)",
    )
    p.add_argument("--force", action="store_true", help="replace a file kernelenv did not write")
    _scope(p)
    _common(p)
    p.set_defaults(handler=_export)

    p = sub.add_parser("container", help="build the project's image from kernelenv.lock and register a kernel that runs in it")
    p.add_argument("project", nargs="?", help="project folder (default: the current folder)")
    p.add_argument("--image", metavar="IMAGE", help="use this image (with ipykernel) instead of building one")
    p.add_argument("--base-image", metavar="IMAGE", help="build on this image (default: python:X.Y-slim, X.Y the lock's)")
    p.add_argument("--engine", choices=("auto", "podman", "docker"), default="auto", help="default: podman, else docker")
    p.add_argument("--name", help="kernel name (default: the project folder's, plus -container)")
    p.add_argument("--display-name", help="name shown in Jupyter (default: 'PROJECT (container): Python X.Y')")
    p.add_argument("--force", action="store_true", help="replace a kernelspec of that name that is not this project's")
    _scope(p)
    _common(p)
    p.set_defaults(handler=_container)


def _package_verbs(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Add, drop: packages in the venv and the project file."""
    p = sub.add_parser("add", help="install packages into the project's venv and record them in the project file (and lock)")
    p.add_argument("packages", nargs="*", metavar="PKG", help="requirements: numpy, 'pandas>=2', 'pkg[extra]==1.0'")
    p.add_argument("--project", metavar="DIR", help="the project folder (default: the current folder)")
    p.add_argument("--installer", choices=("auto", "uv", "pip"), default="auto", help="default: the one the venv was made with")
    _common(p)
    p.set_defaults(handler=_add)

    p = sub.add_parser("drop", help="uninstall packages from the project's venv and take them out of the project file (and lock)")
    p.add_argument("packages", nargs="*", metavar="PKG", help="package names")
    p.add_argument("--project", metavar="DIR", help="the project folder (default: the current folder)")
    p.add_argument("--installer", choices=("auto", "uv", "pip"), default="auto", help="default: the one the venv was made with")
    _common(p)
    p.set_defaults(handler=_drop)


def _terminal_verbs(sub: argparse._SubParsersAction[_Parser]) -> None:
    """Run, shell: the kernel's environment in a terminal."""
    p = sub.add_parser("run", help="run a command in the environment the project's kernel gets (kernelenv run -- CMD ARGS...)")
    p.add_argument("--project", metavar="DIR", help="the project folder (default: the current folder)")
    p.add_argument("--json", action="store_true", help="not available: the command's output and exit code are the answer")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help="the command and its arguments, after --")
    p.set_defaults(handler=_run)

    p = sub.add_parser("shell", help="your $SHELL in the project's environment, the project in its prompt; `exit` leaves it")
    p.add_argument("--project", metavar="DIR", help="the project folder (default: the current folder)")
    p.add_argument("--json", action="store_true", help="not available: an interactive shell has no envelope")
    p.set_defaults(handler=_shell)


_MAKERS = {"create", "repair"}  # an interrupted one removes what it made and puts back what it replaced (provision.py)


def _on_sigterm(signum: int, frame: object) -> None:  # an editor cancelling us: clean up like Ctrl-C
    raise KeyboardInterrupt


def _suggest(parser: argparse.ArgumentParser, verb: str, message: str) -> str:
    """A usage error about a mistyped verb or option, with the close match it was probably meant as."""
    import difflib
    import re

    choice = re.search(r"argument VERB: invalid choice: '([^']*)'", message)
    if choice:
        close = difflib.get_close_matches(choice.group(1), sorted(_verbs(parser)), n=1)
        return f"kernelenv: unknown verb {choice.group(1)!r}" + (f"; did you mean {close[0]}?" if close else "")
    unknown = re.search(r"unrecognized arguments: (.*)$", message)
    if unknown and verb != "kernelenv":
        options = [o for a in _subparser(parser, verb)._actions for o in a.option_strings if o.startswith("--")]
        guesses = [
            g
            for arg in unknown.group(1).split()
            if arg.startswith("--")
            for g in difflib.get_close_matches(arg.split("=", 1)[0], options, n=1)
        ]
        return f"kernelenv {verb}: unrecognized arguments: {unknown.group(1)}" + (
            f"; did you mean {', '.join(dict.fromkeys(guesses))}?" if guesses else ""
        )
    return message


def _subparser(parser: argparse.ArgumentParser, verb: str) -> argparse.ArgumentParser:
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[verb]
            return found
    return parser


def _verbs(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: list[str] | None = None) -> int:
    """The command line; ``argv`` None means the process's own (its stderr is then guarded in JSON mode)."""
    whole_process = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    files.safe_umask()  # nothing kernelenv or its children make is group- or world-writable
    own = argv[: argv.index("--")] if "--" in argv else argv  # after "--" is another program's (run)
    renderer = Renderer(json_mode="--json" in own)
    if whole_process:
        renderer.guard_stderr()
    parser = build_parser()
    verbs = _verbs(parser)
    verb = next((a for a in argv if not a.startswith("-")), "kernelenv")
    verb = verb if verb in verbs else "kernelenv"  # an unknown verb is not echoed as a command
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (tests calling main in a thread)
        pass
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            if renderer.json_mode:
                raise OperationError("USAGE", "kernelenv: no verb given", hint="see `kernelenv --help`")
            parser.print_help()
            return 2
        verb = args.verb
        result = args.handler(args, renderer)
    except OperationError as exc:
        if exc.info.code == "USAGE":
            exc.info.message = _suggest(parser, verb, exc.info.message)
        if exc.info.code == "USAGE" and verb != "kernelenv" and exc.info.hint == "see `kernelenv --help`":
            exc.info.hint = f"see `kernelenv {verb} --help`"
        result = Result(verb, errors=[exc.info], ok=False)
    except KeyboardInterrupt:
        said = "interrupted; what this run made was removed" if verb in _MAKERS else "interrupted"
        result = Result(verb, errors=[ErrorInfo("INTERRUPTED", said)], ok=False)
    except Exception as exc:  # a bug: still one line and an envelope
        import traceback

        result = Result(
            verb,
            errors=[
                ErrorInfo("INTERNAL", f"{type(exc).__name__}: {exc}", "please report this", {"traceback": traceback.format_exc()})
            ],
            ok=False,
        )
    return renderer.result(result)
