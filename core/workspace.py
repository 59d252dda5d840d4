"""A work directory: `ferry.toml`, `ferry.db`, `mapping.toml` and `reports/`, all owner-only.

`init_workspace` makes one and records MigrationInitialized with a fresh random namespace;
`open_workspace` gives every other command its config, store and namespace.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import msgspec

from core.config import CONFIG_NAME, WorkspaceConfig, load_config, write_config
from core.errors import ConfigError
from core.lifecycle import Lifecycle
from events.private_files import private_dir
from events.store import EventStore, NewEvent
from events.types import MigrationInitialized

STORE_NAME = "ferry.db"
MAPPING_NAME = "mapping.toml"
REPORTS_DIR = "reports"


class Workspace(msgspec.Struct, frozen=True):
    """An open work directory."""

    workdir: Path
    config: WorkspaceConfig
    store: EventStore
    namespace: uuid.UUID

    @property
    def reports(self) -> Path:
        """The reports folder (created owner-only when missing)."""
        return private_dir(self.workdir / REPORTS_DIR)

    @property
    def mapping_path(self) -> Path:
        """Where `mapping.toml` lives."""
        return self.workdir / MAPPING_NAME

    def close(self) -> None:
        """Close the store."""
        self.store.close()


def init_workspace(
    workdir: Path,
    config: WorkspaceConfig,
    *,
    ferry_version: str,
    now: Callable[[], datetime] | None = None,
) -> Workspace:
    """Create the work directory, its config and store; record the migration's namespace.

    Re-running on an initialised directory rewrites `ferry.toml` but keeps the store and its
    namespace: ids already derived stay valid.

    Raises:
        ConfigError: when the source export does not exist.
    """
    if not Path(config.source).exists():
        raise ConfigError(
            f"the export {config.source} does not exist; give --source a directory or ZIP"
        )
    private_dir(workdir)
    private_dir(workdir / REPORTS_DIR)
    write_config(workdir, config)
    path, transition = workdir / STORE_NAME, Lifecycle().next_state
    store = (
        EventStore.open(path, transition=transition, now=now)
        if now
        else EventStore.open(path, transition=transition)
    )
    namespace = _namespace(store)
    if namespace is None:
        namespace = uuid.uuid4()
        event = MigrationInitialized(
            namespace=str(namespace), source=config.source, ferry_version=ferry_version
        )
        store.append([NewEvent("migration", event, expected_version=0)])
    return Workspace(workdir, config, store, namespace)


def open_workspace(workdir: Path, config: WorkspaceConfig | None = None) -> Workspace:
    """Open an initialised work directory (with an optional overridden config).

    Raises:
        ConfigError: when `ferry init` has not been run there.
    """
    config = config or load_config(workdir)
    if not (workdir / STORE_NAME).exists():
        raise ConfigError(f"no {STORE_NAME} in {workdir}; run `ferry init --source EXPORT` first")
    store = EventStore.open(workdir / STORE_NAME, transition=Lifecycle().next_state, create=False)
    namespace = _namespace(store)
    if namespace is None:
        store.close()
        raise ConfigError(f"{workdir / STORE_NAME} has no MigrationInitialized; run `ferry init`")
    return Workspace(workdir, config, store, namespace)


def _namespace(store: EventStore) -> uuid.UUID | None:
    for stored in store.read("stream_id = 'migration' AND type = 'MigrationInitialized'", limit=1):
        assert isinstance(stored.event, MigrationInitialized)
        return uuid.UUID(stored.event.namespace)
    return None


__all__ = ["CONFIG_NAME", "Workspace", "init_workspace", "open_workspace", "private_dir"]
