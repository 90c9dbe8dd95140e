"""The trust model (tests/trust/model.py) with a random seed, run long (issue 10).

Run: .dev/bin/python bench/bench_model.py [--examples 20] [--steps 40] [--seed N]
CI runs the same state machine with a fixed seed (tests/trust/test_model.py); this runs it with
a new seed each time (printed first: pass it back with --seed to replay a failure). Prints the
seed, the sequences and steps run, whether every invariant held, the wall time per step, and a
clean ``create`` on a fresh project as the anchor (time per step / create time).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import emit  # noqa: E402


def anchor() -> float:
    """Seconds of one clean `create` in a fresh isolated world (the model's commonest step)."""
    from tests.trust.model import World

    w = World()
    try:
        (w.projects / "anchor").mkdir()
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "kernelenv", "create", str(w.projects / "anchor"), "--json"],
            env=w.env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t
    finally:
        w.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=20)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"seed {seed}", flush=True)

    import hypothesis.core
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    from tests.trust import model

    counts = {"runs": 0, "steps": 0}
    snapshot, init = model.TrustMachine._snapshot, model.TrustMachine.__init__

    def counted_snapshot(self, step):  # type: ignore[no-untyped-def]
        counts["steps"] += 1
        return snapshot(self, step)

    def counted_init(self):  # type: ignore[no-untyped-def]
        counts["runs"] += 1
        init(self)

    model.TrustMachine._snapshot = counted_snapshot  # type: ignore[method-assign]
    model.TrustMachine.__init__ = counted_init  # type: ignore[method-assign]
    hypothesis.core.global_force_seed = seed
    t0 = time.perf_counter()
    held = True
    try:
        run_state_machine_as_test(
            model.TrustMachine,
            settings=settings(
                max_examples=args.examples,
                stateful_step_count=args.steps,
                derandomize=False,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    except BaseException:  # an invariant broke: hypothesis printed the shrunk sequence
        held = False
        traceback.print_exc()
    elapsed = time.perf_counter() - t0
    create_s = anchor()
    per_step = elapsed / max(1, counts["steps"])
    print(
        f"seed {seed}: {counts['runs']} sequences, {counts['steps']} steps, invariants "
        f"{'held' if held else 'BROKEN (replay with --seed)'}; {elapsed:.0f} s, {per_step:.2f} s/step; "
        f"anchor: one create {create_s:.2f} s; ratio step/create {per_step / create_s:.2f}"
    )
    emit(
        f"trust model: broken invariants in {counts['steps']} random steps (seed {seed})",
        [0.0 if held else 1.0],
        target="0",
        unit="runs",
    )
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
