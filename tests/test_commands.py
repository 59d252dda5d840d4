"""The commands share one declaration of the Twenty options, and one exit-code policy."""

from __future__ import annotations

import click
import pytest

from cli import ferry
from core import exit_codes

TWENTY_OPTIONS = ("twenty_url", "api_key_env", "rate_limit", "batch_size")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


def _talks_to_twenty() -> list[tuple[str, click.Command]]:
    return [
        (name, command)
        for name, command in _commands(ferry)
        if name != "init" and any(p.name == "twenty_url" for p in command.params)
    ]


def test_the_commands_that_talk_to_twenty_are_the_expected_ones() -> None:
    names = {name for name, _ in _talks_to_twenty()}
    assert names == {
        "schema plan", "schema apply", "schema checklist", "members check", "run", "verify",
        "plan", "sample", "delta", "rollback",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "command"), _talks_to_twenty(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_takes_the_same_twenty_options(name: str, command: click.Command) -> None:
    reference = {p.name: p for p in ferry.commands["run"].params if p.name in TWENTY_OPTIONS}
    options = {p.name: p for p in command.params if p.name in TWENTY_OPTIONS}
    assert set(options) == set(TWENTY_OPTIONS), name
    for key, option in options.items():
        assert isinstance(option, click.Option)
        assert option.opts == reference[key].opts and option.help == reference[key].help
    assert options["twenty_url"].envvar == "TWENTY_API_URL"


@pytest.mark.parametrize(
    ("outcome", "code"),
    [("completed", 0), ("interrupted", 3), ("timed_out", 3), ("failed", 1), ("refused", 1)],
)
def test_run_exit_codes(outcome: str, code: int) -> None:
    assert exit_codes.run_exit(outcome) == code


@pytest.mark.parametrize(
    ("outcome", "failures", "left_alone", "code"),
    [("completed", False, False, 0), ("completed", True, False, 1),
     ("completed", False, True, 1), ("interrupted", False, False, 3),
     ("failed", False, False, 1)],
)  # fmt: skip
def test_rollback_exit_codes(outcome: str, failures: bool, left_alone: bool, code: int) -> None:
    assert (
        exit_codes.rollback_exit(outcome, has_failures=failures, has_left_alone=left_alone) == code
    )
