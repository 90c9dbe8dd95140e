"""Kernelspecs, pure: names, building kernel.json, parsing it, the ownership mark.

No I/O here (tested by comparing dicts): reading, scanning and writing spec folders is
kernelenv/specstore.py; health is kernelenv/health.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAME_RE = re.compile(r"^[a-z0-9._-]+$")
MAX_NAME = 64
MARK_KEY = "kernelenv"  # metadata.kernelenv: the ownership mark
LOGO_FILES = ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg")
_IGNORED_IN_COMPARE = ("created",)
ENCRYPTION = ("curve",)  # metadata.supported_encryption (Jupyter's transport-encryption JEP)
ENCRYPTION_MIN_IPYKERNEL = (7, 3)  # ipykernel PR #1515: loads curve keys from the connection file


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a kernel name Jupyter accepts, or None when it is fine."""
    if not name:
        return "it is empty"
    if name in (".", "..") or name.startswith("."):
        return "it may not start with '.'"
    if len(name) > MAX_NAME:
        return f"it is longer than {MAX_NAME} characters"
    if not NAME_RE.match(name):
        return "use lower-case letters, digits, '.', '_' and '-' only"
    return None


def check_name(name: str) -> None:
    """NAME_INVALID (with a valid suggestion) unless ``name`` is a kernel name Jupyter accepts."""
    from .result import OperationError

    problem = name_problem(name)
    if problem:
        raise OperationError(
            "NAME_INVALID", f"kernel name {name!r} is not valid: {problem}", hint=f"try --name {slug(name)}", name=name
        )


def slug(text: str) -> str:
    """A valid, stable, readable kernel name for a folder name in any script.

    Non-Latin scripts are transliterated ('数据分析' -> 'shujufenxi'); when nothing
    readable is left, a short hash of the text keeps the name stable and unique.
    """
    from anyascii import anyascii

    ascii_text = anyascii(unicodedata.normalize("NFKC", text)).lower()
    s = re.sub(r"[^a-z0-9._-]+", "-", ascii_text)
    s = re.sub(r"-{2,}", "-", s).strip("-._")
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if not s:
        return f"project-{digest}"
    if len(s) > MAX_NAME:
        s = s[: MAX_NAME - 9].rstrip("-._") + "-" + digest
    return s


@dataclass
class Spec:
    """A kernelspec found on disk. ``data`` is None when kernel.json is unreadable."""

    name: str
    resource_dir: Path
    data: dict[str, Any] | None
    error: str | None = None
    copied: bool = False  # its mark names another spec folder: a copy, not kernelenv's

    @property
    def key(self) -> str:
        """The name Jupyter knows it by: jupyter_client lower-cases folder names."""
        return self.name.lower()

    @property
    def argv0(self) -> str | None:
        argv = (self.data or {}).get("argv")
        return argv[0] if isinstance(argv, list) and argv and isinstance(argv[0], str) else None

    @property
    def mark(self) -> dict[str, Any] | None:
        meta = (self.data or {}).get("metadata")
        mark = meta.get(MARK_KEY) if isinstance(meta, dict) else None
        if not isinstance(mark, dict) or not all(isinstance(mark.get(k), (str, type(None))) for k in ("project", "venv", "spec")):
            return None  # not a mark kernelenv wrote: treated as foreign
        return None if self.copied else mark

    @property
    def display_name(self) -> str:
        d = (self.data or {}).get("display_name")
        return d if isinstance(d, str) else self.name


def build(
    *,
    python: Path,
    python_version: tuple[int, int, int],
    implementation: str,
    venv: Path | None,
    display_name: str,
    project: Path | None,
    created: str,
    kernelenv_version: str,
    spec_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    encryption: bool = False,
) -> dict[str, Any]:
    """kernel.json for an interpreter; ``venv`` None for a plain (non-venv) interpreter.

    ``encryption`` True (the interpreter's ipykernel loads CurveZMQ keys: 7.3+) adds
    ``metadata.supported_encryption = ["curve"]``, the stanza jupyter_client 8.9+ reads
    to provision keys when its ``transport_encryption`` is auto or required.

    ``argv`` is exactly ``[python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]``: an
    extra interpreter argument makes VS Code rename the spec and stop matching notebooks to it
    (see kernelenv/vscode.py). What ``-Xfrozen_modules=off`` gave the debugger on CPython 3.11+
    comes from ``env`` instead, unless ``extra_env`` sets it: ``PYTHON_FROZEN_MODULES=off`` on
    3.13+ (the same switch as an environment variable), and on 3.11/3.12, which have no such
    variable, ipykernel's own fallback ``PYDEVD_DISABLE_FILE_VALIDATION=1`` (debugpy then does
    not warn at every start; breakpoints inside frozen standard-library modules are missed).
    """
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    bindir = str(python.parent)
    env: dict[str, str] = dict(extra_env or {})
    if implementation == "CPython" and python_version[:2] >= (3, 13):
        env.setdefault("PYTHON_FROZEN_MODULES", "off")
    elif implementation == "CPython" and python_version[:2] >= (3, 11):
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env["PATH"] = f"{bindir}{os.pathsep}${{PATH}}"
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
    metadata: dict[str, Any] = {"debugger": True}
    if encryption:
        metadata["supported_encryption"] = list(ENCRYPTION)
    return {
        "argv": argv,
        "display_name": display_name,
        "language": "python",
        "interrupt_mode": "signal",
        "env": env,
        "metadata": {
            **metadata,
            MARK_KEY: {
                "project": str(project) if project else None,
                "venv": str(venv) if venv else None,
                "python": str(python),
                "python_version": ".".join(map(str, python_version)),
                "kernelenv_version": kernelenv_version,
                "created": created,
                **({"spec": str(spec_dir)} if spec_dir is not None else {}),
            },
        },
    }


def same(a: dict[str, Any] | None, b: dict[str, Any]) -> bool:
    """Whether two specs are equal but for the creation time and kernelenv version."""
    if a is None:
        return False

    def strip(d: dict[str, Any]) -> dict[str, Any]:
        d = json.loads(json.dumps(d))
        mark = d.get("metadata", {}).get(MARK_KEY)
        if isinstance(mark, dict):
            for k in (*_IGNORED_IN_COMPARE, "kernelenv_version"):
                mark.pop(k, None)
        return d

    return strip(a) == strip(b)


def parse(name: str, resource_dir: Path, raw: bytes | None, read_error: str | None = None) -> Spec:
    """A Spec from kernel.json's bytes (``raw`` None: unreadable, ``read_error`` says why); never raises."""
    if raw is None:
        return Spec(name, resource_dir, None, read_error or "cannot read kernel.json")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Spec(name, resource_dir, None, "kernel.json is not UTF-8")
    except ValueError as exc:
        return Spec(name, resource_dir, None, f"kernel.json is not valid JSON ({exc})")
    if not isinstance(data, dict):
        return Spec(name, resource_dir, None, "kernel.json is not a JSON object")
    argv = data.get("argv")
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        return Spec(name, resource_dir, data, "argv is missing or not a list of strings")
    if not isinstance(data.get("display_name", ""), str):
        return Spec(name, resource_dir, data, "display_name is not a string")
    env = data.get("env", {})
    if not (isinstance(env, dict) and all(isinstance(v, str) for v in env.values())):
        return Spec(name, resource_dir, data, "env is not an object of strings")
    return Spec(name, resource_dir, data)


def runs_ipykernel(spec: Spec) -> bool:
    """Whether the spec is a Python kernel started through ipykernel (what kernelenv can check and fix)."""
    data = spec.data or {}
    language = data.get("language", "python")
    argv = data.get("argv") or []
    return (
        isinstance(language, str)
        and language.lower() == "python"
        and any(isinstance(a, str) and a.startswith("ipykernel") for a in argv)
    )


def advertises_encryption(spec: Spec) -> bool:
    """Whether the spec says its kernel takes CurveZMQ keys (metadata.supported_encryption)."""
    meta = (spec.data or {}).get("metadata")
    enc = meta.get("supported_encryption") if isinstance(meta, dict) else None
    return isinstance(enc, list) and "curve" in enc
