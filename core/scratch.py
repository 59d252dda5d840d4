"""Private scratch databases: run state that would otherwise grow in memory with the export.

`open_scratch` opens SQLite's anonymous temporary database (`sqlite3.connect("")`). SQLite
keeps it in its page cache (bounded by `cache_size`) and spills the rest to a file in the
system temp directory that it creates with mode 0600 and unlinks as soon as it is opened,
so the file is never reachable by name, never readable by others, and gone when the
connection closes or the process dies. It holds patient values (PHI), so nothing else is
acceptable. No journal and no syncs: the data is rebuilt from the export when lost.
"""

from __future__ import annotations

import sqlite3

__all__ = ["SQL_INT_MAX", "SQL_INT_MIN", "open_scratch", "sql_key"]

SQL_INT_MIN = -(2**63)
SQL_INT_MAX = 2**63 - 1

# Pages kept in memory per scratch database; the rest lives in its temporary file.
_CACHE_KIB = 4 * 1024


def open_scratch() -> sqlite3.Connection:
    """A private temporary SQLite database, deleted when closed (see the module docstring)."""
    conn = sqlite3.connect("", check_same_thread=False)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
    return conn


def sql_key(key: int) -> int | str:
    """An integer key SQLite can bind: beyond 64 bits it is bound as its decimal text."""
    return key if SQL_INT_MIN <= key <= SQL_INT_MAX else str(key)
