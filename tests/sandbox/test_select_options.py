"""Sandbox-only: an options update that stored MULTI_SELECT values cannot survive is refused."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from adapters.twenty_sandbox import SandboxHandle


def test_a_multi_select_row_mixing_kept_and_removed_values_fails_the_update(
    start_sandbox: Callable[..., SandboxHandle],
) -> None:
    handle = start_sandbox()
    headers = {"Authorization": f"Bearer {handle.api_key}"}
    with httpx.Client(base_url=handle.rest_url, headers=headers) as client:
        people = next(
            o
            for o in client.get("/metadata/objects").json()["data"]["objects"]
            if o["nameSingular"] == "person"
        )
        created = client.post(
            "/metadata/fields",
            json={
                "objectMetadataId": people["id"],
                "type": "MULTI_SELECT",
                "name": "visitTags",
                "label": "Visit tags",
                "options": [
                    {"value": v, "label": v.title(), "position": i}
                    for i, v in enumerate(["SEEN", "MISSED"])
                ],
            },
        ).json()["data"]["createOneField"]
        person = client.post("/people", json={"visitTags": ["SEEN", "MISSED"]}).json()
        person_id = person["data"]["createPerson"]["id"]
        kept = [o for o in created["options"] if o["value"] == "SEEN"]
        refused = client.patch(f"/metadata/fields/{created['id']}", json={"options": kept})
        after = client.get(f"/people/{person_id}").json()["data"]["person"]
        field = client.get(f"/metadata/fields/{created['id']}").json()
    # Postgres cannot cast the removed value to the new enum: the whole update fails.
    assert refused.status_code == 400
    assert after["visitTags"] == ["SEEN", "MISSED"]
    assert [o["value"] for o in next(iter(field["data"].values()))["options"]] == [
        "SEEN",
        "MISSED",
    ]
