"""The rebuild guide names one thing once: a claim status, a recall interval, a recall type
that is missing, a hygienist (not a provider). Facts are read from a real store."""

from __future__ import annotations

from pathlib import Path

from core.lifecycle import Lifecycle
from core.reports.rebuild_facts import collect_facts
from core.reports.rebuild_guide import render_rebuild_guide
from events.store import EventStore, NewEvent
from events.types import RecordExtracted

ROWS: list[tuple[str, dict[str, str | None]]] = [
    *[(f"claim:{n}", {"status": "S"}) for n in range(1, 4)],
    *[(f"claim:{n}", {"status": "Sent"}) for n in range(4, 6)],
    ("claim:6", {"status": "R"}),  # received: paid, closed
    ("claim:7", {"status": "Paid"}),
    ("claim:8", {"status": "Hold"}),
    *[
        (f"recall:{n}", {"recall_type": "Prophy", "status": "Open", "interval": interval})
        for n, interval in enumerate(("6M", "6 mo", "6 Months", "Every 6 Months"), 1)
    ],
    ("recall:5", {"recall_type": "Perio", "status": "Open", "interval": "3M"}),
    ("recall:6", {"recall_type": None, "status": "Open", "interval": "Yearly"}),
    ("recall:7", {"recall_type": "Perio", "status": "Open", "interval": "whenever"}),
    ("provider:11", {"code": "DDS1", "role": "Dentist", "is_provider": "Y"}),
    ("provider:14", {"code": "HYG2", "role": "Hygienist", "is_provider": "Y"}),
    ("provider:15", {"code": "FD1", "role": "Front Desk", "is_provider": "N"}),
    *[
        (f"appointment:{n}", {"provider": "DDS1", "hygienist": "HYG2", "status": "Scheduled"})
        for n in range(1, 4)
    ],
    ("appointment:4", {"provider": None, "hygienist": "hyg2", "status": "Scheduled"}),
]


def _guide(tmp_path: Path) -> str:
    store = EventStore.open(tmp_path / "ferry.db", transition=Lifecycle().next_state)
    events = [
        NewEvent(
            stream,
            RecordExtracted(
                source_file="x.csv",
                line=n,
                source_key=stream.split(":")[1],
                content_hash=f"{n:064x}",
                row=row,
            ),
        )
        for n, (stream, row) in enumerate(ROWS, 2)
    ]
    store.append(events)
    try:
        return render_rebuild_guide(collect_facts(store.connection))
    finally:
        store.close()


def test_open_claims_are_counted_under_one_name_per_status(tmp_path: Path) -> None:
    section = _guide(tmp_path).split("## Open insurance claims")[1]
    assert "6 claim(s) still open, by status: `Sent` 5, `Hold` 1." in section
    assert "`S`" not in section and "`R`" not in section and "Paid" not in section.split("**")[2]


def test_one_recall_interval_has_one_spelling(tmp_path: Path) -> None:
    section = _guide(tmp_path).split("## Recall reminder workflows")[1].split("\n## ")[0]
    assert "by interval: `6 months` 4, `3 months` 1, `12 months` 1, `whenever` 1;" in section
    for spelling in ("6M", "6 mo", "Every 6 Months"):
        assert f"`{spelling}`" not in section


def test_a_missing_recall_type_is_no_workflow_of_its_own(tmp_path: Path) -> None:
    section = _guide(tmp_path).split("## Recall reminder workflows")[1].split("\n## ")[0]
    assert "One workflow per recall type (2)" in section
    assert "1 recall(s) have no type" in section


def test_a_hygienist_is_not_counted_as_a_provider(tmp_path: Path) -> None:
    section = _guide(tmp_path).split("## Per-provider schedule views")[1].split("\n## ")[0]
    assert "1 provider code(s) with appointments: `DDS1` 3;" in section
    assert "hygienist code(s), not counted as providers: `HYG2` 4" in section
