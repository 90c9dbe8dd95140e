"""Fixtures of the sharing tests: the engine (or a skip), the base image and the project's image."""

from __future__ import annotations

import pytest

from . import support


@pytest.fixture(scope="session")
def podman():
    return support.podman_or_skip()


@pytest.fixture(scope="session")
def base_image(podman):
    return support.base_image()


@pytest.fixture(scope="session")
def kernel_image(podman):
    """(project folder, image tag): the locked project and the image kernelenv built for it."""
    return support.kernel_image()


def pytest_terminal_summary(terminalreporter):
    if support.TIMINGS:
        terminalreporter.write_sep("-", "sharing: timings measured in this session")
        for what, seconds in support.TIMINGS.items():
            terminalreporter.write_line(f"{seconds:8.2f} s  {what}")
