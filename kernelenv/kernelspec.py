"""Kernelspecs, pure: names, building kernel.json, reading it, the ownership mark.

Nothing here starts a process. Writing is atomic: a spec folder is built beside its
final place and renamed into it, so a reader never sees half a kernel.json.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import tempfile
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

    @property
    def argv0(self) -> str | None:
        argv = (self.data or {}).get("argv")
        return argv[0] if isinstance(argv, list) and argv and isinstance(argv[0], str) else None

    @property
    def mark(self) -> dict[str, Any] | None:
        meta = (self.data or {}).get("metadata")
        mark = meta.get(MARK_KEY) if isinstance(meta, dict) else None
        if not isinstance(mark, dict) or not all(isinstance(mark.get(k), (str, type(None))) for k in ("project", "venv")):
            return None  # not a mark kernelenv wrote: treated as foreign
        return mark

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


def read(resource_dir: Path) -> Spec:
    """Read one spec folder; an unreadable kernel.json gives a Spec with ``error`` set."""
    name = resource_dir.name
    path = resource_dir / "kernel.json"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Spec(name, resource_dir, None, f"cannot read kernel.json: {exc.strerror or exc}")
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


def scan(kernel_dirs: list[Path]) -> list[Spec]:
    """Every spec in Jupyter's search path, in search order, shadowed ones included."""
    found: list[Spec] = []
    for kdir in kernel_dirs:
        try:
            entries = sorted(os.scandir(kdir), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if not NAME_RE.match(entry.name.lower()):
                continue  # Jupyter skips it too (and kernelenv's own temporary folders have a "~")
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir and os.path.exists(os.path.join(entry.path, "kernel.json")):
                found.append(read(Path(entry.path)))
            elif entry.is_symlink() and not os.path.exists(entry.path):
                found.append(Spec(entry.name, Path(entry.path), None, "spec folder is a dangling link"))
    return found


def write(kernels_dir: Path, name: str, spec: dict[str, Any], logo_dir: Path | None) -> Path:
    """Write ``kernels_dir/name`` atomically (replacing what is there) and return it.

    kernelenv's own spec folder is updated in place, kernel.json last and by rename, so a
    reader sees the old spec or the new one and the folder never goes missing. Anything
    else there (a foreign spec replaced with --force, a link) is swapped for a fresh folder.
    Files are 0644 and folders 0755 whatever the umask leaves more open. Callers hold the
    kernel's lock, so leftovers of killed runs for this name (".NAME~*") are swept first.
    """
    from . import files

    kernels_dir.mkdir(parents=True, exist_ok=True)
    final = kernels_dir / name
    for stale in kernels_dir.glob(f".{glob.escape(name)}~*"):
        _rmtree(stale)
    if final.is_dir() and not final.is_symlink() and read(final).mark is not None:
        _copy_logos(logo_dir, final)
        files.write_atomic(final / "kernel.json", json.dumps(spec, indent=1, ensure_ascii=False) + "\n")
        return final
    # "~" is not a kernel-name character: Jupyter never lists a folder a killed run left behind
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}~", suffix=".tmp", dir=kernels_dir))
    try:
        _copy_logos(logo_dir, tmp)
        (tmp / "kernel.json").write_text(json.dumps(spec, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.chmod(tmp / "kernel.json", 0o644)
        os.chmod(tmp, 0o755)
        if final.is_symlink() or final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{name}~", suffix=".old", dir=kernels_dir))
            os.rename(final, old / name)
            os.rename(tmp, final)
            _rmtree(old)
        else:
            os.rename(tmp, final)
    except BaseException:
        _rmtree(tmp)
        raise
    return final


def _copy_logos(logo_dir: Path | None, dest: Path) -> None:
    if logo_dir is None:
        return
    for logo in LOGO_FILES:
        src = logo_dir / logo
        if src.is_file():
            shutil.copyfile(src, dest / logo)
            os.chmod(dest / logo, 0o644)


def remove(resource_dir: Path) -> None:
    """Delete a spec folder; a symlinked spec folder loses only the link."""
    if resource_dir.is_symlink():
        resource_dir.unlink()
    else:
        _rmtree(resource_dir)


def _rmtree(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def advertises_encryption(spec: Spec) -> bool:
    """Whether the spec says its kernel takes CurveZMQ keys (metadata.supported_encryption)."""
    meta = (spec.data or {}).get("metadata")
    enc = meta.get("supported_encryption") if isinstance(meta, dict) else None
    return isinstance(enc, list) and "curve" in enc


def health(spec: Spec) -> tuple[str, list[str]]:
    """Static health of one spec, without starting a process.

    Returns (status, problems): status is ok, invalid-spec, interpreter-missing,
    ipykernel-missing or venv-broken (kernelenv's venv lost its pyvenv.cfg; ``create``
    rebuilds it, prune leaves it). "shadowed" is decided by whoever sees the whole search path.
    """
    if spec.error or spec.data is None:
        return "invalid-spec", [spec.error or "kernel.json is unreadable"]
    argv0 = spec.argv0
    assert argv0 is not None
    if not os.path.isabs(argv0):
        found = shutil.which(argv0)
        if not found:
            return "interpreter-missing", [f"{argv0} is not on PATH"]
        argv0 = found
    if not (os.path.isfile(argv0) and os.access(argv0, os.X_OK)):
        return "interpreter-missing", [f"interpreter {argv0} does not exist"]
    language = spec.data.get("language", "python")
    if not isinstance(language, str) or language.lower() != "python" or "ipykernel" not in " ".join(spec.data["argv"]):
        return "ok", []  # not an ipykernel spec: nothing more to check without running it
    prefix = Path(argv0).parent.parent
    venv = (spec.mark or {}).get("venv")
    if isinstance(venv, str) and os.path.realpath(prefix) == os.path.realpath(venv) and not (prefix / "pyvenv.cfg").is_file():
        return "venv-broken", [f"the venv {venv} is broken: its pyvenv.cfg is missing, so {argv0} runs outside it"]
    if (prefix / "pyvenv.cfg").is_file() and not _has_ipykernel(prefix):
        return "ipykernel-missing", [f"ipykernel is not installed in {prefix}"]
    return "ok", []


def _has_ipykernel(prefix: Path) -> bool:
    for lib in ("lib", "lib64", "Lib"):
        base = prefix / lib
        if (base / "site-packages" / "ipykernel").is_dir():
            return True
        try:
            for child in base.iterdir():
                if (child / "site-packages" / "ipykernel").is_dir():
                    return True
        except OSError:
            continue
    return False
