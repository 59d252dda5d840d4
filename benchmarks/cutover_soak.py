"""Soak the cutover state machine (tests/cutover) with a long profile and print what it did.

    .venv/bin/python benchmarks/cutover_soak.py --steps 300 --examples 20 [--no-shrink]
        [--skip verify_agrees ...] [--derandomize] [--minutes 60]

Each failure hypothesis finds is shrunk (unless --no-shrink) and printed with its steps;
the invariant it broke is then skipped and the machine runs again, so one soak lists every
distinct failure. At the end: examples, steps, kills, deltas, rollbacks by scope, verifies
passed and failed, invariant checks made, and the failures found.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.cutover.machine import CutoverMachine, InvariantViolated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="steps per example at most")
    parser.add_argument("--examples", type=int, default=20, help="examples per round")
    parser.add_argument("--minutes", type=float, default=60, help="stop starting rounds after")
    parser.add_argument("--derandomize", action="store_true", help="the same examples each time")
    parser.add_argument("--no-shrink", action="store_true", help="report failures unshrunk")
    parser.add_argument("--skip", nargs="*", default=[], help="invariants not to stop on")
    options = parser.parse_args()

    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    if not options.no_shrink:
        phases.append(Phase.shrink)
    profile = settings(
        max_examples=options.examples,
        stateful_step_count=options.steps,
        deadline=None,
        database=None,
        phases=phases,
        derandomize=options.derandomize,
        suppress_health_check=list(HealthCheck),
    )
    skip = set(options.skip)
    found: list[tuple[str, str]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cutover-soak-") as root:

        class Machine(CutoverMachine):
            pass

        Machine.root = Path(root)
        while time.monotonic() - started < options.minutes * 60:
            Machine.skip = frozenset(skip)
            try:
                run_state_machine_as_test(Machine, settings=profile)
            except InvariantViolated as error:
                found.append((error.name, str(error)))
                skip.add(error.name)
                print(f"\n=== failure {len(found)}: {error.name}\n{error}\n", flush=True)
                continue
            except Exception as error:  # a harness or command crash: report it and stop
                found.append((type(error).__name__, repr(error)))
                print(f"\n=== error: {error!r}\n", flush=True)
                break
            break  # a round without failure: done
    stats = Machine.stats
    print("\n--- cutover soak ---")
    print(f"wall time {time.monotonic() - started:.0f} s")
    for line in stats.lines():
        print(line)
    print(f"failures found {len(found)}: {', '.join(name for name, _ in found) or 'none'}")
    seen_only = sorted(set(stats.violations) - {name for name, _ in found} - set(options.skip))
    for name in seen_only:
        print(f"also violated (while skipped): {name}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
