"""Sandbox-only bulk behaviour: the caps, filterless update/restore-many, id operands, throttle.

These would be unsafe on a shared real workspace (an older Twenty applies a filterless
update- or restore-many to every record), so they are not in tests/contracts/.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from adapters.twenty_sandbox import RateWindow, SandboxConfig, SandboxConfigError, SandboxHandle


def _client(handle: SandboxHandle) -> httpx.Client:
    return httpx.Client(
        base_url=handle.rest_url, headers={"Authorization": f"Bearer {handle.api_key}"}
    )


def _notes(client: httpx.Client, count: int) -> list[str]:
    response = client.post("/batch/notes", json=[{"title": f"n{i}"} for i in range(count)])
    assert response.status_code == 201, response.text
    return [str(note["id"]) for note in response.json()["data"]["createNotes"]]


def _in(ids: list[str]) -> str:
    return f"id[in]:[{','.join(ids)}]"


def _total(client: httpx.Client, filter_text: str = "title[startsWith]:n") -> int:
    return int(client.get("/notes", params={"filter": filter_text}).json()["totalCount"])


@pytest.mark.parametrize(
    ("method", "path", "params", "operation"),
    [
        ("PATCH", "/notes", {}, "update"),
        ("DELETE", "/notes", {}, "destroy"),
    ],
    ids=["update-many", "destroy-many"],
)
def test_update_and_destroy_many_above_the_cap_are_refused_whole(
    start_sandbox: Callable[..., SandboxHandle],
    method: str,
    path: str,
    params: dict[str, str],
    operation: str,
) -> None:
    handle = start_sandbox(mutation_max=3)
    with _client(handle) as client:
        ids = _notes(client, 4)
        body = {"title": "changed"} if method == "PATCH" else None
        refused = client.request(method, path, params={**params, "filter": _in(ids)}, json=body)
        assert refused.status_code == 400
        assert refused.json()["messages"] == [f"Cannot {operation} more than 3 records at once"]
        assert _total(client) == 4
        done = client.request(method, path, params={"filter": _in(ids[:3])}, json=body)
        assert done.status_code == 200, done.text
        assert len(next(iter(done.json()["data"].values()))) == 3


def test_soft_delete_and_restore_many_have_no_cap(
    start_sandbox: Callable[..., SandboxHandle],
) -> None:
    handle = start_sandbox(mutation_max=2)
    with _client(handle) as client:
        ids = _notes(client, 5)
        soft = client.delete("/notes", params={"filter": _in(ids), "soft_delete": "true"})
        assert len(soft.json()["data"]["deleteNotes"]) == 5
        restored = client.patch("/notes/restore", params={"filter": _in(ids)})
        assert len(restored.json()["data"]["restoreNotes"]) == 5


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/notes"), ("PATCH", "/notes/restore"), ("PATCH", "/restore/notes")],
    ids=["update-many", "restore-many", "restore-many-1x"],
)
def test_filterless_update_and_restore_many_are_refused(
    twenty_sandbox: SandboxHandle, method: str, path: str
) -> None:
    with _client(twenty_sandbox) as client:
        _notes(client, 2)
        for params in ({}, {"filter": ""}):
            response = client.request(method, path, params=params, json={"title": "x"})
            assert response.status_code == 400
            assert response.json()["messages"] == [
                "A non-empty filter is required for a bulk mutation"
            ]
        assert _total(client, "title[eq]:x") == 0


def test_update_many_reaches_soft_deleted_rows(twenty_sandbox: SandboxHandle) -> None:
    with _client(twenty_sandbox) as client:
        ids = _notes(client, 2)
        client.delete(f"/notes/{ids[0]}", params={"soft_delete": "true"})
        updated = client.patch("/notes", params={"filter": _in(ids)}, json={"title": "x"})
        assert sorted(n["id"] for n in updated.json()["data"]["updateNotes"]) == sorted(ids)


@pytest.mark.parametrize(
    "filter_text",
    ["id[in]:[{a}, {b}]", "id[eq]:not-a-uuid", "id[in]:[]"],
    ids=["spaced-list", "eq", "empty-list"],
)
def test_id_operands_must_be_uuids(twenty_sandbox: SandboxHandle, filter_text: str) -> None:
    with _client(twenty_sandbox) as client:
        a, b = _notes(client, 2)
        text = filter_text.format(a=a, b=b)
        for response in (
            client.get("/notes", params={"filter": text}),
            client.delete("/notes", params={"filter": text}),
        ):
            assert response.status_code == 400
            assert response.json()["messages"][0].endswith("is not a valid UUID")
        assert _total(client) == 2


def test_a_bulk_request_takes_one_token_whatever_its_size(
    start_sandbox: Callable[..., SandboxHandle],
) -> None:
    handle = start_sandbox(rate_windows=(RateWindow(3, 60_000),))
    with _client(handle) as client:
        ids = _notes(client, 150)
        assert client.delete("/notes", params={"filter": _in(ids[:100])}).status_code == 200
        assert client.patch("/notes/restore", params={"filter": _in(ids)}).status_code == 200
        assert client.get("/notes").status_code == 429


def test_mutation_max_is_checked() -> None:
    with pytest.raises(SandboxConfigError, match="mutation_max"):
        SandboxConfig(mutation_max=0)
    assert SandboxConfig().mutation_max == 200
