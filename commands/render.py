"""Rendering shared by the commands: warnings, JSON, durations, the next step, exits."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
import msgspec
from rich.console import Console
from rich.text import Text


def warn(console: Console, line: str, label: str = "WARNING:") -> None:
    """A WARNING or BLOCKER line: the label styled on a terminal (bold yellow, bold red),
    plain text when the output is not a terminal; never wrapped."""
    style = "bold red" if label.startswith("BLOCKER") else "bold yellow"
    console.print(Text.assemble((label, style), f" {line}"), soft_wrap=True)


def echo_json(data: object) -> None:
    """Pretty JSON of builtins (dicts, lists, Structs) on stdout."""
    click.echo(msgspec.json.format(msgspec.json.encode(data)).decode())


def duration(seconds: float) -> str:
    """`42 s`, `3.5 min` or `1.2 h`."""
    if seconds < 90:
        return f"{seconds:,.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds / 3600:,.1f} h"


def next_step(command: str, *, is_ok: bool = True) -> str:
    """The `next: ...` line after a command (core.reports.next_step)."""
    from core.reports.next_step import next_step as step

    return step(command, is_ok=is_ok)


def wide_console(width: int) -> Console:
    """A console at least `width` columns wide (tables keep their columns in a pipe)."""
    return Console(width=max(Console().width, width))


def fail(message: str, code: int = 1) -> NoReturn:
    """`Error: message` on stderr and exit with `code` (core.exit_codes)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def exit_with(code: int) -> None:
    """End the command with `code` unless it is success (core.exit_codes)."""
    if code:
        sys.exit(code)
