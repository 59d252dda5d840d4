"""One writing run per work directory: an advisory lock on `ferry.lock` beside the store.

The lock is `flock` on an open file, so the kernel releases it when its process ends, even
killed: a crashed run never leaves the work directory locked. The file holds who has it (the
process, the command, its run id, since when), for the message the next process shows.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from core.errors import ConfigError, WorkdirBusyError
from events.private_files import open_private_fd

LOCK_NAME = "ferry.lock"


class Holder(msgspec.Struct, frozen=True, kw_only=True):
    """Who holds a work directory."""

    pid: int
    command: str
    started_at: str
    run_id: str = ""


class RunLock:
    """A held work-directory lock; `name_run` adds the run id once it is known."""

    def __init__(self, fd: int, holder: Holder) -> None:
        self._fd = fd
        self._holder = holder
        self._write()

    def name_run(self, run_id: str) -> None:
        """Say which run holds the lock (for the message another process shows)."""
        self._holder = msgspec.structs.replace(self._holder, run_id=run_id)
        self._write()

    def _write(self) -> None:
        data = msgspec.json.encode(self._holder)
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)


@contextmanager
def hold_workdir(workdir: Path, command: str, started_at: str) -> Iterator[RunLock]:
    """Hold the work directory for one command, or refuse at once.

    Raises:
        WorkdirBusyError: another process holds it (the message says which run).
        ConfigError: the lock file cannot be made (a read-only work directory).
    """
    path = workdir / LOCK_NAME
    try:
        fd = open_private_fd(path)
    except OSError as error:
        raise ConfigError(
            f"cannot write {path} ({error.strerror}); make the work directory writable"
        ) from error
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise WorkdirBusyError(
            f"{workdir} is in use by {holder}; wait for it to end (or stop it with Ctrl-C), "
            "then run again. Nothing was written"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    try:
        yield RunLock(fd, Holder(pid=os.getpid(), command=command, started_at=started_at))
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _holder(fd: int) -> str:
    """Who holds the lock, as words ("another process" when it has not said yet)."""
    try:
        holder = msgspec.json.decode(os.pread(fd, 4096, 0), type=Holder)
    except (msgspec.DecodeError, OSError):
        return "another Ferry process"
    run = f"run {holder.run_id}, " if holder.run_id else ""
    return (
        f"another `ferry {holder.command}` ({run}process {holder.pid}, started {holder.started_at})"
    )
