"""What the sharing tests share: the engine, a Debian base image, a locked project and its image.

Public registries are unreachable here, so the base image is made from Debian packages with
mmdebstrap and imported into podman once, then kept (a podman image plus a stamp in the sharing
cache). The locked project (Python 3.11, the data profile) and the image kernelenv builds from it
are kept the same way: the image's tag is a digest of the recipe, the lock and the base, so a
warm machine reuses it and any change to kernelenv's recipe rebuilds it. Both are made under a
file lock, so parallel workers wait for one build.

When podman cannot run here at all, everything that needs it skips with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARING = Path(os.environ.get("KERNELENV_SHARING_CACHE", REPO / ".cache" / "sharing"))
CONF = SHARING / "containers.conf"
EG_VENV = SHARING / "eg-venv"
EG_SRC = SHARING / "eg-src"
BASE_IMAGE = "localhost/kernelenv-test-base:bookworm"
BASE_PACKAGES = "python3,python3-venv,ca-certificates"
PROJECT = SHARING / "projects" / "sharedemo"  # the locked project whose image the tests use
TIMINGS: dict[str, float] = {}  # what the session measured (printed at its end)


def engine_env() -> None:
    """Point podman at the sharing containers.conf (runc; ulimits this machine allows)."""
    if CONF.is_file():
        os.environ.setdefault("CONTAINERS_CONF", str(CONF))


def podman_or_skip() -> str:
    """The podman client, or a skip saying why podman cannot run containers here."""
    engine_env()
    podman = shutil.which("podman")
    if not podman:
        pytest.skip("podman is not installed: run scripts/install-sharing-tools.sh (or set KERNELENV_SKIP_SHARING=1)")
    done = subprocess.run([podman, "info", "--format", "{{.Host.OCIRuntime.Name}}"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        pytest.skip(f"podman cannot run here: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return podman


def podman(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done


def image_id(image: str) -> str | None:
    done = podman("image", "inspect", "--format", "{{.Id}}", image, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def _locked(name: str):
    from filelock import FileLock

    SHARING.mkdir(parents=True, exist_ok=True)
    return FileLock(str(SHARING / f"{name}.lock"))


def base_image() -> str:
    """A Debian bookworm image with python3 (3.11) and venv, made with mmdebstrap once and kept."""
    podman_or_skip()
    stamp = SHARING / "base-image.json"
    with _locked("base-image"):
        if stamp.is_file():
            want = json.loads(stamp.read_text()).get("id")
            if want and image_id(BASE_IMAGE) == want:
                return BASE_IMAGE
        if not shutil.which("mmdebstrap"):
            pytest.skip("mmdebstrap is not installed: run scripts/install-sharing-tools.sh")
        t = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="kernelenv-rootfs-") as tmp:
            tar = Path(tmp) / "rootfs.tar"
            done = subprocess.run(
                ["mmdebstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm", str(tar)],
                capture_output=True,
                text=True,
                timeout=1200,
                stdin=subprocess.DEVNULL,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            podman("import", str(tar), BASE_IMAGE)
        TIMINGS["base image (mmdebstrap + podman import)"] = time.monotonic() - t
        stamp.write_text(json.dumps({"image": BASE_IMAGE, "id": image_id(BASE_IMAGE), "packages": BASE_PACKAGES}))
        return BASE_IMAGE


def _cli(*args: str, env: dict, timeout: float = 1800) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "kernelenv", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    envelope = json.loads(done.stdout)
    assert done.returncode == 0, (args, envelope["errors"], done.stderr[-3000:])
    return envelope["data"]


def project_env(root: Path) -> dict:
    """An environment with its own HOME and Jupyter folders under ``root`` (for kernelenv runs)."""
    env = dict(os.environ)
    for key, sub in (
        ("HOME", "home"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_PATH", "path"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
    ):
        (root / sub).mkdir(parents=True, exist_ok=True)
        env[key] = str(root / sub)
    env["XDG_CACHE_HOME"] = str(root / "home" / ".cache")
    env["JUPYTER_PLATFORM_DIRS"] = "0"
    env.pop("VIRTUAL_ENV", None)
    return env


def kernel_image() -> tuple[Path, str]:
    """(the locked project, the image `kernelenv container` built from its lock on the base image)."""
    base = base_image()
    with _locked("sharedemo"):
        env = project_env(SHARING / "projects" / "iso")
        if not (PROJECT / "kernelenv.lock").is_file():
            PROJECT.mkdir(parents=True, exist_ok=True)
            _cli("create", str(PROJECT), "--python", "3.11", "--profile", "data", env=env)
            _cli("lock", str(PROJECT), env=env)
        t = time.monotonic()
        data = _cli("container", str(PROJECT), "--base-image", base, env=env)
        assert data["image"]["built_by_kernelenv"] and data["image"]["state"] in ("built", "reused"), data
        TIMINGS[f"project image ({data['image']['state']}, `kernelenv container --base-image`)"] = time.monotonic() - t
        return PROJECT, data["image"]["name"]


def containers_of(label: str) -> list[str]:
    """Ids of containers (running or not) carrying ``label`` (key=value)."""
    return podman("ps", "-a", "-q", "--filter", f"label={label}").stdout.split()
