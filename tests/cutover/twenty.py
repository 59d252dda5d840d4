"""The test's own view of Twenty: every record over plain HTTP, live and soft-deleted.

Nothing here goes through Ferry's client: the sandbox is read page by page with httpx (the
rollback tests' reader), the soft-deleted rows through `filter=deletedAt[is]:NOT_NULL`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The paging reader and the retrying sender of the rollback tests.
from tests.rollback.conftest import OBJECTS, _pages, _send, client

TARGET_LINKS = ("taskId", "noteId")
# What the server derives afresh on every write; deletedAt is reduced to whether it is set.
_VOLATILE = frozenset({"updatedAt", "createdBy", "updatedBy", "position", "searchVector"})


@dataclass(frozen=True)
class Content:
    """Every record by object and id; `live` leaves out the soft-deleted ones."""

    records: dict[str, dict[str, dict[str, Any]]]

    def live(self, plural: str) -> list[dict[str, Any]]:
        return [r for r in self.records[plural].values() if r.get("deletedAt") is None]

    def stable(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The content without server-derived values, to compare two snapshots."""
        return {
            plural: {rid: _stable(record) for rid, record in records.items()}
            for plural, records in self.records.items()
        }


def read_all(rest_url: str, key: str) -> Content:
    """Every record of every object Ferry writes, soft-deleted ones included."""
    content: dict[str, dict[str, dict[str, Any]]] = {}
    with client(rest_url, key) as http:
        for plural in OBJECTS:
            records: dict[str, dict[str, Any]] = {}
            for deleted in (False, True):
                for record in _pages(http, plural, deleted):
                    records[record["id"]] = record
            content[plural] = records
    return Content(content)


def _stable(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in record.items():
        if key in _VOLATILE:
            continue
        if key == "deletedAt":
            value = value is not None
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "blocknote"}
        out[key] = value
    return out


def seed(rest_url: str, key: str, records: list[tuple[str, dict[str, Any], bool]]) -> list[str]:
    """Create records that exist before the migration (soft-deleted when asked); their ids."""
    ids = []
    with client(rest_url, key) as http:
        for plural, record, soft_deleted in records:
            created = _send(http, "POST", f"/{plural}", 201, json=record)
            record_id = next(iter(created["data"].values()))["id"]
            if soft_deleted:
                _send(http, "DELETE", f"/{plural}/{record_id}", 200, params={"soft_delete": "true"})
            ids.append(record_id)
    return ids
