"""The Twenty contract suite runs against the sandbox, or a real Twenty when configured.

Set both TWENTY_API_URL (the `/rest` base, e.g. https://crm.example.com/rest) and
TWENTY_API_KEY to run the same tests against a real workspace; otherwise a sandbox is started
for the session. Tests tag their records with a per-run prefix and destroy them afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from adapters.twenty_sandbox import SandboxConfig, running_sandbox


@dataclass
class Target:
    """Where the contract suite sends requests."""

    rest_url: str
    api_key: str
    is_sandbox: bool


@pytest.fixture(scope="session")
def twenty_target() -> Iterator[Target]:
    """A real Twenty when TWENTY_API_URL and TWENTY_API_KEY are set, else a sandbox."""
    url, key = os.environ.get("TWENTY_API_URL"), os.environ.get("TWENTY_API_KEY")
    if url and key:
        yield Target(url.rstrip("/"), key, is_sandbox=False)
        return
    with running_sandbox(SandboxConfig(api_key="contract-key")) as handle:
        yield Target(handle.rest_url, handle.api_key, is_sandbox=True)


@dataclass
class Api:
    """An authenticated client plus the records to destroy when the test ends."""

    client: httpx.Client
    tag: str
    created: list[tuple[str, str]] = field(default_factory=list)

    def create(self, plural: str, body: dict[str, object]) -> dict[str, object]:
        """POST one record, remember it for cleanup, return it (asserts 201)."""
        response = self.client.post(f"/{plural}", json=body)
        assert response.status_code == 201, response.text
        record: dict[str, object] = next(iter(response.json()["data"].values()))
        self.created.append((plural, str(record["id"])))
        return record

    def track(self, plural: str, records: list[dict[str, object]]) -> None:
        """Remember records created another way."""
        self.created += [(plural, str(record["id"])) for record in records]

    def email(self, name: str) -> str:
        """An email unique to this run."""
        return f"{name}.{self.tag}@contract.example"


@pytest.fixture
def api(twenty_target: Target) -> Iterator[Api]:
    """A client for the target; everything it tracked is destroyed afterwards."""
    client = httpx.Client(
        base_url=twenty_target.rest_url,
        headers={"Authorization": f"Bearer {twenty_target.api_key}"},
        timeout=30,
    )
    api = Api(client, uuid.uuid4().hex[:10])
    yield api
    for plural, record_id in reversed(api.created):
        client.delete(f"/{plural}/{record_id}")
    client.close()
