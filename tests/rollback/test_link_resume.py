"""A link cut short by a crash: the resumed run finishes it as a link, with the before-image
recorded before the first write, so that a rollback restores the pre-existing record exactly
instead of deleting it as if we had created it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import httpx

from adapters.dental_exec import open_export
from adapters.twenty import TwentyClient
from core.clock import SystemClock
from core.pipeline.run import RunRequest
from core.session import Session
from core.workspace import open_workspace
from events.store import NewEvent
from events.types import LoadRequested, RecordLoaded
from tests.rollback.conftest import differences, seed, snapshot
from tests.run.conftest import KEY_ENV, invoke, prepare


def _local_stages_only(workdir: Path) -> None:
    workspace = open_workspace(workdir)
    session = Session(workspace, open_export, lambda s, g: TwentyClient(s, gate=g), SystemClock())
    try:
        anyio.run(lambda: session.run(RunRequest(load=False)))
    finally:
        workspace.close()


def test_a_link_cut_short_is_resumed_as_a_link_and_rolls_back_exactly(
    twenty_sandbox: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv(KEY_ENV, twenty_sandbox.api_key)
    ids = seed(twenty_sandbox.rest_url, twenty_sandbox.api_key)
    holder_id = ids["people:Existing"]  # holds patient 10480's email
    workdir = prepare(tmp_path / "wd", twenty_sandbox.base_url)
    before = snapshot(twenty_sandbox.rest_url, twenty_sandbox.api_key)
    _local_stages_only(workdir)
    headers = {"Authorization": f"Bearer {twenty_sandbox.api_key}"}
    url = f"{twenty_sandbox.rest_url}/people/{holder_id}"
    holder = httpx.get(url, headers=headers).json()["data"]["person"]
    # The crash: the intent was recorded, the PATCH landed, the outcome was never recorded.
    workspace = open_workspace(workdir)
    stream = "patient:10480"
    workspace.store.append(
        [NewEvent(stream, LoadRequested(batch_id="b", destination_id=holder_id,
                                        target_object="person", operation="link",
                                        before_image=holder),
                  expected_version=workspace.store.stream_version(stream))]
    )  # fmt: skip
    workspace.close()
    patched = httpx.patch(
        url, headers=headers, json={"name": {"firstName": "Laura", "lastName": "Smith"}}
    )
    assert patched.status_code == 200

    invoke(workdir, "run", "--without-sample-approval")
    workspace = open_workspace(workdir)
    history = [e.event for e in workspace.store.read_stream(stream)]
    workspace.close()
    loaded = [e for e in history if isinstance(e, RecordLoaded)]
    assert [(e.outcome, e.destination_id) for e in loaded] == [("linked", holder_id)]
    assert loaded[0].before_image == holder  # as it was before our first write, not after
    invoke(workdir, "rollback", "--yes")
    assert differences(before, snapshot(twenty_sandbox.rest_url, twenty_sandbox.api_key)) == []
    assert os.environ[KEY_ENV]
