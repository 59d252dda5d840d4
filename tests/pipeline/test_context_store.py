"""The pre-pass's facts in a scratch database read back exactly as the in-memory folds did.

The reference folds below are the pre-pass's former in-memory code, kept here as the
specification: for any sequence of facts (repeated IDs, shared emails, IDs beyond 64 bits,
lookups in any order) the store's mappings must give the same answers.
"""

from __future__ import annotations

import os
import random
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.mapping.context import ClaimSummary, CustomValue, PlanSummary, ReferralSummary
from core.mapping.context_store import ContextLookups, ContextStore
from core.scratch import open_scratch
from core.values import ValueParseError, parse_money, parse_tooth

HUGE = 2**70
# A few IDs per block, neighbours across block edges, and IDs SQLite cannot hold as integers.
# Few distinct values, so that repeats (same ID, same date, same status) are common.
ids = st.one_of(
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=254, max_value=258),
    st.sampled_from([2**63 - 1, 2**63, HUGE]),
)
texts = st.sampled_from(["", "a", "Zeta", "2024-01-02", "9999-99-99"])
teeth = st.sampled_from([None, "", "3", "14", "A", "T", "99", "x"])
fees = st.sampled_from([None, "", "$10.00", "12.5", "bad", "-$3.00"])


@dataclass
class Reference:
    """The pre-pass's former in-memory state and folds."""

    custom: dict[tuple[str, int], list[CustomValue]] = field(default_factory=dict)
    found: set[tuple[str, int]] = field(default_factory=set)
    patient_location: dict[int, int] = field(default_factory=dict)
    email_owner: dict[str, int] = field(default_factory=dict)
    email_owner_rank: dict[int, tuple[int, int]] = field(default_factory=dict)
    plans: dict[int, PlanSummary] = field(default_factory=dict)
    claims: dict[int, ClaimSummary] = field(default_factory=dict)
    referrals: dict[int, ReferralSummary] = field(default_factory=dict)


def _numbering(location: int | None) -> str:
    return "Palmer" if location == 2 else "Universal"


def _apply(ref: Reference, store: ContextStore, fact: tuple[Any, ...]) -> None:
    kind, *args = fact
    if kind == "custom":
        entity, owner, key, value = args
        item = CustomValue(str(key), f"label {key}", "Text", value)
        ref.custom.setdefault((entity, owner), []).append(item)
        store.add_custom(entity, owner, item)
    elif kind == "owner":
        entity, owner = args
        if (entity, owner) in ref.custom:
            ref.found.add((entity, owner))
        store.mark_owner(entity, owner)
    elif kind == "patient":
        patient, location, email, is_head = args
        ref.patient_location[patient] = location
        store.set_patient_location(patient, location)
        if email is not None:
            _reference_email(ref, email, patient, is_head)
            store.offer_email(email, patient, is_head)
    elif kind == "plan":
        plan, location = args
        ref.plans.setdefault(plan, PlanSummary()).location_id = location
        store.set_plan_location(plan, location)
    elif kind == "line":
        _reference_line(ref, *args)
        store.add_plan_line(*args)
    elif kind == "claim":
        _reference_claim(ref, *args)
        store.add_claim(*args)
    else:
        _reference_referral(ref, *args)
        store.add_referral(*args)


def _reference_email(ref: Reference, address: str, patient: int, is_head: bool) -> None:
    rank = (0 if is_head else 1, patient)
    holder = ref.email_owner.get(address)
    if holder is None or rank < ref.email_owner_rank.get(holder, (1, holder)):
        ref.email_owner[address] = patient
        ref.email_owner_rank[patient] = rank


def _reference_line(
    ref: Reference, plan: int, stage: str, code: str | None, tooth_text: str | None, fee: str | None
) -> None:
    summary = ref.plans.setdefault(plan, PlanSummary())
    summary.stages.add(stage)
    if code is not None:
        summary.codes.add(code)
    try:
        tooth = parse_tooth(tooth_text, numbering=_numbering(summary.location_id))
        summary.line_fee_cents += parse_money(fee) or 0
    except ValueParseError:
        tooth = None
    if tooth is not None:
        summary.teeth.add(tooth.universal)
    summary.lines += 1


def _reference_claim(ref: Reference, policy: int, sort: str, claim: int, status: str) -> None:
    summary = ref.claims.setdefault(policy, ClaimSummary())
    summary.count += 1
    if (sort, claim) > summary.last_sort:
        summary.last_sort, summary.last_status = (sort, claim), status


def _reference_referral(
    ref: Reference, patient: int, sort: str, referral: int, option: str, detail: str
) -> None:
    summary = ref.referrals.setdefault(patient, ReferralSummary())
    order = (sort, referral)
    if order < summary.first_sort or not summary.source_option:
        summary.first_sort, summary.source_option = order, option
    summary.details.append((order, detail))
    summary.details.sort()


entities = st.sampled_from(["patient", "procedure", "provider"])
facts = st.one_of(
    st.tuples(st.just("custom"), entities, ids, texts, st.one_of(st.none(), texts)),
    st.tuples(st.just("owner"), entities, ids),
    st.tuples(
        st.just("patient"),
        ids,
        st.integers(0, 3),
        st.one_of(st.none(), st.sampled_from(["a@x.org", "b@x.org", "c@x.org"])),
        st.booleans(),
    ),
    st.tuples(st.just("plan"), ids, st.one_of(st.none(), st.integers(1, 3))),
    st.tuples(st.just("line"), ids, texts, st.one_of(st.none(), texts), teeth, fees),
    st.tuples(st.just("claim"), ids, texts, ids, texts),
    st.tuples(st.just("referral"), ids, texts, ids, texts, texts),
)


def _same(ref: Reference, got: ContextLookups, keys: list[int]) -> None:
    for key in keys:
        for entity in ("patient", "procedure", "provider"):
            assert got.custom.get((entity, key), []) == ref.custom.get((entity, key), [])
            assert ((entity, key) in got.custom_owner_found) == ((entity, key) in ref.found)
        assert got.patient_location.get(key) == ref.patient_location.get(key)
        assert (key in got.patient_location) == (key in ref.patient_location)
        assert got.plans.get(key) == ref.plans.get(key)
        assert got.claims.get(key) == ref.claims.get(key)
        assert got.referrals.get(key) == ref.referrals.get(key)
    for address in ("a@x.org", "b@x.org", "c@x.org", "d@x.org"):
        assert got.email_owner.get(address) == ref.email_owner.get(address)


@settings(max_examples=200, deadline=None)
@given(st.lists(facts, max_size=120), st.randoms(use_true_random=False))
@example(  # ties: the first of two equal claims keeps its status
    [("claim", 3, "a", 4, "Paid"), ("claim", 3, "a", 4, "Denied")], random.Random(1)
)
def test_the_store_answers_like_the_in_memory_folds(
    sequence: list[tuple[Any, ...]], rng: random.Random
) -> None:
    ref, store = Reference(), ContextStore()
    # The pre-pass reads custom_fields.csv first: every custom value before any owner.
    sequence = sorted(sequence, key=lambda fact: fact[0] != "custom")
    try:
        for fact in sequence:
            _apply(ref, store, fact)
        got = store.finish(_numbering)
        keys = sorted({*range(0, 9), *range(250, 262), 2**63 - 1, 2**63, HUGE, HUGE + 1})
        _same(ref, got, keys)  # in ID order (blocks) ...
        rng.shuffle(keys)
        _same(ref, got, keys)  # ... and in any order (single keys)
        assert dict(got.plans) == ref.plans and dict(got.claims) == ref.claims
        assert dict(got.referrals) == ref.referrals and dict(got.custom) == ref.custom
        assert dict(got.patient_location) == ref.patient_location
        assert dict(got.email_owner) == ref.email_owner
    finally:
        store.close()


def test_many_shared_emails_flushed_in_batches_keep_the_best_holder() -> None:
    ref, store = Reference(), ContextStore()
    order = list(range(1, 30_001))
    random.Random(7).shuffle(order)
    for patient in order:
        fact = ("patient", patient, 1, f"family{patient % 997}@x.org", patient % 5 == 0)
        _apply(ref, store, fact)
    got = store.finish(_numbering)
    assert dict(got.email_owner) == ref.email_owner
    store.close()


def _scratch_files() -> list[tuple[str, int]]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            mode = stat.S_IMODE(os.fstat(int(fd)).st_mode)
        except OSError:
            continue
        if "etilqs_" in target:  # SQLite's temporary files
            found.append((target, mode))
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_the_scratch_file_is_private_unnamed_and_gone_when_closed() -> None:
    before = _scratch_files()
    conn = open_scratch()
    conn.execute("CREATE TABLE t (k, v)")
    # More than the page cache holds, so that SQLite spills to its temporary file.
    conn.executemany("INSERT INTO t VALUES (?, ?)", ((i, "x" * 200) for i in range(60_000)))
    conn.commit()
    spilled = [item for item in _scratch_files() if item not in before]
    assert spilled, "the scratch database never reached its file"
    for target, mode in spilled:
        assert target.endswith("(deleted)")  # no name to open it by
        assert mode == 0o600
    conn.close()
    assert [item for item in _scratch_files() if item not in before] == []
