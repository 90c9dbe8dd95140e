"""Profiles: package sets, composition with --with, GPU detection, the availability check."""

from __future__ import annotations

import sys

import pytest
from conftest import make_project

from kernelenv import installer, profiles
from kernelenv.installer import uv_binary
from kernelenv.result import OperationError


def test_package_sets():
    assert profiles.packages(None) == []
    assert profiles.packages("minimal") == []
    assert profiles.packages("data") == ["numpy", "pandas"]
    assert profiles.packages("dl") == ["numpy", "pandas", "tensorflow-cpu"]
    if sys.platform.startswith("linux"):
        assert profiles.packages("dl", gpu=True) == ["numpy", "pandas", "tensorflow[and-cuda]"]
    with pytest.raises(OperationError) as e:
        profiles.packages("huge")
    assert e.value.info.code == "USAGE"


def test_compose_user_packages_win():
    dl = profiles.packages("dl")
    assert profiles.compose(dl, []) == dl
    assert profiles.compose(dl, ["requests"]) == [*dl, "requests"]
    assert profiles.compose(dl, ["numpy==1.26.4"]) == ["pandas", "tensorflow-cpu", "numpy==1.26.4"]
    # any TensorFlow the user names replaces the profile's: two of them would conflict
    assert profiles.compose(dl, ["tensorflow==2.20.0"]) == ["numpy", "pandas", "tensorflow==2.20.0"]
    assert profiles.compose(profiles.packages("dl", gpu=True), ["Tensorflow_CPU"]) == ["numpy", "pandas", "Tensorflow_CPU"]


def _fake_nvidia_smi(folder, output: str, rc: int = 0):
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "nvidia-smi"
    exe.write_text(f"#!/bin/sh\ncat <<'END'\n{output}\nEND\nexit {rc}\n")
    exe.chmod(0o755)
    return folder


def test_gpu_detection_reads_nvidia_smi(tmp_path, monkeypatch):
    real = profiles.has_nvidia_gpu()  # whatever this machine has
    assert isinstance(real, bool)
    monkeypatch.setenv("PATH", f"{_fake_nvidia_smi(tmp_path / 'gpu', 'GPU 0: NVIDIA H100 (UUID: GPU-1)')}:/usr/bin:/bin")
    assert profiles.has_nvidia_gpu() is True
    broken = _fake_nvidia_smi(
        tmp_path / "broken", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver", rc=9
    )
    monkeypatch.setenv("PATH", f"{broken}:/usr/bin:/bin")
    assert profiles.has_nvidia_gpu() is False
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert profiles.has_nvidia_gpu() is False


needs_uv = pytest.mark.skipif(uv_binary() is None, reason="uv cannot run here")


@needs_uv
def test_tensorflow_available_for_this_python():
    v = ".".join(map(str, sys.version_info[:3]))
    profiles.check_available("dl", profiles.packages("dl"), python_version=v, backend=installer.choose("uv"))


@needs_uv
def test_tensorflow_unavailable_is_a_clear_error():
    with pytest.raises(OperationError) as e:
        profiles.check_available("dl", profiles.packages("dl"), python_version="3.99.0", backend=installer.choose("uv"))
    info = e.value.info
    assert info.code == "PROFILE_UNAVAILABLE"
    assert "3.99" in info.message and "tensorflow-cpu" in info.message
    assert "--python" in info.hint
    with pytest.raises(OperationError) as e:
        profiles.check_available(
            "dl", ["tensorflow-cpu"], python_version="3.11.7", implementation="PyPy", backend=installer.Pip()
        )
    assert e.value.info.code == "PROFILE_UNAVAILABLE"
    # data needs no check; neither does dl when the user brought no TensorFlow at all
    profiles.check_available("data", ["numpy", "pandas"], python_version="3.99.0", backend=installer.choose("uv"))


def test_create_with_profile_data_and_with(jupyter, cli, tmp_path):
    project = make_project(tmp_path)
    r = cli("create", project, "--profile", "data", "--with", "six", "--json")
    assert r.rc == 0, r
    assert r.data["profile"] == "data"
    installed = set(r.data["installed"])
    assert {"ipykernel", "numpy", "pandas", "six"} <= installed
    # a re-run is a no-op sync
    r2 = cli("create", project, "--profile", "data", "--with", "six", "--json")
    assert r2.rc == 0 and r2.data["installed"] == [], r2


def test_create_unknown_profile_is_usage(jupyter, cli, tmp_path):
    r = cli("create", make_project(tmp_path), "--profile", "huge", "--json")
    assert r.rc == 2 and r.codes == ["USAGE"]
    assert not (tmp_path / "demo" / ".venv").exists()
