"""Results of commands: data on success, ErrorInfo with a stable code on failure.

Commands return a :class:`Result` or raise :class:`OperationError`; they never print.
The JSON envelope built from a Result is a contract with the VS Code extension and
scripts (see ``tests/fixtures/envelopes``): keys and error codes only ever get added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ENVELOPE_VERSION = 1

# Exit codes.
EXIT_OK = 0
EXIT_ERROR = 1  # the operation failed (or, for doctor/verify, problems were found)
EXIT_USAGE = 2  # bad command line (argparse's own code)
EXIT_INTERRUPTED = 130

# Codes that mean "the command line needs changing": exit 2 like argparse's own errors.
USAGE_CODES = ("USAGE", "TARGET_AMBIGUOUS", "UNIVERSAL_NEEDS_UV")

# Stable error codes. Never rename one; add new ones at the end of their group.
ERROR_CODES = {
    # input
    "USAGE": "the command line is not valid",
    "PROJECT_NOT_FOUND": "the project folder does not exist or is not a folder",
    "NAME_INVALID": "a kernel name that Jupyter would not accept",
    "PYTHON_NOT_FOUND": "no interpreter matches what was asked",
    "PYTHON_UNSUPPORTED": "the interpreter is too old or not CPython/PyPy 3",
    "VENV_NOT_A_VENV": "the venv path exists and is not a venv",
    "PROJECT_FILE_INVALID": "the project file has invalid TOML, an unknown key or a wrong type",
    "REQUIREMENTS_NOT_FOUND": "a requirements file given with -r does not exist",
    "PROFILE_UNAVAILABLE": "a profile cannot be satisfied for this Python",
    "REQUIREMENT_INVALID": "a package requirement (--with, a requirements file, the project file) is not a PEP 508 requirement",
    "PATH_INVALID": "a path holds a control character (a newline, a tab...) that would break scripts and files",
    "TARGET_AMBIGUOUS": "an argument names a kernel and a project folder at once: say which with --kernel or --project",
    "IMAGE_PYTHON_MISMATCH": "the container image's Python is not the X.Y the lock is for (or it has none)",
    "PACKAGE_REQUIRED": "drop was asked for a package the kernel needs (ipykernel, pip) or the project file brings back",
    "COMMAND_NOT_FOUND": "the command given to `kernelenv run` is not in the environment or on PATH",
    "UNIVERSAL_NEEDS_UV": "a universal lock (lock --universal) needs uv's resolver; pip resolves only for the machine it runs on",
    "GROUP_INVALID": "the group given with --group does not exist here, or you are not a member of it",
    # state on disk
    "KERNEL_EXISTS": "a kernelspec of that name exists and kernelenv does not own it for this project",
    "KERNEL_NOT_FOUND": "no kernelspec of that name or for that project",
    "NOT_OWNED": "kernelenv did not create this and will not delete it without --force",
    "IPYKERNEL_MISSING": "the environment has no ipykernel",
    "JUPYTER_DIR_UNWRITABLE": "the Jupyter data folder cannot be written",
    "LOCKED": "another kernelenv run holds the project's lock",
    "LOCK_INVALID": "the lock file is corrupt or for another Python",
    "LOCK_NOT_FOUND": "the project has no kernelenv.lock (run `kernelenv lock`)",
    "EXPORT_EXISTS": "an export target exists and kernelenv did not write it (use --force)",
    "KERNEL_SHADOWED": "a kernelspec of that name earlier on Jupyter's path is the one Jupyter would start",
    "VENV_ELSEWHERE": (
        "the venv was made at another place (its scripts run another venv's python) and is not kernelenv's to rebuild"
    ),
    "CACHE_UNSAFE": "kernelenv's cache folder is not the user's alone (owner or permissions)",
    "CACHE_UNWRITABLE": "kernelenv's cache folder (where its locks live) cannot be written",
    "IMAGE_NOT_FOUND": "the container image is not on this machine and cannot be pulled",
    "SHELL_NESTED": "`kernelenv shell` was run inside a kernelenv shell: exit it first",
    "SHARE_UNREACHABLE": "a team's kernel (--group) would not run for the group: a folder or the interpreter is closed to it",
    # doing
    "VENV_CREATE_FAILED": "the venv could not be made",
    "INSTALL_FAILED": "the installer failed (a package that does not exist, no network, a conflict)",
    "INSTALLER_UNAVAILABLE": "the asked-for installer cannot run",
    "KERNEL_START_FAILED": "the kernel did not start",
    "NOTEBOOK_FAILED": "a verification notebook failed",
    "HASH_MISMATCH": "a download does not match the hash in the lock; nothing was changed",
    "RESOLVE_FAILED": "the packages asked for cannot be resolved together",
    "INTERRUPTED": "interrupted (Ctrl-C); what this run made was removed",
    "REMOVE_FAILED": "a folder could not be removed (permissions, a read-only file system); nothing was removed",
    "INTERNAL": "a bug in kernelenv: please report it",
    "ENGINE_UNAVAILABLE": "no container engine (podman or docker) can run containers here",
    "IMAGE_BUILD_FAILED": "building the container image failed",
}


@dataclass
class ErrorInfo:
    code: str
    message: str
    hint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "hint": self.hint, "details": self.details}


class OperationError(Exception):
    """An expected failure: carries a stable ``code``, a one-line message and data."""

    def __init__(self, code: str, message: str, *, hint: str | None = None, **details: Any):
        assert code in ERROR_CODES, code
        super().__init__(message)
        self.info = ErrorInfo(code, message, hint, {k: _jsonable(v) for k, v in details.items()})


@dataclass
class Result:
    """What a command hands to the renderer: data, plus errors when it failed.

    ``ok`` False with no errors means "ran, found problems" (doctor, verify).
    """

    command: str
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[ErrorInfo] = field(default_factory=list)
    ok: bool = True
    messages: list[str] = field(default_factory=list)  # human-mode extra lines

    @property
    def exit_code(self) -> int:
        if self.errors and self.errors[0].code == "INTERRUPTED":
            return EXIT_INTERRUPTED
        if self.errors and self.errors[0].code in USAGE_CODES:
            return EXIT_USAGE
        return EXIT_OK if (self.ok and not self.errors) else EXIT_ERROR

    def envelope(self) -> dict[str, Any]:
        return {
            "kernelenv": ENVELOPE_VERSION,
            "command": self.command,
            "status": "ok" if self.exit_code == EXIT_OK else "error",
            "data": _jsonable(self.data),
            "errors": [e.to_json() for e in self.errors],
        }


def _jsonable(value: Any) -> Any:
    """Paths and other objects become strings; containers are walked."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
