"""The only place kernelenv starts processes.

Every child gets an argv list (never a shell string), a timeout, and a cleaned
environment: variables that would make a child Python load the wrong code
(PYTHONHOME, PYTHONPATH, an activated VIRTUAL_ENV, ...) are removed.
On Ctrl-C or a timeout the child's whole process group is killed.

``replace`` is the one exception, for the user's own command (``kernelenv run``, ``shell``):
kernelenv *becomes* that program (exec), with exactly the environment it is given, so it keeps
the terminal, every signal sent to kernelenv's process (SIGINT, SIGTERM, SIGHUP...) reaches it
and its exit code is the one the caller sees.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, NoReturn

from .result import OperationError

# Variables that leak one Python's setup into another's.
_DROP = (
    "PYTHONHOME",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONEXECUTABLE",
    "PYTHONDONTWRITEBYTECODE",  # children we start must be able to write bytecode
    "PYTHONNOUSERSITE",
    "__PYVENV_LAUNCHER__",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "PIP_REQUIRE_VIRTUALENV",
    "PIP_USER",
    "UV_SYSTEM_PYTHON",
    "UV_PROJECT_ENVIRONMENT",
)


class ProcError(Exception):
    """A child could not be started or ran past its timeout; carries the argv."""

    def __init__(self, argv: Sequence[str], reason: str):
        super().__init__(f"{argv[0]}: {reason}")
        self.argv = list(argv)
        self.reason = reason


@dataclass
class Completed:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def last_error_line(self) -> str:
        """The most telling line of the output, for a one-line message.

        uv puts the reason on a line starting "Because"; pip on its first "ERROR:" line.
        """
        text = self.stderr + "\n" + self.stdout
        # pip's rich errors: "error: incomplete-download" then "× Download failed ... because ..."
        crossed = [ln.strip()[1:].strip() for ln in text.splitlines() if ln.strip().startswith("×")]
        slug = [ln.strip() for ln in text.splitlines() if re.match(r"^error: [a-z0-9-]+$", ln.strip())]
        if crossed and slug:
            line = f"{slug[0]}: {crossed[0]}"
            return line if len(line) <= 300 else line[:297] + "..."
        lines = [ln.strip().lstrip("×╰─▶│ ").strip() for ln in text.splitlines()]
        lines = [ln[len("cause:") :].strip() if ln.startswith("cause:") else ln for ln in lines]
        lines = [ln for ln in lines if ln]
        for test in (
            lambda ln: ln.startswith("Because"),
            lambda ln: ln.startswith("ERROR:"),
            lambda ln: "error" in ln.lower(),
        ):
            hits = [ln for ln in lines if test(ln)]
            if hits:
                return hits[0] if len(hits[0]) <= 300 else hits[0][:297] + "..."
        return lines[-1][:300] if lines else f"exit code {self.returncode}"


def clean_env(extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _DROP}
    env.setdefault("PYTHONIOENCODING", "utf-8")
    if extra:
        env.update(extra)
    return env


def run(
    argv: Sequence[str],
    *,
    timeout: float = 600,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    on_line: Callable[[str], None] | None = None,
    input: str | None = None,
) -> Completed:
    """Run argv to completion and return its output; never raises on a non-zero exit.

    ``on_line`` receives stderr lines as they come (for progress); stdout is collected.
    Raises ProcError when the program cannot start or runs past ``timeout`` seconds.
    KeyboardInterrupt kills the child's process group and propagates.
    """
    argv = [os.fspath(a) for a in argv]
    full_env = clean_env(env)
    try:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            cwd=cwd,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
    except OSError as exc:
        raise ProcError(argv, exc.strerror or str(exc)) from None
    try:
        if on_line is None:
            out, err = child.communicate(input=input, timeout=timeout)
        else:
            out, err = _stream(child, on_line, timeout, input)
    except subprocess.TimeoutExpired:
        _kill(child)
        raise ProcError(argv, f"timed out after {timeout:g} s") from None
    except BaseException:
        _kill(child)
        raise
    return Completed(argv, child.returncode, out or "", err or "")


class Running:
    """A child started by :func:`start`, running beside the caller until :meth:`wait` or :meth:`kill`."""

    def __init__(self, argv: list[str], child: subprocess.Popen, timeout: float):
        self.argv, self._child, self._timeout = argv, child, timeout
        self._done: Completed | None = None

    def wait(self) -> Completed:
        """Its output once it ends (never raises on a non-zero exit); ProcError past its timeout."""
        if self._done is None:
            try:
                out, err = self._child.communicate(timeout=self._timeout)
            except subprocess.TimeoutExpired:
                _kill(self._child)
                raise ProcError(self.argv, f"timed out after {self._timeout:g} s") from None
            except BaseException:
                _kill(self._child)
                raise
            self._done = Completed(self.argv, self._child.returncode, out or "", err or "")
        return self._done

    def done(self) -> bool:
        """Whether it has ended (``wait`` then returns at once)."""
        return self._done is not None or self._child.poll() is not None

    def kill(self) -> None:
        """Stop it (its whole process group) if it still runs."""
        if self._done is None and self._child.poll() is None:
            _kill(self._child)
        for stream in (self._child.stdout, self._child.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


def start(
    argv: Sequence[str],
    *,
    timeout: float = 600,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    capture: bool = True,
) -> Running:
    """Start argv and return at once: what :func:`run` does, in two halves (``Running.wait``).

    ``input`` is written (and stdin closed) before it returns; ``capture`` False discards the
    child's output (nothing then fills a pipe while the caller works). The caller must ``wait``
    or ``kill``. Raises ProcError when the program cannot start.
    """
    argv = [os.fspath(a) for a in argv]
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    try:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=clean_env(env),
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
    except OSError as exc:
        raise ProcError(argv, exc.strerror or str(exc)) from None
    if input is not None and child.stdin is not None:
        try:
            child.stdin.write(input)
            child.stdin.close()
        except BrokenPipeError:
            pass  # it ended without reading: wait() says why
        except BaseException:
            _kill(child)
            raise
        finally:
            child.stdin = None  # written: communicate() must not touch it again
    return Running(argv, child, timeout)


def _stream(child: subprocess.Popen, on_line: Callable[[str], None], timeout: float, input: str | None) -> tuple[str, str]:
    import threading

    assert child.stdout is not None and child.stderr is not None  # started with both piped

    out_parts: list[str] = []
    err_parts: list[str] = []

    stdout = child.stdout

    def pump_out() -> None:
        out_parts.append(stdout.read())

    t = threading.Thread(target=pump_out, daemon=True)
    t.start()
    if input is not None and child.stdin is not None:
        child.stdin.write(input)
        child.stdin.close()
    fired = threading.Event()

    def on_timeout() -> None:
        fired.set()
        _kill(child)

    timer = threading.Timer(timeout, on_timeout)
    timer.start()
    try:
        for line in child.stderr:
            err_parts.append(line)
            on_line(line.rstrip("\n"))
        child.wait()
    finally:
        timer.cancel()
    t.join()
    if fired.is_set():
        raise subprocess.TimeoutExpired(child.args, timeout)
    return "".join(out_parts), "".join(err_parts)


def _kill(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def failure(done: Completed, code: str, what: str, *, hint: str | None = None, **details: Any) -> OperationError:
    """The one way a failed run becomes an OperationError: ``what`` failed, with the telling line."""
    why = done.last_error_line()
    if "No space left on device" in done.stderr + done.stdout:  # uv and pip bury it under a cause line
        why = f"no space left on device ({why})"
    return OperationError(code, f"{what} failed: {why}", hint=hint, output=(done.stderr or done.stdout)[-4000:], **details)


def run_checked(
    argv: Sequence[str], *, code: str, what: str, hint: str | None = None, details: Mapping[str, Any] | None = None, **kw: Any
) -> Completed:
    """``run`` that raises OperationError ``code`` when the program cannot start, times out or fails."""
    try:
        done = run(argv, **kw)
    except ProcError as exc:
        raise OperationError(code, f"{what} could not run: {exc.reason}", hint=hint, **dict(details or {})) from None
    if not done.ok:
        raise failure(done, code, what, hint=hint, **dict(details or {}))
    return done


def which(program: str, env: Mapping[str, str]) -> str | None:
    """Where ``program`` is found on ``env``'s PATH (a name with a slash is taken as a path)."""
    if os.sep in program or (os.altsep and os.altsep in program):
        return program if os.path.isfile(program) and os.access(program, os.X_OK) else None
    return shutil.which(program, path=env.get("PATH", os.defpath))


def replace(argv: Sequence[str], env: Mapping[str, str], *, cwd: str | os.PathLike | None = None) -> NoReturn:
    """Run ``argv`` in place of this process (exec, argv only, never a shell); never returns.

    The signals Python ignores from its start-up (SIGPIPE, SIGXFSZ) are reset to their defaults
    first, as subprocess does for its children (exec resets handlers itself; an ignored signal
    would stay ignored), so ``kernelenv run -- yes | head`` ends as it does from a shell.
    Raises ProcError when it cannot start.
    """
    argv = [os.fspath(a) for a in argv]
    exe = which(argv[0], env)
    if exe is None:
        raise ProcError(argv, "not found" + ("" if os.sep in argv[0] else " on PATH"))
    for name in ("SIGPIPE", "SIGXFSZ"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_DFL)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    try:
        if cwd is not None:
            os.chdir(cwd)
        os.execve(exe, argv, dict(env))
    except OSError as exc:
        raise ProcError(argv, exc.strerror or str(exc)) from None
