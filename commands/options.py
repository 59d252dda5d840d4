"""Options shared by several commands, declared once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from core.clock import isoformat_utc

R = TypeVar("R")


def variable_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An option that names an environment variable; a value that looks like a key is refused
    without being repeated (a click error would echo it)."""
    from core.config import check_variable_name

    if value is None:
        return None
    return check_variable_name(value, f"--{(param.name or '').replace('_', '-')}")


def instant_option(value: str | None) -> str | None:
    """An ISO-8601 date or datetime as the store's UTC text (naive means UTC)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date or datetime") from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return isoformat_utc(parsed)


@dataclass(frozen=True)
class TwentyOptions:
    """How to reach Twenty for one command; None leaves ferry.toml's setting."""

    url: str | None = None
    api_key_env: str | None = None
    rate_limit: str | None = None
    batch_size: int | None = None

    def overrides(self) -> dict[str, Any]:
        """The settings of ferry.toml these options override (core.config.override)."""
        return {
            "twenty.url": self.url,
            "twenty.api_key_env": self.api_key_env,
            "twenty.rate_limit": self.rate_limit,
            "twenty.batch_size": self.batch_size,
        }


_TWENTY_OPTIONS = (
    click.option(
        "--twenty-url",
        envvar="TWENTY_API_URL",
        default=None,
        help="Base URL of the Twenty API (env TWENTY_API_URL; default: ferry.toml).",
    ),
    click.option(
        "--api-key-env",
        default=None,
        callback=variable_name,
        help="Name of the variable holding the API key (default: ferry.toml, TWENTY_API_KEY).",
    ),
    click.option(
        "--rate-limit",
        default=None,
        help="Request budget, e.g. 100/60s or 100/1s,100/60s (default: ferry.toml).",
    ),
    click.option(
        "--batch-size",
        type=click.IntRange(1, 200),
        default=None,
        help="Records per batch create (default: ferry.toml's twenty.batch_size).",
    ),
)


def twenty_options(command: Callable[..., R]) -> Callable[..., R]:
    """The options of every command that talks to Twenty, given to it as `twenty`."""

    @functools.wraps(command)
    def with_twenty(
        *args: Any,
        twenty_url: str | None,
        api_key_env: str | None,
        rate_limit: str | None,
        batch_size: int | None,
        **kwargs: Any,
    ) -> R:
        twenty = TwentyOptions(twenty_url, api_key_env, rate_limit, batch_size)
        return command(*args, twenty=twenty, **kwargs)

    decorated: Callable[..., R] = with_twenty
    for option in reversed(_TWENTY_OPTIONS):
        decorated = option(decorated)
    return decorated


ANCHOR_KEY_OPTION = click.option(
    "--anchor-key-env",
    default=None,
    callback=variable_name,
    help="Variable holding the anchor's HMAC key (default: ferry.toml, FERRY_ANCHOR_KEY).",
)
