"""The chain head written to a file (an anchor) by `events anchor`, runs, deltas, rollbacks."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from commands.context import App

if TYPE_CHECKING:
    from core.workspace import Workspace
    from events.store import EventStore


def anchor_key(app: App, key_env: str | None) -> tuple[str, bytes | None]:
    """The anchor key's variable (option, else ferry.toml, else the default) and its value."""
    from core.config import AnchorConfig

    if key_env is None:
        key_env = (app.config().anchor if app.has_config() else AnchorConfig()).key_env
    key = os.environ.get(key_env, "")
    return key_env, key.encode() if key else None


def write_anchor(workdir: Path, store: EventStore, key: bytes | None, out: Path | None) -> str:
    """Anchor the store's head into `out` (default anchors/); the line that says where."""
    from core.clock import isoformat_utc
    from events.anchor import default_anchor_path, take_anchor, write_anchor

    anchor = take_anchor(store.connection, isoformat_utc(datetime.now(UTC)), key)
    path = write_anchor(anchor, out or default_anchor_path(workdir, anchor))
    signed = "signed" if anchor.signature else "unsigned: no anchor key set"
    return f"anchor: position {anchor.position} in {path} ({signed}); keep a copy off this machine"


def anchor_workspace(workspace: Workspace) -> str:
    """At the end of a run, delta or rollback: anchor the head into the work directory."""
    key = os.environ.get(workspace.config.anchor.key_env, "")
    return write_anchor(workspace.workdir, workspace.store, key.encode() if key else None, None)
