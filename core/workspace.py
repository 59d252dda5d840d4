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
    rebuilt: bool = False  # the store was made again with the namespace ferry.toml kept

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
    namespace: ids already derived stay valid. The namespace is written into `ferry.toml`
    too, so a store lost and made again here (`ferry init` once more) keeps the same ids.

    Raises:
        ConfigError: when the source export does not exist, or the folder cannot be written.
    """
    if not Path(config.source).exists():
        raise ConfigError(
            f"the export {config.source} does not exist; give --source a directory or ZIP"
        )
    kept = config.namespace or _config_namespace(workdir)
    try:
        private_dir(workdir)
        private_dir(workdir / REPORTS_DIR)
        _drop_stale_logs(workdir / STORE_NAME)
        store = _open_new_store(workdir / STORE_NAME, now)
    except OSError as error:
        raise ConfigError(
            f"cannot write in {workdir} ({error.strerror or error}); choose a folder you can "
            "write to with --workdir, or fix its permissions"
        ) from error
    namespace = _namespace(store)
    if namespace is None:
        namespace = uuid.UUID(kept) if kept else uuid.uuid4()
        event = MigrationInitialized(
            namespace=str(namespace),
            source=config.source,
            ferry_version=ferry_version,
            kept_namespace=bool(kept),
        )
        store.append([NewEvent("migration", event, expected_version=0)])
    elif kept and uuid.UUID(kept) != namespace:
        store.close()
        raise ConfigError(_mismatch(workdir, kept, namespace))
    config = msgspec.structs.replace(config, namespace=str(namespace))
    try:
        write_config(workdir, config)
    except OSError as error:
        store.close()
        raise ConfigError(f"cannot write {workdir / CONFIG_NAME} ({error.strerror})") from error
    return Workspace(workdir, config, store, namespace, _is_rebuilt(store))


def _open_new_store(path: Path, now: Callable[[], datetime] | None) -> EventStore:
    transition = Lifecycle().next_state
    if now:
        return EventStore.open(path, transition=transition, now=now)
    return EventStore.open(path, transition=transition)


def _drop_stale_logs(store_path: Path) -> None:
    """A `ferry.db-wal` or `-shm` left by a lost `ferry.db` belongs to no store: SQLite would
    replay the old log into the new file. Remove them before a new store is made."""
    if store_path.exists():
        return
    for suffix in ("-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)


def _config_namespace(workdir: Path) -> str:
    """The namespace an existing `ferry.toml` holds ("" when none or unreadable)."""
    try:
        return load_config(workdir).namespace
    except ConfigError:
        return ""


def _mismatch(workdir: Path, kept: str, namespace: uuid.UUID) -> str:
    return (
        f"{workdir / CONFIG_NAME} names namespace {kept} but {workdir / STORE_NAME} holds "
        f"{namespace}; ids would not match. Restore the ferry.toml or ferry.db that belong "
        "together"
    )


def open_workspace(workdir: Path, config: WorkspaceConfig | None = None) -> Workspace:
    """Open an initialised work directory (with an optional overridden config).

    Raises:
        ConfigError: when `ferry init` has not been run there, or ferry.toml and ferry.db
            name different namespaces.
        EventStoreError: when the store is damaged, read-only or not a Ferry store.
    """
    config = config or load_config(workdir)
    if not (workdir / STORE_NAME).exists():
        if config.namespace:
            raise ConfigError(
                f"no {STORE_NAME} in {workdir}; run `ferry init` again with the same --source "
                "to make it (ferry.toml keeps the ids' namespace, so records already in "
                "Twenty are found, not created twice), or restore ferry.db from a backup"
            )
        raise ConfigError(f"no {STORE_NAME} in {workdir}; run `ferry init --source EXPORT` first")
    store = EventStore.open(workdir / STORE_NAME, transition=Lifecycle().next_state, create=False)
    namespace = _namespace(store)
    if namespace is None:
        store.close()
        raise ConfigError(f"{workdir / STORE_NAME} has no MigrationInitialized; run `ferry init`")
    if config.namespace and uuid.UUID(config.namespace) != namespace:
        store.close()
        raise ConfigError(_mismatch(workdir, config.namespace, namespace))
    return Workspace(workdir, config, store, namespace, _is_rebuilt(store))


def _is_rebuilt(store: EventStore) -> bool:
    for stored in store.read("stream_id = 'migration' AND type = 'MigrationInitialized'", limit=1):
        assert isinstance(stored.event, MigrationInitialized)
        return stored.event.kept_namespace
    return False


def _namespace(store: EventStore) -> uuid.UUID | None:
    for stored in store.read("stream_id = 'migration' AND type = 'MigrationInitialized'", limit=1):
        assert isinstance(stored.event, MigrationInitialized)
        return uuid.UUID(stored.event.namespace)
    return None


__all__ = ["CONFIG_NAME", "Workspace", "init_workspace", "open_workspace", "private_dir"]
