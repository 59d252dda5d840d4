"""WAL checkpoints on a thread of their own, so that appends do not wait for them.

In WAL mode every commit appends pages to `ferry.db-wal`; a checkpoint copies them back into
`ferry.db` so the log can start over. SQLite's automatic checkpoint runs inside the commit
that crosses its threshold, and the writer waits for the whole copy (a tenth of a second
and more, every few thousand events). SQLite's documentation suggests the alternative used
here: turn the automatic checkpoint off on the writer's connection and checkpoint from
another thread, whose own connection copies the log while the writer goes on appending
(SQLite runs the copy without Python's GIL, so it uses the machine's other core).

A PASSIVE checkpoint never blocks the writer or any reader. It copies the frames that were
in the log when it started; the log can start over only once every frame has been copied,
which the writer's next transaction then does. Because the writer keeps appending while the
copy runs, the thread copies again what came in meanwhile (a few passes, shorter each
time). Once the log has grown past TAIL_FRAMES, the writer copies whatever tail the thread
left (`after_commit`), so the log starts over and stays bounded. A checkpoint is safe at any
instant: if the process dies mid-copy, the log still holds every committed page.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

# Rows (events and projection rows) written between two background checkpoints: about
# 10 MB of log in the pipeline's shapes.
CHECKPOINT_ROWS = 20_000
# Copies per hand-off: each copies what the writer committed during the previous one (less
# and less), so the writer is seldom left with a tail to copy itself.
CATCH_UP_PASSES = 4
# Log length (frames, 4 KiB pages) past which the writer copies the tail itself, so that the
# log starts over: each such copy syncs the log and the database file (two fsyncs), so the
# writer leaves it to the thread while the log is short enough.
TAIL_FRAMES = 16_384
# What the writer falls back to if the background checkpoint fails: SQLite's own.
INLINE_AUTOCHECKPOINT = 8192  # pages


class Checkpointer:
    """Runs PASSIVE checkpoints of one store on a background thread, started when first needed.

    The writer calls `after_commit` after each of its commits; `close` stops the thread.
    """

    def __init__(self, path: Path, writer: sqlite3.Connection) -> None:
        self._path = path
        self._writer = writer
        self._rows = 0
        self._wanted = threading.Event()
        self._finished = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._inline = False
        self._log_frames = 0  # the log's length at the thread's last copy
        self.error: sqlite3.Error | None = None
        writer.execute("PRAGMA wal_autocheckpoint=0")

    def after_commit(self, rows: int) -> None:
        """Account for `rows` just committed; hand the log over or copy its tail when due."""
        if self._inline:
            return
        if self.error is not None:
            # Nothing is lost (the log keeps every committed page): the writer goes back to
            # SQLite's automatic checkpoint, which reports any lasting error itself.
            self._writer.execute(f"PRAGMA wal_autocheckpoint={INLINE_AUTOCHECKPOINT}")
            self._inline = True
            return
        if self._finished.is_set() and self._log_frames >= TAIL_FRAMES:
            # The background copy is done and the log is long: copy what was committed
            # meanwhile, so that the next transaction starts the log over.
            self._finished.clear()
            try:
                self._writer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as error:  # the commit stands; fall back (below, next time)
                self.error = error
                return
        self._rows += rows
        if self._rows >= CHECKPOINT_ROWS and not self._wanted.is_set():
            self._rows = 0
            self._finished.clear()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="ferry-checkpoint", daemon=True
                )
                self._thread.start()
            self._wanted.set()

    def close(self) -> None:
        """Stop the thread, after the checkpoint it may be running."""
        self._stopping = True
        self._wanted.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None)
        except sqlite3.Error as error:
            self.error = error
            return
        try:
            conn.execute("PRAGMA synchronous=FULL")
            while not self._stopping:
                self._wanted.wait()
                if self._stopping:
                    return
                for _ in range(CATCH_UP_PASSES):  # then what was committed during the copy
                    busy, log, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self._log_frames = log
                    if busy or copied >= log:
                        break
                self._finished.set()  # before `wanted` clears: the writer reads them in turn
                self._wanted.clear()
        except sqlite3.Error as error:
            self.error = error
        finally:
            conn.close()
