"""Package requirements, checked before anything is touched.

Contract:
- ``check(values, source)`` accepts only PEP 508 requirements (``numpy>=1.26``, ``pkg[extra]``,
  ``name @ https://...``, with markers); anything else, an installer option such as
  ``--target=/x`` or a shell fragment such as ``numpy; rm -rf /`` included, raises
  REQUIREMENT_INVALID naming where it came from (``--with``, the project file's key).
- ``check_file(path)`` reads a requirements file the way pip does, line by line (comments,
  continuations, nested ``-r``/``-c`` files relative to it), and accepts PEP 508 lines with
  ``--hash`` options, pip's local forms (``-e PATH_OR_URL``, an archive path or URL) and the few
  options that only choose where packages come from. Options that change where or how packages
  are installed (``--target``, ``--prefix``, ``--user``, ``--root``...) are refused with the
  file and line.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

from .result import OperationError

# options a requirements file may hold: they choose sources, not destinations
_SOURCE_OPTIONS = {
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--no-index",
    "--pre",
    "--prefer-binary",
    "--only-binary",
    "--no-binary",
    "--trusted-host",
    "--use-feature",
}
_NESTED = {"-r", "--requirement", "-c", "--constraint"}
_EDITABLE = {"-e", "--editable"}
_URL_SCHEMES = ("http://", "https://", "file://", "git+", "hg+", "svn+", "bzr+")
_ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")


def _invalid(value: str, where: str, why: str) -> OperationError:
    return OperationError(
        "REQUIREMENT_INVALID",
        f"{where}: {value!r} is not a package requirement ({why})",
        hint="give requirements such as numpy, 'pandas>=2' or 'pkg[extra]==1.0'",
        requirement=value,
        source=where,
    )


def check_one(value: str, where: str) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    text = value.strip()
    if not text or text.startswith("-"):
        raise _invalid(value, where, "an option, not a package" if text else "it is empty")
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        raise _invalid(value, where, str(exc).splitlines()[0]) from None


def check(values: list[str], where: str) -> None:
    for v in values:
        check_one(v, where)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    buf, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        if not buf:
            start = n
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        if buf.strip():
            out.append((start, buf.strip()))
        buf = ""
    if buf.strip():
        out.append((start, buf.strip()))
    return out


def _file_lines(path: Path, seen: set[Path]) -> Iterator[tuple[str, str, list[str]]]:
    """(where, line, words) of every logical line of a requirements file, the files it includes by ``-r``/``-c``
    followed (relative to it, each once) instead of given. REQUIREMENTS_NOT_FOUND when one is missing,
    REQUIREMENT_INVALID when one cannot be read or a line cannot be split."""
    real = path.resolve()
    if real in seen:
        return
    seen.add(real)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OperationError("REQUIREMENTS_NOT_FOUND", f"requirements file {path} does not exist", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OperationError("REQUIREMENT_INVALID", f"requirements file {path} cannot be read: {exc}", path=path) from None
    for n, line in _logical_lines(text):
        where = f"{path}:{n}"
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise _invalid(line, where, str(exc)) from None
        head = words[0]
        opt = head.split("=", 1)[0]
        if opt in _NESTED:
            target = head.split("=", 1)[1] if "=" in head else (words[1] if len(words) > 1 else "")
            if not target:
                raise _invalid(line, where, f"{opt} without a file")
            yield from _file_lines((path.parent / target) if not Path(target).is_absolute() else Path(target), seen)
            continue
        yield where, line, words


def check_file(path: Path) -> None:
    """REQUIREMENTS_NOT_FOUND when it is missing; REQUIREMENT_INVALID for a line that is not allowed."""
    for where, line, words in _file_lines(path, set()):
        head = words[0]
        opt = head.split("=", 1)[0]
        if opt in _SOURCE_OPTIONS:
            continue
        if opt in _EDITABLE:
            if "=" not in head and len(words) < 2:
                raise _invalid(line, where, f"{opt} without a path or URL")
            continue
        if head.startswith(_URL_SCHEMES) or head.endswith(_ARCHIVES) or head.startswith((".", "/")):
            continue  # a local archive, folder or URL: pip's own forms
        if head.startswith("-"):
            raise _invalid(line, where, f"the option {opt} is not allowed in a requirements file kernelenv installs")
        spec = " ".join(w for w in words if not w.startswith("--hash"))
        extra = [w for w in words if w.startswith("-") and not w.startswith("--hash")]
        if extra:
            raise _invalid(line, where, f"the option {extra[0].split('=')[0]} is not allowed on a requirement line")
        check_one(spec, where)


def options_in(paths: list[Path]) -> set[str]:
    """The options requirements files hold, includes (``-r``/``-c``) aside: an index, ``--find-links``,
    ``--no-binary``, ``-e``, a requirement's ``--hash``... A file that cannot be read counts as ``?``."""
    found: set[str] = set()
    try:
        for path in paths:
            for _, _, words in _file_lines(Path(path).absolute(), set()):
                found.update(w.split("=", 1)[0] for w in words if w.startswith("-"))
    except OperationError:
        found.add("?")
    return found


def satisfied(values: list[str], installed: dict[str, str]) -> bool:
    """Whether every requirement is met by ``installed`` ({normalised name: version}); markers ignored."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    for v in values:
        try:
            req = Requirement(v)
        except InvalidRequirement:
            return False
        version = installed.get(canonicalize_name(req.name))
        if version is None or (req.specifier and not req.specifier.contains(version, prereleases=True)):
            return False
    return True


def names(values: list[str]) -> set[str]:
    """The normalised project names of PEP 508 requirements (invalid ones skipped)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    out: set[str] = set()
    for v in values:
        try:
            out.add(canonicalize_name(Requirement(v).name))
        except InvalidRequirement:
            continue
    return out
