"""Progress on the terminal: bars per entity and stage with rate and time left, and Ctrl-C."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

RATE_MIN_SECONDS = 1.0
RATE_MIN_ITEMS = 100


class RichProgress:
    """Progress bars per entity and stage, with rate and ETA; notes print above them."""

    def __init__(self, console: Console) -> None:
        self.bars = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>10}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[tuple[str, str], TaskID] = {}

    def stage(self, entity: str, stage: str, total: int | None) -> None:
        if total == 0:
            return  # nothing to load for this entity: no empty bar
        self._tasks[(entity, stage)] = self.bars.add_task(
            f"{stage:<5} {entity}", total=total, rate=""
        )

    def advance(self, entity: str, stage: str, count: int) -> None:
        task = self._tasks.get((entity, stage))
        if task is not None:
            self.bars.advance(task, count)
            state = self.bars.tasks[task]
            self.bars.update(task, rate=rate_text(state.completed, state.elapsed, state.speed))

    def note(self, message: str) -> None:
        self.bars.console.print(message)


def rate_text(done: float, elapsed: float | None, speed: float | None) -> str:
    """`1,234/s`, or nothing while the phase is too short or too small for a rate to mean
    anything (50 records in a few milliseconds would read as 100,000/s)."""
    if not elapsed or elapsed < RATE_MIN_SECONDS or done < RATE_MIN_ITEMS:
        return ""
    return f"{speed or done / elapsed:,.0f}/s"


class StopOnInterrupt:
    """First Ctrl-C: stop after in-flight requests settle. Second: abort at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> StopOnInterrupt:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        click.echo(
            "\nstopping after the requests in flight settle (Ctrl-C again to abort)", err=True
        )

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)
