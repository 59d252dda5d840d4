"""The cutover as a hypothesis state machine driving the real `ferry` commands.

Rules: run (sometimes SIGKILLed, then run again), delta (a drawn change set as a delta bundle
or a later full export, with or without --apply-deletes, sometimes killed), verify, rollback
(everything, one run, one entity, or since an instant) and run again. After every step the
invariants of `tests/cutover/checks.py` are checked against the model kept here in plain
Python: the source truth (base export plus every change set so far), the rows deleted in the
source but not yet in Twenty, and whether a rollback is waiting for the next run.

A violated invariant raises `InvariantViolated` named after it; names listed in
`CutoverMachine.skip` are counted but not raised, so a soak can look past a known failure.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from tests.cutover import changes
from tests.cutover.checks import duplicates, holds_truth, nothing_of_ours, status_names
from tests.cutover.expected import fates
from tests.cutover.harness import Kill, Outcome, Rehearsal
from tests.cutover.source import stamp_for

SEEDS = (7, 11, 23)
ROLLBACK_ENTITIES = ("patient", "appointment", "insurance_policy", "payment", "communication")


class InvariantViolated(AssertionError):
    """An invariant of the cutover does not hold after a step."""

    def __init__(self, name: str, step: str, problems: list[str], history: list[str]) -> None:
        self.name = name
        shown = "\n  ".join(problems[:12])
        more = f"\n  ... and {len(problems) - 12} more" if len(problems) > 12 else ""
        steps = "\n  ".join(history)
        super().__init__(f"[{name}] after {step}:\n  {shown}{more}\nsteps:\n  {steps}")


@dataclass
class Stats:
    """Figures over every example a process ran (the soak prints them)."""

    examples: int = 0
    steps: int = 0
    kills: int = 0
    kills_missed: int = 0  # the command finished before the kill
    deltas: Counter[str] = field(default_factory=Counter)
    rollbacks: Counter[str] = field(default_factory=Counter)
    verifies: Counter[str] = field(default_factory=Counter)
    checks: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)  # invariant -> its first message

    def lines(self) -> list[str]:
        return [
            f"examples {self.examples}, steps {self.steps}",
            f"kills {self.kills} (commands that finished before the kill: {self.kills_missed})",
            "deltas " + _counts(self.deltas),
            "rollbacks " + _counts(self.rollbacks),
            "verifies " + _counts(self.verifies),
            f"invariant checks {self.checks}",
            "violations " + _counts(self.violations),
        ]


def _counts(counter: Counter[str]) -> str:
    total = sum(counter.values())
    parts = ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
    return f"{total} ({parts})" if total else "0"


kills = st.one_of(
    st.none(),
    # A command's process needs ~0.4 s to start; a run writes ~2,000 events, a delta fewer.
    st.builds(Kill, seconds=st.floats(0.3, 1.2).map(lambda s: round(s, 2))),
    st.builds(Kill, events=st.integers(1, 800)),
)
operations = st.lists(
    st.tuples(st.sampled_from(changes.OPERATIONS), st.integers(0, 200)).map(
        lambda pair: (pair[0][0], pair[0][1], pair[1])
    ),
    min_size=1,
    max_size=6,
)
scopes = st.one_of(
    st.just(("all", 0)),
    st.tuples(st.just("run"), st.integers(0, 20)),
    st.tuples(st.just("entity"), st.integers(0, len(ROLLBACK_ENTITIES) - 1)),
    st.tuples(st.just("since"), st.integers(0, 20)),
)


class CutoverMachine(RuleBasedStateMachine):
    stats: ClassVar[Stats] = Stats()
    skip: ClassVar[frozenset[str]] = frozenset()
    root: ClassVar[Path | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.rehearsal: Rehearsal | None = None
        self.has_run = False
        self.rollback_pending = False
        self.pending: set[tuple[str, str]] = set()  # deleted in the source, not yet in Twenty
        self.bundles = 0
        self.runs: list[tuple[str, str]] = []  # (run id, command) of runs and deltas
        self.seen_runs: set[str] = set()
        self.instants: list[str] = []  # when each run or delta started
        self.matches = True  # Twenty held the truth after the last step
        self.truth_problems: list[str] = []
        self.log: list[str] = []

    # --- rules ------------------------------------------------------------------------------

    @initialize(seed=st.sampled_from(SEEDS))
    def rehearse(self, seed: int) -> None:
        self.rehearsal = Rehearsal(seed, self.root)
        self.stats.examples += 1
        self.log.append(f"setup (seed {seed})")
        self._check(f"setup (seed {seed})", after="setup")

    @rule(kill=kills)
    def run(self, kill: Kill | None) -> None:
        step = "run" + (f" (killed {kill})" if kill else "")
        self.log.append(step)
        self._started("run")
        if kill is not None:
            self._kill(kill, "run", "--without-sample-approval")
        outcome = self._r.ferry("run", "--without-sample-approval")
        self._exit("run_exit", step, outcome)
        self._record_runs("run")
        self.has_run, self.rollback_pending = True, False
        self._check(step, after="run")

    @precondition(lambda self: self.has_run and not self.rollback_pending)
    @rule(ops=operations, full=st.booleans(), apply_deletes=st.booleans(), kill=kills)
    def delta(
        self, ops: list[tuple[str, str, int]], full: bool, apply_deletes: bool, kill: Kill | None
    ) -> None:
        before = fates(self._r.truth)
        self.bundles += 1
        truth = self._r.truth
        stamp = stamp_for(truth, self.bundles)
        applied = changes.apply(truth, ops, stamp, full=full, serial=self.bundles)
        out = self._r.bundles / f"{self.bundles:03d}-{'full' if full else 'delta'}"
        if full:
            truth.write_full(out, stamp)
        else:
            truth.write_delta(out, stamp, stamp_for(truth, self.bundles - 1), applied.touched)
        after = fates(truth)
        removed = {
            (entity, key)
            for entity, keys in before.by_entity.items()
            for key, state in keys.items()
            if state in ("expected", "free") and after.of(entity, key) in ("deleted", "absent")
        }
        args = ["delta", str(out), *(["--apply-deletes"] if apply_deletes else [])]
        step = (
            f"delta {'full export' if full else 'bundle'} [{'; '.join(applied.log)}]"
            + (" --apply-deletes" if apply_deletes else "")
            + (f" (killed {kill})" if kill else "")
        )
        self.log.append(step)
        self.stats.deltas["full" if full else "bundle"] += 1
        self.stats.deltas["apply-deletes"] += apply_deletes
        self._started("delta")
        if kill is not None:
            self._kill(kill, *args)
        outcome = self._r.ferry(*args)
        self._exit("delta_exit", step, outcome)
        self._record_runs("delta")
        self.pending = set() if apply_deletes else self.pending | removed
        self._check(step, after="delta", output=outcome.output)

    @precondition(lambda self: self.has_run)
    @rule()
    def verify(self) -> None:
        outcome = self._r.ferry("verify", "--json")
        passed = outcome.code == 0
        self.log.append(f"verify (exit {outcome.code})")
        self.stats.verifies["passed" if passed else "failed"] += 1
        self.stats.steps += 1
        self._record_runs(None)
        step = f"verify (exit {outcome.code})"
        if not self.pending:
            detail = _verify_detail(outcome.output)
            self._expect(
                "verify_agrees", step, passed == self.matches,
                [f"ferry verify {'passed' if passed else 'failed'} but Twenty "
                 f"{'holds' if self.matches else 'does not hold'} the latest source", *detail,
                 *self.truth_problems[:8]],
            )  # fmt: skip
        self._check(step, after="verify")

    @precondition(lambda self: self.has_run)
    @rule(scope=scopes)
    def rollback(self, scope: tuple[str, int]) -> None:
        kind, pick = scope
        args = ["rollback", "--yes"]
        if kind == "run":
            if not self.runs:
                kind = "all"
            else:
                run_id, _ = self.runs[pick % len(self.runs)]
                args += ["--run", run_id]
        elif kind == "entity":
            args += ["--entity", ROLLBACK_ENTITIES[pick]]
        elif kind == "since":
            args += ["--since", self.instants[pick % len(self.instants)]]
        step = " ".join(args[:1] + args[2:]) if len(args) > 2 else "rollback (everything)"
        self.stats.rollbacks[kind] += 1
        self.log.append(step)
        self.stats.steps += 1
        before = self._r.content().stable()
        outcome = self._r.ferry(*args)
        self._exit("rollback_exit", step, outcome)
        changed = self._r.content().stable() != before
        self._record_runs(None)
        if changed:
            self.rollback_pending = True
        if kind == "all":
            self.pending = set()
        self._check(step, after="rollback-all" if kind == "all" else "rollback", changed=changed)

    def teardown(self) -> None:
        if self.rehearsal is not None:
            self.rehearsal.close()

    # --- helpers ----------------------------------------------------------------------------

    @property
    def _r(self) -> Rehearsal:
        assert self.rehearsal is not None
        return self.rehearsal

    def _started(self, command: str) -> None:
        self.instants.append(datetime.now(UTC).isoformat(timespec="microseconds"))
        self.stats.steps += 1

    def _kill(self, kill: Kill, *args: str) -> None:
        if self._r.killed(kill, *args):
            self.stats.kills += 1
        else:
            self.stats.kills_missed += 1

    def _record_runs(self, command: str | None) -> None:
        """Runs the last command started: runs and deltas may be rolled back by id."""
        for run_id in self._r.run_ids():
            if run_id not in self.seen_runs:
                self.seen_runs.add(run_id)
                if command is not None:
                    self.runs.append((run_id, command))

    def _exit(self, name: str, step: str, outcome: Outcome) -> None:
        problems = [f"exit {outcome.code}", outcome.output[-1500:]]
        self._expect(name, step, outcome.code == 0, problems)

    def _expect(self, name: str, step: str, holds: bool, problems: list[str]) -> None:
        self.stats.checks += 1
        if holds:
            return
        self.stats.violations[name] += 1
        error = InvariantViolated(name, step, problems, self.log)
        self.stats.first.setdefault(name, str(error))
        if name not in self.skip:
            raise error

    def _check(self, step: str, *, after: str, changed: bool = False, output: str = "") -> None:
        r = self._r
        events = r.ferry("events", "verify")
        self._expect("events_verify", step, events.code == 0, [events.output[-1500:]])
        content = r.content()
        self._expect("no_duplicate", step, not (found := duplicates(content)), found)
        if after == "rollback-all":
            found = nothing_of_ours(content, r.seed_ids, r.before)
            self._expect("full_rollback_leaves_nothing", step, not found, found)
        truth_problems = holds_truth(r.truth, content, self.pending)
        self.matches, self.truth_problems = not truth_problems, truth_problems
        if after in ("run", "delta"):
            self._expect("twenty_holds_source", step, not truth_problems, truth_problems)
        if after == "setup":
            return
        steps = r.status()["next_steps"]
        if self.rollback_pending and after in ("rollback", "rollback-all"):
            self._expect(
                "status_after_rollback", step, status_names(steps, "ferry run"),
                ["ferry status does not say to run again after a rollback", *steps],
            )  # fmt: skip
        live_pending = self._live_pending(content)
        if after == "delta" and live_pending:
            self._expect(
                "status_names_apply_deletes", step, status_names(steps, "--apply-deletes"),
                [f"{len(live_pending)} record(s) deleted in the source are live in Twenty, "
                 "but ferry status does not name --apply-deletes", *steps],
            )  # fmt: skip
        if not self.rollback_pending and self.matches and not live_pending:
            self._expect(
                "status_nothing_to_run", step,
                not any(s.startswith("ferry run") for s in steps),
                ["Twenty holds the source, yet ferry status asks for a run", *steps],
            )  # fmt: skip

    def _live_pending(self, content: Any) -> set[tuple[str, str]]:
        from tests.cutover.expected import OBJECT_OF

        live = {
            (plural, str(r.get("dentalExecId")))
            for plural in content.records
            for r in content.live(plural)
        }
        return {
            (e, k) for e, k in self.pending
            if e in OBJECT_OF and (OBJECT_OF[e][0], OBJECT_OF[e][1].format(key=k)) in live
        }  # fmt: skip


def _verify_detail(output: str) -> list[str]:
    """What `ferry verify --json` says went wrong: differing fields, entities not adding up."""
    try:
        data = json.loads(output)
    except ValueError:
        return [output[-800:]]
    lines = [f"differs: {f} in {n}" for f, n in sorted(data.get("fields", {}).items())]
    for entity in data.get("reconciliation", {}).get("entities", []):
        if not entity.get("adds_up") or entity.get("mismatched") or entity.get("missing"):
            counts = {k: v for k, v in entity.items() if isinstance(v, int) and v}
            adds_up = entity.get("adds_up")
            lines.append(f"reconciliation {entity['entity']}: adds_up={adds_up} {counts}")
    return lines
