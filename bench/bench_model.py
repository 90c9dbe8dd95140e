"""The model-based trust test (tests/trust/model.py) with a random seed, for longer than CI runs it.

    .dev/bin/python bench/bench_model.py --examples 20 --steps 40 [--seed N]

Prints the seed, steps run, seconds per step and the first failure (with hypothesis's shrunk
sequence) if any; exit 1 on a failure. A failure found here is rerun with `--seed` and becomes a test.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "tests"), str(REPO)]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import emit  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=20)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(2**32)
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    from trust import model

    counted = {"steps": 0}
    original = model.TrustMachine._snapshot

    def counting(self, step):  # type: ignore[no-untyped-def]
        counted["steps"] += 1
        return original(self, step)

    model.TrustMachine._snapshot = counting  # type: ignore[method-assign]
    print(f"seed {seed}: {a.examples} runs of up to {a.steps} steps")
    t0 = time.monotonic()
    try:
        random.seed(seed)  # hypothesis draws its own seed from `random` when not derandomized
        run_state_machine_as_test(
            model.TrustMachine,
            settings=settings(max_examples=a.examples, stateful_step_count=a.steps, deadline=None, database=None,
                              suppress_health_check=list(HealthCheck), derandomize=False),
        )
    except Exception as exc:  # a broken invariant: hypothesis printed the shrunk steps above
        took = time.monotonic() - t0
        print(f"FAILED after {counted['steps']} steps in {took:.0f} s (seed {seed}): {type(exc).__name__}: {exc}")
        emit(f"trust model: broken invariants in {counted['steps']} random steps (seed {seed})", [1.0], target="0", unit="runs")
        return 1
    took = time.monotonic() - t0
    print(f"passed: {counted['steps']} steps in {took:.0f} s ({took / max(1, counted['steps']):.2f} s/step), seed {seed}")
    emit(f"trust model: broken invariants in {counted['steps']} random steps (seed {seed})", [0.0], target="0", unit="runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
