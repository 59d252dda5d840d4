"""The progress bars' rate: shown only when a phase lasted long enough to mean something."""

from __future__ import annotations

import pytest
from rich.console import Console

from commands.progress import RichProgress as _RichProgress
from commands.progress import rate_text as _rate_text


@pytest.mark.parametrize(
    ("done", "elapsed", "speed", "shown"),
    [(50, 0.000437, 114479.0, ""), (5000, 0.2, 25000.0, ""), (50, 30.0, 1.7, ""),
     (None, None, None, ""), (0, 0.0, None, ""), (500, 2.0, None, "250/s"),
     (12000, 10.0, 1234.4, "1,234/s")],
    ids=["fifty-in-a-blink", "fast-but-short", "long-but-few", "not-started", "nothing-yet",
         "no-estimate-yet", "long-enough"],
)  # fmt: skip
def test_rate_only_when_it_means_something(
    done: float | None, elapsed: float | None, speed: float | None, shown: str
) -> None:
    assert _rate_text(done or 0, elapsed, speed) == shown


def test_a_phase_of_fifty_records_shows_no_rate() -> None:
    console = Console(record=True, width=120, force_terminal=False)
    progress = _RichProgress(console)
    progress.stage("patient", "load", 50)
    with progress.bars:
        progress.advance("patient", "load", 50)
    assert "50/50" in console.export_text() and "/s" not in console.export_text()
