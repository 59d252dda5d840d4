"""The whole cutover as a state machine: run, delta, verify, rollback, kill -9, against the
sandbox over loopback, with the expected content of Twenty modelled from the source rows.

The CI profile below takes about three minutes on two cores; `benchmarks/cutover_soak.py`
runs the same machine much longer and prints what it did and found.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.cutover.machine import CutoverMachine

CI = settings(
    max_examples=20,
    stateful_step_count=20,
    deadline=None,
    database=None,
    derandomize=True,
    # No shrinking here: a failure's message lists the steps that led to it, and shrinking a
    # sequence of real commands takes minutes (the soak shrinks: benchmarks/cutover_soak.py).
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.slow
def test_cutover_state_machine(tmp_path: Path) -> None:
    class Machine(CutoverMachine):
        root = tmp_path

    run_state_machine_as_test(Machine, settings=CI)
