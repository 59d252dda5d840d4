"""The append-only event store: one SQLite file in WAL mode, a hash chain, projections.

The `events` table is a stable interface for auditors (see docs/event-store.md). The database
itself refuses UPDATE and DELETE on it (triggers), and this module issues neither. Appends are
batches across many streams committed in one transaction, with per-stream expected versions
for optimistic concurrency and the projections folded in the same transaction.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import sqlite_utils

from events.checkpoint import Checkpointer
from events.chunks import ROWS_PER_STATEMENT, rows_for_streams, rows_per_statement
from events.errors import (
    ConcurrencyError,
    CorruptStoreError,
    EventStoreError,
    StoreMissingError,
    StoreReadOnlyError,
    StoreReplacedError,
    store_error,
)
from events.private_files import create_private
from events.projections import (
    PROJECTION_SCHEMA,
    STATE,
    VERSION,
    Applied,
    Projector,
    Row,
    Transition,
    advance_record,
    load_record_states,
)
from events.types import AnyEvent, Event, decode

# The append loop encodes a whole batch in one call, one line per event.
encode_lines = msgspec.json.Encoder().encode_lines

SCHEMA_VERSION = "1"
CACHE_LIMIT = 20_000  # streams whose state is kept in memory between appends
GENESIS_HASH = "0" * 64
EVENT_BOUND = 5  # values bound per event row: stream_id, version, type, data, hash

EVENTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    stream_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    run_id TEXT,
    recorded_at TEXT NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE is not allowed'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE is not allowed'); END;
CREATE TABLE IF NOT EXISTS chain_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class NewEvent(msgspec.Struct, frozen=True):
    """An event to append to a stream.

    `expected_version` is the version the caller believes the stream is at (0 for a new
    stream); None appends without the check.
    """

    stream_id: str
    event: Event
    expected_version: int | None = None


class StoredEvent(msgspec.Struct, frozen=True):
    """An event as stored: its envelope, its decoded body and its place in the chain."""

    position: int
    stream_id: str
    version: int
    type: str
    run_id: str | None
    recorded_at: str
    event: AnyEvent
    prev_hash: str
    hash: str


def chain_hash(
    position: int,
    stream_id: str,
    version: int,
    type_: str,
    run_id: str | None,
    recorded_at: str,
    data: bytes,
    prev_hash: str,
) -> str:
    """SHA-256 over a row's canonical bytes and the previous row's hash."""
    head = (
        f"{position}\x1f{stream_id}\x1f{version}\x1f{type_}\x1f{run_id or ''}\x1f{recorded_at}\x1f"
    )
    return hashlib.sha256(head.encode() + data + b"\x1f" + prev_hash.encode()).hexdigest()


def file_identity(path: Path) -> tuple[int, int]:
    """The (device, inode) pair naming the file at `path` now.

    Raises:
        FileNotFoundError: nothing is at `path`.
    """
    info = os.stat(path)
    return info.st_dev, info.st_ino


ACCESS_WORDS = ("readonly", "read-only", "locked", "busy", "unable to open")


def _explained(error: sqlite3.DatabaseError, path: Path) -> Exception:
    """SQLite's "unable to open" says nothing of why; a folder or file we cannot write does."""
    if "unable to open" in str(error) and not (
        os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    ):
        return sqlite3.OperationalError(f"{error}: the file or its folder is read-only")
    return error


def _open_error(path: Path, error: Exception) -> EventStoreError:
    """Why a store could not be opened, as one line that says what to do."""
    if isinstance(error, EventStoreError):
        return error
    if isinstance(error, sqlite3.DatabaseError) and _is_access_error(error):
        return store_error(path, _explained(error, path))
    if isinstance(error, OSError):
        return store_error(path, error)
    return CorruptStoreError(
        f"{path} is not a usable Ferry store ({error}); restore it from a backup, or "
        "move it aside and run `ferry init` again in the same folder"
    )


def _is_access_error(error: sqlite3.DatabaseError) -> bool:
    return any(word in str(error).lower() for word in ACCESS_WORDS)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _format_instant(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise EventStoreError("the store's clock returned a naive datetime; inject a UTC clock")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventStore:
    """An open event store; one writer connection, safe to share across coroutines of a thread."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        transition: Transition,
        now: Callable[[], datetime],
        checkpointer: Checkpointer | None = None,
    ) -> None:
        self._conn = conn
        self._checkpointer = checkpointer
        self._db = sqlite_utils.Database(conn)
        self._projector = Projector(transition)
        self._now = now
        # record_state rows of recently written streams (with their rowids), valid while the
        # chain head is the one this connection wrote last and no other connection has
        # written since (both checked inside each write transaction).
        self._cache: dict[str, Row] = {}
        self._cache_head = -1
        self._data_version = -1
        self._path: Path | None = None  # set by `open`: the file this store must stay
        self._identity: tuple[int, int] | None = None

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        transition: Transition,
        now: Callable[[], datetime] = _utc_now,
        create: bool = True,
    ) -> EventStore:
        """Open (and with `create`, make) the store at `path`.

        Raises:
            StoreMissingError: when there is no store and `create` is False.
            CorruptStoreError: when the file is not a Ferry store.
        """
        path = Path(path)
        if not path.exists() and not create:
            raise StoreMissingError(
                f"no Ferry store at {path}; run `ferry init` in that work directory first "
                "(if ferry.db was lost, with the same --source: ferry.toml keeps the ids' "
                "namespace, so records already in Twenty are found, not created twice)"
            )
        if create:  # owner-only before SQLite opens it; its -wal and -shm take its mode
            try:
                create_private(path)
            except OSError as error:
                raise StoreReadOnlyError(
                    f"cannot create {path} ({error.strerror}); run in a folder you can write to"
                ) from error
        conn: sqlite3.Connection | None = None
        try:
            identity = file_identity(path)
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=10000")
            # Read what the file is before anything is written to it (WAL mode is a write).
            cls._check_kind(conn, path)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA cache_size=-32768")  # 32 MB: projections update in place
            cls._ensure_schema(conn, path)
            checkpointer = Checkpointer(path, conn)  # the WAL is copied back off the writer
        except (sqlite3.DatabaseError, OSError, EventStoreError) as error:
            if conn is not None:
                conn.close()
            raise _open_error(path, error) from error
        store = cls(conn, transition, now, checkpointer)
        store._path, store._identity = path, identity
        return store

    @staticmethod
    def _check_kind(conn: sqlite3.Connection, path: Path) -> None:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "events" not in tables:
            raise CorruptStoreError(
                f"{path} is a SQLite file but not a Ferry store; give the work directory that "
                "holds the migration's ferry.db"
            )

    @staticmethod
    def _ensure_schema(conn: sqlite3.Connection, path: Path) -> None:
        # One script, one transaction: executescript commits anything pending first.
        conn.executescript(
            "BEGIN IMMEDIATE;"
            + EVENTS_SCHEMA
            + PROJECTION_SCHEMA
            + "INSERT OR IGNORE INTO store_meta (key, value) "
            + f"VALUES ('schema_version', '{SCHEMA_VERSION}');"
            + "COMMIT;"
        )

    @property
    def connection(self) -> sqlite3.Connection:
        """The underlying connection, for read-only queries by reports and projections."""
        return self._conn

    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite-utils view of the store, for read-only queries."""
        return self._db

    def close(self) -> None:
        """Stop the background checkpoint, then close the connection."""
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._conn.close()

    def meta(self, key: str) -> str | None:
        """An operational setting kept beside the log (not an event: never in the chain)."""
        row = self._conn.execute("SELECT value FROM store_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Keep an operational setting (e.g. the rate limiter's last state), committed now.

        What the migration did is only ever in events; these are hints that make the next
        process start well (how much request budget is left, the batch size Twenty takes).
        """
        self._conn.execute(
            "INSERT INTO store_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def check_in_place(self) -> None:
        """Refuse to go on when the store's path no longer holds the file this store opened.

        A deleted or replaced `ferry.db` would otherwise take every later write with it
        (SQLite keeps writing to the unlinked file), and the next process would find none.

        Raises:
            StoreReplacedError: the path is gone or holds another file.
        """
        if self._path is None or self._identity is None:
            return
        try:
            now = file_identity(self._path)
        except FileNotFoundError:
            now = None
        if now != self._identity:
            what = "deleted" if now is None else "replaced by another file"
            raise StoreReplacedError(
                f"{self._path} was {what} while this process was writing to it; stopped. "
                "Nothing more is written: restore the file from a backup, or run `ferry init` "
                "again in that folder and then `ferry run` (ids derive from the namespace "
                "in ferry.toml, so records already in Twenty are found, not created twice)"
            )

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(self, events: Sequence[NewEvent], *, run_id: str | None = None) -> list[int]:
        """Append a batch atomically; returns the positions given, in order.

        Raises:
            ConcurrencyError: when a stream is not at its expected version.
            IllegalTransitionError: when a record event does not follow from its state.
        """
        if not events:
            return []
        self.check_in_place()
        recorded_at = _format_instant(self._now())
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            positions, rows = self._append_locked(events, run_id, recorded_at)
            conn.execute("COMMIT")
        except BaseException:
            self._cache.clear()
            self._cache_head = -1
            conn.execute("ROLLBACK")
            raise
        if self._checkpointer is not None:
            self._checkpointer.after_commit(rows)
        return positions

    def _append_locked(
        self, events: Sequence[NewEvent], run_id: str | None, recorded_at: str
    ) -> tuple[list[int], int]:
        """Link, insert and fold a batch; its positions and the number of rows written."""
        conn = self._conn
        head = conn.execute("SELECT position, hash FROM chain_head WHERE id = 1").fetchone()
        first, prev_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
        # The cached rows (and their rowids) hold while no other connection has written.
        data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        if first != self._cache_head or data_version != self._data_version:
            self._cache.clear()
            self._data_version = data_version
        records, others = self._stream_states(events)
        # One C call encodes the whole batch, one line per event (JSON escapes newlines), as
        # the text stored in `data`; hashed as its UTF-8 bytes.
        datas = encode_lines([new.event for new in events]).decode().split("\n")
        chain = _Chain(first, prev_hash, run_id, recorded_at)
        if others:
            values = chain.link_mixed(events, datas, records, self._current_versions(others))
        else:
            values = chain.link_records(events, datas, records, self._projector)
        position, prev_hash = chain.position, chain.prev_hash
        _insert_events(conn, values, first, chain.first_prev_hash, run_id, recorded_at)
        conn.execute(
            "INSERT INTO chain_head (id, position, hash) VALUES (1, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET position = excluded.position, hash = excluded.hash",
            (position, prev_hash),
        )
        if not others:
            sid, version = values[0], values[1]  # the first event's stream and version
            opening = Applied(first + 1, sid, version, run_id, recorded_at, events[0].event)
            self._projector.write_folded(conn, records, opening, len(events), position)
            written = records
        else:  # run facts among them: the general fold
            versions_given = values[1::EVENT_BOUND]
            applied = [
                Applied(first + i, new.stream_id, version, run_id, recorded_at, new.event)
                for i, (new, version) in enumerate(zip(events, versions_given, strict=True), 1)
            ]
            written = self._projector.fold(conn, applied, records)
        self._remember(written, position)
        return list(range(first + 1, position + 1)), len(events) + len(written)

    def _stream_states(self, events: Sequence[NewEvent]) -> tuple[dict[str, Row], set[str]]:
        """The batch's record rows (cache first) and its other (migration, run) streams.

        Streams are told apart by their ids (`<entity>:<key>` for records) in one pass over
        the batch; whether each event suits its stream is checked as it is linked (_Chain).
        """
        cache = self._cache
        records: dict[str, Row] = {}
        missing: list[str] = []
        others: set[str] = set()
        for sid in {new.stream_id for new in events}:
            row = cache.get(sid)
            if row is not None:
                records[sid] = row
            elif _is_record_stream(sid):
                missing.append(sid)
            else:
                others.add(sid)
        if missing:
            records.update(load_record_states(self._conn, missing))
        return records, others

    def _remember(self, written: dict[str, Row], position: int) -> None:
        """Keep the rows just written, bounded, valid while nobody else appends.

        When the cache outgrows its bound it keeps only this batch's rows: the pipeline
        writes a chunk's records in a few consecutive batches, so those are the ones asked
        for next.
        """
        if len(self._cache) + len(written) > CACHE_LIMIT:
            self._cache = {}
        self._cache.update(written)
        self._cache_head = position

    def _current_versions(self, stream_ids: set[str]) -> dict[str, int]:
        sql = (
            "SELECT stream_id, MAX(version) FROM events WHERE stream_id IN ({marks}) "
            "GROUP BY stream_id"
        )
        return dict(rows_for_streams(self._conn, sql, stream_ids))

    def read(
        self, sql_where: str = "", params: Sequence[Any] = (), *, limit: int | None = None
    ) -> Iterator[StoredEvent]:
        """Events in position order, optionally filtered by a WHERE clause over the columns."""
        sql = "SELECT * FROM events"
        if sql_where:
            sql += f" WHERE {sql_where}"
        sql += " ORDER BY position"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        for row in self._conn.execute(sql, tuple(params)):
            yield stored_from_row(row)

    def read_stream(self, stream_id: str) -> list[StoredEvent]:
        """Every event of one stream, oldest first."""
        return list(self.read("stream_id = ?", (stream_id,)))

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 when it has no event)."""
        return self._current_versions({stream_id}).get(stream_id, 0)

    def head(self) -> tuple[int, str]:
        """The last position and its hash (0 and the genesis hash for an empty store)."""
        found = self._conn.execute("SELECT position, hash FROM chain_head WHERE id = 1").fetchone()
        return (int(found[0]), str(found[1])) if found else (0, GENESIS_HASH)


@functools.lru_cache(maxsize=ROWS_PER_STATEMENT)
def _events_insert_sql(count: int) -> str:
    """The INSERT of `count` consecutive events, binding what the rows share only once.

    ?1 is the run id, ?2 the time, ?3 the first position (the others follow it) and ?4 the
    first row's prev_hash; then EVENT_BOUND values per row, whose prev_hash is the previous
    row's hash parameter.
    """
    rows = []
    for k in range(count):
        at = 5 + EVENT_BOUND * k  # this row's first parameter
        prev = "?4" if k == 0 else f"?{at - 1}"
        sid, version, type_, data, digest = (f"?{at + i}" for i in range(EVENT_BOUND))
        rows.append(f"(?3 + {k}, {sid}, {version}, {type_}, ?1, ?2, {data}, {prev}, {digest})")
    return "INSERT INTO events VALUES " + ", ".join(rows)


def _insert_events(
    conn: sqlite3.Connection,
    values: list[Any],
    first: int,
    first_prev_hash: str,
    run_id: str | None,
    recorded_at: str,
) -> None:
    """Insert a linked batch (EVENT_BOUND values per event) after position `first`."""
    count = len(values) // EVENT_BOUND
    per = rows_per_statement(conn, EVENT_BOUND, shared=4)
    for start in range(0, count, per):
        rows = min(per, count - start)
        prev = first_prev_hash if start == 0 else values[start * EVENT_BOUND - 1]
        shared = [run_id, recorded_at, first + 1 + start, prev]
        span = values[start * EVENT_BOUND : (start + rows) * EVENT_BOUND]
        conn.execute(_events_insert_sql(rows), shared + span)


class _Chain:
    """Links one batch onto the chain: positions, versions, hashes, the rows to insert.

    The record loop inlines chain_hash() (same bytes; verify() recomputes with it).
    """

    def __init__(self, first: int, prev_hash: str, run_id: str | None, recorded_at: str) -> None:
        self.position = first
        self.prev_hash = self.first_prev_hash = prev_hash
        self.run_id = run_id
        self.recorded_at = recorded_at

    def link_records(
        self,
        events: Sequence[NewEvent],
        datas: list[str],
        records: dict[str, Row],
        projector: Projector,
    ) -> list[Any]:
        """A batch of record events, folded into `records` as it goes; the flat rows.

        The fold is replay's (`advance_record` after the checked transition), so a rebuild
        reproduces it; each stream's version is the one in its row.

        Raises:
            ConcurrencyError: when a stream is not at its expected version.
            IllegalTransitionError: when an event does not follow from its record's state.
        """
        values: list[Any] = []  # flat: EVENT_BOUND values per row (see _insert_events)
        put, sha256, get = values.extend, hashlib.sha256, records.get
        known = projector.next_states.get
        run_id, recorded_at, prev_hash = self.run_id, self.recorded_at, self.prev_hash
        tail, position = f"\x1f{run_id or ''}\x1f{recorded_at}\x1f", self.position
        for new, data in zip(events, datas, strict=False):  # datas ends with an empty line
            sid, event = new.stream_id, new.event
            row = get(sid)
            state, current = (row[STATE], row[VERSION]) if row is not None else (None, 0)
            if new.expected_version is not None and new.expected_version != current:
                raise ConcurrencyError(sid, new.expected_version, current)
            version, position = current + 1, position + 1
            type_ = event.__class__.__name__
            digest = sha256(
                f"{position}\x1f{sid}\x1f{version}\x1f{type_}{tail}{data}\x1f{prev_hash}".encode()
            ).hexdigest()
            put((sid, version, type_, data, digest))
            moved = known((state, type_)) or _first_transition(projector, sid, state, event)
            records[sid] = advance_record(row, sid, version, position, moved, event)
            prev_hash = digest
        self.position, self.prev_hash = position, prev_hash
        return values

    def link_mixed(
        self,
        events: Sequence[NewEvent],
        datas: list[str],
        records: dict[str, Row],
        versions: dict[str, int],
    ) -> list[Any]:
        """A batch with run or migration facts (folded afterwards by the projector).

        `versions` holds the other streams' current versions; records' are in their rows.

        Raises:
            ConcurrencyError: when a stream is not at its expected version.
        """
        versions.update({sid: row[VERSION] for sid, row in records.items()})
        values: list[Any] = []
        for new, data in zip(events, datas, strict=False):
            sid = new.stream_id
            _check_stream(sid, is_record_event=new.event.is_record_event)
            current = versions.get(sid, 0)
            if new.expected_version is not None and new.expected_version != current:
                raise ConcurrencyError(sid, new.expected_version, current)
            version = versions[sid] = current + 1
            self.position += 1
            type_ = new.event.__class__.__name__
            digest = chain_hash(
                self.position,
                sid,
                version,
                type_,
                self.run_id,
                self.recorded_at,
                data.encode(),
                self.prev_hash,
            )
            values.extend((sid, version, type_, data, digest))
            self.prev_hash = digest
        return values


def _is_record_stream(stream_id: str) -> bool:
    """Whether the id names a record's stream, `<entity>:<key>` (not `migration`, `run:<id>`)."""
    entity, sep, key = stream_id.partition(":")
    return bool(sep and entity and key and entity != "run")


def _check_stream(stream_id: str, *, is_record_event: bool) -> None:
    """Record events go to `<entity>:<key>` streams; the others to `migration` or `run:<id>`.

    Raises:
        EventStoreError: when an event is aimed at the wrong kind of stream.
    """
    if is_record_event != _is_record_stream(stream_id):
        kind = "record" if is_record_event else "migration or run"
        raise EventStoreError(f"a {kind} event cannot go to stream {stream_id!r}")


def _first_transition(projector: Projector, stream_id: str, state: str | None, event: Event) -> str:
    """A transition the append loop has not met yet, once the event is known to suit the stream.

    Raises:
        EventStoreError: when a migration or run event is aimed at a record's stream.
        IllegalTransitionError: when the event does not follow from the record's state.
    """
    _check_stream(stream_id, is_record_event=event.is_record_event)
    return projector.next_state(stream_id, state, type(event).__name__)


def stored_from_row(row: tuple[Any, ...]) -> StoredEvent:
    position, stream_id, version, type_, run_id, recorded_at, data, prev_hash, digest = row
    return StoredEvent(
        position, stream_id, version, type_, run_id, recorded_at, decode(data), prev_hash, digest
    )
