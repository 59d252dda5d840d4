"""The practice's duplicate-patient decisions: read back from the audit's fix-up list.

`ferry source audit --out` lists the patients that look like another patient in
`fixup-duplicates.csv`, with two columns for the practice to fill in: `decision` (`merge` or
`separate`) and, for a merge, `keep_patient_id`. `ferry source decide duplicates FILE`
checks every filled-in row, records each new or changed decision as a `DuplicateDecided`
event, and every later run and delta applies the merges (`merges`): the merged patient is
not created, and every record that points at it is linked to the kept patient.

A decision may change only while no run has acted on it: once a run has merged a patient
(or created both), changing that would leave records in Twenty that the decision no longer
explains. The check is `_acted_on`; the message says what to do instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.errors import BadInputError, ConfigError
from events.store import EventStore, NewEvent
from events.types import DuplicateDecided

__all__ = [
    "DECISION_COLUMNS",
    "DecisionsRecorded",
    "DuplicateDecision",
    "fill_recorded",
    "merges",
    "read_decisions",
    "record_decisions",
    "unmerged_patients",
]

DECISION_COLUMNS = ("patient_id", "same_person_as", "decision", "keep_patient_id")

# What the front desk may write in `decision` (case and spaces ignored) -> the decision.
_WORDS = {
    "merge": "merge",
    "merged": "merge",
    "same": "merge",
    "same person": "merge",
    "separate": "separate",
    "keep both": "separate",
    "keep_both": "separate",
    "not the same": "separate",
    "different": "separate",
}
# States of a merged patient's stream in which a run has not (or no longer) acted on it.
_UNTOUCHED = frozenset({"rolled_back"})


@dataclass(frozen=True)
class DuplicateDecision:
    """One filled-in row of the duplicates list."""

    patient_key: str
    same_person_as: str
    decision: str  # merge | separate
    keep_key: str  # merge: one of the two keys; separate: ""
    line: int

    @property
    def merged_key(self) -> str:
        """For a merge, the patient that is not created; "" otherwise."""
        if self.decision != "merge":
            return ""
        return self.same_person_as if self.keep_key == self.patient_key else self.patient_key

    @property
    def pair(self) -> frozenset[str]:
        """The two patients, in no order (a later row on the same pair replaces this one)."""
        return frozenset({self.patient_key, self.same_person_as})


@dataclass
class DecisionsRecorded:
    """What `record_decisions` did: counts for the operator."""

    recorded: list[DuplicateDecision]
    unchanged: int
    undecided: int


def read_decisions(
    rows: Iterable[tuple[int, Mapping[str, str]]], header: Iterable[str], file_name: str
) -> tuple[list[DuplicateDecision], int]:
    """The filled-in decisions of a duplicates list, and how many rows are still blank.

    `rows` are (line, cells by header). A row with an empty `decision` is undecided and
    left alone; every other row must be complete and consistent.

    Raises:
        BadInputError: naming the file, line and column of the first unusable cell.
    """
    missing = [c for c in DECISION_COLUMNS if c not in set(header)]
    if missing:
        raise BadInputError(
            f"no {', '.join(missing)} column: give the fixup-duplicates.csv that "
            "`ferry source audit --out` wrote, with the decision columns filled in",
            file=file_name,
            line=1,
        )
    decisions: dict[frozenset[str], DuplicateDecision] = {}
    undecided = 0
    for line, cells in rows:
        decision = _decision(cells, line, file_name)
        if decision is None:
            undecided += 1
            continue
        decisions[decision.pair] = decision
    found = list(decisions.values())
    _check_chains(found, file_name)
    return found, undecided


def _decision(cells: Mapping[str, str], line: int, file_name: str) -> DuplicateDecision | None:
    word = " ".join((cells.get("decision") or "").lower().split())
    if not word:
        return None
    decision = _WORDS.get(word)
    if decision is None:
        raise BadInputError(
            "not a decision: write `merge` (one person in Twenty) or `separate` (two people)",
            file=file_name,
            line=line,
            column="decision",
        )
    patient = _key(cells, "patient_id", line, file_name)
    other = _key(cells, "same_person_as", line, file_name)
    if patient == other:
        raise BadInputError(
            "a patient cannot be a duplicate of itself: check the two IDs",
            file=file_name,
            line=line,
            column="same_person_as",
        )
    keep = (cells.get("keep_patient_id") or "").strip()
    if decision == "separate":
        return DuplicateDecision(patient, other, "separate", "", line)
    keep = keep or other
    if keep not in (patient, other):
        raise BadInputError(
            f"keep_patient_id must be {patient} or {other} (empty keeps {other})",
            file=file_name,
            line=line,
            column="keep_patient_id",
        )
    return DuplicateDecision(patient, other, "merge", keep, line)


def _key(cells: Mapping[str, str], column: str, line: int, file_name: str) -> str:
    text = (cells.get(column) or "").strip()
    if not text.isdecimal():
        raise BadInputError(
            "not a patient ID: restore the ID the audit wrote in this cell",
            file=file_name,
            line=line,
            column=column,
        )
    return text


def _check_chains(decisions: list[DuplicateDecision], file_name: str) -> None:
    """Every merge must end at a patient that is kept: no patient merged two ways, no loop."""
    into: dict[str, DuplicateDecision] = {}
    for decision in decisions:
        merged = decision.merged_key
        if not merged:
            continue
        before = into.get(merged)
        if before is not None and before.keep_key != decision.keep_key:
            raise BadInputError(
                f"patient {merged} is merged into {before.keep_key} on line {before.line} "
                f"and into {decision.keep_key} here: keep one of them",
                file=file_name,
                line=decision.line,
                column="keep_patient_id",
            )
        into[merged] = decision
    for decision in decisions:
        if decision.merged_key:
            _final(decision.merged_key, {k: d.keep_key for k, d in into.items()}, file_name)


def _final(key: str, into: Mapping[str, str], file_name: str) -> str:
    seen = [key]
    while key in into:
        key = into[key]
        if key in seen:
            raise BadInputError(
                f"the merges of patients {', '.join(sorted(seen))} go round in a circle: "
                "keep one of them in every row",
                file=file_name,
            )
        seen.append(key)
    return key


def _recorded(store: EventStore) -> dict[frozenset[str], DuplicateDecided]:
    latest: dict[frozenset[str], DuplicateDecided] = {}
    for stored in store.read("stream_id = 'migration' AND type = 'DuplicateDecided'"):
        assert isinstance(stored.event, DuplicateDecided)
        event = stored.event
        latest[frozenset({event.patient_key, event.same_person_as})] = event
    return latest


def fill_recorded(store: EventStore, rows: list[dict[str, str]]) -> int:
    """Fill the decision columns of a fresh duplicates list from the decisions on record, so
    a new audit keeps what the practice decided; returns how many rows were filled."""
    recorded = _recorded(store)
    filled = 0
    for row in rows:
        event = recorded.get(frozenset({row.get("patient_id", ""), row.get("same_person_as", "")}))
        if event is not None:
            row["decision"], row["keep_patient_id"] = event.decision, event.keep_key
            filled += 1
    return filled


def merges(store: EventStore) -> dict[str, str]:
    """Merged patient key -> the kept patient it becomes (followed to the end of a chain)."""
    into = {_merged_of(e): e.keep_key for e in _recorded(store).values() if e.decision == "merge"}
    return {key: _final(key, into, "the recorded decisions") for key in into}


def record_decisions(
    store: EventStore,
    decisions: list[DuplicateDecision],
    undecided: int,
    *,
    user: str,
    file_hash: str,
) -> DecisionsRecorded:
    """Record every decision that is new or changed, in one transaction.

    Raises:
        ConfigError: a decision would change what a run already did (nothing is recorded).
    """
    before = _recorded(store)
    new: list[DuplicateDecision] = []
    unchanged = 0
    for decision in decisions:
        old = before.get(decision.pair)
        if old is not None and _same(old, decision):
            unchanged += 1
            continue
        if old is not None and _merged_of(old):
            _refuse_if_acted_on(store, _merged_of(old), old.keep_key, decision)
        if decision.merged_key and (old is None or _merged_of(old) != decision.merged_key):
            _refuse_if_acted_on(store, decision.merged_key, "", decision)
        new.append(decision)
    _check_recorded_chains(before, new)
    if new:
        store.append(
            [
                NewEvent(
                    "migration",
                    DuplicateDecided(
                        patient_key=d.patient_key,
                        same_person_as=d.same_person_as,
                        decision="merge" if d.decision == "merge" else "separate",
                        keep_key=d.keep_key,
                        user=user,
                        file_hash=file_hash,
                        line=d.line,
                    ),
                )
                for d in new
            ]
        )
    return DecisionsRecorded(new, unchanged, undecided)


def _check_recorded_chains(
    before: Mapping[frozenset[str], DuplicateDecided], new: list[DuplicateDecision]
) -> None:
    """The merges on record together with the new ones still end at a kept patient."""
    into = {_merged_of(e): e.keep_key for e in before.values() if e.decision == "merge"}
    for decision in new:
        old = before.get(decision.pair)
        if old is not None and old.decision == "merge":
            into.pop(_merged_of(old), None)
    into.update({d.merged_key: d.keep_key for d in new if d.decision == "merge"})
    for key in into:
        _final(key, into, "the decisions on record with this file")


def _same(event: DuplicateDecided, decision: DuplicateDecision) -> bool:
    return (event.decision, event.keep_key) == (decision.decision, decision.keep_key)


def _merged_of(event: DuplicateDecided) -> str:
    if event.decision != "merge":
        return ""
    return event.same_person_as if event.keep_key == event.patient_key else event.patient_key


def _refuse_if_acted_on(
    store: EventStore, key: str, kept: str, decision: DuplicateDecision
) -> None:
    """Refuse to change whether patient `key` is merged (into `kept`) once a run acted on it.

    Free: a patient never read by a run; one whose record was rolled back with every record
    linked to it; a patient a run merged, once the kept patient and every record linked to
    it are out of Twenty again (the next run migrates the merged patient on its own).
    """
    state = _state(store, f"patient:{key}")
    if state is None or (state in _UNTOUCHED and not _linked_in_twenty(store, f"patient:{key}")):
        return
    kept_state = _state(store, f"patient:{kept}") if kept else "?"
    if (
        state == "skipped"
        and kept_state in (None, *_UNTOUCHED)
        and not _linked_in_twenty(store, f"patient:{kept}")
    ):
        return
    raise ConfigError(
        f"line {decision.line}: patient {key} was already migrated under the decision on "
        f"record (state {state}); a decision a run has acted on stands. To change it, roll "
        "the migration back (`ferry rollback`), record the decision, then `ferry run`"
    )


def _state(store: EventStore, stream: str) -> str | None:
    row = store.connection.execute(
        "SELECT state FROM record_state WHERE stream_id = ?", (stream,)
    ).fetchone()
    return None if row is None else str(row[0])


def unmerged_patients(store: EventStore, merged: Mapping[str, str]) -> frozenset[str]:
    """Patient streams a run skipped as merged that the decisions no longer merge: the run
    transforms them again although their rows did not change."""
    rows = store.connection.execute(
        "SELECT s.stream_id FROM record_state s WHERE s.entity = 'patient' "
        "AND s.state = 'skipped' AND EXISTS (SELECT 1 FROM events e WHERE "
        "e.stream_id = s.stream_id AND e.type = 'RecordSkipped' "
        "AND e.data LIKE '%\"MERGED_DUPLICATE\"%')"
    )
    return frozenset(stream for (stream,) in rows if stream.partition(":")[2] not in merged)


def _linked_in_twenty(store: EventStore, stream: str) -> bool:
    """Is any record that a run linked to `stream` still in Twenty?"""
    needle = f'%"{stream}"%'
    found = store.connection.execute(
        "SELECT 1 FROM record_state s WHERE s.state NOT IN ('rolled_back', 'rejected', "
        "'skipped', 'deleted') AND s.stream_id != ? AND EXISTS (SELECT 1 FROM events e "
        "WHERE e.stream_id = s.stream_id AND e.type = 'RecordTransformed' "
        "AND e.data LIKE ?) LIMIT 1",
        (stream, needle),
    ).fetchone()
    return found is not None
