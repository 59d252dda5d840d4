"""A sandbox holding records that existed before the migration, and its full content.

The seed covers every conflict the loader can meet: a live person holding a patient's email
(linked), soft-deleted people holding patients' emails (restored, then linked), a company
holding the practice's domain (linked), and bystanders (live and soft-deleted) that no
migration step may touch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.run.conftest import VOLATILE, invoke, key_env, prepare

__all__ = ["key_env"]  # the work-directory fixtures of tests/run, shared here

OBJECTS = (
    "companies", "people", "tasks", "notes", "taskTargets", "noteTargets", "treatments",
    "procedures", "insurances", "claims", "payments", "communications",
)  # fmt: skip

SEED: list[tuple[str, dict[str, Any], bool]] = [
    # (object, record, soft-deleted afterwards)
    (
        "people",
        {
            "name": {"firstName": "Pre", "lastName": "Existing"},
            "emails": {"primaryEmail": "laura.smith@mail.example"},
            "jobTitle": "Office manager",
            "avatarUrl": "Eugene",
        },
        False,
    ),
    (
        "people",
        {
            "name": {"firstName": "Robert", "lastName": "Old"},
            "emails": {"primaryEmail": "rob.garcia@mail.example"},
            "jobTitle": "Former lead",
        },
        True,
    ),
    (
        "people",
        {
            "name": {"firstName": "Zed", "lastName": "Gone"},
            "emails": {"primaryEmail": "zoe.adams@mail.example"},
        },
        True,
    ),
    (
        "people",
        {
            "name": {"firstName": "Bystander", "lastName": "Live"},
            "emails": {"primaryEmail": "someone@else.example"},
        },
        False,
    ),
    (
        "people",
        {
            "name": {"firstName": "Bystander", "lastName": "Deleted"},
            "emails": {"primaryEmail": "nobody@else.example"},
        },
        True,
    ),
    (
        "companies",
        {
            "name": "Bright Smiles (old CRM)",
            "domainName": {"primaryLinkUrl": "https://www.brightsmiles.example"},
        },
        False,
    ),
    (
        "companies",
        {"name": "Closed Lab", "domainName": {"primaryLinkUrl": "https://closedlab.example"}},
        True,
    ),
]


def client(rest_url: str, key: str) -> httpx.Client:
    """A plain HTTP client on the sandbox's REST API (the test's own view of Twenty)."""
    return httpx.Client(base_url=rest_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def seed(rest_url: str, key: str) -> dict[str, str]:
    """Create the pre-existing records; ids by `<object>:<first name or name>`."""
    ids = {}
    with client(rest_url, key) as http:
        for plural, record, soft_deleted in SEED:
            created = _send(http, "POST", f"/{plural}", 201, json=record)
            record_id = next(iter(created["data"].values()))["id"]
            name = record["name"]
            label = name["lastName"] if isinstance(name, dict) else name
            ids[f"{plural}:{label}"] = record_id
            if soft_deleted:
                _send(http, "DELETE", f"/{plural}/{record_id}", 200, params={"soft_delete": "true"})
    return ids


def snapshot(rest_url: str, key: str, objects: tuple[str, ...] = OBJECTS) -> dict[str, Any]:
    """Every record (live and soft-deleted) of every object, by object and id.

    Server-derived values are left out: updatedAt/updatedBy, positions and BlockNote ids;
    deletedAt is reduced to whether it is set.
    """
    content: dict[str, Any] = {}
    with client(rest_url, key) as http:
        for plural in objects:
            records: dict[str, Any] = {}
            for deleted in (False, True):
                for record in _pages(http, plural, deleted):
                    records[record["id"]] = _stable(record)
            content[plural] = records
    return content


def fields_of(rest_url: str, key: str) -> dict[str, set[str]]:
    """Object name -> its field names, from the metadata API."""
    with client(rest_url, key) as http:
        body = _send(http, "GET", "/metadata/objects", 200, params={"limit": "1000"})
    return {o["nameSingular"]: {f["name"] for f in o["fields"]} for o in body["data"]["objects"]}


def _pages(http: httpx.Client, plural: str, deleted: bool) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        params = {"limit": "200"}
        if deleted:
            params["filter"] = "deletedAt[is]:NOT_NULL"
        if cursor:
            params["starting_after"] = cursor
        body = _send(http, "GET", f"/{plural}", 200, params=params)
        found += body["data"][plural]
        if not body["pageInfo"]["hasNextPage"]:
            return found
        cursor = body["pageInfo"]["endCursor"]


def _stable(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in record.items():
        if key in VOLATILE:
            continue
        if key == "deletedAt":
            # Soft-deleting again stamps the rollback's time: Twenty sets deletedAt itself and
            # the API offers no way to write it, so whether it is set is what can be restored.
            value = value is not None
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "blocknote"}
        out[key] = value
    return out


def _send(http: httpx.Client, method: str, path: str, status: int, **options: Any) -> Any:
    """Send until the sandbox answers `status` (a throttled sandbox answers 429 at times)."""
    for _ in range(200):
        try:
            response = http.request(method, path, **options)
        except httpx.TransportError:
            continue
        if response.status_code == status:
            return response.json()
        if response.status_code not in (429, 503):
            raise AssertionError(f"{response.status_code}: {response.text[:300]}")
        time.sleep(0.1)
    raise AssertionError("the sandbox kept refusing")


def migrate(workdir: Path, url: str, bundle: str = "small_cp1252") -> Path:
    """Prepare a work directory (schema applied) and run the whole migration with `link`."""
    prepare(workdir, url, bundle)
    invoke(workdir, "run", "--without-sample-approval")
    return workdir


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Where two snapshots differ, field by field (object, id, field)."""
    found = []
    for plural in before:
        for record_id in before[plural].keys() | after.get(plural, {}).keys():
            old = before[plural].get(record_id)
            new = after.get(plural, {}).get(record_id)
            if old is None or new is None:
                found.append(f"{plural} {record_id}: {'added' if old is None else 'missing'}")
                continue
            for field in old.keys() | new.keys():
                if old.get(field) != new.get(field):
                    found.append(
                        f"{plural} {record_id}.{field}: {old.get(field)!r} -> {new.get(field)!r}"
                    )
    return found


class Migrated:
    """A seeded sandbox, its content before the migration, and the migrated work directory."""

    def __init__(self, sandbox: Any, workdir: Path, before: dict[str, Any]) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        self.before = before

    def now(self) -> dict[str, Any]:
        """The sandbox's content now."""
        return snapshot(self.sandbox.rest_url, self.sandbox.api_key)


@pytest.fixture
def migrated(twenty_sandbox: Any, key_env: Any, tmp_path: Path) -> Migrated:
    """The small bundle migrated with `link` into a seeded sandbox."""
    key_env(twenty_sandbox.api_key)
    seed(twenty_sandbox.rest_url, twenty_sandbox.api_key)
    workdir = prepare(tmp_path / "wd", twenty_sandbox.base_url)
    before = snapshot(twenty_sandbox.rest_url, twenty_sandbox.api_key)
    invoke(workdir, "run", "--without-sample-approval")
    return Migrated(twenty_sandbox, workdir, before)
