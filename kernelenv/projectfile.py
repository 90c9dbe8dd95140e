"""The project file: ``[tool.kernelenv]`` in pyproject.toml, or ``kernelenv.toml`` (top-level keys).

Contract:
- ``load(project)`` reads and validates it, plus ``[project].dependencies`` and
  ``requires-python`` from pyproject.toml; any problem raises PROJECT_FILE_INVALID naming
  the file, the key and what was expected. A project with neither file loads as empty.
- ``merge(project, opts, python)`` merges it into CreateOptions: flags win over the file,
  the file over defaults; packages add up (file, then [project].dependencies, then --with).
  The Python asked for is ``--python``, else the file's ``python``, else ``requires-python``.
  A requirement that is not PEP 508 (in the file or in the options) is REQUIREMENT_INVALID;
  requirements files are checked line by line (kernelenv/requirements.py).
- ``write(project, updates)`` changes only the given keys and keeps the rest of the file,
  comments and formatting included (tomlkit round-trip).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import files
from .result import OperationError

PYPROJECT = "pyproject.toml"
KERNELENV_TOML = "kernelenv.toml"

# key: (expected, as said in errors)
KEYS: dict[str, str] = {
    "python": "a string: a version (3.12), a specifier (>=3.10), cpython3.9 or a path",
    "packages": 'a list of requirement strings, such as ["numpy>=1.26"]',
    "requirements": "a list of requirements file paths, relative to the project",
    "profile": "a string: minimal, data or dl",
    "name": "a string: a kernel name",
    "display-name": "a string: the name Jupyter shows",
    "env": 'a table of string values, such as { MPLBACKEND = "Agg" }',
}


@dataclass
class ProjectFile:
    path: Path | None = None  # where the kernelenv settings are (None: nowhere)
    section: str = "tool.kernelenv"  # how keys are named in messages ("" for kernelenv.toml)
    settings: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)  # [project].dependencies
    requires_python: str | None = None
    pyproject: Path | None = None

    def python_spec(self) -> str | None:
        return self.settings.get("python") or self.requires_python


def _load_toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - depends on the interpreter
        import tomli as tomllib
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _invalid(path, None, f"cannot be read: {exc}", "a readable UTF-8 TOML file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _invalid(path, None, f"is not valid TOML: {exc}", "valid TOML") from None


def _invalid(path: Path, key: str | None, problem: str, expected: str, got: Any = None) -> OperationError:
    where = f"{path}: {key}" if key else str(path)
    details: dict[str, Any] = {"file": path, "key": key, "expected": expected}
    if got is not None:
        details["got"] = got
    return OperationError(
        "PROJECT_FILE_INVALID",
        f"{where} {problem}",
        hint=f"{key or 'the file'} must be {expected}",
        **details,
    )


def _type_name(v: Any) -> str:
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a float", list: "a list", dict: "a table"}.get(
        type(v), type(v).__name__
    )


def _key(section: str, k: str) -> str:
    return f"{section}.{k}" if section else k


def _str_list(path: Path, key: str, v: Any, expected: str) -> list[str]:
    if not isinstance(v, list):
        raise _invalid(path, key, f"is {_type_name(v)}, expected {expected}", expected, _type_name(v))
    for i, item in enumerate(v):
        if not isinstance(item, str):
            raise _invalid(path, f"{key}[{i}]", f"is {_type_name(item)}, expected a string", expected, _type_name(item))
    return list(v)


def _requirements(path: Path, key: str, items: list[str]) -> None:
    from . import requirements

    for i, item in enumerate(items):
        try:
            requirements.check_one(item, f"{path}: {key}[{i}]")
        except OperationError as exc:
            exc.info.details.update({"file": str(path), "key": f"{key}[{i}]", "expected": "a requirement such as numpy>=1.26"})
            raise


def validate(path: Path, section: str, raw: Any) -> dict[str, Any]:
    """The settings table checked key by key; raises PROJECT_FILE_INVALID."""
    from . import profiles, pythons

    if not isinstance(raw, dict):
        raise _invalid(path, section or None, f"is {_type_name(raw)}, expected a table", "a table", _type_name(raw))
    out: dict[str, Any] = {}
    for k, v in raw.items():
        key = _key(section, k)
        if k not in KEYS:
            close = difflib.get_close_matches(k, KEYS, n=1)
            also = f" (did you mean {close[0]!r}?)" if close else ""
            raise _invalid(path, key, f"is not a known key{also}; known keys: {', '.join(KEYS)}", "one of " + ", ".join(KEYS), k)
        expected = KEYS[k]
        if k in ("packages", "requirements"):
            items = _str_list(path, key, v, expected)
            if k == "packages":
                _requirements(path, key, items)
            out[k] = items
        elif k == "env":
            if not isinstance(v, dict):
                raise _invalid(path, key, f"is {_type_name(v)}, expected {expected}", expected, _type_name(v))
            for name, value in v.items():
                if not isinstance(value, str):
                    raise _invalid(
                        path, f"{key}.{name}", f"is {_type_name(value)}, expected a string", expected, _type_name(value)
                    )
            out[k] = dict(v)
        else:
            if not isinstance(v, str):
                raise _invalid(path, key, f"is {_type_name(v)}, expected {expected}", expected, _type_name(v))
            if not v.strip():
                raise _invalid(path, key, "is empty", expected, v)
            if k == "python" and not pythons.is_path(v) and pythons.parse(v) is None:
                raise _invalid(path, key, f"{v!r} is not {pythons.FORMS}", expected, v)
            if k == "profile" and v not in profiles.PROFILES:
                raise _invalid(path, key, f"{v!r} is not a profile: choose one of {', '.join(profiles.PROFILES)}", expected, v)
            if k == "name":
                from .kernelspec import name_problem

                if name_problem(v):
                    raise _invalid(path, key, f"{v!r} is not a valid kernel name: {name_problem(v)}", expected, v)
            out[k] = v
    return out


def _project_table(path: Path, data: dict) -> tuple[list[str], str | None]:
    project = data.get("project", {})
    if not isinstance(project, dict):
        raise _invalid(path, "project", f"is {_type_name(project)}, expected a table", "a table")
    deps: list[str] = []
    if "dependencies" in project:
        deps = _str_list(path, "project.dependencies", project["dependencies"], "a list of requirement strings")
        _requirements(path, "project.dependencies", deps)
    rp = project.get("requires-python")
    if rp is not None:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        expected = 'a version specifier such as ">=3.10"'
        if not isinstance(rp, str):
            raise _invalid(path, "project.requires-python", f"is {_type_name(rp)}, expected {expected}", expected)
        try:
            SpecifierSet(rp)
        except InvalidSpecifier:
            raise _invalid(path, "project.requires-python", f"{rp!r} is not {expected}", expected, rp) from None
    return deps, rp


def load(project: Path) -> ProjectFile:
    """The project's kernelenv settings, [project] dependencies and requires-python."""
    pyproject = project / PYPROJECT
    ktoml = project / KERNELENV_TOML
    pf = ProjectFile()
    has_tool = False
    if pyproject.is_file():
        data = _load_toml(pyproject)
        pf.pyproject = pyproject
        pf.dependencies, pf.requires_python = _project_table(pyproject, data)
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise _invalid(pyproject, "tool", f"is {_type_name(tool)}, expected a table", "a table")
        if "kernelenv" in tool:
            has_tool = True
            pf.path, pf.section = pyproject, "tool.kernelenv"
            pf.settings = validate(pyproject, "tool.kernelenv", tool["kernelenv"])
    if ktoml.is_file():
        if has_tool:
            raise _invalid(
                ktoml,
                None,
                f"and [tool.kernelenv] in {pyproject} both hold kernelenv settings",
                "in one place only: keep [tool.kernelenv] or kernelenv.toml",
            )
        data = _load_toml(ktoml)
        if set(data) == {"tool"} and isinstance(data["tool"], dict) and set(data["tool"]) == {"kernelenv"}:
            pf.path, pf.section = ktoml, "tool.kernelenv"  # the pyproject form, copied as is
            pf.settings = validate(ktoml, "tool.kernelenv", data["tool"]["kernelenv"])
        else:
            pf.path, pf.section = ktoml, ""
            pf.settings = validate(ktoml, "", data)
    return pf


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i in items:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


@dataclass
class CreateOptions:
    """What ``create`` (and the verbs that rebuild a venv) is asked for, flags and project file merged."""

    name: str | None = None
    display_name: str | None = None
    packages: list[str] = field(default_factory=list)
    requirement_files: list[Path] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    profile: str | None = None  # minimal | data | dl: see kernelenv/profiles.py
    offline: bool = False  # with a lock: install from the cache alone


def merge(project: Path, opts: CreateOptions, python: str | None) -> tuple[CreateOptions, str | None, ProjectFile]:
    """(``opts`` with the file merged in, the --python spec to use, the file read).

    Every requirement (file and options) and requirements file is checked before it returns.
    """
    from . import requirements

    requirements.check(opts.packages, "--with")
    pf = load(project)
    s = pf.settings
    changes: dict[str, Any] = {}
    if opts.name is None and "name" in s:
        changes["name"] = s["name"]
    if opts.display_name is None and "display-name" in s:
        changes["display_name"] = s["display-name"]
    if opts.profile is None and "profile" in s:
        changes["profile"] = s["profile"]
    packages = _dedupe([*s.get("packages", []), *pf.dependencies, *opts.packages])
    if packages != list(opts.packages):
        changes["packages"] = packages
    if s.get("requirements"):
        files = [(project / os.path.expanduser(r)).absolute() for r in s["requirements"]]
        changes["requirement_files"] = [*files, *[f for f in opts.requirement_files if f not in files]]
    if s.get("env"):
        changes["extra_env"] = {**s["env"], **(opts.extra_env or {})}
    merged = dataclasses.replace(opts, **changes) if changes else opts
    for f in merged.requirement_files:
        requirements.check_file(f)
    return merged, python if python is not None else pf.python_spec(), pf


def target(project: Path) -> Path:
    """Where ``init`` writes: kernelenv.toml when it already holds the settings or no pyproject exists."""
    if (project / KERNELENV_TOML).is_file() or not (project / PYPROJECT).is_file():
        return project / KERNELENV_TOML
    return project / PYPROJECT


def write(project: Path, updates: dict[str, Any]) -> tuple[Path, bool, list[str]]:
    """Set ``updates`` (validated first) in the project file. Returns (file, created, changed keys)."""
    import tomlkit

    path = target(project)
    in_pyproject = path.name == PYPROJECT
    section = "tool.kernelenv" if in_pyproject else ""
    validate(path, section, updates)
    created = not path.exists()
    if created:
        doc = tomlkit.document()
        doc.add(tomlkit.comment("kernelenv settings for this project: `kernelenv create` reads them"))
    else:
        load(project)  # refuse to edit a file that is already invalid
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    if in_pyproject or ("tool" in doc and "kernelenv" in doc["tool"]):
        if "tool" not in doc:
            doc.add(tomlkit.nl())
            doc["tool"] = tomlkit.table(is_super_table=True)
        if "kernelenv" not in doc["tool"]:
            doc["tool"]["kernelenv"] = tomlkit.table()
        table = doc["tool"]["kernelenv"]
    else:
        table = doc
    changed = []
    for k, v in updates.items():
        current = table.get(k)
        current = current.unwrap() if hasattr(current, "unwrap") else current
        if k == "env" and isinstance(current, dict):
            v = {**current, **v}
        if current == v:
            continue
        if k == "env":
            env_table = tomlkit.table()
            for name, value in v.items():
                env_table[name] = value
            table[k] = env_table
        elif isinstance(v, list):
            arr = tomlkit.array()
            arr.extend(v)
            if len(v) > 3:
                arr.multiline(True)
            table[k] = arr
        else:
            table[k] = v
        changed.append(k)
    if changed or created:
        text = tomlkit.dumps(doc)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644  # keep the user's file mode
        files.write_atomic(path, text, mode=mode)
    load(project)  # what was written must read back
    return path, created, changed
