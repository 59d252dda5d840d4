"""The test's own view of Twenty: every record over plain HTTP, live and soft-deleted.

Nothing here goes through Ferry's client: the sandbox is read page by page with httpx, the
soft-deleted rows through `filter=deletedAt[is]:NOT_NULL`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

OBJECTS = (
    "companies", "people", "tasks", "notes", "taskTargets", "noteTargets", "treatments",
    "procedures", "insurances", "claims", "payments", "communications",
)  # fmt: skip
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


def client(rest_url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=rest_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


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


def _pages(http: httpx.Client, plural: str, deleted: bool) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "200"}
        if deleted:
            params["filter"] = "deletedAt[is]:NOT_NULL"
        if cursor:
            params["starting_after"] = cursor
        body = send(http, "GET", f"/{plural}", 200, params=params)
        found += body["data"][plural]
        if not body["pageInfo"]["hasNextPage"]:
            return found
        cursor = body["pageInfo"]["endCursor"]


def send(http: httpx.Client, method: str, path: str, status: int, **options: Any) -> Any:
    """Send until the sandbox answers `status` (a throttled sandbox answers 429 at times)."""
    for _ in range(300):
        try:
            response = http.request(method, path, **options)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        if response.status_code == status:
            return response.json()
        if response.status_code not in (429, 503):
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        time.sleep(0.05)
    raise AssertionError("the sandbox kept refusing")


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
            created = send(http, "POST", f"/{plural}", 201, json=record)
            record_id = next(iter(created["data"].values()))["id"]
            if soft_deleted:
                send(http, "DELETE", f"/{plural}/{record_id}", 200, params={"soft_delete": "true"})
            ids.append(record_id)
    return ids
