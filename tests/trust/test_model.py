"""The model-based trust test (tests/trust/model.py) with a fixed seed: a few hundred steps in CI.

KERNELENV_MODEL_EXAMPLES and KERNELENV_MODEL_STEPS make it longer; bench/bench_model.py runs it
with a random seed.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from .model import TrustMachine

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("KERNELENV_MODEL_EXAMPLES", "12"))
STEPS = int(os.environ.get("KERNELENV_MODEL_STEPS", "25"))

TestTrust = TrustMachine.TestCase
TestTrust.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    derandomize=True,  # a fixed seed: the same sequences in every CI run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
