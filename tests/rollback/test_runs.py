"""How a rollback groups the plan into requests: runs of one object and one kind of action,
with a run of deletes carried across the plan's chunk boundaries."""

from __future__ import annotations

import math
from itertools import groupby

from hypothesis import given
from hypothesis import strategies as st

from core.rollback.plan import RollbackItem
from core.rollback.runner import _runs

SIZE = 3


def _item(n: int, plural: str, action: str) -> RollbackItem:
    return RollbackItem(
        stream_id=f"s:{n}",
        version=1,
        object_plural=plural,
        object_singular=plural,
        destination_id=f"id-{n}",
        action=action,  # type: ignore[arg-type]
    )


KIND = st.tuples(
    st.sampled_from(["people", "tasks"]), st.sampled_from(["delete", "restore_before_image"])
)


@given(st.lists(st.lists(KIND, min_size=1, max_size=9), max_size=6))
def test_runs_keep_the_plan_order_and_fill_every_delete_request(chunks: list) -> None:
    n = iter(range(10_000))
    planned = [[_item(next(n), p, a) for p, a in chunk] for chunk in chunks]
    runs = list(_runs(iter(planned), SIZE))
    flat = [i for chunk in planned for i in chunk]
    assert [i for run in runs for i in run] == flat  # nothing lost, moved or repeated
    key = lambda i: (i.object_plural, i.action)  # noqa: E731
    assert all(len({key(i) for i in run}) == 1 for run in runs)
    # Deletes cost what the plan's maximal runs of one object cost, chunk ends or not.
    sent = sum(math.ceil(len(r) / SIZE) for r in runs if r[0].action == "delete")
    floor = sum(
        math.ceil(len(list(group)) / SIZE)
        for (_, action), group in groupby(flat, key=key)
        if action == "delete"
    )
    assert sent == floor
    # A run is held back by fewer than SIZE items: memory stays a chunk's.
    assert all(len(run) <= max(map(len, planned)) + SIZE - 1 for run in runs)
