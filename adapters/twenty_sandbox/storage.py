"""SQLite storage: metadata, records as JSON documents, and the unique-value index.

One file holds everything, so a sandbox keeps its workspace across restarts. Records are
stored whole (the JSON Twenty would answer), filtered and sorted with `json_extract`.
Uniqueness is a separate table, kept for soft-deleted rows too: Twenty's unique indexes are
not partial, so a soft-deleted person still holds its email (reference §9).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from adapters.twenty_sandbox.schema import FieldMeta, ObjectMeta, Schema

_DDL = """
CREATE TABLE IF NOT EXISTS meta_objects (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta_fields (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,
    object_id TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    object_id TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, deleted_at TEXT,
    PRIMARY KEY (object_id, id));
CREATE TABLE IF NOT EXISTS uniques (
    object_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, record_id TEXT NOT NULL,
    PRIMARY KEY (object_id, key, value));
CREATE INDEX IF NOT EXISTS uniques_by_record ON uniques (object_id, record_id);
CREATE TABLE IF NOT EXISTS sandbox_info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
_like_cache: dict[tuple[str, bool], re.Pattern[str]] = {}


def _like_pattern(pattern: str, insensitive: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if insensitive else 0)
    return re.compile("".join(parts), flags)


def _like(value: Any, pattern: Any, insensitive: int) -> int | None:
    """SQL LIKE / ILIKE with Postgres semantics (`%`, `_`), case-sensitive unless asked."""
    if value is None or pattern is None:
        return None
    key = (str(pattern), bool(insensitive))
    compiled = _like_cache.get(key)
    if compiled is None:
        compiled = _like_cache[key] = _like_pattern(*key)
    return 1 if compiled.fullmatch(str(value)) else 0


class Storage:
    """The sandbox database. Not thread-safe: the server uses it from its event loop only."""

    def __init__(self, path: Path | None) -> None:
        self.connection = sqlite3.connect(
            str(path) if path else ":memory:", isolation_level=None, check_same_thread=False
        )
        self.connection.execute("PRAGMA journal_mode=WAL")
        # A rehearsal server: commits survive a process crash or restart (the OS has the
        # pages); only a power cut could lose the last ones. Worth it for write throughput.
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.create_function("sb_like", 3, _like, deterministic=True)
        self.connection.executescript(_DDL)

    def close(self) -> None:
        """Close the database file."""
        self.connection.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    # --- metadata ---------------------------------------------------------------------------

    def is_seeded(self) -> bool:
        """True once the standard model has been written."""
        row = self.connection.execute("SELECT 1 FROM sandbox_info WHERE key='seeded'").fetchone()
        return row is not None

    def mark_seeded(self) -> None:
        """Remember that the standard model is in place."""
        self.connection.execute("INSERT OR REPLACE INTO sandbox_info VALUES ('seeded', '1')")

    def load_schema(self) -> Schema:
        """The current metadata as a Schema snapshot."""
        objects = [
            msgspec.json.decode(body, type=ObjectMeta)
            for (body,) in self.connection.execute("SELECT body FROM meta_objects ORDER BY rowid")
        ]
        fields = [
            msgspec.json.decode(body, type=FieldMeta)
            for (body,) in self.connection.execute("SELECT body FROM meta_fields ORDER BY seq")
        ]
        return Schema(objects, fields)

    def save_object(self, obj: ObjectMeta) -> None:
        """Insert or replace an object's metadata."""
        self.connection.execute(
            "INSERT INTO meta_objects (id, body) VALUES (?, ?) "
            "ON CONFLICT(id) DO UPDATE SET body=excluded.body",
            (obj.id, _encode(obj)),
        )

    def save_field(self, field: FieldMeta) -> None:
        """Insert or replace a field's metadata, keeping its original position."""
        self.connection.execute(
            "INSERT INTO meta_fields (id, object_id, body) VALUES (?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET body=excluded.body",
            (field.id, field.object_id, _encode(field)),
        )

    def delete_object(self, object_id: str) -> None:
        """Remove an object, its fields, records and unique values."""
        for table, column in (
            ("meta_objects", "id"),
            ("meta_fields", "object_id"),
            ("records", "object_id"),
            ("uniques", "object_id"),
        ):
            self.connection.execute(f"DELETE FROM {table} WHERE {column}=?", (object_id,))

    def delete_field(self, field_id: str) -> None:
        """Remove one field's metadata."""
        self.connection.execute("DELETE FROM meta_fields WHERE id=?", (field_id,))

    # --- records ----------------------------------------------------------------------------

    def get(self, object_id: str, record_id: str, *, with_deleted: bool) -> dict[str, Any] | None:
        """One record by id, hidden when soft-deleted unless `with_deleted`."""
        sql = "SELECT data FROM records WHERE object_id=? AND id=?"
        if not with_deleted:
            sql += " AND deleted_at IS NULL"
        row = self.connection.execute(sql, (object_id, record_id)).fetchone()
        return _decode(row[0]) if row else None

    def get_many(self, object_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Records by id (soft-deleted included), keyed by id."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.connection.execute(
                f"SELECT id, data FROM records WHERE object_id=? AND id IN ({marks})",
                (object_id, *chunk),
            )
            found.update((rid, _decode(data)) for rid, data in rows)
        return found

    def put(self, object_id: str, record: dict[str, Any]) -> None:
        """Insert or replace a record."""
        self.connection.execute(
            "INSERT INTO records (object_id, id, data, deleted_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(object_id, id) DO UPDATE SET data=excluded.data, "
            "deleted_at=excluded.deleted_at",
            (object_id, record["id"], _encode(record), record.get("deletedAt")),
        )

    def put_many(self, object_id: str, records: list[dict[str, Any]]) -> None:
        """Insert or replace many records in one statement batch."""
        self.connection.executemany(
            "INSERT INTO records (object_id, id, data, deleted_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(object_id, id) DO UPDATE SET data=excluded.data, "
            "deleted_at=excluded.deleted_at",
            [(object_id, r["id"], _encode(r), r.get("deletedAt")) for r in records],
        )

    def remove(self, object_id: str, record_id: str) -> None:
        """Delete a record for good, with its unique values."""
        self.connection.execute(
            "DELETE FROM records WHERE object_id=? AND id=?", (object_id, record_id)
        )
        self.connection.execute(
            "DELETE FROM uniques WHERE object_id=? AND record_id=?", (object_id, record_id)
        )

    def select(
        self, object_id: str, where: str, params: list[Any], order: str, limit: int | None
    ) -> list[dict[str, Any]]:
        """Records matching a SQL condition over `data`, in order, at most `limit`."""
        sql = f"SELECT data FROM records WHERE object_id=? AND ({where}) ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = self.connection.execute(sql, (object_id, *params))
        return [_decode(data) for (data,) in rows]

    def count(self, object_id: str, where: str, params: list[Any]) -> int:
        """How many records match a SQL condition."""
        sql = f"SELECT COUNT(*) FROM records WHERE object_id=? AND ({where})"
        return int(self.connection.execute(sql, (object_id, *params)).fetchone()[0])

    def referencing(self, object_id: str, column: str, target_id: str) -> list[dict[str, Any]]:
        """Records of an object whose join column points at `target_id` (deleted included)."""
        return self.select(
            object_id, f"json_extract(data, '$.{column}') = ?", [target_id], "id", None
        )

    def json_set_all(self, object_id: str, key: str, value: Any) -> None:
        """Give every record of an object a value for a new field."""
        self.connection.execute(
            "UPDATE records SET data=json_set(data, ?, json(?)) WHERE object_id=?",
            (f"$.{key}", _encode(value).decode(), object_id),
        )

    def json_remove_all(self, object_id: str, key: str) -> None:
        """Drop a deleted field's values from every record of an object."""
        self.connection.execute(
            "UPDATE records SET data=json_remove(data, ?) WHERE object_id=?",
            (f"$.{key}", object_id),
        )

    # --- unique values ----------------------------------------------------------------------

    def unique_owner(self, object_id: str, key: str, value: str) -> str | None:
        """The record holding a unique value (soft-deleted records hold theirs too)."""
        row = self.connection.execute(
            "SELECT record_id FROM uniques WHERE object_id=? AND key=? AND value=?",
            (object_id, key, value),
        ).fetchone()
        return row[0] if row else None

    def set_uniques(self, object_id: str, record_id: str, values: dict[str, str]) -> None:
        """Replace the unique values a record holds (caller has checked for conflicts)."""
        self.connection.execute(
            "DELETE FROM uniques WHERE object_id=? AND record_id=?", (object_id, record_id)
        )
        self.connection.executemany(
            "INSERT INTO uniques (object_id, key, value, record_id) VALUES (?, ?, ?, ?)",
            [(object_id, key, value, record_id) for key, value in values.items()],
        )

    def add_uniques(
        self, object_id: str, record_ids: list[str], claimed: dict[tuple[str, str], str]
    ) -> None:
        """Replace the unique values of `record_ids` by those `claimed` for them."""
        owners = list(set(record_ids))
        for start in range(0, len(owners), 500):
            chunk = owners[start : start + 500]
            marks = ",".join("?" * len(chunk))
            self.connection.execute(
                f"DELETE FROM uniques WHERE object_id=? AND record_id IN ({marks})",
                (object_id, *chunk),
            )
        self.connection.executemany(
            "INSERT INTO uniques (object_id, key, value, record_id) VALUES (?, ?, ?, ?)",
            [(object_id, key, value, owner) for (key, value), owner in claimed.items()],
        )

    def drop_unique_key(self, object_id: str, key: str) -> None:
        """Forget a unique constraint's values (the field lost `isUnique` or was deleted)."""
        self.connection.execute("DELETE FROM uniques WHERE object_id=? AND key=?", (object_id, key))
